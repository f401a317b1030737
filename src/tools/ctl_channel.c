/* ctl_channel.c - gacpctl channel add|list|remove: Messenger pages. */
#include "tools/ctl.h"
#include "common/buf.h"
#include "common/util.h"
#include "messenger/channel.h"
#include "security/crypto.h"
#include "store/db.h"

#include <stdio.h>
#include <string.h>

/* Resolve a tenant slug (or id) to its id, as the owner role. */
static int
tenant_id_of(struct ctl_ctx *ctl, struct arena *a, const char *tenant,
    char out[37], struct gacp_err *err)
{
	const char *params[1] = { tenant };
	PGresult *res;
	int rc;

	if (util_uuid_valid(tenant)) {
		snprintf(out, 37, "%s", tenant);
		return GACP_OK;
	}
	rc = db_exec(&ctl->owner, a, "SELECT id FROM gacp_tenant_by_slug($1)",
	    1, params, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no tenant '%s'", tenant);
	snprintf(out, 37, "%s", PQgetvalue(res, 0, 0));
	return GACP_OK;
}

/* Three secret lines on stdin: app secret, page access token, verify
 * token (never on the command line, where ps(1) would show them). */
static int
read_secrets(int argc, char **argv, char *secrets[3], struct gacp_err *err)
{
	static const char *files[3] = { "--app-secret-file",
	    "--page-token-file", "--verify-token-file" };
	int i;

	for (i = 0; i < 3; i++) {
		secrets[i] = ctl_read_secret(argc, argv,
		    ctl_opt(argc, argv, files[i]) ? files[i] : NULL, err);
		if (secrets[i] == NULL || secrets[i][0] == '\0')
			return gacp_err_set(err, GACP_EINVAL, "secret_missing",
			    "expected app secret, page access token and verify "
			    "token (one per line on stdin, or --*-file options)");
	}
	return GACP_OK;
}

int
ctl_channel_add(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	const char *page_id = ctl_opt(argc, argv, "--page-id");
	const char *name = ctl_opt(argc, argv, "--name");
	char tenant_id[37], channel_id[37], verify_hash[65];
	char *secrets[3] = { NULL, NULL, NULL }, *secret_enc = NULL,
	    *token_enc = NULL;
	struct gacp_err err;
	struct arena a;
	PGresult *res;
	int rc, i;

	gacp_err_clear(&err);
	arena_init(&a, 4096);
	if (tenant == NULL || page_id == NULL) {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage",
		    "--tenant SLUG and --page-id ID are required");
		goto out;
	}
	if ((rc = read_secrets(argc, argv, secrets, &err)) != GACP_OK ||
	    (rc = tenant_id_of(ctl, &a, tenant, tenant_id, &err)) != GACP_OK)
		goto out;
	util_uuid_v4(channel_id);
	crypto_sha256_hex(secrets[2], strlen(secrets[2]), verify_hash);
	if ((rc = mx_channel_seal(ctl->app.master_keys, tenant_id, channel_id,
	    "app_secret", secrets[0], &secret_enc, &err)) != GACP_OK ||
	    (rc = mx_channel_seal(ctl->app.master_keys, tenant_id, channel_id,
	    "page_access_token", secrets[1], &token_enc, &err)) != GACP_OK)
		goto out;
	if ((rc = db_begin(&ctl->owner, &a, tenant_id, &err)) != GACP_OK)
		goto out;
	{
		const char *params[7] = { tenant_id, channel_id,
		    name ? name : page_id, page_id, secret_enc, token_enc,
		    verify_hash };
		rc = db_exec(&ctl->owner, &a, "INSERT INTO channels (tenant_id, "
		    "id, name, page_id, app_secret_enc, page_access_token_enc, "
		    "verify_token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7,
		    params, &res, &err);
	}
	if (rc == GACP_OK)
		rc = db_commit(&ctl->owner, &a, &err);
	else
		db_rollback(&ctl->owner, &a);
	if (rc != GACP_OK)
		goto out;
	if (ctl->json)
		printf("{\"id\":\"%s\",\"tenant_id\":\"%s\",\"page_id\":\"%s\"}\n",
		    channel_id, tenant_id, page_id);
	else
		printf("channel %s added for page %s\n", channel_id, page_id);
out:
	for (i = 0; i < 3; i++) {
		if (secrets[i] != NULL)
			explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	free(secret_enc);
	free(token_enc);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}

int
ctl_channel_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	char tenant_id[37];
	struct gacp_err err;
	struct arena a;
	PGresult *res;
	struct buf b;
	int rc, row;

	gacp_err_clear(&err);
	arena_init(&a, 4096);
	buf_init(&b);
	if (tenant == NULL) {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage", "--tenant SLUG is required");
		goto out;
	}
	if ((rc = tenant_id_of(ctl, &a, tenant, tenant_id, &err)) != GACP_OK ||
	    (rc = db_begin(&ctl->owner, &a, tenant_id, &err)) != GACP_OK)
		goto out;
	rc = db_exec(&ctl->owner, &a, "SELECT id, name, page_id, status, "
	    "to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM channels "
	    "WHERE NOT is_deleted ORDER BY created_at", 0, NULL, &res, &err);
	db_rollback(&ctl->owner, &a);
	if (rc != GACP_OK)
		goto out;
	buf_puts(&b, "{\"channels\":[");
	for (row = 0; row < PQntuples(res); row++) {
		if (!ctl->json) {
			printf("%s  %-16s %-10s %s\n", PQgetvalue(res, row, 0),
			    PQgetvalue(res, row, 2), PQgetvalue(res, row, 3),
			    PQgetvalue(res, row, 1));
			continue;
		}
		buf_printf(&b, "%s{\"id\":\"%s\",\"name\":", row ? "," : "",
		    PQgetvalue(res, row, 0));
		buf_json_str(&b, PQgetvalue(res, row, 1));
		buf_printf(&b, ",\"page_id\":\"%s\",\"status\":\"%s\","
		    "\"created_at\":\"%s\"}", PQgetvalue(res, row, 2),
		    PQgetvalue(res, row, 3), PQgetvalue(res, row, 4));
	}
	buf_puts(&b, "]}\n");
	if (ctl->json)
		fputs(b.data, stdout);
out:
	buf_cleanup(&b);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}

