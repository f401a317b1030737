/* token.c - issuing access JWTs with libjwt and verifying them (header, kid, constant-time HMAC, claims, clock). */
#include "security/token.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "security/crypto.h"

#define TOKEN_JSON_DEPTH    4
#define TOKEN_HEADER_MAX    1024     /* base64url characters */
#define TOKEN_JTI_BYTES     16       /* 128 random bits */
#define TOKEN_MAX_ROLE_ITEMS 16
#define TOKEN_DEFAULT_MAX_TTL_S (24 * 3600)

static int	fail(struct gacp_err *err, const char *code, const char *msg);
static int	decode_part(const char *b64, size_t len,
		    unsigned char **out, size_t *out_len);
static struct json_object *parse_object(const unsigned char *data, size_t len);
static bool	get_string(struct json_object *obj, const char *name,
		    const char **val, size_t *len);
static bool	get_int(struct json_object *obj, const char *name, bool *present,
		    int64_t *val);
static bool	copy_id(struct json_object *obj, const char *name, char *dst,
		    size_t max);
static bool	read_roles(struct json_object *obj, struct token_claims *out);
static bool	subject_valid(const struct token_subject *s);

static int
fail(struct gacp_err *err, const char *code, const char *msg)
{
	return gacp_err_set(err, GACP_EAUTH, code, "%s", msg);
}

int
token_keyring_load(const char *path, struct keyring **out,
    struct gacp_err *err)
{
	return keyring_load(path, TOKEN_MIN_SECRET_BYTES, TOKEN_MAX_SECRET_BYTES,
	    out, err);
}

void
token_verify_opts_defaults(struct token_verify_opts *o)
{
	o->now_s = (int64_t)time(NULL);
	o->leeway_s = TOKEN_DEFAULT_LEEWAY_S;
	o->max_ttl_s = TOKEN_DEFAULT_MAX_TTL_S;
}

static bool
subject_valid(const struct token_subject *s)
{
	size_t i, n;

	if (s == NULL || s->sub == NULL || s->tenant_id == NULL ||
	    s->roles == NULL || s->nroles == 0 || s->nroles > TOKEN_MAX_ROLE_ITEMS)
		return false;
	n = strnlen(s->sub, TOKEN_ID_MAX + 1);
	if (n == 0 || n > TOKEN_ID_MAX)
		return false;
	n = strnlen(s->tenant_id, TOKEN_ID_MAX + 1);
	if (n == 0 || n > TOKEN_ID_MAX)
		return false;
	for (i = 0; i < s->nroles; i++)
		if ((int)s->roles[i] < 0 || s->roles[i] >= RBAC_ROLE_COUNT)
			return false;
	return true;
}

int
token_issue(const struct keyring *kr, const struct token_subject *subject,
    int64_t now_s, int64_t ttl_s, char **token_out,
    struct token_claims *claims_out, struct gacp_err *err)
{
	const struct keyring_key *key = keyring_current(kr);
	unsigned char jti_raw[TOKEN_JTI_BYTES];
	char jti[TOKEN_JTI_MAX + 1];
	struct token_claims claims;
	jwt_t *jwt = NULL;
	struct buf roles;
	size_t i, j;
	int rc;

	buf_init(&roles);
	*token_out = NULL;
	memset(&claims, 0, sizeof(claims));
	if (!subject_valid(subject) || ttl_s <= 0 || now_s <= 0 ||
	    now_s > INT64_MAX - ttl_s) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_subject",
		    "a token needs a subject, a tenant, known roles and a "
		    "positive lifetime");
		goto out;
	}
	if (key == NULL || key->len < TOKEN_MIN_SECRET_BYTES) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "invalid_key",
		    "no signing key of at least %d bytes",
		    TOKEN_MIN_SECRET_BYTES);
		goto out;
	}
	if ((rc = crypto_random_bytes(jti_raw, sizeof(jti_raw), err)) != GACP_OK)
		goto out;
	if (crypto_base64_encode(CRYPTO_B64_URL, jti_raw, sizeof(jti_raw), jti,
	    sizeof(jti)) != GACP_OK)
		abort();

	/* Roles as a JSON array, duplicates dropped. */
	buf_puts(&roles, "{\"roles\":[");
	for (i = 0; i < subject->nroles; i++) {
		for (j = 0; j < claims.nroles; j++)
			if (claims.roles[j] == subject->roles[i])
				break;
		if (j < claims.nroles)
			continue;
		if (claims.nroles > 0)
			buf_putc(&roles, ',');
		buf_json_str(&roles, rbac_role_name(subject->roles[i]));
		claims.roles[claims.nroles++] = subject->roles[i];
	}
	buf_puts(&roles, "]}");

	rc = gacp_err_set(err, GACP_EINTERNAL, "token_sign_failed",
	    "cannot sign the access token");
	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grant(jwt, "iss", TOKEN_ISSUER) != 0 ||
	    jwt_add_grant(jwt, "sub", subject->sub) != 0 ||
	    jwt_add_grant(jwt, "tenant_id", subject->tenant_id) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now_s) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(now_s + ttl_s)) != 0 ||
	    jwt_add_grants_json(jwt, roles.data) != 0 ||
	    jwt_add_header(jwt, "kid", key->kid) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, key->bytes, (int)key->len) != 0)
		goto out;
	/* jwt_encode_str() allocates with malloc (we never install libjwt
	 * allocators), so the caller's free() matches. */
	if ((*token_out = jwt_encode_str(jwt)) == NULL)
		goto out;

	snprintf(claims.kid, sizeof(claims.kid), "%s", key->kid);
	snprintf(claims.sub, sizeof(claims.sub), "%s", subject->sub);
	snprintf(claims.tenant_id, sizeof(claims.tenant_id), "%s",
	    subject->tenant_id);
	snprintf(claims.jti, sizeof(claims.jti), "%s", jti);
	claims.iat = now_s;
	claims.exp = now_s + ttl_s;
	if (claims_out != NULL)
		*claims_out = claims;
	gacp_err_clear(err);
	rc = GACP_OK;
