/* registry.h - the service registry: validated registration, heartbeats,
 * removal, listing and the system health aggregate (issue #4).
 *
 * Who may do what (routes.c, sql/0015):
 *   write (register, heartbeat, remove): services:admin from the platform
 *     tenant — a platform administrator's token, or a platform API key
 *     scoped services:admin (an external service heartbeating itself);
 *   read (list, system health): services:read — platform administrators,
 *     and users/keys of a tenant a platform administrator granted the
 *     registry to with the tenant setting "service_registry_read": true
 *     (PATCH /v1/tenants/{id}); any other tenant gets 403
 *     "registry_not_granted", and row security shows it nothing anyway.
 *
 * Registrations and removals are audited in the platform tenant
 * ("service.register", "service.deregister"; pruning by the agents
 * "service.prune").  Heartbeats are not: they change nothing but the
 * liveness clock, and one per service every few seconds would bury the
 * audit trail.
 */
#ifndef GACP_REGISTRY_REGISTRY_H
#define GACP_REGISTRY_REGISTRY_H

#include <stddef.h>

#include <json-c/json.h>

#include "store/registry_store.h"
#include "tenancy/tenancy.h"

#define REGISTRY_TTL_DEFAULT   30
#define REGISTRY_TTL_MAX       86400
#define REGISTRY_LIST_MAX      1000   /* entries the health aggregate reads */

enum registry_status {
	REGISTRY_HEALTHY,      /* every service healthy */
	REGISTRY_DEGRADED,     /* some unhealthy */
	REGISTRY_CRITICAL,     /* none healthy (or none registered) */
};

struct registry_health {
	enum registry_status status;
	struct service_row  *rows;
	size_t               n;
	size_t               healthy;
};

/* Prototypes */
int  registry_register(struct svc *s, struct json_object *body,
         struct service_row **out, struct gacp_err *err);
int  registry_heartbeat(struct svc *s, const char *id,
         struct service_row **out, struct gacp_err *err);
int  registry_deregister(struct svc *s, const char *id, struct gacp_err *err);
/* ?name= (NULL: all) and ?healthy= ("true"/"false", NULL: all), one
 * page in registration order; *next_cursor NULL on the last page. */
int  registry_list(struct svc *s, const char *name, const char *healthy,
         const struct page *pg, struct service_row **rows, size_t *n,
         char **next_cursor, struct gacp_err *err);
int  registry_system_health(struct svc *s, struct registry_health *out,
         struct gacp_err *err);

/* The aggregate of n entries of which healthy are healthy. */
enum registry_status registry_aggregate(size_t n, size_t healthy);
const char *registry_status_name(enum registry_status st);

/* JSON of an entry (new reference) and of the health aggregate. */
struct json_object *registry_render_service(const struct service_row *r);
struct json_object *registry_render_health(const struct registry_health *h);

#endif
