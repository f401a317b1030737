/* itest.h - helpers of the integration tests: HTTP through the real nginx.
 *
 * The harness (scripts/test) starts PostgreSQL, Redis, spawn-fcgi and nginx
 * on loopback and exports GACP_URL, GACP_VAR_DIR and the ports; these
 * helpers talk to that stack with libcurl and to its services through
 * scripts/gacp-stack.
 */
#ifndef GACP_ITEST_H
#define GACP_ITEST_H

#include <stddef.h>
#include <json-c/json.h>

#include "tests.h"

struct itest_response {
	long                status;
	char               *body;      /* NUL-terminated */
	size_t              body_len;
	char               *headers;   /* raw header block */
	struct json_object *json;      /* parsed body, or NULL */
};

/* Perform method on GACP_URL + path.  headers: NULL-terminated list of
 * "Name: value" strings, or NULL.  body may be NULL.  Returns 0 when an
 * HTTP answer came back (any status). */
int  itest_http(const char *method, const char *path, const char *const *headers,
    const char *body, size_t body_len, struct itest_response *out);
void itest_response_free(struct itest_response *r);
/* Header value (case-insensitive name) into out; 1 if found. */
int  itest_header(const struct itest_response *r, const char *name,
    char *out, size_t outlen);
/* The error envelope's code, or NULL. */
const char *itest_error_code(const struct itest_response *r);
/* Run scripts/gacp-stack with args against the test stack; exit status. */
int  itest_stack(const char *args);
/* Poll path until it answers want_status or timeout_ms passes; 1 if so. */
int  itest_wait_status(const char *path, long want_status, int timeout_ms);
/* Environment variable or a default. */
const char *itest_env(const char *name, const char *def);

#endif
