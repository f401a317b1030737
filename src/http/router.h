/* router.h - the route table and path matching.
 *
 * Routes are one const table of {method, pattern, handler, security level,
 * permission, name} (like tmux's cmd_entry table): adding an endpoint is
 * one line, and the security of every endpoint can be read in one place.
 * Patterns are literal segments and "{param}" segments; "{param}" matches
 * one non-empty segment.  Matching is exact, no trailing-slash guessing.
 */
#ifndef GACP_HTTP_ROUTER_H
#define GACP_HTTP_ROUTER_H

#include <stddef.h>

#include "http/request.h"

struct request_ctx;

/* Who may call a route; checked before the handler runs. */
enum route_security {
	SEC_PUBLIC = 0,        /* anyone */
	SEC_WEBHOOK,           /* authenticated by a signature in the handler */
	SEC_AUTHENTICATED,     /* any valid credential */
	SEC_AUTHORIZED,        /* credential whose roles grant `permission` */
	SEC_RESTRICTED,        /* owner/admin with a token < 15 minutes old */
	SEC_ADMINISTRATIVE,    /* platform administrator */
};

typedef void (*route_handler)(struct request_ctx *rc);

struct route {
	enum http_method     method;
	const char          *pattern;     /* "/v1/users/{id}" */
	route_handler        handler;
	enum route_security  security;
	const char          *permission;  /* for SEC_AUTHORIZED, else NULL */
	const char          *name;        /* metrics label, e.g. "users_get" */
};

enum router_result {
	ROUTER_MATCH = 0,
	ROUTER_NOT_FOUND = -1,
	ROUTER_METHOD_NOT_ALLOWED = -2,
};

/* Find the route for req->method_id and req->path.  On a match, *out is
 * set and req->path_params filled (values point into the arena).  On
 * ROUTER_METHOD_NOT_ALLOWED, allow (>= 64 bytes) receives the methods
 * that the path accepts, e.g. "GET, POST".  HEAD matches GET routes. */
enum router_result router_match(const struct route *table, size_t n,
    struct http_request *req, struct arena *a, const struct route **out,
    char *allow, size_t allow_len);
/* Index of route in table (for metrics), or n for "no route". */
size_t router_index(const struct route *table, size_t n,
    const struct route *r);

#endif
