/* access.c - authentication and authorisation of a matched route, before its handler runs.
 *
 * PUBLIC routes pass (those under /v1/auth/ are counted per client address
 * first: login and refresh are where passwords and tokens get guessed);
 * WEBHOOK routes prove themselves by signature inside the handler.  Every
 * other route needs a credential (tenancy/authn.h), whose principal must
 * then pass the route's security level and permission (security/rbac.h).
 *
 * 401 versus 403 (RFC 9110 §15.5.2, §15.5.4): 401 with WWW-Authenticate
 * when a (new) credential would help, 403 when the caller is known and the
 * answer stays no.  A suspended tenant's credentials get 403
 * "tenant_suspended".  429 carries Retry-After.
 */
#include "app/server.h"
#include "api/api.h"
#include "common/arena.h"
#include "security/rbac.h"
#include "tenancy/authn.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void
deny(struct request_ctx *rc, const struct gacp_err *err, int64_t retry_after_s)
{
	int status = api_status_for(err->result);

	if (status >= 500 && status != 503)
		api_error(rc, 500, "internal", "internal error");
	else
		api_error(rc, status, err->code, "%s", err->msg);
	if (status == 401)
		http_response_header(&rc->resp, "WWW-Authenticate",
		    "Bearer realm=\"gacp\", ApiKey realm=\"gacp\"");
	if (status == 429)
		http_response_header(&rc->resp, "Retry-After",
		    arena_sprintf(rc->arena, "%lld",
		    (long long)(retry_after_s > 0 ? retry_after_s : 1)));
}

static enum rbac_level
level_of(enum route_security sec)
{
	switch (sec) {
	case SEC_AUTHENTICATED:  return RBAC_AUTHENTICATED;
	case SEC_AUTHORIZED:     return RBAC_AUTHORIZED;
	case SEC_RESTRICTED:     return RBAC_RESTRICTED;
	case SEC_ADMINISTRATIVE: return RBAC_ADMINISTRATIVE;
	case SEC_PUBLIC:
	case SEC_WEBHOOK:
		break;
	}
	return RBAC_PUBLIC;
}

int
server_check_access(struct request_ctx *rc)
{
	const struct route *route = rc->route;
	struct principal *p;
	struct rbac_principal rp;
	struct rbac_decision d;
	struct gacp_err err;
	int64_t retry_after_s = 0;

	gacp_err_clear(&err);
	if (route->security == SEC_WEBHOOK)
		return 0;
	if (route->security == SEC_PUBLIC) {
		if (strncmp(rc->req.path, "/v1/auth/", 9) != 0)
			return 0;
		if (authn_limit_address(rc->app, rc->arena, rc->req.client_addr,
		    &retry_after_s, &err) != GACP_OK) {
			deny(rc, &err, retry_after_s);
			return -1;
		}
		return 0;
	}

	p = arena_calloc(rc->arena, 1, sizeof(*p));
	if (authn_request(rc->app, rc->arena, &rc->req, p, &retry_after_s,
	    &err) != GACP_OK) {
		deny(rc, &err, retry_after_s);
		return -1;
	}
	principal_rbac(p, &rp);
	d = rbac_check(level_of(route->security), route->permission, &rp,
	    (int64_t)time(NULL));
	/* The platform_admin role only means something in the platform
	 * tenant (see principal_is_platform_admin). */
	if (d.status == RBAC_ALLOW && route->security == SEC_ADMINISTRATIVE &&
	    !principal_is_platform_admin(p))
		d.status = RBAC_DENY_FORBIDDEN, d.code = "forbidden";
	if (d.status != RBAC_ALLOW) {
		db_rollback(&rc->app->db, rc->arena);
		gacp_err_set(&err, d.status == RBAC_DENY_UNAUTHENTICATED ?
		    GACP_EAUTH : GACP_EFORBIDDEN, d.code,
		    d.status == RBAC_DENY_UNAUTHENTICATED ?
		    "log in again to do this" : "not permitted");
		deny(rc, &err, 0);
		return -1;
	}
	rc->tenant_id = p->tenant_id;
	rc->actor_id = p->id;
	rc->principal = p;
	return 0;
}
