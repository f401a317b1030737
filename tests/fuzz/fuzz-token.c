/* fuzz-token.c - libFuzzer target: JWTs, API keys, strict codecs, envelopes, keyrings (security/).
 *
 * The first input byte picks what the rest feeds (modulo 7):
 *   0  token_verify() of the bytes as a Bearer value;
 *   1  a token issued at start-up by token_issue(), edited by the bytes
 *      (pairs of position/byte: replace, delete or insert);
 *   2  a token signed with the test key whose payload (claims JSON) is the
 *      bytes: what the claim checks see once the signature is good;
 *   3  apikey_parse();
 *   4  crypto_base64_decode() (both alphabets) and crypto_hex_decode();
 *   5  crypto_envelope_open() of the bytes, and of an envelope sealed at
 *      start-up edited by the bytes;
 *   6  keyring_parse().
 * Invariants: a verified token verifies the same way twice with the same
 * claims, its kid is in the keyring and its claims are within bounds; an
 * edited token or envelope that is accepted must be byte-identical to the
 * original (anything else is a forgery or a malleable encoding); accepted
 * base64/hex re-encodes to exactly the input (one spelling per value); an
 * accepted API key hashes to crypto_sha256_hex() of itself; an accepted
 * keyring has unique valid kids, keys within bounds and a current key.
 */
#include "common/err.h"
#include "security/apikey.h"
#include "security/crypto.h"
#include "security/keyring.h"
#include "security/rbac.h"
#include "security/token.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW_S 1700000000
#define TENANT "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define USER "16fd2706-8baf-433b-82eb-8c7fada847da"
#define HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"

static struct keyring *jwt_kr;      /* k1 (current, 32 bytes), k2 (40) */
static struct keyring *env_kr;      /* e1 (current), e2: 32 bytes each */
static char *issued[2];             /* signed with k1, then with k2 */
static char *sealed;                /* envelope under e1 with aad */
static unsigned char key1[32], key2[40], ekey1[32], ekey2[32];
static const struct crypto_aad aad[2] = {
	{ TENANT, sizeof(TENANT) - 1 }, { "channel:42", 10 },
};

static void
die(const char *what, const struct gacp_err *err)
{
	fprintf(stderr, "fuzz-token init: %s: %s\n", what, err->msg);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const enum rbac_role roles[] = { RBAC_ROLE_TENANT_ADMIN,
	    RBAC_ROLE_AGENT };
	struct token_subject subj = { USER, TENANT, roles, 2 };
	struct gacp_err err;

	(void)argc;
	(void)argv;
	memset(key1, 0x11, sizeof(key1));
	memset(key2, 0x22, sizeof(key2));
	memset(ekey1, 0x33, sizeof(ekey1));
	memset(ekey2, 0x44, sizeof(ekey2));
	jwt_kr = keyring_new(TOKEN_MIN_SECRET_BYTES, TOKEN_MAX_SECRET_BYTES);
	if (keyring_add(jwt_kr, "k2", key2, sizeof(key2), true, 0, &err) != 0 ||
	    token_issue(jwt_kr, &subj, NOW_S, 3600, &issued[1], NULL, &err) != 0)
		die("k2", &err);
	if (keyring_add(jwt_kr, "k1", key1, sizeof(key1), true, 0, &err) != 0 ||
	    token_issue(jwt_kr, &subj, NOW_S, 3600, &issued[0], NULL, &err) != 0)
		die("k1", &err);
	env_kr = keyring_new(32, 32);
	if (keyring_add(env_kr, "e2", ekey2, 32, false, 0, &err) != 0 ||
	    keyring_add(env_kr, "e1", ekey1, 32, true, 0, &err) != 0 ||
	    crypto_envelope_seal(env_kr, "secret page token", 17, aad, 2,
	    &sealed, &err) != 0)
		die("envelope", &err);
	return 0;
}

static char *
cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Apply edits (position, byte) to a copy of orig: the position's top two
 * bits choose replace, delete or insert. */
