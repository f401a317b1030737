/* access.c - authentication and authorisation of a matched route.
 *
 * Deny by default: a route that is not PUBLIC or WEBHOOK (webhooks prove
 * themselves by signature inside the handler) needs a credential.
 */
#include "app/server.h"
#include "api/api.h"

int
server_check_access(struct request_ctx *rc)
{
	if (rc->route->security == SEC_PUBLIC ||
	    rc->route->security == SEC_WEBHOOK)
		return 0;
	api_error(rc, 401, "unauthenticated", "authentication required");
	return -1;
}
