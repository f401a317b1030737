/* config.h - INI configuration with environment overrides.
 *
 * gacp.conf is an INI file:  [section]  key = value  (# or ; comments).
 * Every value can be overridden by the environment variable
 * GACP_<SECTION>_<KEY> (upper case, '-' and '.' as '_'), so the dev stack,
 * tests and containers can adjust one setting without another file.
 * Secrets never live in this file: a key ending in "_file" names a file
 * whose contents are the secret (config_read_file).
 *
 * A struct config is built once per process and read-only afterwards.
 */
#ifndef GACP_CONFIG_H
#define GACP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct config_entry {
	char *key;     /* "section.key" */
	char *value;
};

struct config {
	struct config_entry *entries;
	size_t               n;
	size_t               cap;
	char                *path;   /* file it came from, or NULL */
};

/* Default path: $GACP_CONFIG, else SYSCONFDIR/gacp/gacp.conf. */
const char *config_default_path(void);
/* Parse path into cfg (initialised here).  A missing file is an error only
 * when must_exist.  Returns 0 or GACP_EINVAL/GACP_EIO with err filled. */
int  config_load(struct config *cfg, const char *path, bool must_exist,
    struct gacp_err *err);
/* Parse INI text (for tests and fuzzing). */
int  config_parse(struct config *cfg, const char *text, size_t len,
    struct gacp_err *err);
void config_init(struct config *cfg);
void config_cleanup(struct config *cfg);
void config_set(struct config *cfg, const char *section_key, const char *value);

/* Lookups take "section.key"; the environment override wins. */
const char *config_get(const struct config *cfg, const char *key,
    const char *def);
long long   config_get_int(const struct config *cfg, const char *key,
    long long def);
bool        config_get_bool(const struct config *cfg, const char *key,
    bool def);
/* Read the file named by config key (e.g. "security.jwt_keys_file"): the
 * contents, heap-allocated and NUL-terminated, trailing newline removed;
 * *len set if non-NULL.  Refuses files readable by others (mode & 077 for
 * "other"), since they hold secrets.  Returns NULL with err filled. */
char *config_read_file(const struct config *cfg, const char *key,
    size_t *len, struct gacp_err *err);

#endif
