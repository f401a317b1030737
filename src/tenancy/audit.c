/* audit.c - security events into the audit log (see audit.h). */
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"
#include "common/json.h"
#include "store/audit_store.h"

#include <string.h>

int
audit_record(struct svc *s, const struct audit_event *ev,
    struct gacp_err *err)
{
	struct audit_entry e;
	int rc;

	if ((rc = svc_bind(s, ev->tenant_id, err)) != GACP_OK)
		return rc;
	memset(&e, 0, sizeof(e));
	e.tenant_id = ev->tenant_id;
	if (ev->actor_type != NULL) {
		e.actor_type = ev->actor_type;
		e.actor_id = ev->actor_id;
	} else {
		e.actor_type = principal_actor_type(s->who);
		e.actor_id = s->who && s->who->id[0] ? s->who->id : NULL;
	}
	e.action = ev->action;
	e.outcome = ev->outcome;
	e.resource_type = ev->resource_type;
	e.resource_id = ev->resource_id;
	e.request_id = s->request_id;
	e.client_addr = s->client_addr;
	e.details = ev->details ? json_compact(ev->details) : NULL;
	return audit_store_insert(&s->app->db, s->a, &e, err);
}

static bool
action_ok(const char *s)
{
	size_t i, n = strlen(s);
	bool seg = false;

	/* ^[a-z_]+(\.[a-z_]+)*$ as in the table's CHECK. */
	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')
			seg = true;
		else if (s[i] == '.' && seg)
			seg = false;
		else
			return false;
	}
	return seg;
}

int
audit_list(struct svc *s, const char *action, const char *actor,
    const char *from, const char *to, const char *limit, const char *cursor,
    struct audit_row **rows, size_t *n, char **next_cursor,
    struct gacp_err *err)
{
	struct audit_filter f;
	struct page pg;
	int rc;

	*next_cursor = NULL;
	memset(&f, 0, sizeof(f));
	if (action != NULL && !action_ok(action))
		svc_field_error(s, "action", "invalid_format",
		    "an action such as auth.login or user.create");
	if (actor != NULL && !tenancy_text_ok(actor, strlen(actor),
	    TENANCY_ACTOR_MAX))
		svc_field_error(s, "actor", "invalid_format",
		    "an actor id (user or API key id)");
	if (from != NULL && !tenancy_rfc3339_ok(from))
		svc_field_error(s, "from", "invalid_format",
		    "must be an RFC 3339 date-time");
	if (to != NULL && !tenancy_rfc3339_ok(to))
		svc_field_error(s, "to", "invalid_format",
		    "must be an RFC 3339 date-time");
	svc_page_parse(s, limit, cursor, true, &pg);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	f.action = action;
	f.actor = actor;
	f.from = from;
	f.to = to;
	f.before_id = pg.before_seq;
	f.limit = pg.limit;
	rc = audit_store_list(&s->app->db, s->a, &f, rows, n, err);
	if (rc == GACP_EINVAL) {
		/* A well-formed but impossible date (February 30). */
		svc_field_error(s, from != NULL ? "from" : "to", "invalid_value",
		    "is not a real date-time");
		return svc_check_fields(s, err);
	}
	if (rc == GACP_OK && *n == (size_t)pg.limit)
		*next_cursor = svc_cursor_seq(s, (*rows)[*n - 1].id);
	return rc;
}
