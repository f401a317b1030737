/* ctl_tenancy.c - gacpctl tenant|user|apikey|audit: administering tenants, users, API keys and the audit trail.
 *
 * Which database role: these commands go through the same services as the
 * REST API, on the gacp_app connection with the transaction bound to the
 * tenant named by --tenant, so row-level security applies to the operator
 * exactly as to the API (a system principal "gacpctl:<login>", acting as
 * platform administrator, is what the audit trail records).  The one
 * exception is `audit purge`: gacp_app may not delete from the append-only
 * audit log at all, so retention runs on the owner role's connection,
 * tenant by tenant (the owner is subject to the forced RLS policies too).
 *
 * Passwords are read from standard input (or --password-file), never from
 * the command line, where ps(1) would show them.  An API key is printed
 * once, on creation.
 */
#include "tools/ctl.h"
#include "tools/ctl_run.h"
#include "common/arena.h"
#include "common/json.h"
#include "store/apikey_store.h"
#include "store/audit_store.h"
#include "store/tenant_store.h"
#include "store/user_store.h"
#include "tenancy/apikeys.h"
#include "tenancy/render.h"
#include "tenancy/tenancy.h"
#include "tenancy/tenants.h"
#include "tenancy/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Begin a transaction acting in the tenant named by --tenant. */
static int
enter_tenant(struct ctl_run *r, int argc, char **argv)
{
	return ctl_run_enter_tenant(r, ctl_opt(argc, argv, "--tenant"));
}

/* Every value of a repeatable, comma-separated option (--role a,b). */
static struct json_object *
list_opt(int argc, char **argv, const char *name)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i + 1 < argc; i++) {
		char *copy, *tok, *save = NULL;
		if (strcmp(argv[i], name) != 0)
			continue;
		copy = strdup(argv[i + 1]);
		if (copy == NULL)
			abort();
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			json_object_array_add(arr, json_object_new_string(tok));
		free(copy);
	}
	return arr;
}

static void
add_opt(struct json_object *body, const char *key, int argc, char **argv,
    const char *opt)
{
	const char *v = ctl_opt(argc, argv, opt);

	if (v != NULL)
		json_object_object_add(body, key, json_object_new_string(v));
}

/* ---- tenant ------------------------------------------------------------ */

