/* registry.c - the service registry's rules (see registry.h). */
#include "registry/registry.h"
#include "common/arena.h"
#include "common/json.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "tenancy/audit.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_CHARS      100
#define TYPE_MAX_CHARS      50
#define HOST_MAX_CHARS      253
#define ENDPOINT_MAX_CHARS  500
#define VERSION_MAX_CHARS   64
#define CONFIG_MAX_BYTES    8192
#define WEIGHT_DEFAULT      100
#define WEIGHT_MAX          1000

static void
put_json(void *p)
{
	json_object_put(p);
}

/* ---- access -------------------------------------------------------------- */

/* The request's transaction (opened by the access check), or a new one
 * bound to the acting tenant (gacpctl). */
static int
ensure_tx(struct svc *s, struct gacp_err *err)
{
	if (s->app->db.in_tx)
		return GACP_OK;
	return svc_begin(s, s->tenant_id[0] ? s->tenant_id : NULL, err);
}

/* Writes: the route demanded services:admin; it must also come from the
 * platform tenant (a customer tenant never administers the platform). */
static int
write_scope(struct svc *s, struct gacp_err *err)
{
	int rc;

	if (s->who->kind != PRINCIPAL_SYSTEM && !s->who->tenant_is_platform)
		return gacp_err_set(err, GACP_EFORBIDDEN, "forbidden",
		    "platform administrators only");
	if ((rc = ensure_tx(s, err)) != GACP_OK)
		return rc;
	return db_set_platform_admin(&s->app->db, s->a, err);
}

/* Reads: the platform sees everything; a tenant only with the grant.  The
 * explicit check gives a clear 403 where row security alone would give an
 * empty list. */
static int
read_scope(struct svc *s, struct gacp_err *err)
{
	PGresult *res;
	int rc;

	if ((rc = ensure_tx(s, err)) != GACP_OK)
		return rc;
	if (s->who->kind == PRINCIPAL_SYSTEM || s->who->tenant_is_platform)
		return db_set_platform_admin(&s->app->db, s->a, err);
	rc = db_exec(&s->app->db, s->a, "SELECT gacp_registry_visible()", 0,
	    NULL, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1 || !pgrow_bool(res, 0, 0))
		return gacp_err_set(err, GACP_EFORBIDDEN,
		    "registry_not_granted", "the service registry is not "
		    "shared with this tenant; a platform administrator grants "
		    "it with the tenant setting service_registry_read");
	return GACP_OK;
}

/* ---- validation ---------------------------------------------------------- */

