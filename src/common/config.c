/* config.c - INI configuration with environment overrides (see config.h). */
#include "common/config.h"
#include "common/xmalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef GACP_SYSCONFDIR
#define GACP_SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_BYTES (1024 * 1024)

const char *
config_default_path(void)
{
	const char *p = getenv("GACP_CONFIG");
	return (p != NULL && p[0] != '\0') ? p : GACP_SYSCONFDIR "/gacp/gacp.conf";
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void
config_cleanup(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n; i++) {
		free(cfg->entries[i].key);
		free(cfg->entries[i].value);
	}
	free(cfg->entries);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

void
config_set(struct config *cfg, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		if (strcmp(cfg->entries[i].key, key) == 0) {
			free(cfg->entries[i].value);
			cfg->entries[i].value = xstrdup(value);
			return;
		}
	}
	if (cfg->n == cfg->cap) {
		cfg->cap = cfg->cap ? cfg->cap * 2 : 32;
		cfg->entries = xrealloc(cfg->entries,
		    cfg->cap * sizeof(*cfg->entries));
	}
	cfg->entries[cfg->n].key = xstrdup(key);
	cfg->entries[cfg->n].value = xstrdup(value);
	cfg->n++;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool
valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

int
config_parse(struct config *cfg, const char *text, size_t len,
    struct gacp_err *err)
{
	char section[64] = "";
	char *copy, *line, *save = NULL;
	int lineno = 0, rc = GACP_OK;

	if (memchr(text, '\0', len) != NULL)
		return gacp_err_set(err, GACP_EINVAL, "config_invalid",
		    "configuration contains a NUL byte");
	copy = xstrndup(text, len);
	/* strtok_r would merge empty lines; count them by hand instead. */
	for (line = copy; line != NULL; line = save) {
		char *nl = strchr(line, '\n'), *eq, *k, *v;
		char full[192];

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');
			if (end == NULL || end[1] != '\0') {
				rc = gacp_err_set(err, GACP_EINVAL, "config_invalid",
				    "line %d: malformed section header", lineno);
				goto out;
			}
			*end = '\0';
			k = trim(line + 1);
			if (!valid_name(k) || strlen(k) >= sizeof(section)) {
				rc = gacp_err_set(err, GACP_EINVAL, "config_invalid",
				    "line %d: bad section name", lineno);
				goto out;
			}
			snprintf(section, sizeof(section), "%s", k);
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			rc = gacp_err_set(err, GACP_EINVAL, "config_invalid",
			    "line %d: expected key = value", lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (!valid_name(k) || section[0] == '\0' ||
		    strlen(k) + strlen(section) + 2 > sizeof(full)) {
			rc = gacp_err_set(err, GACP_EINVAL, "config_invalid",
			    "line %d: bad key (keys belong to a [section])", lineno);
			goto out;
		}
		/* Lengths were checked above: the join always fits. */
		memcpy(full, section, strlen(section));
		full[strlen(section)] = '.';
		memcpy(full + strlen(section) + 1, k, strlen(k) + 1);
		config_set(cfg, full, v);
	}
out:
	free(copy);
	return rc;
}

int
config_load(struct config *cfg, const char *path, bool must_exist,
    struct gacp_err *err)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t n;
	int rc = GACP_OK;

	config_init(cfg);
	cfg->path = xstrdup(path);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return GACP_OK;
		return gacp_err_set(err, GACP_EIO, "config_unreadable",
		    "cannot open %s: %s", path, strerror(errno));
	}
	text = xmalloc(CONFIG_MAX_BYTES + 1);
	n = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f) || n > CONFIG_MAX_BYTES) {
		rc = gacp_err_set(err, GACP_EIO, "config_unreadable",
		    "cannot read %s (error or larger than 1 MiB)", path);
		goto out;
	}
	rc = config_parse(cfg, text, n, err);
out:
	free(text);
	fclose(f);
	return rc;
}

static const char *
env_override(const char *key)
{
	char name[160] = "GACP_";
	size_t i, j = 5;

	for (i = 0; key[i] != '\0' && j + 1 < sizeof(name); i++, j++) {
		char c = key[i];
		name[j] = (c == '.' || c == '-') ? '_' :
		    (char)toupper((unsigned char)c);
	}
	name[j] = '\0';
	return getenv(name);
}

const char *
config_get(const struct config *cfg, const char *key, const char *def)
{
	const char *env = env_override(key);
	size_t i;

	if (env != NULL)
		return env;
	for (i = 0; cfg != NULL && i < cfg->n; i++)
		if (strcmp(cfg->entries[i].key, key) == 0)
			return cfg->entries[i].value;
	return def;
}

long long
config_get_int(const struct config *cfg, const char *key, long long def)
{
	const char *v = config_get(cfg, key, NULL);
	char *end;
	long long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return n;
}

bool
config_get_bool(const struct config *cfg, const char *key, bool def)
{
	const char *v = config_get(cfg, key, NULL);

	if (v == NULL)
		return def;
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
		return true;
	if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
	    strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return false;
	return def;
}

char *
config_read_file(const struct config *cfg, const char *key, size_t *len,
    struct gacp_err *err)
{
	const char *path = config_get(cfg, key, NULL);
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd = -1;

	if (path == NULL || path[0] == '\0') {
		gacp_err_set(err, GACP_EINVAL, "config_missing",
		    "configuration key %s is not set", key);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		gacp_err_set(err, GACP_EIO, "secret_unreadable",
		    "cannot open %s (%s): %s", path, key, strerror(errno));
		goto fail;
	}
	/* A secret others can read is already leaked; refuse to use it. */
	if ((st.st_mode & S_IROTH) || st.st_size > CONFIG_MAX_BYTES) {
		gacp_err_set(err, GACP_EINVAL, "secret_unsafe",
		    "%s must not be world-readable and must be < 1 MiB", path);
		goto fail;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	while (got > 0 && (data[got - 1] == '\n' || data[got - 1] == '\r'))
		data[--got] = '\0';
	close(fd);
	if (len)
		*len = got;
	return data;
fail:
	if (fd >= 0)
		close(fd);
	free(data);
	return NULL;
}
