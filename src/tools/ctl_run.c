/* ctl_run.c - shared state of service-backed gacpctl commands (see ctl_run.h). */
#include "tools/ctl_run.h"
#include "tenancy/tenancy.h"
#include "tenancy/tenants.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void
ctl_run_init(struct ctl_run *r, struct ctl_ctx *ctl)
{
	struct passwd *pw = getpwuid(geteuid());

	memset(r, 0, sizeof(*r));
	r->ctl = ctl;
	arena_init(&r->arena, 16 * 1024);
	principal_system(&r->who, pw ? pw->pw_name : NULL);
	svc_init(&r->s, &ctl->app, &r->arena, &r->who, NULL, NULL);
	gacp_err_clear(&r->err);
}

void
ctl_run_cleanup(struct ctl_run *r)
{
	db_rollback(&r->ctl->app.db, &r->arena);
	arena_cleanup(&r->arena);
}

int
ctl_run_fail(struct ctl_run *r)
{
	const char *details = svc_field_errors_json(&r->s);
	int code = ctl_fail(&r->err);

	if (details != NULL)
		fprintf(stderr, "gacpctl: details: %s\n", details);
	return code;
}

int
ctl_run_usage(struct ctl_run *r, const char *msg)
{
	gacp_err_set(&r->err, GACP_EINVAL, "usage", "%s", msg);
	return ctl_run_fail(r);
}

int
ctl_run_enter_tenant(struct ctl_run *r, const char *slug)
{
	char id[37];
	bool is_platform;
	int rc;

	if (slug == NULL)
		return gacp_err_set(&r->err, GACP_EINVAL, "usage",
		    "--tenant SLUG is required");
	if ((rc = svc_begin(&r->s, NULL, &r->err)) != GACP_OK)
		return rc;
	rc = tenants_resolve(&r->s, slug, id, &is_platform, &r->err);
	if (rc == GACP_ENOTFOUND)
		return gacp_err_set(&r->err, GACP_ENOTFOUND, "not_found",
		    "no tenant '%s'", slug);
	if (rc != GACP_OK)
		return rc;
	svc_set_tenant(&r->s, id, is_platform);
	return svc_bind(&r->s, id, &r->err);
}

void
ctl_print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}