/* Lower-case identifier: [a-z0-9][a-z0-9._-]*. */
static bool
ident_ok(const char *v)
{
	const char *p;

	if (v == NULL || !(islower((unsigned char)v[0]) ||
	    isdigit((unsigned char)v[0])))
		return false;
	for (p = v; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* A DNS name, IPv4 or IPv6 literal: letters, digits, '.', '-', ':'; no
 * leading or trailing '-' or '.'. */
static bool
host_ok(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	const char *p;

	if (n == 0 || v[0] == '-' || v[0] == '.' || v[n - 1] == '-' ||
	    v[n - 1] == '.')
		return false;
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != ':')
			return false;
	return strstr(v, "..") == NULL;
}

/* A path ("/health") or an http(s) URL, printable ASCII without spaces. */
static bool
endpoint_ok(const char *v)
{
	const char *p;

	if (v[0] != '/' && strncmp(v, "http://", 7) != 0 &&
	    strncmp(v, "https://", 8) != 0)
		return false;
	for (p = v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

static bool
version_ok(const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_+~", *p) == NULL)
			return false;
	return true;
}

/* body[field] as an integer in lo..hi; def when absent (or required). */
static int
read_int(struct svc *s, struct json_object *body, const char *field,
    int lo, int hi, int def, bool required)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(body, field, &v) || v == NULL) {
		if (required)
			svc_field_error(s, field, "required", "is required");
		return def;
	}
	if (!json_object_is_type(v, json_type_int)) {
		svc_field_error(s, field, "invalid_type",
		    "must be an integer");
		return def;
	}
	x = json_object_get_int64(v);
	if (x < lo || x > hi) {
		svc_field_error(s, field, "out_of_range",
		    "must be between %d and %d", lo, hi);
		return def;
	}
	return (int)x;
}

static const char *
read_ident(struct svc *s, struct json_object *body, const char *field,
    size_t max)
{
	const char *v = svc_body_str(s, body, field, max, SVC_REQUIRED);

	if (v != NULL && !ident_ok(v)) {
		svc_field_error(s, field, "invalid_format",
		    "must be lower-case letters, digits, '.', '_' or '-', "
		    "starting with a letter or digit");
		return NULL;
	}
	return v;
}

static const char *
read_config(struct svc *s, struct json_object *body)
{
	struct json_object *v;
	const char *text;

	if (!json_object_object_get_ex(body, "service_config", &v) || v == NULL)
		return "{}";
	if (!json_object_is_type(v, json_type_object)) {
		svc_field_error(s, "service_config", "invalid_type",
		    "must be a JSON object");
		return NULL;
	}
	text = json_compact(v);
	if (strlen(text) > CONFIG_MAX_BYTES) {
		svc_field_error(s, "service_config", "too_long",
		    "must be at most %d bytes of JSON", CONFIG_MAX_BYTES);
		return NULL;
	}
	return arena_strdup(s->a, text);
}

static const char *
read_environment(struct svc *s, struct json_object *body)
{
	const char *v = svc_body_str(s, body, "environment", 16, 0);

	if (v == NULL)
		return "production";
	if (strcmp(v, "development") != 0 && strcmp(v, "staging") != 0 &&
	    strcmp(v, "production") != 0) {
		svc_field_error(s, "environment", "invalid_value",
		    "must be development, staging or production");
		return NULL;
	}
	return v;
}

/* ---- audit --------------------------------------------------------------- */

static struct json_object *
audit_details(struct svc *s, const struct service_row *r)
{
	struct json_object *d = json_object_new_object();

	arena_defer(s->a, put_json, d);
	json_object_object_add(d, "service_name",
	    json_object_new_string(r->service_name));
	json_object_object_add(d, "service_type",
	    json_object_new_string(r->service_type));
	json_object_object_add(d, "host", json_object_new_string(r->host));
	json_object_object_add(d, "port", json_object_new_int(r->port));
	json_object_object_add(d, "environment",
	    json_object_new_string(r->environment));
	return d;
}

static int
record(struct svc *s, const char *action, const struct service_row *r,
    struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = "service";
	ev.resource_id = r->id;
	ev.details = audit_details(s, r);
	return audit_record(s, &ev, err);
}

/* ---- services ------------------------------------------------------------ */

int
registry_register(struct svc *s, struct json_object *body,
    struct service_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "service_name", "service_type",
	    "host", "port", "health_check_endpoint", "version", "environment",
	    "weight", "service_config", "ttl_seconds", NULL };
	struct service_new n;
	int rc;

	if ((rc = write_scope(s, err)) != GACP_OK)
		return rc;
	memset(&n, 0, sizeof(n));
	svc_body_only(s, body, allowed);
	n.service_name = read_ident(s, body, "service_name", NAME_MAX_CHARS);
	n.service_type = read_ident(s, body, "service_type", TYPE_MAX_CHARS);
	n.host = svc_body_str(s, body, "host", HOST_MAX_CHARS, SVC_REQUIRED);
	if (n.host != NULL && !host_ok(n.host)) {
		svc_field_error(s, "host", "invalid_format",
		    "must be a host name or an IP address");
		n.host = NULL;
	}
	/* Port 0: no TCP port (a unix socket, named in service_config). */
	n.port = read_int(s, body, "port", 0, 65535, 0, true);
	n.health_check_endpoint = svc_body_str(s, body,
	    "health_check_endpoint", ENDPOINT_MAX_CHARS, 0);
	if (n.health_check_endpoint != NULL &&
	    !endpoint_ok(n.health_check_endpoint)) {
		svc_field_error(s, "health_check_endpoint", "invalid_format",
		    "must be a path such as /health or an http(s) URL");
		n.health_check_endpoint = NULL;
	}
	n.version = svc_body_str(s, body, "version", VERSION_MAX_CHARS,
	    SVC_REQUIRED);
	if (n.version != NULL && !version_ok(n.version)) {
		svc_field_error(s, "version", "invalid_format",
		    "must be letters, digits and . - _ + ~ (e.g. 1.4.2)");
		n.version = NULL;
	}
	n.environment = read_environment(s, body);
	n.weight = read_int(s, body, "weight", 0, WEIGHT_MAX, WEIGHT_DEFAULT,
	    false);
	n.service_config = read_config(s, body);
	n.ttl_seconds = read_int(s, body, "ttl_seconds", 1, REGISTRY_TTL_MAX,
	    REGISTRY_TTL_DEFAULT, false);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	n.registered_by = s->who->id;
	if ((rc = registry_store_insert(&s->app->db, s->a, &n, out, err)) !=
	    GACP_OK)
		return rc;
	return record(s, "service.register", *out, err);
}

