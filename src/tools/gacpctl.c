/* gacpctl.c - the administrator's CLI: command table and dispatcher. */
#include "tools/ctl.h"
#include "common/log.h"
#include "common/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ctl_command ctl_commands[] = {
	{ "migrate", NULL, ctl_migrate, "[--status] [--dir DIR]",
	    "apply pending SQL migrations (or list applied and pending)" },
	{ "channel", "add", ctl_channel_add,
	    "--tenant SLUG --page-id ID [--name NAME] [--app-secret-file F "
	    "--page-token-file F --verify-token-file F]  (else 3 lines on stdin)",
	    "connect a Messenger page to a tenant" },
	{ "channel", "list", ctl_channel_list, "--tenant SLUG",
	    "list a tenant's channels" },
	{ "channel", "remove", ctl_channel_remove, "--tenant SLUG --id UUID",
	    "disconnect a channel (soft delete)" },
	{ "responses", "import", ctl_responses_import, "--tenant SLUG FILE.yml",
	    "import the bot's responses from a Rasa domain file" },
	{ "nlu", "import", ctl_nlu_import,
	    "--tenant SLUG [--mode replace|merge] [--format yaml|json] FILE",
	    "import Rasa NLU training data (YAML or JSON), as POST "
	    "/v1/nlu/import" },
	{ "nlu", "export", ctl_nlu_export, "--tenant SLUG",
	    "print a tenant's training data as Rasa NLU YAML" },
	{ "nlu", "train", ctl_nlu_train, "--tenant SLUG",
	    "train, evaluate and publish a tenant's model now (one forced "
	    "gacp-nlu reload)" },
	{ "nlu", "eval", ctl_nlu_eval, "--tenant SLUG [--data FILE]",
	    "score the active model on the training data or a Rasa file" },
	{ "nlu", "status", ctl_nlu_status, "[--tenant SLUG]",
	    "active model version, trained_at, metrics, examples changed since" },
	{ "deadletter", "list", ctl_deadletter_list, "[--count N]",
	    "list events the worker gave up on (gacp:deadletter)" },
	{ "deadletter", "retry", ctl_deadletter_retry, "ID... | --all",
	    "put dead-lettered events back on the inbound queue" },
	{ "tenant", "create", ctl_tenant_create,
	    "--slug SLUG --name NAME [--settings JSON] [--platform] "
	    "[--owner USERNAME [--password-file F]]  (owner password on stdin)",
	    "create a tenant, optionally with its first tenant_owner" },
	{ "tenant", "list", ctl_tenant_list, "",
	    "list every tenant" },
	{ "tenant", "suspend", ctl_tenant_suspend, "--slug SLUG",
	    "suspend a tenant: its tokens, keys and webhooks are refused" },
	{ "tenant", "resume", ctl_tenant_resume, "--slug SLUG",
	    "make a suspended tenant active again" },
	{ "user", "create", ctl_user_create,
	    "--tenant SLUG --username NAME --role ROLE[,ROLE] [--display-name N] "
	    "[--email E] [--must-change-password] [--password-file F]  "
	    "(password on stdin)",
	    "create a user (roles: platform_admin tenant_owner tenant_admin "
	    "agent viewer)" },
	{ "user", "list", ctl_user_list, "--tenant SLUG",
	    "list a tenant's users" },
	{ "user", "reset-password", ctl_user_reset_password,
	    "--tenant SLUG --username NAME [--no-force-change] "
	    "[--password-file F]  (password on stdin)",
	    "set a user's password (changed at next login unless told) and "
	    "end their sessions" },
	{ "user", "unlock", ctl_user_unlock, "--tenant SLUG --username NAME",
	    "lift a login lockout" },
	{ "apikey", "create", ctl_apikey_create,
	    "--tenant SLUG --name NAME [--scope PERM[,PERM]] [--expires-at RFC3339]",
	    "create an API key (printed once)" },
	{ "apikey", "list", ctl_apikey_list, "--tenant SLUG",
	    "list a tenant's API keys (never the keys themselves)" },
	{ "apikey", "revoke", ctl_apikey_revoke, "--tenant SLUG --id KEY_ID",
	    "revoke an API key" },
	{ "health", NULL, ctl_health, "[--json] [--max-pending N]",
	    "check PostgreSQL, Redis, migrations, the service registry, the "
	    "inbound backlog and dead letters; exit 0 healthy, 1 degraded, "
	    "2 critical or unreachable" },
	{ "config", "get", ctl_config_get,
	    "(--tenant SLUG | --platform) KEY [--environment ENV] [--reveal]",
	    "show a configuration value (typed; encrypted ones masked unless "
	    "--reveal, which is audited)" },
	{ "config", "set", ctl_config_set,
	    "(--tenant SLUG | --platform) KEY [--environment ENV] "
	    "[--type string|json|boolean|integer|float] [--encrypted] "
	    "[--system] [--category C] [--description D] [--rules JSON] "
	    "[--version N] [--value V | --value-file F]  (else the value on "
	    "stdin; encrypted values never from --value)",
	    "create or replace a configuration value (validated, audited)" },
	{ "config", "list", ctl_config_list,
	    "(--tenant SLUG | --platform) [--environment ENV] [--category C]",
	    "list configuration values (encrypted ones masked)" },
	{ "rotate-key", NULL, ctl_rotate_key,
	    "[--status] [--batch-size N] [--max-batches N] [--grace-ms MS]",
	    "add a new master key and re-seal every encrypted value and "
	    "channel secret under it (resumes an interrupted run); --status: "
	    "key age, rows under older keys, 90-day policy" },
	{ "audit", "purge", ctl_audit_purge, "[--days N]",
	    "delete audit events older than N days (default: "
	    "security.audit_retention_days, 365); runs as the owner role" },
	{ "messages", "purge", ctl_messages_purge, "[--tenant SLUG] [--days N]",
	    "delete messages older than each tenant's retention (settings."
	    "retention.message_days, else messenger.message_retention_days, "
	    "365; --days overrides); without --tenant also drop monthly "
	    "partitions past every retention and create the coming months'" },
	{ "retention", NULL, ctl_retention, "",
	    "the nightly job: audit purge, then messages purge (one JSON line "
	    "each with --json)" },
};
const size_t ctl_ncommands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

