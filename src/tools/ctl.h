/* ctl.h - gacpctl, the administrator's command-line tool.
 *
 * Each command is one const table entry {group, verb, run, usage, help}
 * (like tmux's cmd_entry): gacpctl.c holds the table and the dispatcher,
 * src/tools/ctl_<group>.c the commands.  Commands print human text by
 * default and one JSON document with --json; errors go to stderr.
 *
 * Exit codes: 0 success, 1 failure, 2 usage error, 3 a dependency
 * (PostgreSQL, Redis) unreachable, 4 not found, 5 conflict/refused.
 * Secrets (passwords) are read from stdin or a file, never from argv.
 */
#ifndef GACP_TOOLS_CTL_H
#define GACP_TOOLS_CTL_H

#include <stdbool.h>

#include "app/context.h"

enum ctl_exit {
	CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2, CTL_UNAVAILABLE = 3,
	CTL_NOTFOUND = 4, CTL_REFUSED = 5,
};

struct ctl_ctx {
	struct gacp_ctx app;       /* config, gacp_app connection, Redis */
	struct db       owner;     /* owner-role connection (migrations, admin) */
	bool            json;      /* --json given */
};

struct ctl_command {
	const char *group;         /* "tenant" ("migrate" has no verb) */
	const char *verb;          /* "create", or NULL */
	int       (*run)(struct ctl_ctx *ctl, int argc, char **argv);
	const char *usage;         /* arguments after "gacpctl group verb" */
	const char *help;          /* one line */
};

extern const struct ctl_command ctl_commands[];
extern const size_t ctl_ncommands;

/* Exit code for a gacp_result. */
int  ctl_exit_for(int result);
/* Print "gacpctl: code: message" to stderr and return the exit code. */
int  ctl_fail(const struct gacp_err *err);
/* Value of --name VALUE in argv (NULL if absent); flags of the form
 * --name are found by ctl_flag. */
const char *ctl_opt(int argc, char **argv, const char *name);
bool ctl_flag(int argc, char **argv, const char *name);
/* Read a secret: one line from stdin (or the file named by --password-file). */
char *ctl_read_secret(int argc, char **argv, const char *file_opt,
    struct gacp_err *err);

/* Commands (ctl_*.c). */
int ctl_migrate(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_channel_add(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_channel_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_channel_remove(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_responses_import(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_deadletter_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_deadletter_retry(struct ctl_ctx *ctl, int argc, char **argv);
/* ctl_health.c: exit 0 healthy, 1 degraded, 2 critical or unreachable. */
int ctl_health(struct ctl_ctx *ctl, int argc, char **argv);
/* ctl_tenancy.c */
int ctl_tenant_create(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_tenant_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_tenant_suspend(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_tenant_resume(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_user_create(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_user_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_user_reset_password(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_user_unlock(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_apikey_create(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_apikey_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_apikey_revoke(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_audit_purge(struct ctl_ctx *ctl, int argc, char **argv);
/* ctl_nlu.c */
int ctl_nlu_import(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_nlu_export(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_nlu_train(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_nlu_eval(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_nlu_status(struct ctl_ctx *ctl, int argc, char **argv);
/* ctl_retention.c */
int ctl_messages_purge(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_retention(struct ctl_ctx *ctl, int argc, char **argv);
/* ctl_config.c */
int ctl_config_get(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_config_set(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_config_list(struct ctl_ctx *ctl, int argc, char **argv);
int ctl_rotate_key(struct ctl_ctx *ctl, int argc, char **argv);

#endif