int
ctl_channel_remove(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	const char *id = ctl_opt(argc, argv, "--id");
	char tenant_id[37];
	struct gacp_err err;
	struct arena a;
	PGresult *res;
	int rc;

	gacp_err_clear(&err);
	arena_init(&a, 4096);
	if (tenant == NULL || id == NULL || !util_uuid_valid(id)) {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage",
		    "--tenant SLUG and --id CHANNEL_UUID are required");
		goto out;
	}
	if ((rc = tenant_id_of(ctl, &a, tenant, tenant_id, &err)) != GACP_OK ||
	    (rc = db_begin(&ctl->owner, &a, tenant_id, &err)) != GACP_OK)
		goto out;
	{
		const char *params[1] = { id };
		rc = db_exec(&ctl->owner, &a, "UPDATE channels SET is_deleted = "
		    "true, deleted_at = now() WHERE id = $1 AND NOT is_deleted",
		    1, params, &res, &err);
	}
	if (rc == GACP_OK && atoi(PQcmdTuples(res)) != 1)
		rc = gacp_err_set(&err, GACP_ENOTFOUND, "not_found",
		    "no channel %s in tenant %s", id, tenant);
	if (rc == GACP_OK)
		rc = db_commit(&ctl->owner, &a, &err);
	else
		db_rollback(&ctl->owner, &a);
	if (rc == GACP_OK)
		printf(ctl->json ? "{\"removed\":\"%s\"}\n" : "channel %s removed\n", id);
out:
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}
