/* keyring.c - kid -> key maps, their text file format, creation and atomic rotation. */
#include "security/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "security/crypto.h"

#define KEYRING_LINE_MAX  1024
#define KEYRING_FILE_MAX  (64 * 1024)
#define KEYRING_FIELDS    5
#define KEYRING_HEADER \
	"# gacp keyring v1: <kid> <base64 key> [current] [created=<unix seconds>]\n"

static int	parse_line(struct keyring *kr, char *line, size_t lineno,
		    size_t *ncurrent, struct gacp_err *err);
static int	parse_created(const char *s, int64_t *out);
static int	make_kid(const char *kid, char out[KEYRING_KID_MAX + 1],
		    struct gacp_err *err);
static void	render(const struct keyring *kr, struct buf *b);
static int	write_all(int fd, const char *data, size_t len);
static int	fsync_parent(const char *path);

struct keyring *
keyring_new(size_t min_bytes, size_t max_bytes)
{
	struct keyring *kr;

	if (min_bytes < 1 || min_bytes > max_bytes ||
	    max_bytes > KEYRING_MAX_KEY_BYTES)
		abort();
	kr = xcalloc(1, sizeof(*kr));
	kr->keys = xcalloc(KEYRING_MAX_KEYS, sizeof(*kr->keys));
	kr->min_bytes = min_bytes;
	kr->max_bytes = max_bytes;
	return kr;
}

void
keyring_free(struct keyring *kr)
{
	size_t i;

	if (kr == NULL)
		return;
	for (i = 0; i < kr->nkeys; i++) {
		OPENSSL_cleanse(kr->keys[i].bytes, kr->keys[i].len);
		free(kr->keys[i].bytes);
	}
	free(kr->keys);
	free(kr);
}

bool
keyring_kid_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > KEYRING_KID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

int
keyring_add(struct keyring *kr, const char *kid, const void *key, size_t len,
    bool make_current, int64_t created_s, struct gacp_err *err)
{
	struct keyring_key *k;
	size_t kid_len;

	kid_len = kid ? strnlen(kid, KEYRING_KID_MAX + 1) : 0;
	if (!keyring_kid_valid(kid, kid_len))
		return gacp_err_set(err, GACP_EINVAL, "invalid_kid",
		    "a key id is 1 to %d characters of [A-Za-z0-9_-]",
		    KEYRING_KID_MAX);
	if (len < kr->min_bytes || len > kr->max_bytes)
		return gacp_err_set(err, GACP_EINVAL, "invalid_key_length",
		    "key %s is %zu bytes; %zu to %zu are allowed", kid, len,
		    kr->min_bytes, kr->max_bytes);
	if (keyring_find(kr, kid, kid_len) != NULL)
		return gacp_err_set(err, GACP_ECONFLICT, "duplicate_kid",
		    "key id %s appears twice", kid);
	if (kr->nkeys == KEYRING_MAX_KEYS)
		return gacp_err_set(err, GACP_ELIMIT, "keyring_full",
		    "a keyring holds at most %d keys", KEYRING_MAX_KEYS);

	k = &kr->keys[kr->nkeys];
	memcpy(k->kid, kid, kid_len);
	k->kid[kid_len] = '\0';
	k->bytes = xmalloc(len);
	memcpy(k->bytes, key, len);
	k->len = len;
	k->created_s = created_s;
	if (make_current || kr->nkeys == 0)
		kr->current = kr->nkeys;
	kr->nkeys++;
	return GACP_OK;
}

const struct keyring_key *
keyring_find(const struct keyring *kr, const char *kid, size_t kid_len)
{
	size_t i;

	if (kr == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < kr->nkeys; i++) {
		if (strlen(kr->keys[i].kid) == kid_len &&
		    memcmp(kr->keys[i].kid, kid, kid_len) == 0)
			return &kr->keys[i];
	}
	return NULL;
}

