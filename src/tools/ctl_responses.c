/* ctl_responses.c - gacpctl responses import: the bot's answers from a
 * Rasa domain file (responses:, forms:). */
#include "tools/ctl.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "flow/domain.h"
#include "store/db.h"

#include <stdio.h>
#include <string.h>

#define DOMAIN_MAX_BYTES (4 * 1024 * 1024)

int
ctl_responses_import(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *tenant = ctl_opt(argc, argv, "--tenant");
	const char *path = argc > 0 ? argv[argc - 1] : NULL;
	char tenant_id[37];
	struct domain d;
	struct gacp_err err;
	struct arena a;
	PGresult *res;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = NULL;
	int rc;

	gacp_err_clear(&err);
	memset(&d, 0, sizeof(d));
	arena_init(&a, 8192);
	if (tenant == NULL || path == NULL || path[0] == '-') {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage",
		    "usage: gacpctl responses import --tenant SLUG FILE.yml");
		goto out;
	}
	if ((f = fopen(path, "re")) == NULL) {
		rc = gacp_err_set(&err, GACP_EIO, "unreadable", "cannot open %s", path);
		goto out;
	}
	text = xmalloc(DOMAIN_MAX_BYTES + 1);
	len = fread(text, 1, DOMAIN_MAX_BYTES + 1, f);
	if (len > DOMAIN_MAX_BYTES) {
		rc = gacp_err_set(&err, GACP_ETOOBIG, "too_large", "%s is over 4 MiB", path);
		goto out;
	}
	if ((rc = domain_parse(text, len, &d, &err)) != GACP_OK)
		goto out;
	{
		const char *p[1] = { tenant };
		rc = db_exec(&ctl->owner, &a, util_uuid_valid(tenant) ?
		    "SELECT $1::uuid" : "SELECT id FROM gacp_tenant_by_slug($1)",
		    1, p, &res, &err);
		if (rc != GACP_OK)
			goto out;
		if (PQntuples(res) != 1) {
			rc = gacp_err_set(&err, GACP_ENOTFOUND, "not_found",
			    "no tenant '%s'", tenant);
			goto out;
		}
		snprintf(tenant_id, sizeof(tenant_id), "%s", PQgetvalue(res, 0, 0));
	}
	if ((rc = db_begin(&ctl->owner, &a, tenant_id, &err)) != GACP_OK)
		goto out;
	for (i = 0; i < d.n && rc == GACP_OK; i++) {
		const char *p[6] = { tenant_id, d.rows[i].intent, d.rows[i].language,
		    json_compact(d.rows[i].templates),
		    json_compact(d.rows[i].quick_replies),
		    json_compact(d.rows[i].required_slots) };
		rc = db_exec(&ctl->owner, &a, "INSERT INTO responses (tenant_id, "
		    "intent, language, templates, quick_replies, required_slots) "
		    "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb) ON "
		    "CONFLICT (tenant_id, intent, language) WHERE NOT is_deleted "
		    "DO UPDATE SET templates = EXCLUDED.templates, quick_replies = "
		    "EXCLUDED.quick_replies, required_slots = "
		    "EXCLUDED.required_slots", 6, p, &res, &err);
	}
	if (rc == GACP_OK)
		rc = db_commit(&ctl->owner, &a, &err);
	else
		db_rollback(&ctl->owner, &a);
	if (rc == GACP_OK)
		printf(ctl->json ? "{\"imported\":%zu}\n" :
		    "%zu responses imported\n", d.n);
out:
	if (f != NULL)
		fclose(f);
	free(text);
	domain_cleanup(&d);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}
