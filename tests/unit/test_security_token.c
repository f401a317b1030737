/* test_security_token.c - unit tests of access-token issue and verification, forged tokens included (security/token.c). */
#include "tests.h"
#include "security/crypto.h"
#include "security/token.h"

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NOW 1700000000
#define TENANT "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define USER "16fd2706-8baf-433b-82eb-8c7fada847da"
#define HDR_OK "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"

static unsigned char key1[32], key2[40];

static struct keyring *
test_keyring(void)
{
	struct keyring *kr = keyring_new(TOKEN_MIN_SECRET_BYTES, TOKEN_MAX_SECRET_BYTES);

	memset(key1, 0x11, sizeof(key1));
	memset(key2, 0x22, sizeof(key2));
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k1", key1, sizeof(key1), true, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k2", key2, sizeof(key2), false, 0, NULL), 0);
	return kr;
}

static struct token_verify_opts
opts_at(int64_t now)
{
	struct token_verify_opts o;

	o.now_s = now;
	o.leeway_s = TOKEN_DEFAULT_LEEWAY_S;
	o.max_ttl_s = 24 * 3600;
	return o;
}

/* Build "b64(header).b64(payload).b64(HMAC)" by hand, as an attacker
 * would; key NULL leaves the signature empty. */
static char *
forge(const char *header, const char *payload, const void *key, size_t key_len)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *h = crypto_base64_encode_alloc(CRYPTO_B64_URL, header, strlen(header));
	char *p = crypto_base64_encode_alloc(CRYPTO_B64_URL, payload, strlen(payload));
	size_t cap = strlen(h) + strlen(p) + 64;
	char *out = malloc(cap), *sig;

	snprintf(out, cap, "%s.%s", h, p);
	if (key != NULL) {
		crypto_hmac_sha256(key, key_len, out, strlen(out), mac);
		sig = crypto_base64_encode_alloc(CRYPTO_B64_URL, mac, sizeof(mac));
		strcat(out, ".");
		strcat(out, sig);
		free(sig);
	} else {
		strcat(out, ".");
	}
	free(h);
	free(p);
	return out;
}

/* A valid payload with one field replaced or removed. */
static char *
payload_with(const char *drop, const char *add)
{
	static const char *fields[][2] = {
		{ "iss", "\"iss\":\"gacp_platform\"" },
		{ "sub", "\"sub\":\"" USER "\"" },
		{ "tenant_id", "\"tenant_id\":\"" TENANT "\"" },
		{ "roles", "\"roles\":[\"tenant_admin\"]" },
		{ "jti", "\"jti\":\"abc123\"" },
		{ "iat", "\"iat\":1700000000" },
		{ "exp", "\"exp\":1700003600" },
	};
	char *out = malloc(1024);
	size_t i;

	strcpy(out, "{");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (drop != NULL && strcmp(drop, fields[i][0]) == 0)
			continue;
		if (out[1] != '\0')
			strcat(out, ",");
		strcat(out, fields[i][1]);
	}
	if (add != NULL) {
		if (out[1] != '\0')
			strcat(out, ",");
		strcat(out, add);
	}
	strcat(out, "}");
	return out;
}

static int
verify_forged(const struct keyring *kr, const char *header, const char *payload,
    const void *key, size_t key_len, int64_t now, struct gacp_err *err)
{
	struct token_verify_opts o = opts_at(now);
	struct token_claims c;
	char *t = forge(header, payload, key, key_len);
	int rc = token_verify(kr, t, &o, &c, err);

	free(t);
	return rc;
}