int
registry_heartbeat(struct svc *s, const char *id, struct service_row **out,
    struct gacp_err *err)
{
	char sid[TENANCY_UUID_LEN + 1];
	int rc;

	if ((rc = write_scope(s, err)) != GACP_OK)
		return rc;
	if (!tenancy_uuid_norm(id, sid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such service");
	return registry_store_heartbeat(&s->app->db, s->a, sid, out, err);
}

int
registry_deregister(struct svc *s, const char *id, struct gacp_err *err)
{
	struct service_row *r;
	char sid[TENANCY_UUID_LEN + 1];
	int rc;

	if ((rc = write_scope(s, err)) != GACP_OK)
		return rc;
	if (!tenancy_uuid_norm(id, sid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such service");
	if ((rc = registry_store_delete(&s->app->db, s->a, sid, &r, err)) !=
	    GACP_OK)
		return rc;
	return record(s, "service.deregister", r, err);
}

int
registry_list(struct svc *s, const char *name, const char *healthy,
    const struct page *pg, struct service_row **rows, size_t *n,
    char **next_cursor, struct gacp_err *err)
{
	int h = -1, rc;

	*next_cursor = NULL;
	if (name != NULL && (strlen(name) > NAME_MAX_CHARS || !ident_ok(name)))
		svc_field_error(s, "name", "invalid_format",
		    "must be a service name");
	if (healthy != NULL) {
		if (strcmp(healthy, "true") == 0)
			h = 1;
		else if (strcmp(healthy, "false") == 0)
			h = 0;
		else
			svc_field_error(s, "healthy", "invalid_value",
			    "must be true or false");
	}
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if ((rc = read_scope(s, err)) != GACP_OK)
		return rc;
	rc = registry_store_page(&s->app->db, s->a, name, h, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].registered_us,
		    (*rows)[*n - 1].id);
	return rc;
}

enum registry_status
registry_aggregate(size_t n, size_t healthy)
{
	if (n > 0 && healthy == n)
		return REGISTRY_HEALTHY;
	if (healthy > 0)
		return REGISTRY_DEGRADED;
	return REGISTRY_CRITICAL;
}

const char *
registry_status_name(enum registry_status st)
{
	switch (st) {
	case REGISTRY_HEALTHY:  return "healthy";
	case REGISTRY_DEGRADED: return "degraded";
	case REGISTRY_CRITICAL: break;
	}
	return "critical";
}

int
registry_system_health(struct svc *s, struct registry_health *out,
    struct gacp_err *err)
{
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_scope(s, err)) != GACP_OK)
		return rc;
	if ((rc = registry_store_page(&s->app->db, s->a, NULL, -1, -1, NULL,
	    REGISTRY_LIST_MAX, &out->rows, &out->n, err)) != GACP_OK)
		return rc;
	for (i = 0; i < out->n; i++)
		if (out->rows[i].healthy)
			out->healthy++;
	out->status = registry_aggregate(out->n, out->healthy);
	return GACP_OK;
}

/* ---- rendering ----------------------------------------------------------- */

static struct json_object *
str_or_null(const char *v)
{
	return v ? json_object_new_string(v) : NULL;
}

/* Milliseconds precision, printed as such (not 4.8220000000000001). */
static struct json_object *
age(double v)
{
	char text[32];

	snprintf(text, sizeof(text), "%.3f", v);
	return json_object_new_double_s(round(v * 1000.0) / 1000.0, text);
}

struct json_object *
registry_render_service(const struct service_row *r)
{
	struct json_object *o = json_object_new_object(), *cfg;

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "service_name",
	    json_object_new_string(r->service_name));
	json_object_object_add(o, "service_type",
	    json_object_new_string(r->service_type));
	json_object_object_add(o, "host", json_object_new_string(r->host));
	json_object_object_add(o, "port", json_object_new_int(r->port));
	json_object_object_add(o, "health_check_endpoint",
	    str_or_null(r->health_check_endpoint));
	json_object_object_add(o, "version", json_object_new_string(r->version));
	json_object_object_add(o, "environment",
	    json_object_new_string(r->environment));
	json_object_object_add(o, "weight", json_object_new_int(r->weight));
	cfg = r->service_config ? json_tokener_parse(r->service_config) : NULL;
	json_object_object_add(o, "service_config",
	    cfg ? cfg : json_object_new_object());
	json_object_object_add(o, "ttl_seconds",
	    json_object_new_int(r->ttl_seconds));
	json_object_object_add(o, "self_registered",
	    json_object_new_boolean(r->self_registered));
	json_object_object_add(o, "registered_at",
	    str_or_null(r->registered_at));
	json_object_object_add(o, "registered_by",
	    str_or_null(r->registered_by));
	json_object_object_add(o, "last_heartbeat",
	    str_or_null(r->last_heartbeat));
	json_object_object_add(o, "age_seconds", age(r->age_seconds));
	json_object_object_add(o, "status", json_object_new_string(
	    r->healthy ? "healthy" : "unhealthy"));
	return o;
}

