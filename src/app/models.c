/* models.c - per-tenant NLU models with inode-based hot swap (models.h). */
#include "app/models.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "nlu/model.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct models *
models_new(const char *dir, int64_t check_interval_us)
{
	struct models *ms = xcalloc(1, sizeof(*ms));

	ms->dir = xstrdup(dir ? dir : "");
	ms->check_interval_us = check_interval_us > 0 ? check_interval_us :
	    1000000;
	return ms;
}

void
models_free(struct models *ms)
{
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->n; i++)
		nlu_model_free(ms->entries[i].model);
	free(ms->dir);
	free(ms);
}

char *
models_active_path(const struct models *ms, const char *tenant_id)
{
	return xasprintf("%s/%s/active.gnlu", ms->dir, tenant_id);
}

static struct models_entry *
entry_for(struct models *ms, const char *tenant_id)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (strcmp(ms->entries[i].tenant_id, tenant_id) == 0)
			return &ms->entries[i];
	if (ms->n == MODELS_MAX_TENANTS) {
		/* Evict the least recently loaded tenant. */
		size_t oldest = 0;
		for (i = 1; i < ms->n; i++)
			if (ms->entries[i].loaded_us < ms->entries[oldest].loaded_us)
				oldest = i;
		nlu_model_free(ms->entries[oldest].model);
		memset(&ms->entries[oldest], 0, sizeof(ms->entries[oldest]));
		snprintf(ms->entries[oldest].tenant_id, 37, "%s", tenant_id);
		return &ms->entries[oldest];
	}
	memset(&ms->entries[ms->n], 0, sizeof(ms->entries[0]));
	snprintf(ms->entries[ms->n].tenant_id, 37, "%s", tenant_id);
	return &ms->entries[ms->n++];
}

int
models_get(struct models *ms, const char *tenant_id,
    const struct nlu_model **out, struct gacp_err *err)
{
	struct models_entry *e;
	struct nlu_model *fresh = NULL;
	struct gacp_err lerr;
	struct stat st;
	int64_t now = util_mono_us();
	char *path;
	int rc;

	*out = NULL;
	if (!util_uuid_valid(tenant_id))
		return gacp_err_set(err, GACP_EINVAL, "invalid_tenant",
		    "tenant id is not a UUID");
	e = entry_for(ms, tenant_id);
	if (e->model != NULL && now - e->checked_us < ms->check_interval_us) {
		*out = e->model;
		return GACP_OK;
	}
	e->checked_us = now;
	path = models_active_path(ms, tenant_id);
	if (stat(path, &st) != 0) {
		free(path);
		if (e->model != NULL) {
			/* Deactivated on disk: keep serving what we have
			 * rather than failing requests. */
			*out = e->model;
			return GACP_OK;
		}
		return gacp_err_set(err, GACP_ENOTFOUND, "nlu_model_missing",
		    "no NLU model is active for this tenant");
	}
	if (e->model != NULL && st.st_dev == e->dev && st.st_ino == e->ino) {
		free(path);
		*out = e->model;
		return GACP_OK;
	}
	gacp_err_clear(&lerr);
	rc = nlu_model_load(path, &fresh, &lerr);
	if (rc != GACP_OK) {
		ms->refusals++;
		log_msg(LOG_ERROR, "nlu_model_refused", "%s: %s: %s", path,
		    lerr.code, lerr.msg);
		free(path);
		if (e->model != NULL) {
			/* Remember the bad inode so we do not retry it on
			 * every check; the old model stays active. */
			e->dev = st.st_dev;
			e->ino = st.st_ino;
			*out = e->model;
			return GACP_OK;
		}
		if (err)
			*err = lerr;
		return rc;
	}
	nlu_model_free(e->model);
	e->model = fresh;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->loaded_us = now;
	ms->reloads++;
	log_msg(LOG_INFO, "nlu_model_loaded", "tenant %s: %s", tenant_id, path);
	free(path);
	*out = e->model;
	return GACP_OK;
}
