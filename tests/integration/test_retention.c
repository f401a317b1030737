/* test_retention.c - gacpctl messages purge / retention against real
 * PostgreSQL: each tenant's own policy, the platform default, the --days
 * override, tenant isolation of the deletes, idempotency keys going with
 * their messages, the audit event, settings validation, and partition
 * upkeep (the coming months created, a month past every policy dropped). */
#include "itest.h"
#include "tenancy_util.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct rt_tenant {
	char slug[48];
	char id[40];
};

static PGconn *
owner(void)
{
	PGconn *c = PQconnectdb(itest_env("GACP_DB_URL", ""));
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "owner connection: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Run gacpctl through the stack; exit status, all of stdout+stderr in
 * *out (malloc'd; a previous *out is freed).  Read to the end however
 * long: on a stack with many tenants the --json reports outgrow any fixed
 * buffer, and a reader that stops early kills gacpctl with SIGPIPE. */
static int
ctl(const char *args, char **out)
{
	char line[1024];
	int rc;

	free(*out);
	*out = NULL;
	snprintf(line, sizeof(line), "%s/scripts/gacp-stack exec gacpctl %s 2>&1",
	    itest_env("GACP_ROOT", "."), args);
	rc = tu_run(line, out);
	if (*out == NULL)
		*out = strdup("");
	return rc;
}

/* A scalar from SQL run as the owner bound to a tenant (or none). */
static long
count(PGconn *c, const char *tenant, const char *sql)
{
	char buf[2048];
	PGresult *r;
	long v = -1;

	snprintf(buf, sizeof(buf), "BEGIN; SELECT set_config('app.tenant_id', "
	    "'%s', true);", tenant ? tenant : "");
	PQclear(PQexec(c, buf));
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atol(PQgetvalue(r, 0, 0));
	else
		fprintf(stderr, "SQL failed: %s\n%s", sql, PQerrorMessage(c));
	PQclear(r);
	PQclear(PQexec(c, "COMMIT"));
	return v;
}

static int
make_tenant(struct rt_tenant *t, const char *tag, const char *settings)
{
	char args[512], *out = NULL;
	const char *id;

	snprintf(t->slug, sizeof(t->slug), "itest-rt-%s-%d", tag, (int)getpid());
	snprintf(args, sizeof(args), "tenant create --json --slug %s --name "
	    "Retention%s%s%s", t->slug, settings ? " --settings '" : "",
	    settings ? settings : "", settings ? "'" : "");
	if (ctl(args, &out) != 0 ||
	    (id = strstr(out, "\"id\":\"")) == NULL) {
		fprintf(stderr, "tenant create: %s\n", out ? out : "");
		free(out);
		return 0;
	}
	snprintf(t->id, sizeof(t->id), "%.36s", id + 6);
	free(out);
	return 1;
}

/* A channel, a contact, a conversation and messages 40 and 10 days old,
 * the old inbound one with its idempotency key. */
static int
seed(PGconn *c, const struct rt_tenant *t)
{
	char sql[4096];
	PGresult *r;
	int ok;

	snprintf(sql, sizeof(sql),
	    "BEGIN; SELECT set_config('app.tenant_id', '%s', true);"
	    "INSERT INTO channels (tenant_id, id, type, name) VALUES ('%s', "
	    "'44444444-4444-4444-8444-444444444444', 'rest', 'rt');"
	    "INSERT INTO contacts (tenant_id, id, channel_id, psid) VALUES ('%s', "
	    "'55555555-5555-4555-8555-555555555555', "
	    "'44444444-4444-4444-8444-444444444444', 'p');"
	    "INSERT INTO conversations (tenant_id, id, channel_id, contact_id) "
	    "VALUES ('%s', '66666666-6666-4666-8666-666666666666', "
	    "'44444444-4444-4444-8444-444444444444', "
	    "'55555555-5555-4555-8555-555555555555');"
	    "INSERT INTO messages (tenant_id, created_at, id, conversation_id, "
	    "channel_id, contact_id, direction, sender, external_id, status) "
	    "SELECT '%s', now() - make_interval(days => d), gen_random_uuid(), "
	    "'66666666-6666-4666-8666-666666666666', "
	    "'44444444-4444-4444-8444-444444444444', "
	    "'55555555-5555-4555-8555-555555555555', 'in', 'contact', "
	    "'mid-' || d, 'received' FROM unnest(ARRAY[40, 10]) AS d;"
	    "INSERT INTO message_keys (tenant_id, channel_id, external_id, "
	    "message_id, message_at) SELECT tenant_id, channel_id, external_id, "
	    "id, created_at FROM messages WHERE tenant_id = '%s';"
	    "COMMIT;", t->id, t->id, t->id, t->id, t->id, t->id);
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "seed: %s", PQerrorMessage(c));
	PQclear(r);
	return ok;
}

static long
messages_of(PGconn *c, const struct rt_tenant *t)
{
	return count(c, t->id, "SELECT count(*) FROM messages");
}

static long
keys_of(PGconn *c, const struct rt_tenant *t)
{
	return count(c, t->id, "SELECT count(*) FROM message_keys");
}

static void
test_tenant_policy_default_and_override(void)
{
	struct rt_tenant a, b;
	PGconn *c = owner();
	char args[256], *out = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* a keeps 30 days, b the platform default (365). */
	CU_ASSERT_TRUE_FATAL(make_tenant(&a, "a",
	    "{\"retention\":{\"message_days\":30}}"));
	CU_ASSERT_TRUE_FATAL(make_tenant(&b, "b", NULL));
	CU_ASSERT_TRUE_FATAL(seed(c, &a));
	CU_ASSERT_TRUE_FATAL(seed(c, &b));

	snprintf(args, sizeof(args), "messages purge --json --tenant %s", a.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"deleted\":1,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"days\":30,"));
	CU_ASSERT_EQUAL(messages_of(c, &a), 1);  /* the 10-day-old one */
	CU_ASSERT_EQUAL(keys_of(c, &a), 1);
	CU_ASSERT_EQUAL(messages_of(c, &b), 2);  /* another tenant: untouched */
	CU_ASSERT_EQUAL(count(c, a.id, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'messages.purge' AND details->>'deleted' = '1'"), 1);

	/* Again: nothing more to delete, no second audit event. */
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"deleted\":0,"));
	CU_ASSERT_EQUAL(count(c, a.id, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'messages.purge'"), 1);

	/* b under the default keeps both; --days overrides the policy. */
	snprintf(args, sizeof(args), "messages purge --json --tenant %s", b.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"days\":365,"));
	CU_ASSERT_EQUAL(messages_of(c, &b), 2);
	snprintf(args, sizeof(args), "messages purge --json --tenant %s --days 5",
	    b.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"deleted\":2,"));
	CU_ASSERT_EQUAL(messages_of(c, &b), 0);
	CU_ASSERT_EQUAL(keys_of(c, &b), 0);
	CU_ASSERT_EQUAL(messages_of(c, &a), 1);
	PQfinish(c);
	free(out);
}