static void
test_issue_and_verify(void)
{
	static const enum rbac_role roles[] = {
		RBAC_ROLE_TENANT_ADMIN, RBAC_ROLE_AGENT, RBAC_ROLE_TENANT_ADMIN,
	};
	const struct token_subject subj = { USER, TENANT, roles, 3 };
	struct keyring *kr = test_keyring();
	struct token_claims issued, c;
	struct token_verify_opts o = opts_at(NOW + 10);
	struct gacp_err err;
	char *t = NULL, *t2 = NULL;

	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &t, &issued, &err), 0);
	CU_ASSERT_STRING_EQUAL(issued.kid, "k1");
	CU_ASSERT_EQUAL(issued.iat, NOW);
	CU_ASSERT_EQUAL(issued.exp, NOW + 3600);
	CU_ASSERT_EQUAL(strlen(issued.jti), 22);
	CU_ASSERT_EQUAL(issued.nroles, 2);

	CU_ASSERT_EQUAL_FATAL(token_verify(kr, t, &o, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.kid, "k1");
	CU_ASSERT_STRING_EQUAL(c.sub, USER);
	CU_ASSERT_STRING_EQUAL(c.tenant_id, TENANT);
	CU_ASSERT_STRING_EQUAL(c.jti, issued.jti);
	CU_ASSERT_EQUAL(c.iat, NOW);
	CU_ASSERT_EQUAL(c.exp, NOW + 3600);
	CU_ASSERT_EQUAL_FATAL(c.nroles, 2);
	CU_ASSERT_EQUAL(c.roles[0], RBAC_ROLE_TENANT_ADMIN);
	CU_ASSERT_EQUAL(c.roles[1], RBAC_ROLE_AGENT);

	/* Every token gets its own jti. */
	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &t2, &c, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(issued.jti, c.jti);
	free(t);
	free(t2);

	/* Default options read the real clock. */
	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, (int64_t)time(NULL), 60, &t, NULL, &err), 0);
	CU_ASSERT_EQUAL(token_verify(kr, t, NULL, &c, &err), 0);
	free(t);
	keyring_free(kr);
}

static void
test_libjwt_interop(void)
{
	static const enum rbac_role roles[] = { RBAC_ROLE_VIEWER };
	const struct token_subject subj = { USER, TENANT, roles, 1 };
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	jwt_t *jwt = NULL;
	char *t = NULL, *json;

	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &t, NULL, &err), 0);
	/* libjwt itself accepts what we issue, with the expected header. */
	CU_ASSERT_EQUAL_FATAL(jwt_decode(&jwt, t, key1, sizeof(key1)), 0);
	CU_ASSERT_EQUAL(jwt_get_alg(jwt), JWT_ALG_HS256);
	CU_ASSERT_STRING_EQUAL(jwt_get_header(jwt, "kid"), "k1");
	CU_ASSERT_STRING_EQUAL(jwt_get_header(jwt, "typ"), "JWT");
	CU_ASSERT_STRING_EQUAL(jwt_get_grant(jwt, "iss"), "gacp_platform");
	CU_ASSERT_STRING_EQUAL(jwt_get_grant(jwt, "tenant_id"), TENANT);
	CU_ASSERT_EQUAL(jwt_get_grant_int(jwt, "exp"), NOW + 3600);
	json = jwt_get_grants_json(jwt, "roles");
	CU_ASSERT_PTR_NOT_NULL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json ? json : "", "\"viewer\""));
	free(json);
	jwt_free(jwt);
	jwt = NULL;
	/* And libjwt refuses it under the other key. */
	CU_ASSERT_NOT_EQUAL(jwt_decode(&jwt, t, key2, sizeof(key2)), 0);
	jwt_free(jwt);
	free(t);
	keyring_free(kr);
}

static void
test_forged_baseline(void)
{
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	char *p = payload_with(NULL, NULL);

	/* The forging helper makes valid tokens with the right key, so every
	 * rejection below is due to the one thing changed. */
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), 0);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"k2\"}", p,
	    key2, sizeof(key2), NOW, &err), 0);
	free(p);
	keyring_free(kr);
}

static void
test_alg_none_and_others(void)
{
	static const char *headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
		"{\"alg\":\"None\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS512\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS384\",\"kid\":\"k1\"}",
		"{\"alg\":\"RS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"hs256\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS256 \",\"kid\":\"k1\"}",
		"{\"alg\":\"\",\"kid\":\"k1\"}",
		"{\"alg\":null,\"kid\":\"k1\"}",
		"{\"alg\":[\"HS256\"],\"kid\":\"k1\"}",
		"{\"kid\":\"k1\"}",
	};
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	char *p = payload_with(NULL, NULL);
	size_t i;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		/* Unsigned, and signed with the real key: both refused. */
		CU_ASSERT_EQUAL(verify_forged(kr, headers[i], p, NULL, 0, NOW, &err), GACP_EAUTH);
		CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ALG);
		CU_ASSERT_EQUAL(verify_forged(kr, headers[i], p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
		CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ALG);
	}
	free(p);
	keyring_free(kr);
}

