/* models.c - per-tenant NLU models with inode-based hot swap (models.h). */
#include "app/models.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "http/metrics.h"
#include "nlu/model.h"

#include <dirent.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		metrics_counter_add(ms->metrics, MC_NLU_MODEL_REFUSED, 1);
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
	metrics_counter_add(ms->metrics, MC_NLU_MODEL_LOADED, 1);
	log_msg(LOG_INFO, "nlu_model_loaded", "tenant %s: %s", tenant_id, path);
	free(path);
	*out = e->model;
	return GACP_OK;
}

/* Bytes 16..47 of a model header: the SHA-256 of its payload (model.h). */
static int
header_checksum(const char *path, unsigned char out[32])
{
	unsigned char h[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (r != (ssize_t)sizeof(h))
		return -1;
	memcpy(out, h + 16, 32);
	return 0;
}

/* N of the <N>.gnlu in tdir that is the file active (st), or 0.  The
 * same inode decides; only without one (a file system without hard links
 * copied the version) does the payload checksum, and then the newest
 * version with it: training is deterministic, so retraining unchanged
 * data gives byte-identical versions, and the first one found would be
 * an older version than the one published. */
static long
active_version(const char *tdir, const char *active, const struct stat *ast)
{
	unsigned char want[32], have[32];
	int have_want = -1;
	struct dirent *de;
	long linked = 0, copied = 0;
	DIR *d;

	if ((d = opendir(tdir)) == NULL)
		return 0;
	while (linked == 0 && (de = readdir(d)) != NULL) {
		char *end, *path;
		struct stat st;
		long v;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (v <= 0 || strcmp(end, ".gnlu") != 0)
			continue;
		path = xasprintf("%s/%s", tdir, de->d_name);
		if (stat(path, &st) == 0) {
			if (st.st_dev == ast->st_dev && st.st_ino == ast->st_ino) {
				linked = v;
			} else if (v > copied && st.st_size == ast->st_size) {
				if (have_want < 0)
					have_want = header_checksum(active, want);
				if (have_want == 0 && header_checksum(path, have) == 0 &&
				    memcmp(want, have, 32) == 0)
					copied = v;
			}
		}
		free(path);
	}
	closedir(d);
	return linked != 0 ? linked : copied;
}

static int
cmp_active(const void *x, const void *y)
{
	return strcmp(((const struct models_active *)x)->tenant_id,
	    ((const struct models_active *)y)->tenant_id);
}

struct models_active *
models_scan_active(const struct models *ms, size_t max, size_t *n,
    size_t *total)
{
	struct models_active *out = NULL;
	size_t cap = 0, i;
	struct dirent *de;
	DIR *d;

	*n = *total = 0;
	if ((d = opendir(ms->dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		if (!util_uuid_valid(de->d_name))
			continue;
		path = xasprintf("%s/%s/active.gnlu", ms->dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (*total == cap) {
				cap = cap ? 2 * cap : 16;
				out = xrealloc(out, cap * sizeof(*out));
			}
			/* util_uuid_valid: exactly 36 characters */
			memcpy(out[*total].tenant_id, de->d_name, 36);
			out[*total].tenant_id[36] = '\0';
			out[*total].version = 0;
			(*total)++;
		}
		free(path);
	}
	closedir(d);
	if (*total == 0)
		return out;
	/* Id order, so the same tenants are described scrape after scrape
	 * when there are more than max. */
	qsort(out, *total, sizeof(*out), cmp_active);
	*n = *total < max ? *total : max;
	for (i = 0; i < *n; i++) {
		char *tdir = xasprintf("%s/%s", ms->dir, out[i].tenant_id);
		char *active = xasprintf("%s/active.gnlu", tdir);
		struct stat ast;

		if (stat(active, &ast) == 0)
			out[i].version = active_version(tdir, active, &ast);
		free(active);
		free(tdir);
	}
	return out;
}