const struct keyring_key *
keyring_current(const struct keyring *kr)
{
	if (kr == NULL || kr->nkeys == 0)
		return NULL;
	return &kr->keys[kr->current];
}

static int
parse_created(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0')
		return GACP_EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return GACP_EINVAL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return GACP_OK;
}

/* One non-comment line, NUL-terminated (the newline removed). */
static int
parse_line(struct keyring *kr, char *line, size_t lineno, size_t *ncurrent,
    struct gacp_err *err)
{
	unsigned char key[KEYRING_MAX_KEY_BYTES];
	char *field[KEYRING_FIELDS], *save = NULL, *tok;
	size_t nfield = 0, key_len = 0, i;
	bool current = false, have_created = false;
	int64_t created = 0;
	int rc;

	for (tok = strtok_r(line, " \t\r", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r", &save)) {
		if (nfield == KEYRING_FIELDS)
			return gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
			    "line %zu: too many fields", lineno);
		field[nfield++] = tok;
	}
	if (nfield == 0)
		return GACP_OK;
	if (nfield < 2)
		return gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "line %zu: expected <kid> <base64 key>", lineno);
	for (i = 2; i < nfield; i++) {
		if (strcmp(field[i], "current") == 0 && !current) {
			current = true;
		} else if (strncmp(field[i], "created=", 8) == 0 &&
		    !have_created &&
		    parse_created(field[i] + 8, &created) == GACP_OK) {
			have_created = true;
		} else {
			return gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
			    "line %zu: unknown attribute", lineno);
		}
	}
	if (crypto_base64_decode(CRYPTO_B64_STD, field[1], strlen(field[1]),
	    key, sizeof(key), &key_len) != GACP_OK) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "line %zu: the key is not valid base64 of at most %d bytes",
		    lineno, KEYRING_MAX_KEY_BYTES);
		goto out;
	}
	if ((rc = keyring_add(kr, field[0], key, key_len, current, created,
	    err)) != GACP_OK) {
		/* Keep the specific reason, add the line. */
		char reason[GACP_ERR_MSG_LEN];

		snprintf(reason, sizeof(reason), "%s",
		    err ? err->msg : "invalid key");
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "line %zu: %s", lineno, reason);
		goto out;
	}
	if (current)
		(*ncurrent)++;
	rc = GACP_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
keyring_parse(const char *text, size_t len, size_t min_bytes,
    size_t max_bytes, struct keyring **out, struct gacp_err *err)
{
	struct keyring *kr = keyring_new(min_bytes, max_bytes);
	char line[KEYRING_LINE_MAX + 1];
	size_t pos = 0, lineno = 0, ncurrent = 0, n;
	const char *nl;
	int rc;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "the key file contains a NUL byte");
		goto out;
	}
	while (pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > KEYRING_LINE_MAX) {
			rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
			    "line %zu: longer than %d bytes", lineno,
			    KEYRING_LINE_MAX);
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (line[strspn(line, " \t\r")] == '#')
			continue;
		if ((rc = parse_line(kr, line, lineno, &ncurrent, err)) != GACP_OK)
			goto out;
	}
	if (kr->nkeys == 0) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "the keyring holds no key");
		goto out;
	}
	if (ncurrent > 1 || (ncurrent == 0 && kr->nkeys > 1)) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_keyring",
		    "exactly one key must be marked current (%zu are)",
		    ncurrent);
		goto out;
	}
	*out = kr;
	kr = NULL;
	rc = GACP_OK;
out:
	OPENSSL_cleanse(line, sizeof(line));
	keyring_free(kr);
	return rc;
}