static void
test_alg_none_from_libjwt(void)
{
	struct keyring *kr = test_keyring();
	struct token_verify_opts o = opts_at(NOW);
	struct token_claims c;
	struct gacp_err err;
	jwt_t *jwt = NULL;
	char *t;

	/* An "alg":"none" token as libjwt itself produces it. */
	CU_ASSERT_EQUAL_FATAL(jwt_new(&jwt), 0);
	jwt_add_grant(jwt, "iss", "gacp_platform");
	jwt_add_grant(jwt, "sub", USER);
	jwt_add_grant(jwt, "tenant_id", TENANT);
	jwt_add_grant(jwt, "jti", "x");
	jwt_add_grants_json(jwt, "{\"roles\":[\"platform_admin\"]}");
	jwt_add_grant_int(jwt, "iat", NOW);
	jwt_add_grant_int(jwt, "exp", NOW + 60);
	jwt_add_header(jwt, "kid", "k1");
	CU_ASSERT_EQUAL_FATAL(jwt_set_alg(jwt, JWT_ALG_NONE, NULL, 0), 0);
	t = jwt_encode_str(jwt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(token_verify(kr, t, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ALG);
	CU_ASSERT_EQUAL(c.nroles, 0);
	free(t);

	/* HS512 signed with the right key bytes: still another algorithm. */
	CU_ASSERT_EQUAL_FATAL(jwt_set_alg(jwt, JWT_ALG_HS512, key1, sizeof(key1)), 0);
	t = jwt_encode_str(jwt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(token_verify(kr, t, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ALG);
	free(t);
	jwt_free(jwt);
	keyring_free(kr);
}

static void
test_kid(void)
{
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	char *p = payload_with(NULL, NULL);

	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\"}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_KID);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"k9\"}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_KID);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"../k1\"}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_KID);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":1}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_KID);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"\"}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_KID);
	/* Signed with k2's secret but claiming k1. */
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key2, sizeof(key2), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(p);
	keyring_free(kr);
}

static void
test_tampered_signature_and_payload(void)
{
	static const enum rbac_role roles[] = { RBAC_ROLE_VIEWER };
	const struct token_subject subj = { USER, TENANT, roles, 1 };
	struct keyring *kr = test_keyring();
	struct token_verify_opts o = opts_at(NOW);
	struct token_claims c;
	struct gacp_err err;
	char *t = NULL, *bad, *sig, *dot1, *dot2, *p2, *hdr64, *pl64;

	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &t, NULL, &err), 0);
	sig = strrchr(t, '.') + 1;

	/* One character of the MAC changed. */
	bad = strdup(t);
	bad[sig - t] = bad[sig - t] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(bad);
	/* Truncated, extended, emptied MAC. */
	bad = strdup(t);
	bad[strlen(bad) - 2] = '\0';
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(bad);
	bad = malloc(strlen(t) + 8);
	sprintf(bad, "%sAAAA", t);
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(bad);
	bad = strdup(t);
	bad[sig - t] = '\0';
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(bad);
	/* Non-canonical spelling of the right MAC (last char's spare bits). */
	bad = strdup(t);
	{
		char *last = bad + strlen(bad) - 1;
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int v = (int)(strchr(alpha, *last) - alpha);

		*last = alpha[v | 1];
	}
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	free(bad);

	/* Payload swapped for an escalated one, original MAC kept. */
	dot1 = strchr(t, '.');
	dot2 = strrchr(t, '.');
	p2 = payload_with("roles", "\"roles\":[\"platform_admin\"]");
	pl64 = crypto_base64_encode_alloc(CRYPTO_B64_URL, p2, strlen(p2));
	hdr64 = strndup(t, (size_t)(dot1 - t));
	bad = malloc(strlen(t) + strlen(pl64) + 4);
	sprintf(bad, "%s.%s%s", hdr64, pl64, dot2);
	CU_ASSERT_EQUAL(token_verify(kr, bad, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_SIGNATURE);
	CU_ASSERT_EQUAL(c.nroles, 0);
	free(bad);
	free(pl64);
	free(hdr64);
	free(p2);
	free(t);
	keyring_free(kr);
}

static void
test_issuer_and_claims(void)
{
	static const char *missing[] = { "sub", "tenant_id", "roles", "jti", "iat", "exp" };
	static const char *replaced[][2] = {
		{ "roles", "\"roles\":[]" },
		{ "roles", "\"roles\":[\"root\"]" },
		{ "roles", "\"roles\":[\"viewer\",\"superuser\"]" },
		{ "roles", "\"roles\":\"viewer\"" },
		{ "roles", "\"roles\":[1]" },
		{ "sub", "\"sub\":\"\"" },
		{ "sub", "\"sub\":42" },
		{ "sub", "\"sub\":\"a\\u0000b\"" },
		{ "sub", "\"sub\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"" },
		{ "tenant_id", "\"tenant_id\":null" },
		{ "iat", "\"iat\":\"1700000000\"" },
		{ "iat", "\"iat\":1700000000.5" },
		{ "exp", "\"exp\":1.7000036e9" },
		{ "exp", "\"exp\":1700000000" },         /* exp == iat */
		{ "iat", "\"iat\":0" },
		{ "jti", "\"jti\":\"\"" },
	};
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	char *p;
	size_t i;

	p = payload_with("iss", "\"iss\":\"someone_else\"");
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ISSUER);
	free(p);
	p = payload_with("iss", NULL);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ISSUER);
	free(p);
	p = payload_with("iss", "\"iss\":[\"gacp_platform\"]");
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_ISSUER);
	free(p);

	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		p = payload_with(missing[i], NULL);
		CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
		CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_CLAIMS);
		free(p);
	}
	for (i = 0; i < sizeof(replaced) / sizeof(replaced[0]); i++) {
		p = payload_with(replaced[i][0], replaced[i][1]);
		CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
		CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_CLAIMS);
		free(p);
	}
	/* Unknown extra claims are ignored. */
	p = payload_with(NULL, "\"scope\":\"whatever\"");
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), 0);
	free(p);
	keyring_free(kr);
}

