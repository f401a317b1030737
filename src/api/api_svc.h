/* api_svc.h - glue between the REST handlers and the tenancy services: context, answers, lists.
 *
 * A handler builds a struct svc from the request (api_svc), calls one
 * service, and answers with api_done() (commit, then the JSON) or
 * api_fail() (the error; 422 carries the field errors as details).  The
 * request's transaction was opened by the access check, bound to the
 * caller's tenant; server.c rolls it back if a handler leaves it open.
 */
#ifndef GACP_API_SVC_H
#define GACP_API_SVC_H

#include <stddef.h>

#include <json-c/json.h>

#include "api/api.h"
#include "tenancy/tenancy.h"

/* Prototypes */

/* s for rc's principal (anonymous on PUBLIC routes). */
void api_svc(struct request_ctx *rc, struct svc *s);
/* Answer a service error. */
void api_fail(struct request_ctx *rc, struct svc *s,
         const struct gacp_err *err);
/* Commit, then answer status with obj (NULL: no body, e.g. 204). */
void api_done(struct request_ctx *rc, struct svc *s, int status,
         struct json_object *obj);
/* {"items": items, "next_cursor": next or null}; takes items. */
struct json_object *api_list(struct request_ctx *rc,
         struct json_object *items, const char *next_cursor);
/* Parse ?limit= and ?cursor= into pg; false (422 answered) if invalid. */
bool api_page(struct request_ctx *rc, struct svc *s, bool sequence,
         struct page *pg);
/* The request body object, or NULL with the error answered.  An empty
 * body gives an empty object when allow_empty. */
struct json_object *api_body(struct request_ctx *rc, bool allow_empty);
/* Track obj in the request arena. */
struct json_object *api_own(struct request_ctx *rc, struct json_object *obj);

/* Services that delete the row named by the path's {id}, and with it
 * ?version= (optimistic locking; NULL when absent) for the versioned ones. */
typedef int (*api_delete_fn)(struct svc *s, const char *id,
    struct gacp_err *err);
typedef int (*api_delete_versioned_fn)(struct svc *s, const char *id,
    const char *version, struct gacp_err *err);
/* DELETE handlers: call del, answer 204 or the service's error. */
void api_delete(struct request_ctx *rc, api_delete_fn del);
void api_delete_versioned(struct request_ctx *rc,
         api_delete_versioned_fn del);

#endif