int
ctl_exit_for(int result)
{
	switch (result) {
	case GACP_OK:        return CTL_OK;
	case GACP_EINVAL:    return CTL_USAGE;
	case GACP_EUNAVAIL:  return CTL_UNAVAILABLE;
	case GACP_ENOTFOUND: return CTL_NOTFOUND;
	case GACP_ECONFLICT: return CTL_REFUSED;
	default:             return CTL_FAIL;
	}
}

int
ctl_fail(const struct gacp_err *err)
{
	fprintf(stderr, "gacpctl: %s: %s\n", err->code[0] ? err->code : "error",
	    err->msg);
	return ctl_exit_for(err->result);
}

const char *
ctl_opt(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

bool
ctl_flag(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

char *
ctl_read_secret(int argc, char **argv, const char *file_opt,
    struct gacp_err *err)
{
	const char *path = file_opt ? ctl_opt(argc, argv, file_opt) : NULL;
	FILE *f = path ? fopen(path, "re") : stdin;
	char line[1024];
	size_t n;

	if (f == NULL) {
		gacp_err_set(err, GACP_EIO, "secret_unreadable", "cannot open %s",
		    path);
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		if (path)
			fclose(f);
		gacp_err_set(err, GACP_EINVAL, "secret_missing",
		    "expected the secret on %s", path ? path : "standard input");
		return NULL;
	}
	if (path)
		fclose(f);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return xstrdup(line);
}

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: gacpctl [--config FILE] [--json] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; i < ctl_ncommands; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s%s", ctl_commands[i].group,
		    ctl_commands[i].verb ? " " : "",
		    ctl_commands[i].verb ? ctl_commands[i].verb : "");
		fprintf(out, "  %-22s %s\n", name, ctl_commands[i].help);
	}
	fprintf(out, "\nexit codes: 0 ok, 1 failure, 2 usage, 3 dependency "
	    "unavailable, 4 not found, 5 refused/conflict\n"
	    "gacpctl COMMAND --help shows a command's arguments.\n");
}

static const struct ctl_command *
find_command(const char *group, const char *verb)
{
	size_t i;

	for (i = 0; i < ctl_ncommands; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		if (strcmp(c->group, group) != 0)
			continue;
		if (c->verb == NULL || (verb != NULL && strcmp(c->verb, verb) == 0))
			return c;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	const struct ctl_command *cmd;
	struct ctl_ctx ctl;
	struct gacp_err err;
	int i = 1, rc, consumed;

	memset(&ctl, 0, sizeof(ctl));
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--json") == 0) {
			ctl.json = true;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return CTL_OK;
		} else {
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = find_command(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
	if (cmd == NULL) {
		fprintf(stderr, "gacpctl: unknown command '%s%s%s'\n", argv[i],
		    i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
		usage(stderr);
		return CTL_USAGE;
	}
	consumed = cmd->verb ? 2 : 1;
	if (ctl_flag(argc - i - consumed, argv + i + consumed, "--help")) {
		printf("usage: gacpctl %s%s%s %s\n  %s\n", cmd->group,
		    cmd->verb ? " " : "", cmd->verb ? cmd->verb : "", cmd->usage,
		    cmd->help);
		return CTL_OK;
	}
	if (ctl_flag(argc - i - consumed, argv + i + consumed, "--json"))
		ctl.json = true;
	gacp_err_clear(&err);
	/* A CLI logs to stderr: never create or append to the daemons' log
	 * files (as root it would leave them unwritable for the service user). */
	setenv("GACP_LOG_ERROR_LOG", "stderr", 1);
	setenv("GACP_LOG_ACCESS_LOG", "stderr", 1);
	setenv("GACP_SERVER_METRICS_FILE", "", 1);   /* no metrics slot */
	if (gacp_ctx_init(&ctl.app, "gacpctl", config_path, NULL, 0,
	    &err) != GACP_OK) {
		rc = ctl_fail(&err);
		goto out;
	}
	/* Logs of a CLI belong on stderr, not in the daemons' files. */
	log_sys_init("gacpctl", NULL, NULL, LOG_WARN);
	db_init(&ctl.owner, config_get(&ctl.app.cfg, "database.owner_conninfo",
	    config_get(&ctl.app.cfg, "database.conninfo", "dbname=gacp")),
	    (int)config_get_int(&ctl.app.cfg, "database.admin_timeout_ms", 60000),
	    NULL);
	rc = cmd->run(&ctl, argc - i - consumed, argv + i + consumed);
out:
	db_cleanup(&ctl.owner);
	gacp_ctx_cleanup(&ctl.app);
	return rc;
}