int
ctl_tenant_create(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *body = json_object_new_object(), *o, *settings;
	struct tenant_row *t;
	struct user_row *owner;
	struct ctl_run r;
	char *password = NULL;
	const char *owner_name = ctl_opt(argc, argv, "--owner");
	const char *settings_text = ctl_opt(argc, argv, "--settings");
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	add_opt(body, "slug", argc, argv, "--slug");
	add_opt(body, "name", argc, argv, "--name");
	if (ctl_flag(argc, argv, "--platform"))
		json_object_object_add(body, "is_platform",
		    json_object_new_boolean(true));
	if (settings_text != NULL) {
		settings = json_tokener_parse(settings_text);
		if (settings == NULL) {
			rc = ctl_run_usage(&r, "--settings must be a JSON object");
			goto out;
		}
		json_object_object_add(body, "settings", settings);
	}
	if (owner_name != NULL) {
		struct json_object *ow = json_object_new_object();
		if ((password = ctl_read_secret(argc, argv, "--password-file",
		    &r.err)) == NULL) {
			json_object_put(ow);
			rc = ctl_run_fail(&r);
			goto out;
		}
		json_object_object_add(ow, "username",
		    json_object_new_string(owner_name));
		json_object_object_add(ow, "password",
		    json_object_new_string(password));
		json_object_object_add(body, "owner", ow);
	}
	if (svc_begin(&r.s, NULL, &r.err) != GACP_OK ||
	    tenants_create(&r.s, body, &t, &owner, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		o = render_tenant(t);
		if (owner != NULL)
			json_object_object_add(o, "owner", render_user(owner));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("tenant %s created: id %s%s%s\n", t->slug, t->id,
		    owner ? ", owner " : "", owner ? owner->username : "");
	}
	rc = CTL_OK;
out:
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	json_object_put(body);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_tenant_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *items = json_object_new_array();
	struct tenant_row *rows;
	struct page pg;
	struct ctl_run r;
	char *next = NULL;
	size_t n, i;
	int rc = CTL_FAIL;

	(void)argc;
	(void)argv;
	ctl_run_init(&r, ctl);
	memset(&pg, 0, sizeof(pg));
	pg.limit = TENANCY_LIST_MAX;
	pg.after_us = -1;
	if (svc_begin(&r.s, NULL, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	do {
		if (tenants_list(&r.s, &pg, &rows, &n, &next, &r.err) != GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (ctl->json)
				json_object_array_add(items, render_tenant(&rows[i]));
			else
				printf("%-36s %-24s %-10s %s%s\n", rows[i].id,
				    rows[i].slug, rows[i].status, rows[i].name,
				    rows[i].is_platform ? " (platform)" : "");
		}
		if (n > 0) {
			pg.after_us = rows[n - 1].created_us;
			snprintf(pg.after_id, sizeof(pg.after_id), "%s",
			    rows[n - 1].id);
		}
	} while (next != NULL);
	if (ctl->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "items", json_object_get(items));
		ctl_print_json(o);
		json_object_put(o);
	}
	rc = CTL_OK;
out:
	json_object_put(items);
	ctl_run_cleanup(&r);
	return rc;
}

static int
set_status(struct ctl_ctx *ctl, int argc, char **argv, const char *status)
{
	struct json_object *body = json_object_new_object();
	struct tenant_row *t;
	struct ctl_run r;
	char id[37];
	bool is_platform;
	const char *slug = ctl_opt(argc, argv, "--slug");
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	json_object_object_add(body, "status", json_object_new_string(status));
	if (slug == NULL) {
		rc = ctl_run_usage(&r, "--slug SLUG is required");
		goto out;
	}
	if (svc_begin(&r.s, NULL, &r.err) != GACP_OK ||
	    tenants_resolve(&r.s, slug, id, &is_platform, &r.err) != GACP_OK ||
	    tenants_update(&r.s, id, body, false, &t, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = render_tenant(t);
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("tenant %s is %s\n", t->slug, t->status);
	}
	rc = CTL_OK;
out:
	json_object_put(body);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_tenant_suspend(struct ctl_ctx *ctl, int argc, char **argv)
{
	return set_status(ctl, argc, argv, "suspended");
}

int
ctl_tenant_resume(struct ctl_ctx *ctl, int argc, char **argv)
{
	return set_status(ctl, argc, argv, "active");
}

/* ---- user -------------------------------------------------------------- */

int
ctl_user_create(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *body = json_object_new_object(), *o;
	struct user_row *u;
	struct ctl_run r;
	char *password = NULL;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	add_opt(body, "username", argc, argv, "--username");
	add_opt(body, "display_name", argc, argv, "--display-name");
	add_opt(body, "email", argc, argv, "--email");
	json_object_object_add(body, "roles", list_opt(argc, argv, "--role"));
	if (ctl_flag(argc, argv, "--must-change-password"))
		json_object_object_add(body, "must_change_password",
		    json_object_new_boolean(true));
	if (enter_tenant(&r, argc, argv) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if ((password = ctl_read_secret(argc, argv, "--password-file",
	    &r.err)) == NULL) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	json_object_object_add(body, "password", json_object_new_string(password));
	if (users_create(&r.s, body, &u, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		o = render_user(u);
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("user %s created: id %s\n", u->username, u->id);
	}
	rc = CTL_OK;
out:
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	/* The body held the password too. */
	json_object_object_del(body, "password");
	json_object_put(body);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_user_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *items = json_object_new_array();
	struct user_row *rows;
	struct page pg;
	struct ctl_run r;
	char *next = NULL;
	size_t n, i, j;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	memset(&pg, 0, sizeof(pg));
	pg.limit = TENANCY_LIST_MAX;
	pg.after_us = -1;
	if (enter_tenant(&r, argc, argv) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	do {
		if (users_list(&r.s, &pg, &rows, &n, &next, &r.err) != GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (ctl->json) {
				json_object_array_add(items, render_user(&rows[i]));
				continue;
			}
			printf("%-36s %-24s %-8s", rows[i].id, rows[i].username,
			    rows[i].is_active ? "active" : "inactive");
			for (j = 0; j < rows[i].nroles; j++)
				printf("%s%s", j ? "," : " ", rows[i].roles[j]);
			printf("\n");
		}
		if (n > 0) {
			pg.after_us = rows[n - 1].created_us;
			snprintf(pg.after_id, sizeof(pg.after_id), "%s",
			    rows[n - 1].id);
		}
	} while (next != NULL);
	if (ctl->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "items", json_object_get(items));
		ctl_print_json(o);
		json_object_put(o);
	}
	rc = CTL_OK;
out:
	json_object_put(items);
	ctl_run_cleanup(&r);
	return rc;
}

/* The user named by --username in the entered tenant. */
static int
find_user(struct ctl_run *r, int argc, char **argv, struct user_row **u)
{
	const char *name = ctl_opt(argc, argv, "--username");
	int rc;

	if (name == NULL)
		return gacp_err_set(&r->err, GACP_EINVAL, "usage",
		    "--username NAME is required");
	rc = users_find(&r->s, name, u, &r->err);
	if (rc == GACP_ENOTFOUND)
		return gacp_err_set(&r->err, GACP_ENOTFOUND, "not_found",
		    "no user '%s'", name);
	return rc;
}

int
ctl_user_reset_password(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *body = json_object_new_object();
	struct user_row *u;
	struct ctl_run r;
	char *password = NULL;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	if (enter_tenant(&r, argc, argv) != GACP_OK ||
	    find_user(&r, argc, argv, &u) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if ((password = ctl_read_secret(argc, argv, "--password-file",
	    &r.err)) == NULL) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	json_object_object_add(body, "password", json_object_new_string(password));
	/* An operator's reset is a temporary password unless told otherwise. */
	json_object_object_add(body, "must_change_password",
	    json_object_new_boolean(!ctl_flag(argc, argv, "--no-force-change")));
	if (users_set_password(&r.s, u->id, body, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json)
		printf("{\"id\":\"%s\",\"password_reset\":true}\n", u->id);
	else
		printf("password of %s reset; their sessions are ended\n",
		    u->username);
	rc = CTL_OK;
out:
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	json_object_object_del(body, "password");
	json_object_put(body);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_user_unlock(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct user_row *u;
	struct ctl_run r;
	bool was_locked;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	if (enter_tenant(&r, argc, argv) != GACP_OK ||
	    find_user(&r, argc, argv, &u) != GACP_OK ||
	    users_unlock(&r.s, u->id, &was_locked, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json)
		printf("{\"id\":\"%s\",\"unlocked\":%s}\n", u->id,
		    was_locked ? "true" : "false");
	else
		printf("%s %s\n", u->username, was_locked ? "unlocked" :
		    "was not locked");
	rc = CTL_OK;
out:
	ctl_run_cleanup(&r);
	return rc;
}

/* ---- apikey ------------------------------------------------------------ */

int
ctl_apikey_create(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *body = json_object_new_object(), *o;
	struct apikey_row *k;
	struct ctl_run r;
	char *key;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	add_opt(body, "name", argc, argv, "--name");
	add_opt(body, "expires_at", argc, argv, "--expires-at");
	json_object_object_add(body, "scopes", list_opt(argc, argv, "--scope"));
	if (enter_tenant(&r, argc, argv) != GACP_OK ||
	    apikeys_create(&r.s, body, &k, &key, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		o = render_apikey(k);
		json_object_object_add(o, "key", json_object_new_string(key));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("API key %s (%s) created; shown once:\n%s\n", k->id,
		    k->name, key);
	}
	explicit_bzero(key, strlen(key));
	rc = CTL_OK;
out:
	json_object_put(body);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_apikey_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct json_object *items = json_object_new_array();
	struct apikey_row *rows;
	struct page pg;
	struct ctl_run r;
	char *next = NULL;
	size_t n, i;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	memset(&pg, 0, sizeof(pg));
	pg.limit = TENANCY_LIST_MAX;
	pg.after_us = -1;
	if (enter_tenant(&r, argc, argv) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	do {
		if (apikeys_list(&r.s, &pg, &rows, &n, &next, &r.err) != GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (ctl->json)
				json_object_array_add(items, render_apikey(&rows[i]));
			else
				printf("%-36s %-8s %-8s %s\n", rows[i].id,
				    rows[i].prefix, rows[i].revoked_at ? "revoked" :
				    rows[i].expired ? "expired" : "active",
				    rows[i].name);
		}
		if (n > 0) {
			pg.after_us = rows[n - 1].created_us;
			snprintf(pg.after_id, sizeof(pg.after_id), "%s",
			    rows[n - 1].id);
		}
	} while (next != NULL);
	if (ctl->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "items", json_object_get(items));
		ctl_print_json(o);
		json_object_put(o);
	}
	rc = CTL_OK;
out:
	json_object_put(items);
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_apikey_revoke(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *id = ctl_opt(argc, argv, "--id");
	struct ctl_run r;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	if (id == NULL) {
		rc = ctl_run_usage(&r, "--id KEY_ID is required");
		goto out;
	}
	if (enter_tenant(&r, argc, argv) != GACP_OK ||
	    apikeys_revoke(&r.s, id, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json)
		printf("{\"id\":\"%s\",\"revoked\":true}\n", id);
	else
		printf("API key %s revoked\n", id);
	rc = CTL_OK;
out:
	ctl_run_cleanup(&r);
	return rc;
}

/* ---- audit ------------------------------------------------------------- */

int
ctl_audit_purge(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *days_opt = ctl_opt(argc, argv, "--days");
	struct db *owner = &ctl->owner;
	struct ctl_run r;
	char **ids;
	size_t n, i;
	int64_t deleted, total = 0;
	long days;
	int rc = CTL_FAIL;

	ctl_run_init(&r, ctl);
	days = r.s.policy.audit_retention_days;
	if (days_opt != NULL) {
		char *end;
		days = strtol(days_opt, &end, 10);
		if (*end != '\0' || days < 1 || days > 36500) {
			rc = ctl_run_usage(&r, "--days must be 1 to 36500");
			goto out;
		}
	}
	/* Tenant by tenant under RLS: the platform scope lists every tenant
	 * (deleted ones too), each delete is bound to its tenant, and the nil
	 * tenant holds events of logins that named no existing tenant. */
	if (db_begin(owner, &r.arena, NULL, &r.err) != GACP_OK ||
	    db_set_platform_admin(owner, &r.arena, &r.err) != GACP_OK ||
	    tenant_store_all_ids(owner, &r.arena, &ids, &n, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	for (i = 0; i <= n; i++) {
		const char *t = i < n ? ids[i] : TENANCY_NIL_UUID;
		if (db_set_tenant(owner, &r.arena, t, &r.err) != GACP_OK ||
		    audit_store_purge(owner, &r.arena, t, (int)days, &deleted,
		    &r.err) != GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
		total += deleted;
	}
	if (db_commit(owner, &r.arena, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json)
		printf("{\"deleted\":%lld,\"days\":%ld,\"tenants\":%zu}\n",
		    (long long)total, days, n);
	else
		printf("%lld audit event(s) older than %ld days deleted\n",
		    (long long)total, days);
	rc = CTL_OK;
out:
	db_rollback(owner, &r.arena);
	ctl_run_cleanup(&r);
	return rc;
}