struct json_object *
registry_render_health(const struct registry_health *h)
{
	struct json_object *o = json_object_new_object(), *arr, *e;
	const struct service_row *r;
	size_t i;

	json_object_object_add(o, "status",
	    json_object_new_string(registry_status_name(h->status)));
	json_object_object_add(o, "total", json_object_new_int64((int64_t)h->n));
	json_object_object_add(o, "healthy",
	    json_object_new_int64((int64_t)h->healthy));
	json_object_object_add(o, "unhealthy",
	    json_object_new_int64((int64_t)(h->n - h->healthy)));
	arr = json_object_new_array();
	for (i = 0; i < h->n; i++) {
		r = &h->rows[i];
		e = json_object_new_object();
		json_object_object_add(e, "name",
		    json_object_new_string(r->service_name));
		json_object_object_add(e, "id", json_object_new_string(r->id));
		json_object_object_add(e, "service_type",
		    json_object_new_string(r->service_type));
		json_object_object_add(e, "host",
		    json_object_new_string(r->host));
		json_object_object_add(e, "port", json_object_new_int(r->port));
		json_object_object_add(e, "last_heartbeat",
		    str_or_null(r->last_heartbeat));
		json_object_object_add(e, "age_seconds", age(r->age_seconds));
		json_object_object_add(e, "ttl_seconds",
		    json_object_new_int(r->ttl_seconds));
		json_object_object_add(e, "status", json_object_new_string(
		    r->healthy ? "healthy" : "unhealthy"));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "services", arr);
	return o;
}
