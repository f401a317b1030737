/* migrate.c - ordered, checksummed, locked SQL migrations (see migrate.h). */
#include "store/migrate.h"
#include "store/db.h"
#include "common/arena.h"
#include "common/util.h"
#include "common/xmalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key: any constant unique to this purpose. */
#define MIGRATE_LOCK_KEY "7473201"
#define MIGRATION_MAX_BYTES (16 * 1024 * 1024)

static int
cmp_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *data;
	size_t n;

	if (f == NULL)
		return NULL;
	data = xmalloc(MIGRATION_MAX_BYTES + 1);
	n = fread(data, 1, MIGRATION_MAX_BYTES + 1, f);
	fclose(f);
	if (n > MIGRATION_MAX_BYTES) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*len = n;
	return data;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	util_hex(md, 32, out);
}

int
migrate_scan(const char *dir, struct migration_set *set, struct gacp_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0, i;
	int rc = GACP_OK;

	memset(set, 0, sizeof(*set));
	if (d == NULL)
		return gacp_err_set(err, GACP_EIO, "migrations_unreadable",
		    "cannot open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		size_t len = strlen(nm), dlen;
		struct migration *m;
		char *data;

		if (len < 5 || strcmp(nm + len - 4, ".sql") != 0)
			continue;
		if (len < 10 || !isdigit((unsigned char)nm[0]) ||
		    !isdigit((unsigned char)nm[1]) || !isdigit((unsigned char)nm[2]) ||
		    !isdigit((unsigned char)nm[3]) || nm[4] != '_') {
			rc = gacp_err_set(err, GACP_EINVAL, "migration_name",
			    "%s/%s: migration files are named NNNN_name.sql",
			    dir, nm);
			goto out;
		}
		if (set->n == cap) {
			cap = cap ? cap * 2 : 16;
			set->items = xrealloc(set->items, cap * sizeof(*set->items));
		}
		m = &set->items[set->n++];
		memset(m, 0, sizeof(*m));
		m->version = atoi(nm);
		m->name = xstrdup(nm);
		m->path = xasprintf("%s/%s", dir, nm);
		data = read_file(m->path, &dlen);
		if (data == NULL) {
			rc = gacp_err_set(err, GACP_EIO, "migrations_unreadable",
			    "cannot read %s", m->path);
			goto out;
		}
		sha256_hex(data, dlen, m->checksum);
		free(data);
	}
	qsort(set->items, set->n, sizeof(*set->items), cmp_version);
	for (i = 1; i < set->n; i++) {
		if (set->items[i].version == set->items[i - 1].version) {
			rc = gacp_err_set(err, GACP_EINVAL, "migration_duplicate",
			    "%s and %s share version %04d", set->items[i - 1].name,
			    set->items[i].name, set->items[i].version);
			goto out;
		}
	}
out:
	closedir(d);
	return rc;
}

void
migrate_set_cleanup(struct migration_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++) {
		free(set->items[i].name);
		free(set->items[i].path);
	}
	free(set->items);
	memset(set, 0, sizeof(*set));
}

static int
ensure_table(struct db *db, struct arena *a, struct gacp_err *err)
{
	PGresult *res;

	return db_exec(db, a,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " checksum text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL, &res,
	    err);
}

/* Mark applied entries; refuse changed files and unknown applied versions. */
static int
load_applied(struct db *db, struct arena *a, struct migration_set *set,
    struct gacp_err *err)
{
	PGresult *res;
	int rc, row;
	size_t i;

