/* ctl_run.h - one gacpctl command's state for commands that go through
 * the services (src/tenancy/tenancy.h) like the API does: a system principal
 * named after the local user, an arena, and the error to report.
 */
#ifndef GACP_TOOLS_CTL_RUN_H
#define GACP_TOOLS_CTL_RUN_H

#include <json-c/json.h>

#include "common/arena.h"
#include "common/err.h"
#include "tenancy/tenancy.h"
#include "tools/ctl.h"

struct ctl_run {
	struct ctl_ctx    *ctl;
	struct arena       arena;
	struct principal   who;
	struct svc         s;
	struct gacp_err    err;
};

void ctl_run_init(struct ctl_run *r, struct ctl_ctx *ctl);
/* Roll back what is open and free the arena. */
void ctl_run_cleanup(struct ctl_run *r);
/* Report r->err (with the service's field errors) and give the exit code. */
int  ctl_run_fail(struct ctl_run *r);
/* A usage error with this message: exit 2. */
int  ctl_run_usage(struct ctl_run *r, const char *msg);
/* Begin a transaction on gacp_app acting in the tenant with this slug
 * (NULL: "--tenant SLUG is required"). */
int  ctl_run_enter_tenant(struct ctl_run *r, const char *slug);
/* One JSON document on stdout (--json). */
void ctl_print_json(struct json_object *o);

#endif
