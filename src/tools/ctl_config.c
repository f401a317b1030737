/* ctl_config.c - gacpctl config get|set|list and rotate-key: system configuration and master keys.
 *
 * Like ctl_tenancy.c these go through the same services as the REST API
 * (sysconfig/svc.h, rotate.h) on the gacp_app connection, as a system
 * principal "gacpctl:<login>" acting as platform administrator: the
 * validation, sealing, audit trail and cache signal are the API's.
 *
 * Values are read from standard input or --value-file (the whole content,
 * one trailing newline removed), never from the command line, where ps(1)
 * would show a secret; --value is accepted for values that are not
 * encrypted only.
 */
#include "tools/ctl.h"
#include "tools/ctl_run.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "sysconfig/rotate.h"
#include "sysconfig/svc.h"
#include "tenancy/tenancy.h"
#include "tenancy/tenants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE_READ_MAX (128 * 1024)

/* --tenant SLUG or --platform: which scope; begins the transaction. */
static int
enter_scope(struct ctl_run *r, int argc, char **argv, const char **scope)
{
	const char *slug = ctl_opt(argc, argv, "--tenant");
	bool platform = ctl_flag(argc, argv, "--platform");
	char id[37];
	bool is_platform;
	int rc;

	if ((slug == NULL) == !platform)
		return gacp_err_set(&r->err, GACP_EINVAL, "usage",
		    "give either --tenant SLUG or --platform");
	*scope = platform ? "platform" : NULL;
	if ((rc = svc_begin(&r->s, NULL, &r->err)) != GACP_OK)
		return rc;
	if (platform)
		return GACP_OK;
	rc = tenants_resolve(&r->s, slug, id, &is_platform, &r->err);
	if (rc == GACP_ENOTFOUND)
		return gacp_err_set(&r->err, GACP_ENOTFOUND, "not_found",
		    "no tenant '%s'", slug);
	if (rc != GACP_OK)
		return rc;
	svc_set_tenant(&r->s, id, is_platform);
	return svc_bind(&r->s, id, &r->err);
}

/* The first argument that is not an option or an option's value. */
static const char *
positional(int argc, char **argv)
{
	static const char *const flags[] = { "--platform", "--reveal",
	    "--encrypted", "--system", "--json", "--status", NULL };
	int i, j;

	for (i = 0; i < argc; i++) {
		bool flag = false;

		if (strncmp(argv[i], "--", 2) != 0)
			return argv[i];
		for (j = 0; flags[j] != NULL; j++)
			if (strcmp(argv[i], flags[j]) == 0)
				flag = true;
		if (!flag)
			i++;   /* skip the option's value */
	}
	return NULL;
}

/* The value: --value-file F, else standard input (whole, one trailing
 * newline dropped); heap, wiped and freed by the caller. */
