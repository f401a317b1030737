/* publish.c - model files: verify, publish as active.gnlu, tenant directories (see versions.h). */
#include "training/versions.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "nlu/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK_BYTES (1024 * 1024)

static int	copy_file(const char *, const char *);
static int	place(const char *, const char *);
static int	verify(const char *, const char *, struct gacp_err *);

/* Copy src to a new file dst (fallback when a hard link is refused). */
static int
copy_file(const char *src, const char *dst)
{
	char *chunk = NULL;
	int in = -1, out = -1, rc = -1;
	ssize_t r;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		goto out;
	chunk = xmalloc(COPY_CHUNK_BYTES);
	while ((r = read(in, chunk, COPY_CHUNK_BYTES)) > 0) {
		ssize_t w = 0;
		while (w < r) {
			ssize_t k = write(out, chunk + w, (size_t)(r - w));
			if (k < 0) {
				if (errno == EINTR)
					continue;
				goto out;
			}
			w += k;
		}
	}
	if (r < 0 || fsync(out) != 0)
		goto out;
	rc = 0;
out:
	free(chunk);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

/* A second name dst for src: a hard link publishes without copying
 * (models are tens of MB); file systems or policies that refuse links get
 * a copy.  0, or -1 with errno. */
static int
place(const char *src, const char *dst)
{
	if (link(src, dst) == 0)
		return 0;
	if (errno != EPERM && errno != EXDEV && errno != EMLINK &&
	    errno != EOPNOTSUPP)
		return -1;
	return copy_file(src, dst);
}

/* The file at path loads (magic, sizes, payload checksum) and carries the
 * payload checksum the version row recorded. */
static int
verify(const char *path, const char *checksum_hex, struct gacp_err *err)
{
	struct nlu_model *m = NULL;
	struct gacp_err lerr;
	char hex[65];

	gacp_err_clear(&lerr);
	if (nlu_model_load(path, &m, &lerr) != GACP_OK) {
		log_msg(LOG_ERROR, "nlu_model_refused", "%s: %s: %s", path,
		    lerr.code, lerr.msg);
		return gacp_err_set(err, GACP_ECONFLICT, "nlu_model_file_invalid",
		    "the model file of this version is missing or corrupt "
		    "(%s); train a new version", lerr.code);
	}
	util_hex(m->sha256, sizeof(m->sha256), hex);
	nlu_model_free(m);
	if (checksum_hex == NULL || strcmp(hex, checksum_hex) != 0) {
		log_msg(LOG_ERROR, "nlu_model_refused", "%s: checksum %s, "
		    "recorded %s", path, hex, checksum_hex ? checksum_hex : "-");
		return gacp_err_set(err, GACP_ECONFLICT, "nlu_model_file_invalid",
		    "the model file is not the one this version recorded; "
		    "train a new version");
	}
	return GACP_OK;
}

int
versions_publish(const char *model_dir, const char *tenant_id,
    const char *rel_path, const char *checksum_hex, struct gacp_err *err)
{
	char *src, *dir = NULL, *tmp = NULL, *active = NULL;
	int rc, dfd, e;

	src = xasprintf("%s/%s", model_dir, rel_path);
	if ((rc = verify(src, checksum_hex, err)) != GACP_OK ||
	    (rc = versions_tenant_dir(model_dir, tenant_id, &dir, err)) !=
	    GACP_OK)
		goto out;
	tmp = xasprintf("%s/.active.%ld.tmp", dir, (long)getpid());
	active = xasprintf("%s/active.gnlu", dir);
	(void)unlink(tmp);
	if (place(src, tmp) != 0) {
		e = errno;
		log_msg(LOG_ERROR, "nlu_publish_failed", "%s -> %s: %s", src,
		    tmp, strerror(e));
		rc = gacp_err_set(err, GACP_EIO, "nlu_publish_failed",
		    "cannot write the model directory: %s", strerror(e));
		(void)unlink(tmp);
		goto out;
	}
	versions_chown_like_dir(model_dir, tmp);
	if (rename(tmp, active) != 0) {
		e = errno;
		log_msg(LOG_ERROR, "nlu_publish_failed", "%s -> %s: %s", tmp,
		    active, strerror(e));
		rc = gacp_err_set(err, GACP_EIO, "nlu_publish_failed",
		    "cannot replace the active model: %s", strerror(e));
		(void)unlink(tmp);
		goto out;
	}
	/* Publishing the version already published: both names are links
	 * of one file, and rename() then does nothing (POSIX), leaving the
	 * temporary name behind. */
	(void)unlink(tmp);
	/* The rename is durable once the directory is. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = GACP_OK;
out:
	free(src);
	free(dir);
	free(tmp);
	free(active);
	return rc;
}

int
versions_tenant_dir(const char *model_dir, const char *tenant_id, char **out,
    struct gacp_err *err)
{
	char *dir = xasprintf("%s/%s", model_dir, tenant_id);

	*out = NULL;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		int e = errno;
		log_msg(LOG_ERROR, "nlu_publish_failed", "mkdir %s: %s", dir,
		    strerror(e));
		free(dir);
		return gacp_err_set(err, GACP_EIO, "nlu_publish_failed",
		    "cannot create the tenant's model directory: %s",
		    strerror(e));
	}
	versions_chown_like_dir(model_dir, dir);
	*out = dir;
	return GACP_OK;
}

void
versions_chown_like_dir(const char *model_dir, const char *path)
{
	struct stat st;

	/* Only root can give files away; everyone else creates them as the
	 * user the services run as already. */
	if (geteuid() != 0 || stat(model_dir, &st) != 0)
		return;
	if (chown(path, st.st_uid, st.st_gid) != 0)
		log_msg(LOG_WARN, "nlu_chown_failed", "%s: %s", path,
		    strerror(errno));
}