out:
	/* jwt_free() wipes its copy of the key. */
	jwt_free(jwt);
	buf_cleanup(&roles);
	OPENSSL_cleanse(jti_raw, sizeof(jti_raw));
	return rc;
}

/* Strict base64url decode of one JWT part into a new buffer (+ NUL). */
static int
decode_part(const char *b64, size_t len, unsigned char **out, size_t *out_len)
{
	size_t cap = crypto_base64_decoded_max(len);
	unsigned char *p = xmalloc(cap + 1);

	if (crypto_base64_decode(CRYPTO_B64_URL, b64, len, p, cap,
	    out_len) != GACP_OK) {
		free(p);
		*out = NULL;
		return GACP_EINVAL;
	}
	p[*out_len] = '\0';
	*out = p;
	return GACP_OK;
}

/* A JSON object spanning exactly len bytes of valid UTF-8, or NULL. */
static struct json_object *
parse_object(const unsigned char *data, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len == 0 || len > TOKEN_MAX_LEN)
		return NULL;
	if ((tok = json_tokener_new_ex(TOKEN_JSON_DEPTH)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, (const char *)data, (int)len);
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* A string member without embedded NUL bytes. */
static bool
get_string(struct json_object *obj, const char *name, const char **val,
    size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	*val = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return strlen(*val) == *len;
}

/* An integer member: true when absent (present = false) or an integer;
 * false for any other type. */
static bool
get_int(struct json_object *obj, const char *name, bool *present,
    int64_t *val)
{
	struct json_object *v;

	*present = json_object_object_get_ex(obj, name, &v);
	if (!*present)
		return true;
	if (!json_object_is_type(v, json_type_int))
		return false;
	*val = json_object_get_int64(v);
	return true;
}

static bool
copy_id(struct json_object *obj, const char *name, char *dst, size_t max)
{
	const char *s;
	size_t len;

	if (!get_string(obj, name, &s, &len) || len == 0 || len > max)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

static bool
read_roles(struct json_object *obj, struct token_claims *out)
{
	struct json_object *arr, *item;
	size_t n, i, j;
	enum rbac_role role;

	if (!json_object_object_get_ex(obj, "roles", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return false;
	n = json_object_array_length(arr);
	if (n == 0 || n > TOKEN_MAX_ROLE_ITEMS)
		return false;
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(arr, i);
		/* An unknown role fails the token rather than being skipped:
		 * a signed token we cannot fully understand is not trusted. */
		if (!json_object_is_type(item, json_type_string) ||
		    !rbac_role_from_string(json_object_get_string(item), &role))
			return false;
		for (j = 0; j < out->nroles; j++)
			if (out->roles[j] == role)
				break;
		if (j == out->nroles)
			out->roles[out->nroles++] = role;
	}
	return true;
}

int
token_verify(const struct keyring *kr, const char *token,
    const struct token_verify_opts *opts, struct token_claims *out,
    struct gacp_err *err)
{
	struct token_verify_opts defaults;
	const struct keyring_key *key;
	struct json_object *header = NULL, *claims = NULL, *ignored;
	unsigned char *hdr = NULL, *payload = NULL;
	unsigned char mac[CRYPTO_SHA256_LEN], sig[CRYPTO_SHA256_LEN];
	const char *dot1, *dot2, *s;
	size_t len, h_len, p_len, s_len, n, hdr_len, payload_len, sig_len;
	bool present;
	int64_t nbf = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (opts == NULL) {
		token_verify_opts_defaults(&defaults);
		opts = &defaults;
	}

	/* 1. Shape: header.payload.signature, bounded. */
	rc = fail(err, TOKEN_ERR_MALFORMED, "the token is malformed");
	if (token == NULL)
		goto out;
	len = strnlen(token, TOKEN_MAX_LEN + 1);
	if (len > TOKEN_MAX_LEN)
		goto out;
	if ((dot1 = memchr(token, '.', len)) == NULL)
		goto out;
	if ((dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) == NULL)
		goto out;
	h_len = (size_t)(dot1 - token);
	p_len = (size_t)(dot2 - dot1 - 1);
	s_len = len - (size_t)(dot2 + 1 - token);
	if (h_len == 0 || h_len > TOKEN_HEADER_MAX || p_len == 0 ||
	    memchr(dot2 + 1, '.', s_len) != NULL)
		goto out;

	/* 2. Header: our algorithm, our key ids, nothing we do not know. */
	if (decode_part(token, h_len, &hdr, &hdr_len) != GACP_OK ||
	    (header = parse_object(hdr, hdr_len)) == NULL)
		goto out;
	if (!get_string(header, "alg", &s, &n) || strcmp(s, TOKEN_ALG) != 0) {
		/* "none", "HS512", "RS256" (key confusion), "hs256", ... */
		rc = fail(err, TOKEN_ERR_ALG, "the token algorithm is not accepted");
		goto out;
	}
	if (json_object_object_get_ex(header, "typ", &ignored) &&
	    (!get_string(header, "typ", &s, &n) || strcmp(s, "JWT") != 0))
		goto out;
	/* RFC 7515 §4.1.11: extensions listed in "crit" must be understood;
	 * we understand none. */
	if (json_object_object_get_ex(header, "crit", &ignored))
		goto out;
	if (!get_string(header, "kid", &s, &n) || !keyring_kid_valid(s, n) ||
	    (key = keyring_find(kr, s, n)) == NULL) {
		rc = fail(err, TOKEN_ERR_KID, "the token key id is unknown");
		goto out;
	}

	/* 3. Signature: exactly 32 canonical bytes, compared in constant
	 * time with HMAC-SHA256(key, "header.payload"). */
	if (s_len == 0 || crypto_base64_decode(CRYPTO_B64_URL, dot2 + 1, s_len,
	    sig, sizeof(sig), &sig_len) != GACP_OK || sig_len != sizeof(sig)) {
		rc = fail(err, TOKEN_ERR_SIGNATURE, "the token signature is invalid");
		goto out;
	}
	crypto_hmac_sha256(key->bytes, key->len, token, (size_t)(dot2 - token),
	    mac);
	if (!crypto_ct_equal(mac, sig, sizeof(mac))) {
		rc = fail(err, TOKEN_ERR_SIGNATURE, "the token signature is invalid");
		goto out;
	}

	/* 4. Claims, read only now that the payload is authentic. */
	rc = fail(err, TOKEN_ERR_CLAIMS, "the token claims are invalid");
	if (decode_part(dot1 + 1, p_len, &payload, &payload_len) != GACP_OK ||
	    (claims = parse_object(payload, payload_len)) == NULL) {
		rc = fail(err, TOKEN_ERR_MALFORMED, "the token is malformed");
		goto out;
	}
	if (!get_string(claims, "iss", &s, &n) || strcmp(s, TOKEN_ISSUER) != 0) {
		rc = fail(err, TOKEN_ERR_ISSUER, "the token issuer is not accepted");
		goto out;
	}
	if (!copy_id(claims, "sub", out->sub, TOKEN_ID_MAX) ||
	    !copy_id(claims, "tenant_id", out->tenant_id, TOKEN_ID_MAX) ||
	    !copy_id(claims, "jti", out->jti, TOKEN_JTI_MAX) ||
	    !read_roles(claims, out))
		goto out;
	if (!get_int(claims, "iat", &present, &out->iat) || !present ||
	    !get_int(claims, "exp", &present, &out->exp) || !present ||
	    out->iat <= 0 || out->exp <= out->iat)
		goto out;
	if (!get_int(claims, "nbf", &present, &nbf))
		goto out;

	/* 5. Time. */
	if (opts->now_s >= out->exp) {
		rc = fail(err, TOKEN_ERR_EXPIRED, "the token has expired");
		goto out;
	}
	if (out->iat > opts->now_s + opts->leeway_s ||
	    (present && nbf > opts->now_s + opts->leeway_s)) {
		rc = fail(err, TOKEN_ERR_NOT_YET, "the token is not valid yet");
		goto out;
	}
	if (opts->max_ttl_s > 0 && out->exp - out->iat > opts->max_ttl_s)
		goto out;

	snprintf(out->kid, sizeof(out->kid), "%s", key->kid);
	gacp_err_clear(err);
	rc = GACP_OK;
out:
	if (rc != GACP_OK)
		memset(out, 0, sizeof(*out));
	OPENSSL_cleanse(mac, sizeof(mac));
	json_object_put(header);
	json_object_put(claims);
	free(hdr);
	free(payload);
	return rc;
}
