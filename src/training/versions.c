/* versions.c - model versions: list, activate (see versions.h; files: publish.c). */
#include "training/versions.h"
#include "app/models.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/util.h"
#include "store/db.h"
#include "store/nlu_store.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#include <string.h>

static void	put_json(void *);

static void
put_json(void *p)
{
	json_object_put(p);
}

int
versions_list(struct svc *s, const struct page *pg,
    struct nlu_model_row **rows, size_t *n, char **next_cursor,
    struct gacp_err *err)
{
	int rc;

	*next_cursor = NULL;
	rc = nlu_store_models_list(&s->app->db, s->a, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
versions_get(struct svc *s, const char *id, struct nlu_model_row **out,
    struct gacp_err *err)
{
	char mid[TENANCY_UUID_LEN + 1];

	if (id == NULL || !tenancy_uuid_norm(id, mid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such model version");
	return nlu_store_model_get(&s->app->db, s->a, mid, out, err);
}

int
versions_active(struct svc *s, struct nlu_model_row **out,
    struct gacp_err *err)
{
	/* The reload trains one multilingual model per tenant. */
	return nlu_store_model_active(&s->app->db, s->a, "multi", out, err);
}

int
versions_activate(struct svc *s, const char *id, struct nlu_model_row **out,
    struct nlu_model_row **previous, struct gacp_err *err)
{
	struct nlu_model_row *target, *prev;
	struct audit_event ev;
	struct json_object *d;
	struct db *db = &s->app->db;
	const char *dir = s->app->models->dir;
	const char *who = (s->who->kind == PRINCIPAL_USER ||
	    s->who->kind == PRINCIPAL_API_KEY) && util_uuid_valid(s->who->id) ?
	    s->who->id : NULL;
	int rc;

	*out = *previous = NULL;
	if ((rc = versions_get(s, id, &target, err)) != GACP_OK ||
	    (rc = nlu_store_models_lock(db, s->a, s->tenant_id, err)) !=
	    GACP_OK ||
	    /* Re-read under the lock: a reload may have just moved on. */
	    (rc = nlu_store_model_get(db, s->a, target->id, &target, err)) !=
	    GACP_OK ||
	    (rc = nlu_store_model_active(db, s->a, target->language, &prev,
	    err)) != GACP_OK ||
	    (rc = nlu_store_model_activate(db, s->a, target->id, who, out,
	    err)) != GACP_OK ||
	    (rc = versions_publish(dir, s->tenant_id, target->path,
	    target->checksum, err)) != GACP_OK)
		return rc;
	*previous = prev;
	d = json_object_new_object();
	arena_defer(s->a, put_json, d);
	json_object_object_add(d, "version", json_object_new_int64(
	    target->version));
	json_object_object_add(d, "previous_version", prev ?
	    json_object_new_int64(prev->version) : NULL);
	json_object_object_add(d, "checksum", json_object_new_string(
	    target->checksum));
	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = "nlu_model.activate";
	ev.resource_type = "nlu_model";
	ev.resource_id = target->id;
	ev.details = d;
	if ((rc = audit_record(s, &ev, err)) != GACP_OK)
		return rc;
	if ((rc = svc_commit(s, err)) != GACP_OK) {
		struct gacp_err perr;

		/* The row change is lost: put the file back as well. */
		gacp_err_clear(&perr);
		if (prev != NULL && strcmp(prev->id, target->id) != 0 &&
		    versions_publish(dir, s->tenant_id, prev->path,
		    prev->checksum, &perr) != GACP_OK)
			log_msg(LOG_ERROR, "nlu_model_unpublish_failed",
			    "tenant %s: version %lld stays published although "
			    "its activation did not commit: %s", s->tenant_id,
			    (long long)target->version, perr.msg);
		return rc;
	}
	log_msg(LOG_INFO, "nlu_model_activated", "tenant %s: version %lld",
	    s->tenant_id, (long long)target->version);
	return GACP_OK;
}