	if ((rc = db_exec(db, a, "SELECT version, name, checksum, "
	    "to_char(applied_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF') "
	    "FROM schema_migrations ORDER BY version", 0, NULL, &res,
	    err)) != GACP_OK)
		return rc;
	for (row = 0; row < PQntuples(res); row++) {
		int v = atoi(PQgetvalue(res, row, 0));
		int found = 0;

		for (i = 0; i < set->n; i++) {
			struct migration *m = &set->items[i];
			if (m->version != v)
				continue;
			found = 1;
			if (strcmp(m->checksum, PQgetvalue(res, row, 2)) != 0)
				return gacp_err_set(err, GACP_ECONFLICT,
				    "migration_changed",
				    "%s was changed after it was applied "
				    "(checksum %.12s…, applied %.12s…); add a new "
				    "migration instead", m->name, m->checksum,
				    PQgetvalue(res, row, 2));
			m->applied = true;
			snprintf(m->applied_at, sizeof(m->applied_at), "%s",
			    PQgetvalue(res, row, 3));
		}
		if (!found)
			return gacp_err_set(err, GACP_ECONFLICT,
			    "migration_missing",
			    "migration %04d (%s) is applied but its file is "
			    "missing", v, PQgetvalue(res, row, 1));
	}
	return GACP_OK;
}

int
migrate_status(struct db *owner, struct migration_set *set,
    struct gacp_err *err)
{
	struct arena a;
	int rc;

	arena_init(&a, 8192);
	rc = ensure_table(owner, &a, err);
	if (rc == GACP_OK)
		rc = load_applied(owner, &a, set, err);
	arena_cleanup(&a);
	return rc;
}

/* Run a whole file with the simple-query protocol (several statements). */
static int
exec_script(struct db *db, const char *sql, struct gacp_err *err)
{
	PGresult *res;
	int rc = GACP_OK;

	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		rc = gacp_err_set(err, GACP_EINTERNAL, "migration_failed",
		    "%s: %s", state ? state : "?", msg ? msg :
		    PQerrorMessage(db->conn));
	}
	PQclear(res);
	return rc;
}

int
migrate_apply(struct db *owner, struct migration_set *set, FILE *progress,
    int *applied_count, struct gacp_err *err)
{
	struct arena a;
	PGresult *res;
	size_t i;
	int rc, locked = 0;

	*applied_count = 0;
	arena_init(&a, 8192);
	if ((rc = db_exec(owner, &a, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY
	    ")", 0, NULL, &res, err)) != GACP_OK)
		goto out;
	locked = 1;
	/* Re-read under the lock: another run may have applied some. */
	if ((rc = ensure_table(owner, &a, err)) != GACP_OK ||
	    (rc = load_applied(owner, &a, set, err)) != GACP_OK)
		goto out;
	for (i = 0; i < set->n; i++) {
		struct migration *m = &set->items[i];
		const char *params[3];
		char version[16];
		char *sql = NULL;
		size_t len;

		if (m->applied)
			continue;
		sql = read_file(m->path, &len);
		if (sql == NULL) {
			rc = gacp_err_set(err, GACP_EIO, "migrations_unreadable",
			    "cannot read %s", m->path);
			goto out;
		}
		if ((rc = db_begin(owner, &a, NULL, err)) != GACP_OK) {
			free(sql);
			goto out;
		}
		rc = exec_script(owner, sql, err);
		free(sql);
		if (rc == GACP_OK) {
			snprintf(version, sizeof(version), "%d", m->version);
			params[0] = version;
			params[1] = m->name;
			params[2] = m->checksum;
			rc = db_exec(owner, &a, "INSERT INTO schema_migrations "
			    "(version, name, checksum) VALUES ($1, $2, $3)", 3,
			    params, &res, err);
		}
		if (rc == GACP_OK)
			rc = db_commit(owner, &a, err);
		if (rc != GACP_OK) {
			char why[GACP_ERR_MSG_LEN];
			db_rollback(owner, &a);
			snprintf(why, sizeof(why), "%s", err ? err->msg : "");
			gacp_err_set(err, rc, "migration_failed", "%s: %s",
			    m->name, why);
			goto out;
		}
		m->applied = true;
		(*applied_count)++;
		if (progress != NULL)
			fprintf(progress, "applied %s\n", m->name);
	}
	rc = GACP_OK;
out:
	if (locked && owner->conn != NULL)
		(void)db_exec(owner, &a, "SELECT pg_advisory_unlock("
		    MIGRATE_LOCK_KEY ")", 0, NULL, &res, NULL);
	arena_cleanup(&a);
	return rc;
}
