/* authn.c - credential → principal → tenant for each API request (see authn.h). */
#include "tenancy/authn.h"
#include "tenancy/guard.h"
#include "common/arena.h"
#include "common/log.h"
#include "http/request.h"
#include "security/apikey.h"
#include "security/token.h"
#include "store/apikey_store.h"
#include "store/tenant_store.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum cred_kind { CRED_NONE, CRED_BEARER, CRED_APIKEY, CRED_OTHER, CRED_BOTH };

int
authn_limit_address(struct gacp_ctx *app, struct arena *a,
    const char *client_addr, int64_t *retry_after_s, struct gacp_err *err)
{
	struct tenancy_policy policy;
	bool limited;
	int rc;

	tenancy_policy_load(&app->cfg, &policy);
	rc = guard_ip(&app->cache, a, client_addr, policy.auth_ip_per_min,
	    &limited, retry_after_s, err);
	if (rc != GACP_OK)
		return rc;
	if (limited)
		return gacp_err_set(err, GACP_ELIMIT, "rate_limited",
		    "too many authentication attempts from this address; "
		    "retry later");
	return GACP_OK;
}

/* A credential that did not check out: log why, count it against the
 * address, answer the generic code. */
static int
refuse(struct gacp_ctx *app, struct arena *a, const struct http_request *req,
    const char *code, const char *why, int64_t *retry_after_s,
    struct gacp_err *err)
{
	struct gacp_err lerr;
	int rc;

	log_msg(LOG_INFO, "auth_rejected", "%s: %s (client %s, request %s)",
	    code, why, req->client_addr ? req->client_addr : "-",
	    req->request_id);
	gacp_err_clear(&lerr);
	rc = authn_limit_address(app, a, req->client_addr, retry_after_s, &lerr);
	if (rc != GACP_OK) {
		*err = lerr;
		return rc;
	}
	return gacp_err_set(err, GACP_EAUTH, code, "%s",
	    strcmp(code, "invalid_api_key") == 0 ?
	    "the API key is not valid" : "the access token is not valid");
}

/* Split the credential headers.  *value points into the request. */
static enum cred_kind
credential(const struct http_request *req, const char **value)
{
	const char *auth = http_request_header(req, "Authorization");
	const char *key = http_request_header(req, "X-API-Key");
	const char *sp;

	*value = NULL;
	if (auth != NULL && key != NULL)
		return CRED_BOTH;
	if (key != NULL) {
		*value = key;
		return CRED_APIKEY;
	}
	if (auth == NULL)
		return CRED_NONE;
	sp = strchr(auth, ' ');
	if (sp == NULL)
		return CRED_OTHER;
	while (*sp == ' ')
		sp++;
	*value = sp;
	/* RFC 9110 §11.1: the scheme is case-insensitive. */
	if (strncasecmp(auth, "Bearer ", 7) == 0)
		return CRED_BEARER;
	if (strncasecmp(auth, "ApiKey ", 7) == 0)
		return CRED_APIKEY;
	return CRED_OTHER;
}

static int
tenant_checks(struct gacp_ctx *app, struct arena *a, const char *tenant_id,
    struct tenancy_policy *policy, bool *is_platform, struct gacp_err *err)
{
	struct tenant_access t;
	int rc;

	rc = tenant_store_access(&app->db, a, tenant_id, &t, err);
	if (rc == GACP_ENOTFOUND || (rc == GACP_OK && t.is_deleted))
		return gacp_err_set(err, GACP_ENOTFOUND, "tenant_gone",
		    "the credential's tenant no longer exists");
	if (rc != GACP_OK)
		return rc;
	if (strcmp(t.status, "active") != 0)
		return gacp_err_set(err, GACP_EFORBIDDEN, "tenant_suspended",
		    "this tenant is suspended");
	tenancy_policy_apply_settings(policy, t.settings);
	*is_platform = t.is_platform;
	return GACP_OK;
}

static int
limited(int64_t retry_after_s, struct gacp_err *err)
{
	(void)retry_after_s;
	return gacp_err_set(err, GACP_ELIMIT, "rate_limited",
	    "too many requests; retry later");
}

static int
bearer(struct gacp_ctx *app, struct arena *a, const struct http_request *req,
    const char *jwt, struct principal *p, int64_t *retry_after_s,
    struct gacp_err *err)
{
	struct token_verify_opts opts;
	struct token_claims claims;
	struct tenancy_policy policy;
	struct guard_request g;
	enum guard_verdict verdict;
	struct gacp_err verr;
	bool is_platform = false;
	int rc;
	size_t i;

	if (app->jwt_keys == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "jwt_keys_missing",
		    "security.jwt_keys_file is not configured");
	if (strlen(jwt) > TOKEN_MAX_LEN)
		return refuse(app, a, req, "invalid_token", "token too long",
		    retry_after_s, err);
	tenancy_policy_load(&app->cfg, &policy);
	token_verify_opts_defaults(&opts);
	gacp_err_clear(&verr);
	if (token_verify(app->jwt_keys, jwt, &opts, &claims, &verr) != GACP_OK)
		return refuse(app, a, req, "invalid_token", verr.code,
		    retry_after_s, err);
	if (!tenancy_uuid_norm(claims.tenant_id, p->tenant_id) ||
	    !tenancy_uuid_norm(claims.sub, p->id))
		return refuse(app, a, req, "invalid_token", "ids not UUIDs",
		    retry_after_s, err);

