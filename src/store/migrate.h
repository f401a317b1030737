/* migrate.h - applying sql/NNNN_name.sql migrations in order, each once.
 *
 * Runs as the owner role.  Under a PostgreSQL advisory lock (so two
 * concurrent runs serialise), each pending file is applied in its own
 * transaction together with its row in schema_migrations (version, name,
 * SHA-256 checksum).  A file whose content changed after it was applied is
 * refused: migrations are history, fixes go in a new file.
 */
#ifndef GACP_STORE_MIGRATE_H
#define GACP_STORE_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/err.h"

struct db;

struct migration {
	int   version;          /* NNNN */
	char *name;             /* file name */
	char *path;
	char  checksum[65];     /* hex SHA-256 of the file */
	bool  applied;
	char  applied_at[40];   /* when applied, else "" */
};

struct migration_set {
	struct migration *items;  /* sorted by version */
	size_t            n;
};

/* Read dir for files named NNNN_*.sql.  Two files with one number, or a
 * malformed name, are errors. */
int  migrate_scan(const char *dir, struct migration_set *set,
    struct gacp_err *err);
void migrate_set_cleanup(struct migration_set *set);
/* Mark set entries applied from schema_migrations (created if missing);
 * refuses a changed checksum (code "migration_changed"). */
int  migrate_status(struct db *owner, struct migration_set *set,
    struct gacp_err *err);
/* Apply every pending migration; progress lines go to progress (may be
 * NULL).  *applied_count receives how many were applied. */
int  migrate_apply(struct db *owner, struct migration_set *set,
    FILE *progress, int *applied_count, struct gacp_err *err);

#endif