static void
test_time(void)
{
	struct keyring *kr = test_keyring();
	struct gacp_err err;
	char *p = payload_with(NULL, NULL);   /* iat NOW, exp NOW + 3600 */
	struct token_verify_opts o;
	struct token_claims c;
	char *t;

	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW + 3599, &err), 0);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW + 3600, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_EXPIRED);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW + 999999, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_EXPIRED);
	/* iat in the future: within the skew allowance, then beyond it. */
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW - 60, &err), 0);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW - 61, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_NOT_YET);
	free(p);

	p = payload_with(NULL, "\"nbf\":1700000600");
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_NOT_YET);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW + 600, &err), 0);
	free(p);
	p = payload_with(NULL, "\"nbf\":\"soon\"");
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_CLAIMS);
	free(p);

	/* A lifetime longer than the verifier allows. */
	p = payload_with("exp", "\"exp\":1800000000");
	t = forge(HDR_OK, p, key1, sizeof(key1));
	o = opts_at(NOW);
	CU_ASSERT_EQUAL(token_verify(kr, t, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_CLAIMS);
	o.max_ttl_s = 0;
	CU_ASSERT_EQUAL(token_verify(kr, t, &o, &c, &err), 0);
	free(t);
	free(p);
	keyring_free(kr);
}

static void
test_malformed(void)
{
	static const char *bad[] = {
		"", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "!!!.b.c",
		"eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9..sig",
	};
	struct keyring *kr = test_keyring();
	struct token_verify_opts o = opts_at(NOW);
	struct token_claims c;
	struct gacp_err err;
	char *p = payload_with(NULL, NULL), *big;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(token_verify(kr, bad[i], &o, &c, &err), GACP_EAUTH);
		CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	}
	CU_ASSERT_EQUAL(token_verify(kr, NULL, &o, &c, &err), GACP_EAUTH);

	/* Headers that are not a JSON object, or carry what we refuse. */
	CU_ASSERT_EQUAL(verify_forged(kr, "not json", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	CU_ASSERT_EQUAL(verify_forged(kr, "[\"HS256\"]", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	/* White space around a JSON text is valid JSON; anything else is not. */
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK " ", p, key1, sizeof(key1), NOW, &err), 0);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK "x", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK "{}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	CU_ASSERT_EQUAL(verify_forged(kr, "{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWE\"}", p, key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	/* A signed payload that is not a JSON object. */
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, "[1,2]", key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	CU_ASSERT_EQUAL(verify_forged(kr, HDR_OK, "{\"iss\":\"gacp_platform\"", key1, sizeof(key1), NOW, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	free(p);

	/* Over-long tokens are refused before any parsing. */
	big = malloc(TOKEN_MAX_LEN + 2);
	memset(big, 'A', TOKEN_MAX_LEN + 1);
	big[10] = '.';
	big[20] = '.';
	big[TOKEN_MAX_LEN + 1] = '\0';
	CU_ASSERT_EQUAL(token_verify(kr, big, &o, &c, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, TOKEN_ERR_MALFORMED);
	free(big);
	keyring_free(kr);
}

static void
test_rotation(void)
{
	static const enum rbac_role roles[] = { RBAC_ROLE_AGENT };
	const struct token_subject subj = { USER, TENANT, roles, 1 };
	struct keyring *kr = test_keyring();
	struct token_verify_opts o = opts_at(NOW);
	unsigned char key3[64];
	struct token_claims c;
	struct gacp_err err;
	char *old = NULL, *fresh = NULL;

	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &old, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.kid, "k1");
	memset(key3, 0x33, sizeof(key3));
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k3", key3, sizeof(key3), true, 0, &err), 0);
	CU_ASSERT_EQUAL_FATAL(token_issue(kr, &subj, NOW, 3600, &fresh, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.kid, "k3");
	CU_ASSERT_EQUAL(token_verify(kr, old, &o, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.kid, "k1");
	CU_ASSERT_EQUAL(token_verify(kr, fresh, &o, &c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c.kid, "k3");
	free(old);
	free(fresh);
	keyring_free(kr);
}

static void
test_issue_rejects(void)
{
	static const enum rbac_role roles[] = { RBAC_ROLE_AGENT };
	static const enum rbac_role bad_role[] = { RBAC_ROLE_COUNT };
	struct keyring *kr = test_keyring(), *empty = keyring_new(32, 64);
	struct token_subject s = { USER, TENANT, roles, 1 };
	struct gacp_err err;
	char *t = (char *)"unset";

	s.sub = "";
	CU_ASSERT_EQUAL(token_issue(kr, &s, NOW, 60, &t, NULL, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(t);
	s.sub = USER;
	s.tenant_id = NULL;
	CU_ASSERT_EQUAL(token_issue(kr, &s, NOW, 60, &t, NULL, &err), GACP_EINVAL);
	s.tenant_id = TENANT;
	s.nroles = 0;
	CU_ASSERT_EQUAL(token_issue(kr, &s, NOW, 60, &t, NULL, &err), GACP_EINVAL);
	s.nroles = 1;
	s.roles = bad_role;
	CU_ASSERT_EQUAL(token_issue(kr, &s, NOW, 60, &t, NULL, &err), GACP_EINVAL);
	s.roles = roles;
	CU_ASSERT_EQUAL(token_issue(kr, &s, NOW, 0, &t, NULL, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_subject");
	CU_ASSERT_EQUAL(token_issue(empty, &s, NOW, 60, &t, NULL, &err), GACP_EINTERNAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_key");
	keyring_free(empty);
	keyring_free(kr);
}

static void
test_keyring_file(void)
{
	char dir[] = "/tmp/gacp-token-XXXXXX", path[64];
	struct keyring *kr = NULL;
	struct gacp_err err;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/jwt.key", dir);
	CU_ASSERT_EQUAL_FATAL(keyring_file_create(path, NULL, 64, &err), 0);
	CU_ASSERT_EQUAL(token_keyring_load(path, &kr, &err), 0);
	CU_ASSERT_EQUAL(keyring_current(kr)->len, 64);
	keyring_free(kr);
	unlink(path);
	/* A 16-byte HS256 secret is too weak (RFC 7518 §3.2). */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("short AAECAwQFBgcICQoLDA0ODw==\n", f);
	fclose(f);
	chmod(path, 0600);
	CU_ASSERT_EQUAL(token_keyring_load(path, &kr, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(kr);
	unlink(path);
	rmdir(dir);
}

static const struct test_case cases[] = {
	{ "issue and verify", test_issue_and_verify },
	{ "libjwt accepts issued tokens", test_libjwt_interop },
	{ "forging helper baseline", test_forged_baseline },
	{ "alg none and other algorithms", test_alg_none_and_others },
	{ "alg none and HS512 made by libjwt", test_alg_none_from_libjwt },
	{ "kid missing, unknown, mismatched", test_kid },
	{ "tampered signature and payload", test_tampered_signature_and_payload },
	{ "issuer and claims", test_issuer_and_claims },
	{ "expiry, iat skew, nbf, max ttl", test_time },
	{ "malformed tokens", test_malformed },
	{ "key rotation", test_rotation },
	{ "issue rejects bad subjects", test_issue_rejects },
	{ "keyring file", test_keyring_file },
	{ NULL, NULL }
};

void
test_security_token_register(void)
{
	tests_add_suite("security_token", cases);
}
