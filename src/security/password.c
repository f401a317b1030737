/* password.c - bcrypt via libxcrypt's crypt_rn, the dummy verification and the policy rules. */
#include "security/password.h"

#include <crypt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "security/crypto.h"

#define BCRYPT_PREFIX      "$2b$"
#define BCRYPT_SALT_BYTES  16

static int	bcrypt_run(const char *password, const char *setting,
		    char out[PASSWORD_HASH_SIZE]);
static bool	hash_parse(const char *s, int *cost);
static void	burn(const struct password_hasher *h);
static void	add_error(struct password_policy_result *out, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Accept exactly "$2b$NN$" + 53 characters of bcrypt's alphabet. */
static bool
hash_parse(const char *s, int *cost)
{
	size_t i;
	int c;

	if (s == NULL || strnlen(s, PASSWORD_HASH_SIZE) != PASSWORD_HASH_LEN)
		return false;
	if (memcmp(s, BCRYPT_PREFIX, 4) != 0 || s[4] < '0' || s[4] > '9' ||
	    s[5] < '0' || s[5] > '9' || s[6] != '$')
		return false;
	c = (s[4] - '0') * 10 + (s[5] - '0');
	if (c < PASSWORD_MIN_COST || c > PASSWORD_MAX_COST)
		return false;
	for (i = 7; i < PASSWORD_HASH_LEN; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '/'))
			return false;
	}
	if (cost != NULL)
		*cost = c;
	return true;
}

/*
 * One bcrypt computation.  struct crypt_data is ~32 KiB, too big for a
 * comfortable stack frame, and holds password-derived state: it lives on
 * the heap and is wiped afterwards.
 */
static int
bcrypt_run(const char *password, const char *setting,
    char out[PASSWORD_HASH_SIZE])
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *r;
	int rc = GACP_EINTERNAL;

	r = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (r != NULL && hash_parse(r, NULL)) {
		memcpy(out, r, PASSWORD_HASH_SIZE);
		rc = GACP_OK;
	} else {
		memset(out, 0, PASSWORD_HASH_SIZE);
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* A bcrypt run whose result is thrown away: equal work on every path. */
static void
burn(const struct password_hasher *h)
{
	char scratch[PASSWORD_HASH_SIZE];

	(void)bcrypt_run("", h->dummy_hash, scratch);
	OPENSSL_cleanse(scratch, sizeof(scratch));
}

int
password_hasher_init(struct password_hasher *h, int cost,
    struct gacp_err *err)
{
	unsigned char secret[32];
	char secret_hex[2 * sizeof(secret) + 1];
	int rc;

	memset(h, 0, sizeof(*h));
	if (cost < PASSWORD_MIN_COST || cost > PASSWORD_MAX_COST)
		return gacp_err_set(err, GACP_EINVAL, "invalid_cost",
		    "bcrypt cost must be %d to %d", PASSWORD_MIN_COST,
		    PASSWORD_MAX_COST);
	h->cost = cost;
	/* The dummy hash is of a random password that is then forgotten, so
	 * no input can ever match it. */
	if ((rc = crypto_random_bytes(secret, sizeof(secret), err)) != GACP_OK)
		goto out;
	crypto_hex_encode(secret, sizeof(secret), secret_hex);
	rc = password_hash(h, secret_hex, h->dummy_hash, err);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(secret_hex, sizeof(secret_hex));
	return rc;
}

void
password_hasher_cleanup(struct password_hasher *h)
{
	if (h != NULL)
		OPENSSL_cleanse(h, sizeof(*h));
}

int
password_hash(const struct password_hasher *h, const char *password,
    char out[PASSWORD_HASH_SIZE], struct gacp_err *err)
{
	unsigned char salt[BCRYPT_SALT_BYTES];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	int rc;

	memset(out, 0, PASSWORD_HASH_SIZE);
	if (password == NULL ||
	    strnlen(password, PASSWORD_MAX_BYTES + 1) > PASSWORD_MAX_BYTES)
		return gacp_err_set(err, GACP_EINVAL, "password_too_long",
		    "a password is at most %d bytes", PASSWORD_MAX_BYTES);
	/* Our own salt bytes from OpenSSL's CSPRNG rather than letting
	 * libxcrypt pick, so every random value in the platform has one
	 * source. */
	if ((rc = crypto_random_bytes(salt, sizeof(salt), err)) != GACP_OK)
		return rc;
	if (crypt_gensalt_rn(BCRYPT_PREFIX, (unsigned long)h->cost,
	    (const char *)salt, (int)sizeof(salt), setting,
	    (int)sizeof(setting)) == NULL) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "hash_failed",
		    "cannot make a bcrypt salt");
		goto out;
	}
	if (bcrypt_run(password, setting, out) != GACP_OK) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "hash_failed",
		    "bcrypt failed");
		goto out;
	}
	rc = GACP_OK;
out:
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc;
}

