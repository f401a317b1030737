/* audit.h - recording security events in the audit log.
 *
 * An event is written in the caller's open transaction, so it commits or
 * rolls back with the change it describes; failures that change nothing
 * (a wrong password) are recorded by services that commit the event on
 * purpose.  Details are a JSON object the caller builds: never a password,
 * token, key or hash in it.  The actor is the service's principal unless
 * the event names another (a login, where the principal is anonymous).
 */
#ifndef GACP_TENANCY_AUDIT_H
#define GACP_TENANCY_AUDIT_H

#include <stddef.h>

#include <json-c/json.h>

#include "common/err.h"

struct svc;
struct audit_row;

struct audit_event {
	const char         *tenant_id;      /* the tenant the event belongs to */
	const char         *action;         /* "auth.login", "user.create", … */
	const char         *outcome;        /* NULL: "success" */
	const char         *resource_type;  /* "user", "api_key", … or NULL */
	const char         *resource_id;
	struct json_object *details;        /* borrowed; NULL: {} */
	const char         *actor_type;     /* NULL: from the principal */
	const char         *actor_id;       /* with actor_type */
};

/* Prototypes */

/* Insert the event, binding the transaction to ev->tenant_id first if it
 * is bound elsewhere (the binding stays).  Errors as db_exec(). */
int audit_record(struct svc *s, const struct audit_event *ev,
        struct gacp_err *err);

/* The acting tenant's events, newest first, filtered by the query texts
 * (each may be NULL): action (exact, "user.create"), actor (actor id),
 * from/to (RFC 3339, from inclusive, to exclusive), limit, cursor.
 * Invalid filters are field errors (422). */
int audit_list(struct svc *s, const char *action, const char *actor,
        const char *from, const char *to, const char *limit,
        const char *cursor, struct audit_row **rows, size_t *n,
        char **next_cursor, struct gacp_err *err);

#endif