int
keyring_load(const char *path, size_t min_bytes, size_t max_bytes,
    struct keyring **out, struct gacp_err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t r;
	int fd = -1, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = gacp_err_set(err, GACP_EIO, "keyring_unreadable",
		    "cannot open key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = gacp_err_set(err, GACP_EIO, "keyring_unreadable",
		    "cannot stat key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0007) != 0) {
		rc = gacp_err_set(err, GACP_EFORBIDDEN, "keyring_permissions",
		    "key file %s must be a regular file without access for "
		    "other users (chmod 600)", path);
		goto out;
	}
	if (st.st_size > KEYRING_FILE_MAX) {
		rc = gacp_err_set(err, GACP_ETOOBIG, "keyring_too_large",
		    "key file %s is larger than %d bytes", path,
		    KEYRING_FILE_MAX);
		goto out;
	}
	text = xmalloc(KEYRING_FILE_MAX + 1);
	/* Read to EOF, not st_size: the file may change under us. */
	while ((r = read(fd, text + len, KEYRING_FILE_MAX + 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = gacp_err_set(err, GACP_EIO, "keyring_unreadable",
			    "cannot read key file %s: %s", path,
			    strerror(errno));
			goto out;
		}
		len += (size_t)r;
		if (len > KEYRING_FILE_MAX) {
			rc = gacp_err_set(err, GACP_ETOOBIG,
			    "keyring_too_large", "key file %s is larger than "
			    "%d bytes", path, KEYRING_FILE_MAX);
			goto out;
		}
	}
	rc = keyring_parse(text, len, min_bytes, max_bytes, out, err);
out:
	if (text != NULL)
		OPENSSL_cleanse(text, KEYRING_FILE_MAX + 1);
	free(text);
	if (fd != -1)
		close(fd);
	return rc;
}

/* Copy kid, or generate "kYYYYMMDD-xxxxxxxx" when NULL. */
static int
make_kid(const char *kid, char out[KEYRING_KID_MAX + 1], struct gacp_err *err)
{
	unsigned char rnd[4];
	char hex[2 * sizeof(rnd) + 1], date[16];
	struct tm tm;
	time_t now;
	int rc;

	if (kid != NULL) {
		size_t len = strnlen(kid, KEYRING_KID_MAX + 1);

		if (!keyring_kid_valid(kid, len))
			return gacp_err_set(err, GACP_EINVAL, "invalid_kid",
			    "a key id is 1 to %d characters of [A-Za-z0-9_-]",
			    KEYRING_KID_MAX);
		memcpy(out, kid, len);
		out[len] = '\0';
		return GACP_OK;
	}
	if ((rc = crypto_random_bytes(rnd, sizeof(rnd), err)) != GACP_OK)
		return rc;
	crypto_hex_encode(rnd, sizeof(rnd), hex);
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y%m%d", &tm) != 8)
		return gacp_err_set(err, GACP_EINTERNAL, "clock_failed",
		    "cannot read the clock");
	snprintf(out, KEYRING_KID_MAX + 1, "k%s-%s", date, hex);
	return GACP_OK;
}

/* The canonical text of a keyring (comments of the original are not kept). */
static void
render(const struct keyring *kr, struct buf *b)
{
	size_t i;

	buf_puts(b, KEYRING_HEADER);
	for (i = 0; i < kr->nkeys; i++) {
		const struct keyring_key *k = &kr->keys[i];
		char *b64 = crypto_base64_encode_alloc(CRYPTO_B64_STD, k->bytes,
		    k->len);

		buf_printf(b, "%s %s", k->kid, b64);
		if (i == kr->current)
			buf_puts(b, " current");
		if (k->created_s > 0)
			buf_printf(b, " created=%" PRId64, k->created_s);
		buf_putc(b, '\n');
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
}

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so a create or rename survives a crash. */
static int
fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = -1;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd != -1) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
keyring_file_create(const char *path, const char *kid, size_t key_bytes,
    struct gacp_err *err)
{
	unsigned char key[KEYRING_MAX_KEY_BYTES];
	char name[KEYRING_KID_MAX + 1];
	struct keyring *kr = NULL;
	struct buf text;
	bool created = false;
	int fd = -1, rc;

	buf_init(&text);
	if (key_bytes < 32 || key_bytes > KEYRING_MAX_KEY_BYTES) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_key_length",
		    "generated keys are 32 to %d bytes", KEYRING_MAX_KEY_BYTES);
		goto out;
	}
	if ((rc = make_kid(kid, name, err)) != GACP_OK)
		goto out;
	if ((rc = crypto_random_bytes(key, key_bytes, err)) != GACP_OK)
		goto out;
	kr = keyring_new(key_bytes, key_bytes);
	if ((rc = keyring_add(kr, name, key, key_bytes, true,
	    (int64_t)time(NULL), err)) != GACP_OK)
		goto out;
	render(kr, &text);

	/* O_EXCL: never overwrite an existing key file (that would make every
	 * secret sealed under it unreadable). */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = errno == EEXIST ?
		    gacp_err_set(err, GACP_ECONFLICT, "keyring_exists",
		    "key file %s already exists", path) :
		    gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot create key file %s: %s", path, strerror(errno));
		goto out;
	}
	created = true;
	if (fchmod(fd, 0600) == -1 || write_all(fd, text.data, text.len) == -1 ||
	    fsync(fd) == -1) {
		rc = gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot write key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot write key file %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	(void)fsync_parent(path);
	created = false;
	rc = GACP_OK;
out:
	if (fd != -1)
		close(fd);
	if (created)
		unlink(path);
	OPENSSL_cleanse(key, sizeof(key));
	if (text.data != NULL)
		OPENSSL_cleanse(text.data, text.len);
	buf_cleanup(&text);
	keyring_free(kr);
	return rc;
}