	/* One transaction per request, opened bound to the token's tenant. */
	if ((rc = db_begin(&app->db, a, p->tenant_id, err)) != GACP_OK)
		return rc;
	rc = tenant_checks(app, a, p->tenant_id, &policy, &is_platform, err);
	if (rc == GACP_ENOTFOUND)
		rc = refuse(app, a, req, "invalid_token", "tenant gone",
		    retry_after_s, err);
	if (rc != GACP_OK)
		goto fail;

	memset(&g, 0, sizeof(g));
	g.tenant_id = p->tenant_id;
	g.tenant_limit = policy.tenant_per_min;
	g.jti = claims.jti;
	rc = guard_request(&app->cache, a, &g, &verdict, retry_after_s, err);
	if (rc != GACP_OK)
		goto fail;
	if (verdict == GUARD_JTI_DENIED) {
		rc = refuse(app, a, req, "invalid_token", "token revoked",
		    retry_after_s, err);
		goto fail;
	}
	if (verdict == GUARD_RATE_LIMITED) {
		rc = limited(*retry_after_s, err);
		goto fail;
	}
	p->kind = PRINCIPAL_USER;
	p->tenant_is_platform = is_platform;
	for (i = 0; i < claims.nroles; i++)
		p->roles[i] = claims.roles[i];
	p->nroles = claims.nroles;
	snprintf(p->jti, sizeof(p->jti), "%s", claims.jti);
	p->issued_at_s = claims.iat;
	p->expires_at_s = claims.exp;
	return GACP_OK;
fail:
	db_rollback(&app->db, a);
	return rc;
}

static int
api_key(struct gacp_ctx *app, struct arena *a, const struct http_request *req,
    const char *key, struct principal *p, int64_t *retry_after_s,
    struct gacp_err *err)
{
	struct apikey_presented presented;
	struct apikey_access k;
	struct tenancy_policy policy;
	struct guard_request g;
	enum guard_verdict verdict;
	struct gacp_err verr;
	int rc;

	gacp_err_clear(&verr);
	if (apikey_parse(key, strlen(key), &presented, &verr) != GACP_OK)
		return refuse(app, a, req, "invalid_api_key", verr.code,
		    retry_after_s, err);
	/* The tenant is unknown until the key is: look the key up through the
	 * SECURITY DEFINER function (a read of no tenant's rows, outside any
	 * transaction), then open the request's transaction bound to the
	 * key's tenant. */
	rc = apikey_store_access(&app->db, a, presented.prefix, &k, err);
	if (rc == GACP_ENOTFOUND ||
	    (rc == GACP_OK && !apikey_hash_equal(k.key_hash, presented.hash_hex)))
		return refuse(app, a, req, "invalid_api_key",
		    rc == GACP_OK ? "hash mismatch" : "unknown prefix",
		    retry_after_s, err);
	if (rc != GACP_OK)
		return rc;
	if (k.revoked || k.expired)
		return refuse(app, a, req, "invalid_api_key",
		    k.revoked ? "revoked" : "expired", retry_after_s, err);
	if (strcmp(k.tenant_status, "active") != 0)
		return gacp_err_set(err, GACP_EFORBIDDEN, "tenant_suspended",
		    "this tenant is suspended");
	if (!tenancy_uuid_norm(k.tenant_id, p->tenant_id) ||
	    !tenancy_uuid_norm(k.id, p->id))
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "malformed key row");
	if ((rc = db_begin(&app->db, a, p->tenant_id, err)) != GACP_OK)
		return rc;
	tenancy_policy_load(&app->cfg, &policy);
	tenancy_policy_apply_settings(&policy, k.tenant_settings);
	memset(&g, 0, sizeof(g));
	g.tenant_id = p->tenant_id;
	g.tenant_limit = policy.tenant_per_min;
	g.api_key_id = p->id;
	g.api_key_limit = policy.apikey_per_min;
	rc = guard_request(&app->cache, a, &g, &verdict, retry_after_s, err);
	if (rc != GACP_OK)
		goto fail;
	if (verdict != GUARD_OK) {
		rc = limited(*retry_after_s, err);
		goto fail;
	}
	/* last_used_at is bookkeeping: at most one write a minute per key. */
	if (!k.used_recently &&
	    (rc = apikey_store_touch(&app->db, a, p->id, err)) != GACP_OK)
		goto fail;
	p->kind = PRINCIPAL_API_KEY;
	p->tenant_is_platform = k.tenant_is_platform;
	p->scopes = k.scopes;
	p->nscopes = k.nscopes;
	return GACP_OK;
fail:
	db_rollback(&app->db, a);
	return rc;
}

int
authn_request(struct gacp_ctx *app, struct arena *a,
    const struct http_request *req, struct principal *out,
    int64_t *retry_after_s, struct gacp_err *err)
{
	const char *value;
	enum cred_kind kind = credential(req, &value);

	memset(out, 0, sizeof(*out));
	*retry_after_s = 0;
	switch (kind) {
	case CRED_NONE:
		return gacp_err_set(err, GACP_EAUTH, "unauthenticated",
		    "authentication required");
	case CRED_BEARER:
		return bearer(app, a, req, value, out, retry_after_s, err);
	case CRED_APIKEY:
		return api_key(app, a, req, value, out, retry_after_s, err);
	case CRED_OTHER:
		return gacp_err_set(err, GACP_EAUTH, "unauthenticated",
		    "use Authorization: Bearer <token> or ApiKey <key>");
	case CRED_BOTH:
		break;
	}
	return gacp_err_set(err, GACP_EINVAL, "ambiguous_credentials",
	    "send one credential: Authorization or X-API-Key, not both");
}
