/* rest_util.h - helpers of the channels/conversations/responses integration tests: credentials, a second tenant, signed webhooks, the Graph stand-in's log, the database.
 *
 * Everything talks to the stack scripts/test (or gacp-stack) started:
 * GACP_URL, GACP_VAR_DIR and demo.env's credentials (DEMO_API_KEY,
 * DEMO_PAGE_ID, DEMO_APP_SECRET, PLATFORM_ADMIN_*, GACP_DB_URL).
 * Returned strings are heap copies the caller frees unless said.
 */
#ifndef GACP_REST_UTIL_H
#define GACP_REST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "itest.h"

/* How a request authenticates: a header line ("Authorization: Bearer …",
 * "X-API-Key: …"). */
struct ru_cred {
	char header[4200];
};

/* A tenant made for one test run, with its owner's token. */
struct ru_tenant {
	char           id[37];
	char           slug[64];
	struct ru_cred owner;
};

/* CU_ASSERT_STRING_EQUAL that fails, instead of crashing, on NULL. */
#define RU_ASSERT_STR(actual, expected) do {                              \
	const char *ru_a_ = (actual), *ru_e_ = (expected);                \
	CU_ASSERT_PTR_NOT_NULL(ru_a_);                                    \
	CU_ASSERT_PTR_NOT_NULL(ru_e_);                                    \
	CU_ASSERT_STRING_EQUAL(ru_a_ ? ru_a_ : "(null)",                  \
	    ru_e_ ? ru_e_ : "(null)");                                    \
} while (0)

/* Prototypes */

long long ru_now_ms(void);
void      ru_sleep_ms(long ms);
/* prefix + 8 random hex characters. */
void      ru_unique(const char *prefix, char *out, size_t outlen);
/* A random numeric string of n digits (page ids, PSIDs). */
void      ru_digits(char *out, size_t n);

/* The demo tenant's API key (every tenant scope). */
bool ru_demo_key(struct ru_cred *c);
/* Log in; a Bearer credential.  false on failure. */
bool ru_login(const char *tenant, const char *user, const char *password,
         struct ru_cred *c);
/* Create a tenant with an owner through the API as the platform
 * administrator, and log in as its owner.  false on failure. */
bool ru_make_tenant(const char *prefix, struct ru_tenant *t);
/* Create a user with one role in the tenant of owner; log in as them. */
bool ru_make_user(const struct ru_tenant *t, const char *role,
         struct ru_cred *c);

/* method path with a body (NULL: none) of content_type (NULL:
 * application/json when there is a body), as cred (NULL: anonymous). */
int  ru_call(const char *method, const char *path, const struct ru_cred *cred,
         const char *body, const char *content_type,
         struct itest_response *out);
/* A member by dotted path ("error.code", "contact.psid"), or NULL. */
struct json_object *ru_json_at(const struct itest_response *r,
         const char *path);
const char *ru_json_str(const struct itest_response *r, const char *path);
int64_t     ru_json_int(const struct itest_response *r, const char *path);
/* Whether a 422's details name field with code (code NULL: any). */
bool ru_field_error(const struct itest_response *r, const char *field,
         const char *code);

/* POST body to /webhooks/messenger signed with secret (NULL: unsigned);
 * the HTTP status. */
long ru_post_webhook(const char *body, const char *secret);
/* A signed text message from psid to page_id; the HTTP status. */
long ru_say(const char *page_id, const char *secret, const char *psid,
         const char *mid, const char *text);

/* Byte size of the Graph stand-in's log (a mark to read from). */
long ru_graph_mark(void);
/* Send API message calls to psid logged after mark that the stand-in
 * answered 200; *last_text (may be NULL) gets the last one's text. */
int  ru_graph_messages(long mark, const char *psid, char **last_text);
/* Wait until psid has n delivered messages after mark; the last text or
 * NULL on timeout. */
char *ru_graph_wait(long mark, const char *psid, int n, int timeout_ms);

/* The owner role (GACP_DB_URL) with app.tenant_id set for the session:
 * every table forces row-level security, so this sees one tenant. */
PGconn *ru_db(const char *tenant_id);
/* First column of the first row (heap), or NULL; sql with $n params. */
char *ru_db_value(PGconn *c, const char *sql, int n, const char *const *p);
bool  ru_db_exec(PGconn *c, const char *sql, int n, const char *const *p);

#endif