int
keyring_file_rotate(const char *path, const char *kid, size_t key_bytes,
    char kid_out[KEYRING_KID_MAX + 1], struct gacp_err *err)
{
	unsigned char key[KEYRING_MAX_KEY_BYTES];
	char name[KEYRING_KID_MAX + 1];
	struct keyring *kr = NULL;
	char *tmp = NULL;
	struct stat st;
	struct buf text;
	int fd = -1, rc;

	buf_init(&text);
	if (kid_out != NULL)
		kid_out[0] = '\0';
	if (key_bytes < 32 || key_bytes > KEYRING_MAX_KEY_BYTES) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_key_length",
		    "generated keys are 32 to %d bytes", KEYRING_MAX_KEY_BYTES);
		goto out;
	}
	if ((rc = keyring_load(path, 1, KEYRING_MAX_KEY_BYTES, &kr, err)) !=
	    GACP_OK)
		goto out;
	if (stat(path, &st) == -1) {
		rc = gacp_err_set(err, GACP_EIO, "keyring_unreadable",
		    "cannot stat key file %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = make_kid(kid, name, err)) != GACP_OK)
		goto out;
	if ((rc = crypto_random_bytes(key, key_bytes, err)) != GACP_OK)
		goto out;
	if ((rc = keyring_add(kr, name, key, key_bytes, true,
	    (int64_t)time(NULL), err)) != GACP_OK)
		goto out;
	render(kr, &text);

	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		free(tmp);
		tmp = NULL;
		rc = gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot create a temporary file beside %s: %s", path,
		    strerror(errno));
		goto out;
	}
	/* Keep the owner's group access (e.g. root:gacp 0640) so the
	 * services that read the file still can; never grant "other". */
	if (fchown(fd, st.st_uid, st.st_gid) == -1) {
		/* Not root: the file stays ours, which is what we read. */
	}
	if (fchmod(fd, st.st_mode & 0660) == -1 ||
	    write_all(fd, text.data, text.len) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		fd = -1;
		rc = gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot write key file %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		rc = gacp_err_set(err, GACP_EIO, "keyring_write_failed",
		    "cannot replace key file %s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	(void)fsync_parent(path);
	if (kid_out != NULL)
		snprintf(kid_out, KEYRING_KID_MAX + 1, "%s", name);
	rc = GACP_OK;
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (text.data != NULL)
		OPENSSL_cleanse(text.data, text.len);
	buf_cleanup(&text);
	keyring_free(kr);
	return rc;
}
