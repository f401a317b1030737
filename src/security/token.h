/* token.h - access tokens: HS256 JWTs with a kid, issued with libjwt, verified strictly here.
 *
 * Claims (ARCHITECTURE §5): iss = "gacp_platform", sub (user id),
 * tenant_id, roles (array of role names), jti (random, 128 bits), iat, exp;
 * header alg = "HS256", typ = "JWT", kid = the signing key's id.
 *
 * Keys come from a keyring (keyring.h file format; secrets of 32..512
 * bytes).  The current key signs; every key verifies, so a new key can be
 * made current while tokens signed with the old one live out their hour.
 *
 * Why verification does not rely on libjwt's jwt_decode():
 *   - libjwt 1.x takes the algorithm from the token's own header.  1.10
 *     refuses "none" when given a key, but accepts an HS384/HS512 token
 *     made with the same secret (checked by hand on Debian 12's 1.10.2),
 *     and ARCHITECTURE §5 says the alg must be the configured one (RFC 8725
 *     §3.1: never let the token choose); we read the header ourselves, before
 *     any key is used, and accept exactly "HS256";
 *   - jwt_decode() takes one key; key rotation needs the kid to choose it,
 *     and a header without a kid or with an unknown kid must fail;
 *   - libjwt 1.x compares the base64 text of the MAC with a string compare;
 *     we decode the MAC strictly (one canonical spelling) and compare the 32
 *     bytes with CRYPTO_memcmp;
 *   - libjwt's typed getters cannot tell a missing claim from a claim of
 *     the wrong type; claims are checked here with json-c, only after the
 *     signature is verified.
 * libjwt is used to build and sign tokens, and the tests check that
 * libjwt itself accepts what we issue.
 */
#ifndef GACP_SECURITY_TOKEN_H
#define GACP_SECURITY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "security/keyring.h"
#include "security/rbac.h"

#define TOKEN_ISSUER           "gacp_platform"
#define TOKEN_ALG              "HS256"
#define TOKEN_DEFAULT_TTL_S    3600     /* 60 minutes */
#define TOKEN_DEFAULT_LEEWAY_S 60       /* allowed clock skew for iat/nbf */
#define TOKEN_MAX_LEN          4096     /* longer Bearer values are refused */
#define TOKEN_ID_MAX           64       /* sub and tenant_id (UUIDs: 36) */
#define TOKEN_JTI_MAX          64
#define TOKEN_MIN_SECRET_BYTES 32       /* RFC 7518 §3.2: key >= hash size */
#define TOKEN_MAX_SECRET_BYTES 512

/* Verification error codes (struct gacp_err.code); every verification
 * failure is GACP_EAUTH, i.e. 401.  Log the code, answer the client one
 * generic "invalid_token" so a forger learns nothing. */
#define TOKEN_ERR_MALFORMED    "token_malformed"
#define TOKEN_ERR_ALG          "token_alg_rejected"
#define TOKEN_ERR_KID          "token_kid_unknown"
#define TOKEN_ERR_SIGNATURE    "token_bad_signature"
#define TOKEN_ERR_ISSUER       "token_bad_issuer"
#define TOKEN_ERR_CLAIMS       "token_bad_claims"
#define TOKEN_ERR_EXPIRED      "token_expired"
#define TOKEN_ERR_NOT_YET      "token_not_yet_valid"

/* What a token is issued for.  Borrowed pointers. */
struct token_subject {
	const char           *sub;        /* 1..TOKEN_ID_MAX bytes */
	const char           *tenant_id;  /* 1..TOKEN_ID_MAX bytes */
	const enum rbac_role *roles;      /* 1..RBAC_ROLE_COUNT roles */
	size_t                nroles;
};

/* The verified content of a token (or what was issued). */
struct token_claims {
	char            kid[KEYRING_KID_MAX + 1];
	char            sub[TOKEN_ID_MAX + 1];
	char            tenant_id[TOKEN_ID_MAX + 1];
	char            jti[TOKEN_JTI_MAX + 1];
	enum rbac_role  roles[RBAC_ROLE_COUNT];   /* duplicates removed */
	size_t          nroles;
	int64_t         iat;                      /* unix seconds */
	int64_t         exp;
};

struct token_verify_opts {
	int64_t now_s;       /* the clock, explicit for tests */
	int64_t leeway_s;    /* future iat/nbf tolerated; TOKEN_DEFAULT_LEEWAY_S */
	int64_t max_ttl_s;   /* refuse exp - iat above this; 0 = no limit */
};

/* Prototypes */

/* Load the signing keyring: keyring_load() with secrets of
 * TOKEN_MIN_SECRET_BYTES..TOKEN_MAX_SECRET_BYTES. */
int  token_keyring_load(const char *path, struct keyring **out,
         struct gacp_err *err);

/* Defaults: now_s = time(NULL), leeway TOKEN_DEFAULT_LEEWAY_S, max_ttl
 * 24 hours. */
void token_verify_opts_defaults(struct token_verify_opts *o);

/* Issue a token for subject, signed with kr's current key, with
 * iat = now_s and exp = now_s + ttl_s, and a fresh random jti.
 * *token_out receives a new string the caller frees with free().  When
 * claims_out is not NULL it receives the claims (jti and exp for the
 * response's expires_in and a later logout denylist).
 * Returns 0; GACP_EINVAL ("invalid_subject") for an empty or too long
 * sub/tenant_id, no or invalid roles, ttl_s <= 0; GACP_EINTERNAL
 * ("token_sign_failed", "invalid_key") when libjwt fails or the keyring has
 * no usable key. */
int  token_issue(const struct keyring *kr, const struct token_subject *subject,
         int64_t now_s, int64_t ttl_s, char **token_out,
         struct token_claims *claims_out, struct gacp_err *err);

/* Verify token (NUL-terminated, e.g. the Bearer value) and fill out.
 * Checks, in order: size and shape (three base64url parts), header JSON
 * with alg exactly "HS256", typ absent or "JWT", no "crit", kid present
 * and in kr; the HMAC-SHA256 over "header.payload" with that key
 * (constant-time); then claims: iss == TOKEN_ISSUER, sub, tenant_id, jti
 * non-empty strings within bounds, roles a non-empty array of known role
 * names, iat and exp integers with iat < exp, nbf (if any) an integer;
 * then time: now < exp, iat and nbf <= now + leeway, exp - iat <= max_ttl.
 * Returns 0, or GACP_EAUTH with one of the TOKEN_ERR_* codes; out is
 * zeroed on error.  opts may be NULL (defaults). */
int  token_verify(const struct keyring *kr, const char *token,
         const struct token_verify_opts *opts, struct token_claims *out,
         struct gacp_err *err);

#endif