static void
test_bad_arguments_and_settings(void)
{
	char *out = NULL;
	struct rt_tenant t;

	CU_ASSERT_EQUAL(ctl("messages purge --days 0", &out), 2);
	CU_ASSERT_EQUAL(ctl("messages purge --days 12x", &out), 2);
	CU_ASSERT_EQUAL(ctl("messages purge --tenant no-such-tenant-rt", &out), 4);
	/* The settings validation refuses what the job could not honour. */
	CU_ASSERT_FALSE(make_tenant(&t, "bad0",
	    "{\"retention\":{\"message_days\":0}}"));
	CU_ASSERT_FALSE(make_tenant(&t, "bad1",
	    "{\"retention\":{\"message_days\":\"30\"}}"));
	CU_ASSERT_FALSE(make_tenant(&t, "bad2",
	    "{\"retention\":{\"messages\":30}}"));
	free(out);
}

/* The full run creates the coming months' partitions and drops a month
 * past every tenant's retention.  --days 36500 keeps every row of the
 * other suites; a partition of 1920 is past even that. */
static void
test_partitions(void)
{
	PGconn *c = owner();
	PGresult *r;
	char *out = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = PQexec(c, "CREATE TABLE IF NOT EXISTS messages_1920_01 PARTITION OF "
	    "messages FOR VALUES FROM ('1920-01-01') TO ('1920-02-01')");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	CU_ASSERT_EQUAL(ctl("messages purge --json --days 36500", &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"deleted\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"partitions_dropped\":1,"));
	CU_ASSERT_EQUAL(count(c, NULL, "SELECT count(*) FROM pg_class WHERE "
	    "relname = 'messages_1920_01'"), 0);
	CU_ASSERT_EQUAL(count(c, NULL, "SELECT count(*) FROM pg_class WHERE "
	    "relname = 'messages_' || to_char(now() + interval '3 months', "
	    "'YYYY_MM')"), 1);
	/* The nightly job itself: both steps, exit 0. */
	CU_ASSERT_EQUAL(ctl("retention --json", &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"partitions_dropped\":0,"));
	PQfinish(c);
	free(out);
}

void itest_retention_register(void);

void
itest_retention_register(void)
{
	static const struct test_case cases[] = {
		{ "tenant policy, platform default, --days override",
		    test_tenant_policy_default_and_override },
		{ "bad arguments and retention settings refused",
		    test_bad_arguments_and_settings },
		{ "partitions: coming months created, old month dropped",
		    test_partitions },
		{ NULL, NULL },
	};
	tests_add_suite("retention", cases);
}
