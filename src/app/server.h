/* server.h - one request from FastCGI parameters to a serialised response.
 *
 * The pipeline of ARCHITECTURE.md §3: parse → route → authenticate →
 * authorise → handler → response, access log and metrics.  Independent of
 * libfcgi (params and a body reader in, bytes out), so it is driven the
 * same way by gacp-api.fcgi, the unit tests and the fuzz targets.
 */
#ifndef GACP_APP_SERVER_H
#define GACP_APP_SERVER_H

#include "app/context.h"

/* Handle one request.  Never fails: every problem becomes an error
 * response.  Afterwards app->out holds the bytes to write (status line,
 * headers, body) until server_request_done(). */
void server_handle(struct gacp_ctx *app, char *const *params,
    http_body_reader reader, void *reader_ctx);
/* Release everything the request allocated (arena reset). */
void server_request_done(struct gacp_ctx *app);

/* Authentication and authorisation of rc->route (app/access.c).  Returns 0
 * to proceed, or writes the error response and returns a negative value. */
int  server_check_access(struct request_ctx *rc);

#endif