int
password_verify(const struct password_hasher *h, const char *password,
    const char *stored, struct gacp_err *err)
{
	char computed[PASSWORD_HASH_SIZE];
	int rc;

	if (!hash_parse(stored, NULL)) {
		burn(h);
		return gacp_err_set(err, GACP_EINTERNAL, "invalid_password_hash",
		    "the stored password hash is not bcrypt");
	}
	if (password == NULL ||
	    strnlen(password, PASSWORD_MAX_BYTES + 1) > PASSWORD_MAX_BYTES) {
		/* bcrypt would truncate it and could match the stored hash
		 * of its 72-byte prefix: refuse, at the same cost. */
		burn(h);
		return gacp_err_set(err, GACP_EAUTH, "invalid_credentials",
		    "invalid username or password");
	}
	if (bcrypt_run(password, stored, computed) != GACP_OK) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "hash_failed",
		    "bcrypt failed");
		goto out;
	}
	/* Constant-time comparison of the full hash (CRYPTO_memcmp). */
	if (!crypto_ct_equal(computed, stored, PASSWORD_HASH_LEN)) {
		rc = gacp_err_set(err, GACP_EAUTH, "invalid_credentials",
		    "invalid username or password");
		goto out;
	}
	rc = GACP_OK;
out:
	OPENSSL_cleanse(computed, sizeof(computed));
	return rc;
}

int
password_verify_dummy(const struct password_hasher *h, const char *password,
    struct gacp_err *err)
{
	char computed[PASSWORD_HASH_SIZE];

	if (password == NULL ||
	    strnlen(password, PASSWORD_MAX_BYTES + 1) > PASSWORD_MAX_BYTES)
		burn(h);
	else
		(void)bcrypt_run(password, h->dummy_hash, computed);
	OPENSSL_cleanse(computed, sizeof(computed));
	return gacp_err_set(err, GACP_EAUTH, "invalid_credentials",
	    "invalid username or password");
}

bool
password_needs_rehash(const struct password_hasher *h, const char *stored)
{
	int cost;

	if (!hash_parse(stored, &cost))
		return true;
	return cost != h->cost;
}

void
password_policy_defaults(struct password_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->min_length = 12;
	p->max_bytes = PASSWORD_MAX_BYTES;
	p->require_upper = true;
	p->require_lower = true;
	p->require_digit = true;
	p->require_symbol = true;
	p->max_age_days = 90;
}

static void
add_error(struct password_policy_result *out, const char *code,
    const char *fmt, ...)
{
	struct password_policy_error *e;
	va_list ap;

	if (out->nerrors == PASSWORD_POLICY_MAX_ERRORS)
		return;
	e = &out->errors[out->nerrors++];
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

int
password_policy_check(const char *password,
    const struct password_policy *policy, struct password_policy_result *out)
{
	bool upper = false, lower = false, digit = false, symbol = false;
	bool invalid = false;
	size_t len, pos = 0, chars = 0, max_bytes;

	memset(out, 0, sizeof(*out));
	if (password == NULL)
		password = "";
	len = strlen(password);
	max_bytes = policy->max_bytes == 0 || policy->max_bytes > PASSWORD_MAX_BYTES ?
	    PASSWORD_MAX_BYTES : policy->max_bytes;

	while (pos < len) {
		uint32_t cp;
		size_t n = utf8_decode(password + pos, len - pos, &cp);

		if (n == 0) {
			invalid = true;
			pos++;
			continue;
		}
		pos += n;
		chars++;
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			invalid = true;
		else if (cp >= 'A' && cp <= 'Z')
			upper = true;
		else if (cp >= 'a' && cp <= 'z')
			lower = true;
		else if (cp >= '0' && cp <= '9')
			digit = true;
		else
			symbol = true;
	}

	if (chars < policy->min_length)
		add_error(out, "password_too_short",
		    "must be at least %zu characters long", policy->min_length);
	if (len > max_bytes)
		add_error(out, "password_too_long",
		    "must be at most %zu bytes long", max_bytes);
	if (policy->require_upper && !upper)
		add_error(out, "password_missing_upper",
		    "must contain an upper-case letter (A-Z)");
	if (policy->require_lower && !lower)
		add_error(out, "password_missing_lower",
		    "must contain a lower-case letter (a-z)");
	if (policy->require_digit && !digit)
		add_error(out, "password_missing_digit",
		    "must contain a digit (0-9)");
	if (policy->require_symbol && !symbol)
		add_error(out, "password_missing_symbol",
		    "must contain a symbol (not a letter A-Z/a-z or digit)");
	if (invalid)
		add_error(out, "password_invalid_characters",
		    "must be valid UTF-8 without control characters");
	return out->nerrors == 0 ? GACP_OK : GACP_EINVAL;
}

bool
password_expired(const struct password_policy *policy, int64_t changed_at_s,
    int64_t now_s)
{
	if (policy->max_age_days <= 0)
		return false;
	return now_s - changed_at_s >= (int64_t)policy->max_age_days * 86400;
}