static char *
edit(const char *orig, const uint8_t *data, size_t size)
{
	size_t len = strlen(orig), i, pos;
	char *s = malloc(len + size / 2 + 1);

	memcpy(s, orig, len + 1);
	for (i = 0; i + 1 < size; i += 2) {
		unsigned op = data[i] >> 6;

		pos = len ? (data[i] & 0x3f) * 7u % (len + (op == 2)) : 0;
		if (op == 1 && len > 0) {
			memmove(s + pos, s + pos + 1, len - pos);
			len--;
		} else if (op == 2) {
			memmove(s + pos + 1, s + pos, len - pos + 1);
			s[pos] = (char)data[i + 1];
			len++;
		} else if (len > 0) {
			s[pos] = (char)data[i + 1];
		}
		if (data[i + 1] == '\0')
			len = strlen(s);
	}
	return s;
}

static void
check_claims(const struct token_claims *c, const struct token_verify_opts *o)
{
	size_t i, j;

	if (keyring_find(jwt_kr, c->kid, strlen(c->kid)) == NULL ||
	    c->sub[0] == '\0' || c->tenant_id[0] == '\0' || c->jti[0] == '\0' ||
	    c->nroles == 0 || c->nroles > RBAC_ROLE_COUNT ||
	    c->iat >= c->exp || o->now_s >= c->exp ||
	    c->iat > o->now_s + o->leeway_s || c->exp - c->iat > o->max_ttl_s)
		abort();
	for (i = 0; i < c->nroles; i++) {
		if ((unsigned)c->roles[i] >= RBAC_ROLE_COUNT)
			abort();
		for (j = 0; j < i; j++)
			if (c->roles[i] == c->roles[j])
				abort();
	}
}

/* Verify twice: same answer, same claims; returns the first result. */
static int
verify(const char *tok)
{
	struct token_verify_opts o = { NOW_S + 10, TOKEN_DEFAULT_LEEWAY_S,
	    24 * 3600 };
	struct token_claims c1, c2;
	struct gacp_err e1, e2;
	int r1, r2;

	r1 = token_verify(jwt_kr, tok, &o, &c1, &e1);
	r2 = token_verify(jwt_kr, tok, &o, &c2, &e2);
	if (r1 != r2 || memcmp(&c1, &c2, sizeof(c1)) != 0)
		abort();
	if (r1 == 0) {
		check_claims(&c1, &o);
		return 0;
	}
	if (r1 != GACP_EAUTH || strcmp(e1.code, e2.code) != 0 ||
	    strncmp(e1.code, "token_", 6) != 0)
		abort();
	return r1;
}

static void
fuzz_signed_payload(const uint8_t *data, size_t size)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *h, *p, *sig, *tok;
	size_t cap;

	h = crypto_base64_encode_alloc(CRYPTO_B64_URL, HEADER, strlen(HEADER));
	p = crypto_base64_encode_alloc(CRYPTO_B64_URL, data, size);
	cap = strlen(h) + strlen(p) + 64;
	tok = malloc(cap);
	snprintf(tok, cap, "%s.%s", h, p);
	crypto_hmac_sha256(key1, sizeof(key1), tok, strlen(tok), mac);
	sig = crypto_base64_encode_alloc(CRYPTO_B64_URL, mac, sizeof(mac));
	strcat(tok, ".");
	strcat(tok, sig);
	(void)verify(tok);
	free(h);
	free(p);
	free(sig);
	free(tok);
}