static char *
read_value(int argc, char **argv, struct gacp_err *err)
{
	const char *path = ctl_opt(argc, argv, "--value-file");
	FILE *f = path ? fopen(path, "re") : stdin;
	struct buf b;
	char chunk[4096];
	size_t n;
	char *out;

	if (f == NULL) {
		gacp_err_set(err, GACP_EIO, "value_unreadable", "cannot open %s",
		    path);
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > VALUE_READ_MAX) {
			gacp_err_set(err, GACP_ETOOBIG, "too_large",
			    "values are at most %d bytes", VALUE_READ_MAX);
			if (path)
				fclose(f);
			explicit_bzero(chunk, sizeof(chunk));
			if (b.data != NULL)
				explicit_bzero(b.data, b.len);
			buf_cleanup(&b);
			return NULL;
		}
		buf_append(&b, chunk, n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (path)
		fclose(f);
	if (b.len > 0 && b.data[b.len - 1] == '\n')
		b.len--;
	if (b.len > 0 && b.data[b.len - 1] == '\r')
		b.len--;
	out = xmalloc(b.len + 1);
	if (b.len > 0)
		memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	if (b.data != NULL)
		explicit_bzero(b.data, b.len);
	buf_cleanup(&b);
	return out;
}

static void
print_row(const struct syscfg_row *row, const char *plain)
{
	const char *text = row->is_encrypted ? plain : row->config_value;

	printf("%-40s %-11s %-7s %s%s\n", row->config_key, row->environment,
	    row->config_type, text != NULL ? text : SYSCFG_MASK,
	    row->is_encrypted ? "  (encrypted)" : "");
}

int
ctl_config_get(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct syscfg_row *row;
	const char *scope, *key = positional(argc, argv);
	char *plain = NULL;
	struct ctl_run r;
	int rc;

	ctl_run_init(&r, ctl);
	if (key == NULL) {
		gacp_err_set(&r.err, GACP_EINVAL, "usage", "which KEY?");
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (enter_scope(&r, argc, argv, &scope) != GACP_OK ||
	    syscfg_get(&r.s, scope, ctl_opt(argc, argv, "--environment"), key,
	    ctl_flag(argc, argv, "--reveal"), &row, &plain, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		struct json_object *o = syscfg_render(row, plain);
		ctl_print_json(o);
		json_object_put(o);
	} else {
		print_row(row, plain);
	}
	rc = CTL_OK;
out:
	if (plain != NULL)
		explicit_bzero(plain, strlen(plain));
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_config_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct syscfg_row *rows;
	const char *scope;
	struct json_object *items;
	struct ctl_run r;
	size_t n, i;
	int rc;

	ctl_run_init(&r, ctl);
	if (enter_scope(&r, argc, argv, &scope) != GACP_OK ||
	    syscfg_list(&r.s, scope, ctl_opt(argc, argv, "--environment"),
	    ctl_opt(argc, argv, "--category"), &rows, &n, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	if (ctl->json) {
		items = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(items, syscfg_render(&rows[i], NULL));
		ctl_print_json(items);
		json_object_put(items);
	} else {
		for (i = 0; i < n; i++)
			print_row(&rows[i], NULL);
	}
	rc = CTL_OK;
out:
	ctl_run_cleanup(&r);
	return rc;
}

int
ctl_config_set(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *scope, *key = positional(argc, argv), *opt;
	struct json_object *body = NULL, *rules = NULL;
	struct syscfg_row *row;
	char *value = NULL;
	bool created, encrypted = ctl_flag(argc, argv, "--encrypted");
	struct ctl_run r;
	int rc;

	ctl_run_init(&r, ctl);
	if (key == NULL) {
		gacp_err_set(&r.err, GACP_EINVAL, "usage", "which KEY?");
		rc = ctl_run_fail(&r);
		goto out;
	}
	if ((opt = ctl_opt(argc, argv, "--value")) != NULL) {
		if (encrypted) {
			gacp_err_set(&r.err, GACP_EINVAL, "usage", "an encrypted "
			    "value is read from stdin or --value-file, never "
			    "from the command line");
			rc = ctl_run_fail(&r);
			goto out;
		}
		value = xstrdup(opt);
	} else if ((value = read_value(argc, argv, &r.err)) == NULL) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	body = json_object_new_object();
	json_object_object_add(body, "config_value",
	    json_object_new_string(value));
	if ((opt = ctl_opt(argc, argv, "--type")) != NULL)
		json_object_object_add(body, "config_type",
		    json_object_new_string(opt));
	if ((opt = ctl_opt(argc, argv, "--category")) != NULL)
		json_object_object_add(body, "category",
		    json_object_new_string(opt));
	if ((opt = ctl_opt(argc, argv, "--description")) != NULL)
		json_object_object_add(body, "description",
		    json_object_new_string(opt));
	if (encrypted)
		json_object_object_add(body, "is_encrypted",
		    json_object_new_boolean(true));
	if (ctl_flag(argc, argv, "--system"))
		json_object_object_add(body, "is_system_config",
		    json_object_new_boolean(true));
	if ((opt = ctl_opt(argc, argv, "--version")) != NULL) {
		char *end;
		long long v = strtoll(opt, &end, 10);

		json_object_object_add(body, "version", *end == '\0' && v > 0 ?
		    json_object_new_int64(v) : json_object_new_string(opt));
	}
	if ((opt = ctl_opt(argc, argv, "--rules")) != NULL) {
		if (json_parse_strict(opt, strlen(opt), JSON_MAX_DEPTH, &rules,
		    &r.err) != GACP_OK) {
			rc = ctl_run_fail(&r);
			goto out;
		}
		json_object_object_add(body, "validation_rules", rules);
	}
	if (enter_scope(&r, argc, argv, &scope) != GACP_OK ||
	    syscfg_put(&r.s, scope, ctl_opt(argc, argv, "--environment"), key,
	    body, &row, &created, &r.err) != GACP_OK ||
	    svc_commit(&r.s, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	syscfg_bump(&ctl->app, &r.arena);
	if (ctl->json) {
		struct json_object *o = syscfg_render(row, NULL);
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("%s %s (%s) version %lld\n", created ? "created" : "updated",
		    row->config_key, row->environment, (long long)row->version);
	}
	rc = CTL_OK;
out:
	json_object_put(body);
	if (value != NULL) {
		explicit_bzero(value, strlen(value));
		free(value);
	}
	ctl_run_cleanup(&r);
	return rc;
}

static bool
long_opt(int argc, char **argv, const char *name, long lo, long hi,
    long *out, struct gacp_err *err)
{
	const char *v = ctl_opt(argc, argv, name);
	char *end;
	long n;

	if (v == NULL)
		return true;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
		gacp_err_set(err, GACP_EINVAL, "usage", "%s is %ld to %ld", name,
		    lo, hi);
		return false;
	}
	*out = n;
	return true;
}

static int
rotate_status(struct ctl_run *r)
{
	struct syscfg_key_status st;
	struct json_object *o, *pending, *rot;

	if (syscfg_rotation_status(&r->s, &st, &r->err) != GACP_OK)
		return ctl_run_fail(r);
	if (!r->ctl->json) {
		printf("active key:      %s (%s days old; policy %d days)%s\n",
		    st.active_kid, st.age_days < 0 ? "unknown" :
		    arena_sprintf(&r->arena, "%lld", (long long)st.age_days),
		    st.policy_days, st.overdue ? "  ROTATION OVERDUE" : "");
		printf("keys in file:    %d\n", st.nkeys);
		printf("under older keys: %lld config values, %lld channels\n",
		    st.pending_config, st.pending_channels);
		if (st.rotation_kid[0] != '\0')
			printf("last rotation:   %s started %s, %s; %lld rows "
			    "re-sealed in %lld batches, %lld unreadable\n",
			    st.rotation_kid, st.rotation_started,
			    st.in_progress ? "NOT FINISHED (run gacpctl "
			    "rotate-key to resume)" : arena_sprintf(&r->arena,
			    "finished %s", st.rotation_finished),
			    st.rotation_resealed, st.rotation_batches,
			    st.rotation_unreadable);
		return CTL_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "active_kid",
	    json_object_new_string(st.active_kid));
	json_object_object_add(o, "active_key_created_at", st.active_created_s ?
	    json_object_new_int64(st.active_created_s) : NULL);
	json_object_object_add(o, "age_days", st.age_days >= 0 ?
	    json_object_new_int64(st.age_days) : NULL);
	json_object_object_add(o, "policy_days",
	    json_object_new_int(st.policy_days));
	json_object_object_add(o, "overdue", json_object_new_boolean(st.overdue));
	json_object_object_add(o, "keys", json_object_new_int(st.nkeys));
	pending = json_object_new_object();
	json_object_object_add(pending, "system_config",
	    json_object_new_int64(st.pending_config));
	json_object_object_add(pending, "channels",
	    json_object_new_int64(st.pending_channels));
	json_object_object_add(pending, "total",
	    json_object_new_int64(st.pending_config + st.pending_channels));
	json_object_object_add(o, "rows_under_older_keys", pending);
	rot = NULL;
	if (st.rotation_kid[0] != '\0') {
		rot = json_object_new_object();
		json_object_object_add(rot, "kid",
		    json_object_new_string(st.rotation_kid));
		json_object_object_add(rot, "started_at",
		    json_object_new_string(st.rotation_started));
		json_object_object_add(rot, "finished_at", st.in_progress ? NULL :
		    json_object_new_string(st.rotation_finished));
		json_object_object_add(rot, "in_progress",
		    json_object_new_boolean(st.in_progress));
		json_object_object_add(rot, "batches",
		    json_object_new_int64(st.rotation_batches));
		json_object_object_add(rot, "rows_resealed",
		    json_object_new_int64(st.rotation_resealed));
		json_object_object_add(rot, "rows_unreadable",
		    json_object_new_int64(st.rotation_unreadable));
	}
	json_object_object_add(o, "last_rotation", rot);
	ctl_print_json(o);
	json_object_put(o);
	return CTL_OK;
}

int
ctl_rotate_key(struct ctl_ctx *ctl, int argc, char **argv)
{
	struct syscfg_rotate_opts opts;
	struct syscfg_rotate_result res;
	long batch = 100, max_batches = 0, grace;
	struct ctl_run r;
	int rc;

	ctl_run_init(&r, ctl);
	if (ctl_flag(argc, argv, "--status")) {
		rc = rotate_status(&r);
		goto out;
	}
	grace = (long)config_get_int(&ctl->app.cfg, "security.rotation_grace_ms",
	    2000);
	if (!long_opt(argc, argv, "--batch-size", 1, 10000, &batch, &r.err) ||
	    !long_opt(argc, argv, "--max-batches", 1, 1000000000, &max_batches,
	    &r.err) ||
	    !long_opt(argc, argv, "--grace-ms", 0, 600000, &grace, &r.err)) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.batch_size = (int)batch;
	opts.max_batches = max_batches;
	opts.grace_ms = grace;
	if (syscfg_rotate(&r.s, &opts, &res, &r.err) != GACP_OK) {
		rc = ctl_run_fail(&r);
		goto out;
	}
	/* Processes reload their caches (sealed values) and key files. */
	syscfg_bump(&ctl->app, &r.arena);
	if (ctl->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "kid", json_object_new_string(res.kid));
		json_object_object_add(o, "new_key",
		    json_object_new_boolean(res.new_key));
		json_object_object_add(o, "finished",
		    json_object_new_boolean(res.finished));
		json_object_object_add(o, "batches",
		    json_object_new_int64(res.batches));
		json_object_object_add(o, "rows_resealed",
		    json_object_new_int64(res.resealed));
		json_object_object_add(o, "rows_unreadable",
		    json_object_new_int64(res.unreadable));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("%s key %s: %lld rows re-sealed in %lld batches, %lld "
		    "unreadable; %s\n", res.new_key ? "new" : "resumed", res.kid,
		    res.resealed, res.batches, res.unreadable, res.finished ?
		    "finished" : "stopped before the end (run gacpctl rotate-key "
		    "again to resume)");
	}
	rc = CTL_OK;
out:
	ctl_run_cleanup(&r);
	return rc;
}
