/* test_cache_sentinel.c - unit tests of the Sentinel list and reply parsing (store/cache.c). */
#include "tests.h"
#include "store/cache.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void
test_list_ok(void)
{
	struct cache_sentinel *s;
	struct gacp_err err;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(cache_sentinels_parse(
	    "127.0.0.1:26379, sentinel-b.internal:26380 ,[::1]:26381", &s, &n,
	    &err), GACP_OK);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(s[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(s[0].port, 26379);
	CU_ASSERT_STRING_EQUAL(s[1].host, "sentinel-b.internal");
	CU_ASSERT_EQUAL(s[1].port, 26380);
	CU_ASSERT_STRING_EQUAL(s[2].host, "::1");
	CU_ASSERT_EQUAL(s[2].port, 26381);
	cache_sentinels_free(s, n);

	CU_ASSERT_EQUAL_FATAL(cache_sentinels_parse("h:1", &s, &n, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(s[0].host, "h");
	CU_ASSERT_EQUAL(s[0].port, 1);
	cache_sentinels_free(s, n);
}

static void
test_list_bad(void)
{
	static const char *bad[] = {
		"", "host", "host:", ":26379", "host:0", "host:65536",
		"host:-1", "host:12ab", "host:+5", "a:1,,b:2", "a:1,", ",a:1",
		"::1:26379", "[::1:26379", "[]:1", "host:999999999999",
		"a:1 b:2", NULL
	};
	struct cache_sentinel *s;
	struct gacp_err err;
	size_t n, i;
	char many[16 * 12 + 32] = "";

	for (i = 0; bad[i] != NULL; i++) {
		s = (void *)1;
		n = 7;
		CU_ASSERT_EQUAL(cache_sentinels_parse(bad[i], &s, &n, &err),
		    GACP_EINVAL);
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_EQUAL(n, 0);
		CU_ASSERT_STRING_EQUAL(err.code, "invalid_config");
	}
	CU_ASSERT_EQUAL(cache_sentinels_parse(NULL, &s, &n, &err), GACP_EINVAL);
	/* More than CACHE_MAX_SENTINELS addresses. */
	for (i = 0; i <= CACHE_MAX_SENTINELS; i++)
		strcat(many, i ? ",h:26379" : "h:26379");
	CU_ASSERT_EQUAL(cache_sentinels_parse(many, &s, &n, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(s);
}

/* Build a reply the way hiredis hands one over (only the fields read). */
static redisReply *
str_reply(const char *v)
{
	redisReply *r = calloc(1, sizeof(*r));

	r->type = REDIS_REPLY_STRING;
	r->str = strdup(v);
	r->len = strlen(v);
	return r;
}

static redisReply *
array_reply(size_t n, ...)
{
	redisReply *r = calloc(1, sizeof(*r));
	va_list ap;
	size_t i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof(*r->element));
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = str_reply(va_arg(ap, const char *));
	va_end(ap);
	return r;
}

static void
free_reply(redisReply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->elements; i++)
		free_reply(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}

static void
test_master_reply(void)
{
	struct gacp_err err;
	char host[64];
	int port = 0;
	redisReply *r, nil = { .type = REDIS_REPLY_NIL };
	redisReply error = { .type = REDIS_REPLY_ERROR, .str = (char *)"ERR x",
	    .len = 5 };

	r = array_reply(2, "127.0.0.1", "35102");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 35102);
	free_reply(r);

	CU_ASSERT_EQUAL(cache_sentinel_master_parse(&nil, host, sizeof(host),
	    &port, &err), GACP_ENOTFOUND);
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(&error, host, sizeof(host),
	    &port, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(NULL, host, sizeof(host),
	    &port, &err), GACP_EUNAVAIL);

	/* Wrong shapes: one element, three, bad ports, host too long. */
	r = array_reply(1, "127.0.0.1");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(3, "127.0.0.1", "1", "x");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(2, "127.0.0.1", "0");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(2, "127.0.0.1", "70000");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(2, "127.0.0.1", "-5");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(2, "", "6379");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
	r = array_reply(2, "a-very-long-host-name.example", "6379");
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, 8, &port, &err),
	    GACP_EINVAL);
	free_reply(r);
	/* An element that is not a string. */
	r = array_reply(2, "127.0.0.1", "6379");
	r->element[1]->type = REDIS_REPLY_INTEGER;
	CU_ASSERT_EQUAL(cache_sentinel_master_parse(r, host, sizeof(host), &port,
	    &err), GACP_EINVAL);
	free_reply(r);
}

static void
test_role(void)
{
	redisReply *r;

	r = array_reply(3, "master", "0", "");
	CU_ASSERT_TRUE(cache_role_is_master(r));
	free_reply(r);
	r = array_reply(5, "slave", "127.0.0.1", "6379", "connected", "0");
	CU_ASSERT_FALSE(cache_role_is_master(r));
	free_reply(r);
	r = array_reply(1, "sentinel");
	CU_ASSERT_FALSE(cache_role_is_master(r));
	free_reply(r);
	r = array_reply(0);
	CU_ASSERT_FALSE(cache_role_is_master(r));
	free_reply(r);
	r = str_reply("master");
	CU_ASSERT_FALSE(cache_role_is_master(r));
	free_reply(r);
	CU_ASSERT_FALSE(cache_role_is_master(NULL));
}

/* cache_use_sentinels validates before it changes anything. */
static void
test_use_sentinels(void)
{
	struct cache c;
	struct gacp_err err;

	cache_init(&c, "127.0.0.1", 6379, NULL, "pw", 100, NULL);
	CU_ASSERT_EQUAL(cache_use_sentinels(&c, "127.0.0.1:26379", "", NULL,
	    &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(cache_use_sentinels(&c, "127.0.0.1:26379", "a b", NULL,
	    &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(cache_use_sentinels(&c, "nope", "gacp", NULL, &err),
	    GACP_EINVAL);
	CU_ASSERT_EQUAL(c.nsentinels, 0);
	CU_ASSERT_EQUAL(cache_use_sentinels(&c, "127.0.0.1:1,127.0.0.1:2",
	    "gacp", "spw", &err), GACP_OK);
	CU_ASSERT_EQUAL(c.nsentinels, 2);
	CU_ASSERT_STRING_EQUAL(c.master_name, "gacp");
	CU_ASSERT_STRING_EQUAL(c.sentinel_password, "spw");
	/* Nobody listens on ports 1 and 2: a quick "unavailable". */
	CU_ASSERT_EQUAL(cache_connect(&c, &err), GACP_EUNAVAIL);
	CU_ASSERT_STRING_EQUAL(err.code, "dependency_unavailable");
	CU_ASSERT_PTR_NULL(c.ctx);
	cache_cleanup(&c);
	CU_ASSERT_PTR_NULL(c.sentinels);
	CU_ASSERT_PTR_NULL(c.sentinel_password);
}

void
test_cache_sentinel_register(void)
{
	static const struct test_case cases[] = {
		{ "list_ok", test_list_ok },
		{ "list_bad", test_list_bad },
		{ "master_reply", test_master_reply },
		{ "role", test_role },
		{ "use_sentinels", test_use_sentinels },
		{ NULL, NULL }
	};
	tests_add_suite("cache_sentinel", cases);
}