static void
fuzz_apikey(const uint8_t *data, size_t size)
{
	struct apikey_presented a, b;
	char hex[CRYPTO_SHA256_HEX_LEN + 1];
	struct gacp_err err;

	if (apikey_parse((const char *)data, size, &a, &err) != 0) {
		if (strcmp(err.code, "invalid_api_key") != 0)
			abort();
		return;
	}
	crypto_sha256_hex(data, size, hex);
	if (size != APIKEY_LEN ||
	    memcmp(data, APIKEY_TAG, APIKEY_TAG_LEN) != 0 ||
	    memcmp(a.prefix, data + APIKEY_TAG_LEN, APIKEY_PREFIX_LEN) != 0 ||
	    strlen(a.prefix) != APIKEY_PREFIX_LEN ||
	    strcmp(a.hash_hex, hex) != 0 ||
	    !apikey_hash_equal(a.hash_hex, hex))
		abort();
	if (apikey_parse((const char *)data, size, &b, &err) != 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
}

static void
fuzz_codecs(const uint8_t *data, size_t size)
{
	static const enum crypto_b64 variants[] = { CRYPTO_B64_STD,
	    CRYPTO_B64_URL };
	size_t cap = crypto_base64_decoded_max(size) + 1, n, i;
	unsigned char *out = malloc(cap);
	char *back, *lower;

	for (i = 0; i < 2; i++) {
		if (crypto_base64_decode(variants[i], (const char *)data, size,
		    out, cap, &n) != 0)
			continue;
		if (n > cap - 1)
			abort();
		back = crypto_base64_encode_alloc(variants[i], out, n);
		if (strlen(back) != size || memcmp(back, data, size) != 0)
			abort();
		free(back);
		/* One byte short of room must be refused, not overrun. */
		if (n > 0 && crypto_base64_decode(variants[i],
		    (const char *)data, size, out, n - 1, &n) != GACP_ETOOBIG)
			abort();
	}
	if (crypto_hex_decode((const char *)data, size, out, cap, &n) == 0) {
		if (n * 2 != size)
			abort();
		back = malloc(2 * n + 1);
		crypto_hex_encode(out, n, back);
		lower = cstr(data, size);
		for (i = 0; i < size; i++)
			lower[i] = (char)tolower((unsigned char)lower[i]);
		if (strcmp(back, lower) != 0)
			abort();
		free(back);
		free(lower);
	}
	free(out);
}

static void
open_envelope(const char *tok, int must_fail_unless_original)
{
	unsigned char *plain = NULL;
	size_t n = 0;
	struct gacp_err err;
	int rc;

	rc = crypto_envelope_open(env_kr, tok, aad, 2, &plain, &n, &err);
	if (rc == 0) {
		if (plain == NULL || plain[n] != '\0')
			abort();
		if (must_fail_unless_original && (strcmp(tok, sealed) != 0 ||
		    n != 17 || memcmp(plain, "secret page token", 17) != 0))
			abort();
		crypto_secret_free(plain, n);
		return;
	}
	if (plain != NULL)
		abort();
	if (rc != GACP_EINVAL && rc != GACP_ENOTFOUND)
		abort();
}

static void
fuzz_envelope(const uint8_t *data, size_t size)
{
	char *s = cstr(data, size), *e;
	char kid[KEYRING_KID_MAX + 1];

	open_envelope(s, 0);
	if (crypto_envelope_kid(s, kid) == 0 &&
	    !keyring_kid_valid(kid, strlen(kid)))
		abort();
	(void)crypto_envelope_needs_reseal(env_kr, s);
	e = edit(sealed, data, size);
	open_envelope(e, 1);
	free(e);
	free(s);
}

static void
fuzz_keyring(const uint8_t *data, size_t size)
{
	struct keyring *kr = NULL;
	struct gacp_err err;
	size_t i, j;

	if (keyring_parse((const char *)data, size, 32, 512, &kr, &err) != 0) {
		if (kr != NULL || strcmp(err.code, "invalid_keyring") != 0)
			abort();
		return;
	}
	if (kr->nkeys == 0 || kr->nkeys > KEYRING_MAX_KEYS ||
	    kr->current >= kr->nkeys || keyring_current(kr) == NULL)
		abort();
	for (i = 0; i < kr->nkeys; i++) {
		const struct keyring_key *k = &kr->keys[i];

		if (!keyring_kid_valid(k->kid, strlen(k->kid)) ||
		    k->len < 32 || k->len > 512 ||
		    keyring_find(kr, k->kid, strlen(k->kid)) != k)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(kr->keys[j].kid, k->kid) == 0)
				abort();
	}
	keyring_free(kr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	switch (data[0] % 7) {
	case 0:
		s = cstr(data + 1, size - 1);
		(void)verify(s);
		free(s);
		break;
	case 1:
		s = edit(issued[size & 1], data + 1, size - 1);
		if (verify(s) == 0 && strcmp(s, issued[size & 1]) != 0)
			abort();
		free(s);
		break;
	case 2:
		fuzz_signed_payload(data + 1, size - 1);
		break;
	case 3:
		fuzz_apikey(data + 1, size - 1);
		break;
	case 4:
		fuzz_codecs(data + 1, size - 1);
		break;
	case 5:
		fuzz_envelope(data + 1, size - 1);
		break;
	default:
		fuzz_keyring(data + 1, size - 1);
		break;
	}
	return 0;
}
