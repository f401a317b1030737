/* test_registry.c - unit tests of the service registry's pure parts: the health aggregate and the rendering of an entry (registry/registry.c). */
#include "tests.h"
#include "registry/registry.h"

#include <string.h>

static void
test_aggregate(void)
{
	/* No service registered: nothing is healthy, so critical. */
	CU_ASSERT_EQUAL(registry_aggregate(0, 0), REGISTRY_CRITICAL);
	CU_ASSERT_EQUAL(registry_aggregate(3, 0), REGISTRY_CRITICAL);
	CU_ASSERT_EQUAL(registry_aggregate(3, 1), REGISTRY_DEGRADED);
	CU_ASSERT_EQUAL(registry_aggregate(3, 2), REGISTRY_DEGRADED);
	CU_ASSERT_EQUAL(registry_aggregate(3, 3), REGISTRY_HEALTHY);
	CU_ASSERT_EQUAL(registry_aggregate(1, 1), REGISTRY_HEALTHY);
	CU_ASSERT_STRING_EQUAL(registry_status_name(REGISTRY_HEALTHY), "healthy");
	CU_ASSERT_STRING_EQUAL(registry_status_name(REGISTRY_DEGRADED),
	    "degraded");
	CU_ASSERT_STRING_EQUAL(registry_status_name(REGISTRY_CRITICAL),
	    "critical");
}

static char s_name[] = "gacp-api", s_type[] = "api", s_host[] = "web1",
    s_version[] = "0.1.0", s_env[] = "production", s_config[] = "{\"pid\":42}",
    s_beat[] = "2026-01-31T12:00:00.000000Z";

static struct service_row
row(char *id, bool healthy, double age)
{
	struct service_row r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.service_name = s_name;
	r.service_type = s_type;
	r.host = s_host;
	r.port = 0;
	r.version = s_version;
	r.environment = s_env;
	r.weight = 100;
	r.service_config = s_config;
	r.ttl_seconds = 30;
	r.last_heartbeat = s_beat;
	r.age_seconds = age;
	r.healthy = healthy;
	return r;
}

static void
test_render(void)
{
	static char id1[] = "11111111-1111-1111-1111-111111111111",
	    id2[] = "22222222-2222-2222-2222-222222222222";
	struct service_row rows[2];
	struct registry_health h;
	struct json_object *o;
	const char *text;

	rows[0] = row(id1, true, 1.23456);
	rows[1] = row(id2, false, 95.5);
	o = registry_render_service(&rows[0]);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"status\":\"healthy\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"age_seconds\":1.235"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"service_config\":{\"pid\":42}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"health_check_endpoint\":null"));
	json_object_put(o);

	memset(&h, 0, sizeof(h));
	h.rows = rows;
	h.n = 2;
	h.healthy = 1;
	h.status = registry_aggregate(h.n, h.healthy);
	o = registry_render_health(&h);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"status\":\"degraded\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"total\":2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"unhealthy\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "\"id\":\"22222222-2222-2222-2222-222222222222\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"status\":\"unhealthy\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"age_seconds\":95.500"));
	json_object_put(o);
}

void test_registry_register(void);

void
test_registry_register(void)
{
	static const struct test_case cases[] = {
		{ "aggregate: healthy, degraded, critical", test_aggregate },
		{ "rendering of entries and the aggregate", test_render },
		{ NULL, NULL }
	};

	tests_add_suite("registry", cases);
}
