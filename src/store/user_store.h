/* user_store.h - SQL for the users table of the bound tenant (row-level security applies).
 *
 * Runs in the caller's transaction; rows live in the arena.  Soft-deleted
 * users are invisible to every function here.  Errors: GACP_ENOTFOUND
 * ("not_found"), GACP_ECONFLICT ("username_taken", "version_conflict"),
 * and the db_exec() errors.
 */
#ifndef GACP_STORE_USER_STORE_H
#define GACP_STORE_USER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;

struct user_row {
	char    *tenant_id;
	char    *id;
	char    *username;
	char    *display_name;        /* may be NULL */
	char    *email;               /* may be NULL */
	char    *password_hash;       /* bcrypt; never leaves the services */
	char   **roles;               /* NULL-terminated */
	size_t   nroles;
	char    *metadata;            /* JSON object text */
	char    *password_changed_at; /* RFC 3339 */
	char    *last_login_at;       /* may be NULL */
	char    *created_at;
	char    *updated_at;
	int64_t  password_changed_s;  /* unix seconds, for the max age */
	bool     must_change_password;
	bool     is_active;
	int64_t  version;
	int64_t  created_us;          /* cursor key */
};

struct user_new {
	const char *username;
	const char *display_name;     /* NULL: none */
	const char *email;            /* NULL: none */
	const char *password_hash;
	const char *roles_json;       /* JSON array of role names */
	const char *metadata;         /* JSON text, NULL: {} */
	bool        must_change_password;
};

/* PATCH: NULL / set_* false leave a column unchanged. */
struct user_patch {
	bool        set_display_name;
	const char *display_name;     /* NULL clears */
	bool        set_email;
	const char *email;            /* NULL clears */
	const char *roles_json;
	const char *is_active;        /* "true" / "false" / NULL */
	const char *metadata;
};

/* Prototypes */
int user_store_insert(struct db *db, struct arena *a, const char *tenant_id,
        const struct user_new *in, const char *created_by,
        struct user_row **out, struct gacp_err *err);
int user_store_get(struct db *db, struct arena *a, const char *id,
        struct user_row **out, struct gacp_err *err);
/* By name, case-insensitively (names are unique that way). */
int user_store_by_username(struct db *db, struct arena *a,
        const char *username, struct user_row **out, struct gacp_err *err);
int user_store_list(struct db *db, struct arena *a, int64_t after_us,
        const char *after_id, int limit, struct user_row **rows, size_t *n,
        struct gacp_err *err);
/* version < 0: any version (gacpctl). */
int user_store_update(struct db *db, struct arena *a, const char *id,
        int64_t version, const struct user_patch *patch,
        const char *updated_by, struct user_row **out,
        struct gacp_err *err);
int user_store_delete(struct db *db, struct arena *a, const char *id,
        int64_t version, const char *deleted_by, struct gacp_err *err);
/* New hash, password_changed_at = now(). */
int user_store_set_password(struct db *db, struct arena *a, const char *id,
        const char *password_hash, bool must_change,
        const char *updated_by, struct gacp_err *err);
/* last_login_at = now(); optionally a rehashed password (NULL: keep). */
int user_store_touch_login(struct db *db, struct arena *a, const char *id,
        const char *rehash, struct gacp_err *err);
/* Number of live, active users holding role (e.g. the last owner). */
int user_store_count_role(struct db *db, struct arena *a, const char *role,
        int64_t *count, struct gacp_err *err);

#endif
