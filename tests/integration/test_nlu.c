/* test_nlu.c - the NLU service through nginx: training data CRUD and
 * validation, Rasa import/export, parse endpoints, gacp-nlu reload,
 * activation and rollback picked up by every process, a model swap under
 * load, and the faults of a corrupt model file and a read-only model
 * directory.
 *
 * Works in a tenant of its own (made with gacpctl), so the demo tenant's
 * bot keeps its model.  Models are trained small (one member, 32 hidden
 * units, 2^12 buckets) so a reload takes about a second.  The tests share
 * state (the tenant, its versions) and run in order.
 */
#include "itest.h"
#include "tenancy_util.h"
#include "common/arena.h"
#include "store/cache.h"
#include "training/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Rasa NLU YAML with every construct: intents with plain, synonym-valued
 * and role/group annotations, Thai text, a comment, synonyms, a regex and
 * a lookup table. */
static const char yaml_a[] =
    "version: \"3.1\"\n"
    "nlu:\n"
    "- intent: greet\n"
    "  examples: |\n"
    "    - hello\n"
    "    - hi there\n"
    "    - good morning\n"
    "    - hey, how are you\n"
    "    # a comment line\n"
    "    - สวัสดีครับ\n"
    "    - สวัสดีค่ะ\n"
    "- intent: goodbye\n"
    "  examples: |\n"
    "    - bye\n"
    "    - goodbye\n"
    "    - see you later\n"
    "    - have a nice day\n"
    "    - ลาก่อนนะ\n"
    "    - บายจ้า\n"
    "- intent: order_food\n"
    "  examples: |\n"
    "    - I want a [pizza](food)\n"
    "    - can I get [two](number) [burgers](food:burger)\n"
    "    - [sushi]{\"entity\": \"food\", \"role\": \"main\", \"group\": \"1\"} please\n"
    "    - order some [pizza](food) for me\n"
    "    - ขอ[ข้าวผัด](food)หน่อย\n"
    "    - I would like to order food\n"
    "- intent: check_balance\n"
    "  examples: |\n"
    "    - what is my [credit card](account:credit) balance\n"
    "    - balance of account [1234567890](account_number)\n"
    "    - how much money do I have\n"
    "    - show my balance\n"
    "    - เงินในบัญชีเหลือเท่าไหร่\n"
    "    - check my account balance\n"
    "- synonym: credit\n"
    "  examples: |\n"
    "    - credit card\n"
    "    - cc\n"
    "- regex: account_number\n"
    "  examples: |\n"
    "    - \\d{10,12}\n"
    "- lookup: food\n"
    "  examples: |\n"
    "    - pizza\n"
    "    - burger\n"
    "    - sushi\n";

/* Examples of an intent the first model does not know: responses of the
 * second model rank it, the first's never do. */
static const char weather_examples[] =
    "{\"examples\":["
    "{\"text\":\"what is the weather like today\",\"intent\":\"ask_weather\"},"
    "{\"text\":\"will it rain tomorrow\",\"intent\":\"ask_weather\"},"
    "{\"text\":\"is it sunny outside\",\"intent\":\"ask_weather\"},"
    "{\"text\":\"weather forecast please\",\"intent\":\"ask_weather\"},"
    "{\"text\":\"how hot is it today\",\"intent\":\"ask_weather\"},"
    "{\"text\":\"ฝนจะตกไหมวันนี้\",\"intent\":\"ask_weather\"}]}";

#define SMALL_MODEL "--members 1 --hidden 32 --dim-log2 12 --epochs 30 " \
	"--threads 1 --no-refit"
#define PARSE_WEATHER "{\"text\":\"what is the weather like today\"}"

static struct {
	int  ready;                 /* -1 not tried, 0 failed, 1 ok */
	char tenant_id[37];
	char slug[40];
	char key[128];              /* nlu:read, nlu:write, audit:read */
	char read_key[128];         /* nlu:read only */
	char version_a_id[37];      /* model without ask_weather */
	char version_b_id[37];      /* model with ask_weather */
	char rejected_id[37];       /* a version the gate rejected */
} nt = { -1, "", "", "", "", "", "", "" };

/* ---- helpers ------------------------------------------------------------ */

static struct json_object *
parse_json(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

static int64_t
jint(struct json_object *o, const char *path)
{
	struct json_object *v = tu_jget(o, path);
	return v ? json_object_get_int64(v) : -1;
}

/* Length of the array at path, 0 when there is none. */
static size_t
jlen(struct json_object *o, const char *path)
{
	struct json_object *v = tu_jget(o, path);
	return v && json_object_is_type(v, json_type_array) ?
	    json_object_array_length(v) : 0;
}

static bool
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* method path with the given key, content type and body. */
static int
call_as(const char *key, const char *method, const char *path,
    const char *ctype, const char *body, size_t len, struct itest_response *r)
{
	char auth[160], ct[128];
	const char *h[3] = { auth, NULL, NULL };

	snprintf(auth, sizeof(auth), "X-API-Key: %s", key);
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		h[1] = ct;
	}
	return itest_http(method, path, h, body, body ? len : 0, r);
}

/* method path with a JSON body (or none) as the test tenant's key. */
static int
jcall(const char *method, const char *path, const char *json,
    struct itest_response *r)
{
	return call_as(nt.key, method, path, json ? "application/json" : NULL,
	    json, json ? strlen(json) : 0, r);
}

/* The 422 details hold {field, code}. */
static bool
has_detail(const struct itest_response *r, const char *field,
    const char *code)
{
	struct json_object *d = tu_jget(r->json, "error.details");
	size_t i;

	for (i = 0; d && i < json_object_array_length(d); i++) {
		struct json_object *e = json_object_array_get_idx(d, i);
		if (streq(tu_jstr(e, "field"), field) && streq(tu_jstr(e, "code"), code))
			return true;
	}
	return false;
}

static bool
setup(void)
{
	unsigned int salt;
	char cmd[512], *out = NULL;
	struct json_object *o;
	FILE *f;

	if (nt.ready >= 0)
		return nt.ready == 1;
	nt.ready = 0;
	f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(&salt, sizeof(salt), 1, f) != 1)
		salt = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	if (f)
		fclose(f);
	snprintf(nt.slug, sizeof(nt.slug), "nlu-%08x", salt);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacpctl --json tenant create "
	    "--slug %s --name 'NLU integration' --settings "
	    "'{\"rate_limits\":{\"requests_per_minute\":1000000,"
	    "\"api_key_requests_per_minute\":1000000}}'", itest_env("GACP_ROOT", "."),
	    nt.slug);
	if (tu_run(cmd, &out) != 0 || (o = parse_json(out)) == NULL) {
		free(out);
		return false;
	}
	snprintf(nt.tenant_id, sizeof(nt.tenant_id), "%s", tu_jstr(o, "id"));
	json_object_put(o);
	free(out);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacpctl --json apikey create "
	    "--tenant %s --name nlu-itest --scope nlu:read,nlu:write,audit:read",
	    itest_env("GACP_ROOT", "."), nt.slug);
	if (tu_run(cmd, &out) != 0 || (o = parse_json(out)) == NULL) {
		free(out);
		return false;
	}
	snprintf(nt.key, sizeof(nt.key), "%s", tu_jstr(o, "key"));
	json_object_put(o);
	free(out);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacpctl --json apikey create "
	    "--tenant %s --name nlu-itest-read --scope nlu:read",
	    itest_env("GACP_ROOT", "."), nt.slug);
	if (tu_run(cmd, &out) != 0 || (o = parse_json(out)) == NULL) {
		free(out);
		return false;
	}
	snprintf(nt.read_key, sizeof(nt.read_key), "%s", tu_jstr(o, "key"));
	json_object_put(o);
	free(out);
	nt.ready = nt.tenant_id[0] && nt.key[0] && nt.read_key[0];
	return nt.ready == 1;
}

/* The user the services run as when we are root (owner of the model
 * directory), so file permissions mean something; "" otherwise. */
static const char *
service_user(void)
{
	static char name[64];
	char dir[1024];
	struct passwd *pw;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/models",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if (geteuid() != 0 || stat(dir, &st) != 0 || st.st_uid == 0 ||
	    (pw = getpwuid(st.st_uid)) == NULL)
		return "";
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	return name;
}

/* gacp-nlu reload for the test tenant with a small model; the tenant's
 * JSON entry into *t (caller puts), the exit status returned. */
static int
reload(const char *extra, bool as_service_user, struct json_object **t)
{
	char cmd[1024], prefix[96] = "", *out = NULL;
	struct json_object *o, *arr;
	int rc;

	*t = NULL;
	if (as_service_user && service_user()[0])
		snprintf(prefix, sizeof(prefix), "runuser -u %s -- ",
		    service_user());
	snprintf(cmd, sizeof(cmd), "%s%s/src/tools/gacp-nlu reload --tenant %s "
	    "--json " SMALL_MODEL " %s 2>>%s/log/itest-nlu-reload.log", prefix,
	    itest_env("GACP_ROOT", "."), nt.slug, extra ? extra : "",
	    itest_env("GACP_VAR_DIR", "var/test"));
	rc = tu_run(cmd, &out);
	o = parse_json(out);
	if (o != NULL && (arr = tu_jget(o, "tenants")) != NULL &&
	    json_object_array_length(arr) == 1)
		*t = json_object_get(json_object_array_get_idx(arr, 0));
	if (o != NULL)
		json_object_put(o);
	free(out);
	return rc;
}

/* POST /v1/nlu/parse of text; 1 when the ranking names ask_weather, 0
 * when not, -1 on any failure (not a 200 with the Rasa shape). */
static int
parse_knows_weather(const char *key)
{
	struct itest_response r;
	struct json_object *rank;
	int seen = 0;
	size_t i;

	if (call_as(key, "POST", "/v1/nlu/parse", "application/json",
	    PARSE_WEATHER, strlen(PARSE_WEATHER), &r) != 0 || r.status != 200 ||
	    (rank = tu_jget(r.json, "intent_ranking")) == NULL ||
	    !json_object_is_type(rank, json_type_array) ||
	    tu_jstr(r.json, "intent.name") == NULL) {
		itest_response_free(&r);
		return -1;
	}
	for (i = 0; i < json_object_array_length(rank); i++)
		if (streq(tu_jstr(json_object_array_get_idx(rank, i), "name"),
		    "ask_weather"))
			seen = 1;
	itest_response_free(&r);
	return seen;
}

/* Id of the version with the given number (from GET /v1/nlu/models). */
static bool
version_id(int64_t version, char out[37])
{
	struct itest_response r;
	struct json_object *items;
	bool found = false;
	size_t i;

	out[0] = '\0';
	jcall("GET", "/v1/nlu/models?limit=200", NULL, &r);
	items = tu_jget(r.json, "items");
	for (i = 0; items && i < json_object_array_length(items); i++) {
		struct json_object *m = json_object_array_get_idx(items, i);
		if (jint(m, "version") == version) {
			snprintf(out, 37, "%s", tu_jstr(m, "id"));
			found = true;
		}
	}
	itest_response_free(&r);
	return found;
}

static size_t
count_versions(void)
{
	struct itest_response r;
	size_t n;

	jcall("GET", "/v1/nlu/models?limit=200", NULL, &r);
	n = jlen(r.json, "items");
	itest_response_free(&r);
	return n;
}

static int64_t
active_version(void)
{
	struct itest_response r;
	int64_t v;

	jcall("GET", "/v1/nlu/models", NULL, &r);
	v = r.status == 200 ? jint(r.json, "active_version") : -2;
	itest_response_free(&r);
	return v;
}

static long
activate(const char *id)
{
	struct itest_response r;
	char path[128];
	long st;

	snprintf(path, sizeof(path), "/v1/nlu/models/%s/activate", id);
	jcall("POST", path, NULL, &r);
	st = r.status;
	itest_response_free(&r);
	return st;
}

/* Every process re-checks the file at most a second after its last
 * check; past that, each request sees the published model. */
static void
wait_model_check(void)
{
	struct timespec t = { 1, 500 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

static char *
model_path(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/models/%s/%s",
	    itest_env("GACP_VAR_DIR", "var/test"), nt.tenant_id, name);
	return path;
}

/* Publish a corrupted copy of src under dst (new inode, rename). */
static bool
publish_corrupt(const char *src, const char *dst)
{
	char tmp[1100];
	unsigned char *data = NULL;
	struct stat st;
	bool ok = false;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.itest-corrupt", dst);
	if ((fd = open(src, O_RDONLY)) < 0 || fstat(fd, &st) != 0 ||
	    st.st_size < 4096)
		goto out;
	data = malloc((size_t)st.st_size);
	if (data == NULL || read(fd, data, (size_t)st.st_size) != st.st_size)
		goto out;
	close(fd);
	/* Flip bytes inside the payload: the header still looks right. */
	data[st.st_size / 2] ^= 0xff;
	data[st.st_size - 7] ^= 0x5a;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, data, (size_t)st.st_size) != st.st_size)
		goto out;
	close(fd);
	fd = -1;
	ok = rename(tmp, dst) == 0;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return ok;
}

/* ---- examples ----------------------------------------------------------- */

static void
test_examples_crud(void)
{
	struct itest_response r;
	char id[37], path[128], *big;
	const char *next;

	CU_ASSERT_TRUE_FATAL(setup());

	/* One example: language detected, annotation value filled in. */
	jcall("POST", "/v1/nlu/examples", "{\"text\":\"I want a pizza\","
	    "\"intent\":\"order_food\",\"entities\":[{\"start\":9,\"end\":14,"
	    "\"entity\":\"food\"}]}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "language"), "en");
	CU_ASSERT_STRING_EQUAL(tu_jstr(json_object_array_get_idx(tu_jget(r.json,
	    "entities"), 0), "value"), "pizza");
	CU_ASSERT_EQUAL(jint(r.json, "version"), 1);
	snprintf(id, sizeof(id), "%s", tu_jstr(r.json, "id") ? tu_jstr(r.json, "id") :
	    "");
	itest_response_free(&r);

	/* Many at once, in request order; Thai detected. */
	jcall("POST", "/v1/nlu/examples", "{\"examples\":["
	    "{\"text\":\"สวัสดีครับ\",\"intent\":\"greet\"},"
	    "{\"text\":\"hello\",\"intent\":\"greet\",\"language\":\"en\"},"
	    "{\"text\":\"bye\",\"intent\":\"goodbye\"}]}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 3);
	CU_ASSERT_STRING_EQUAL(tu_jstr(json_object_array_get_idx(tu_jget(r.json,
	    "items"), 0), "language"), "th");
	CU_ASSERT_STRING_EQUAL(tu_jstr(json_object_array_get_idx(tu_jget(r.json,
	    "items"), 2), "text"), "bye");
	itest_response_free(&r);

	/* A text that exists, and one repeated in the request. */
	jcall("POST", "/v1/nlu/examples", "{\"text\":\"hello\","
	    "\"intent\":\"goodbye\"}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "text", "duplicate"));
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/examples", "{\"examples\":["
	    "{\"text\":\"new one\",\"intent\":\"a\"},"
	    "{\"text\":\"new one\",\"intent\":\"b\"}]}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "examples[1].text", "duplicate"));
	itest_response_free(&r);

	/* Field errors, all listed in one 422. */
	jcall("POST", "/v1/nlu/examples", "{\"examples\":["
	    "{\"text\":\"no intent\"},"
	    "{\"text\":\"abc\",\"intent\":\"x\",\"entities\":[{\"start\":2,"
	    "\"end\":9,\"entity\":\"e\"}]},"
	    "{\"text\":\"abcdef\",\"intent\":\"x\",\"entities\":["
	    "{\"start\":0,\"end\":3,\"entity\":\"e\"},"
	    "{\"start\":2,\"end\":4,\"entity\":\"f\"}]},"
	    "{\"text\":\"fallback\",\"intent\":\"nlu_fallback\"},"
	    "{\"text\":\"spaces\",\"intent\":\"two words\"},"
	    "{\"text\":\"lang\",\"intent\":\"x\",\"language\":\"EN\"},"
	    "{\"text\":\"extra\",\"intent\":\"x\",\"colour\":\"red\"},"
	    "{\"text\":\"bad entity\",\"intent\":\"x\",\"entities\":[{\"start\":0,"
	    "\"end\":3,\"entity\":\"a b\"}]},"
	    "{\"text\":\"tab\\there\",\"intent\":\"x\"},"
	    "{\"text\":\"see [this](that)\",\"intent\":\"x\"}]}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "validation_failed");
	CU_ASSERT_TRUE(has_detail(&r, "examples[0].intent", "required"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[1].entities[0]", "out_of_range"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[2].entities[1]", "overlapping"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[3].intent", "invalid_intent"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[4].intent", "invalid_intent"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[5].language",
	    "invalid_language"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[6].colour", "unknown_field"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[7].entities[0]",
	    "invalid_entity"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[8].text", "invalid_characters"));
	CU_ASSERT_TRUE(has_detail(&r, "examples[9].text", "ambiguous_text"));
	itest_response_free(&r);

	/* Text longer than 2,000 characters. */
	big = malloc(2100 + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	strcpy(big, "{\"intent\":\"x\",\"text\":\"");
	memset(big + strlen(big), 'a', 2001);
	strcpy(big + strlen("{\"intent\":\"x\",\"text\":\"") + 2001, "\"}");
	jcall("POST", "/v1/nlu/examples", big, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "text", "too_long"));
	itest_response_free(&r);
	free(big);

	/* Not JSON, wrong type, read-only key. */
	call_as(nt.key, "POST", "/v1/nlu/examples", "text/plain", "hello", 5,
	    &r);
	CU_ASSERT_EQUAL(r.status, 415);
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/examples", "{\"text\": ", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);
	{
		static const char ro[] = "{\"text\":\"ro\",\"intent\":\"x\"}";
		call_as(nt.read_key, "POST", "/v1/nlu/examples",
		    "application/json", ro, strlen(ro), &r);
	}
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);

	/* Pages of two, then a filter. */
	call_as(nt.read_key, "GET", "/v1/nlu/examples?limit=2", NULL, NULL, 0,
	    &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 2);
	next = tu_jstr(r.json, "next_cursor");
	CU_ASSERT_PTR_NOT_NULL(next);
	if (next != NULL) {
		struct itest_response r2;
		snprintf(path, sizeof(path), "/v1/nlu/examples?limit=2&cursor=%s",
		    next);
		jcall("GET", path, NULL, &r2);
		CU_ASSERT_EQUAL(r2.status, 200);
		CU_ASSERT_EQUAL(jlen(r2.json, "items"),
		    2);
		itest_response_free(&r2);
	}
	itest_response_free(&r);
	jcall("GET", "/v1/nlu/examples?intent=greet", NULL, &r);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 2);
	itest_response_free(&r);
	jcall("GET", "/v1/nlu/examples?limit=0", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "limit", "out_of_range"));
	itest_response_free(&r);

	/* Read, delete, gone. */
	snprintf(path, sizeof(path), "/v1/nlu/examples/%s", id);
	jcall("GET", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "text"), "I want a pizza");
	itest_response_free(&r);
	jcall("DELETE", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	jcall("GET", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	jcall("DELETE", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	jcall("GET", "/v1/nlu/examples/not-a-uuid", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);

	/* A whole intent; the filter is required. */
	jcall("DELETE", "/v1/nlu/examples?intent=greet", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jint(r.json, "deleted"), 2);
	itest_response_free(&r);
	jcall("DELETE", "/v1/nlu/examples", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "intent", "required"));
	itest_response_free(&r);

	/* Every change is in the audit trail. */
	jcall("GET", "/v1/audit-log?action=nlu_example.delete_intent", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 1);
	itest_response_free(&r);
	jcall("GET", "/v1/audit-log?action=nlu_example.create", NULL, &r);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 2);
	itest_response_free(&r);
}

static void
test_entities_crud(void)
{
	struct itest_response r;
	char id[37], path[128], body[256];
	int64_t version;

	CU_ASSERT_TRUE_FATAL(setup());
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"regex\",\"name\":\"zip\","
	    "\"elements\":[\"\\\\d{5}\"]}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "kind"), "regex");
	snprintf(id, sizeof(id), "%s", tu_jstr(r.json, "id") ? tu_jstr(r.json, "id") :
	    "");
	version = jint(r.json, "version");
	itest_response_free(&r);

	/* A pattern that does not compile, a bad kind, a bad name. */
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"regex\",\"name\":\"bad\","
	    "\"elements\":[\"ok\",\"(unclosed\"]}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "elements[1]", "invalid_regex"));
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"table\",\"name\":\"x\","
	    "\"elements\":[\"a\"]}", &r);
	CU_ASSERT_TRUE(has_detail(&r, "kind", "invalid_kind"));
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"lookup\",\"name\":\"a b\","
	    "\"elements\":[\"a\",\"a\"]}", &r);
	CU_ASSERT_TRUE(has_detail(&r, "name", "invalid_name"));
	CU_ASSERT_TRUE(has_detail(&r, "elements[1]", "duplicate"));
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"lookup\",\"name\":\"city\","
	    "\"elements\":[]}", &r);
	CU_ASSERT_TRUE(has_detail(&r, "elements", "invalid_type"));
	itest_response_free(&r);

	/* The same name twice is a conflict. */
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"regex\",\"name\":\"zip\","
	    "\"elements\":[\"\\\\d{4}\"]}", &r);
	CU_ASSERT_EQUAL(r.status, 409);
	itest_response_free(&r);

	/* Synonyms: one surface form, one canonical value. */
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"synonym\","
	    "\"name\":\"New York\",\"elements\":[\"NYC\",\"big apple\"]}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/entities", "{\"kind\":\"synonym\","
	    "\"name\":\"Newark\",\"elements\":[\"NYC\"]}", &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "elements", "synonym_conflict"));
	itest_response_free(&r);

	/* Update with the version read; a stale version conflicts. */
	snprintf(path, sizeof(path), "/v1/nlu/entities/%s", id);
	snprintf(body, sizeof(body), "{\"elements\":[\"\\\\d{5}\","
	    "\"\\\\d{5}-\\\\d{4}\"],\"version\":%lld}", (long long)version);
	jcall("PATCH", path, body, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jlen(r.json, "elements"), 2);
	CU_ASSERT_EQUAL(jint(r.json, "version"), version + 1);
	itest_response_free(&r);
	jcall("PATCH", path, body, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "version_conflict");
	itest_response_free(&r);

	jcall("GET", "/v1/nlu/entities?kind=regex", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 1);
	itest_response_free(&r);
	jcall("GET", "/v1/nlu/entities?kind=bogus", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 422);
	itest_response_free(&r);
	jcall("DELETE", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 204);
	itest_response_free(&r);
	jcall("GET", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
}

/* ---- import and export -------------------------------------------------- */

static char *
export_yaml(void)
{
	struct itest_response r;
	char ctype[128] = "";
	char *out = NULL;

	jcall("GET", "/v1/nlu/export", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(itest_header(&r, "Content-Type", ctype, sizeof(ctype)));
	CU_ASSERT_PTR_NOT_NULL(strstr(ctype, "yaml"));
	if (r.status == 200)
		out = strdup(r.body);
	itest_response_free(&r);
	return out;
}

static void
test_import_export(void)
{
	static const char rasa_json[] =
	    "{\"rasa_nlu_data\":{\"common_examples\":["
	    "{\"text\":\"recharge my card\",\"intent\":\"top_up\"},"
	    "{\"text\":\"top up 100 baht\",\"intent\":\"top_up\",\"entities\":"
	    "[{\"start\":7,\"end\":10,\"value\":\"100\",\"entity\":\"amount\"}]},"
	    "{\"text\":\"add money to my card\",\"intent\":\"top_up\"}],"
	    "\"regex_features\":[{\"name\":\"amount\",\"pattern\":\"\\\\d+\"}],"
	    "\"lookup_tables\":[{\"name\":\"food\",\"elements\":[\"noodles\"]}],"
	    "\"entity_synonyms\":[{\"value\":\"credit\",\"synonyms\":"
	    "[\"credit account\"]}]}}";
	struct itest_response r;
	char *first, *second, *third;

	CU_ASSERT_TRUE_FATAL(setup());
	call_as(nt.key, "POST", "/v1/nlu/import", "application/x-yaml", yaml_a,
	    strlen(yaml_a), &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "mode"), "replace");
	CU_ASSERT_EQUAL(jint(r.json, "examples.total"), 24);
	/* "bye" of the CRUD test stays (same text and intent). */
	CU_ASSERT_EQUAL(jint(r.json, "examples.unchanged"), 1);
	CU_ASSERT_EQUAL(jint(r.json, "examples.inserted"), 23);
	CU_ASSERT_EQUAL(jint(r.json, "examples.deleted"), 0);
	/* credit and burger synonyms, the regex, the lookup; the synonym
	 * the entity test left is not in the file and goes. */
	CU_ASSERT_EQUAL(jint(r.json, "entities.total"), 4);
	CU_ASSERT_EQUAL(jint(r.json, "entities.inserted"), 4);
	CU_ASSERT_EQUAL(jint(r.json, "entities.deleted"), 1);
	itest_response_free(&r);

	first = export_yaml();
	CU_ASSERT_PTR_NOT_NULL_FATAL(first);
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "- intent: \"greet\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "    - I want a [pizza](food)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "[credit card]{\"entity\": "
	    "\"account\", \"value\": \"credit\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "\"role\": \"main\", \"group\": "
	    "\"1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "    - ขอ[ข้าวผัด](food)หน่อย\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "- synonym: \"credit\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "    - cc\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "- regex: \"account_number\"\n"
	    "  examples: |\n    - \\d{10,12}\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(first, "- lookup: \"food\"\n"));
	CU_ASSERT_PTR_NULL(strstr(first, "a comment line"));

	/* Round trip: importing the export changes nothing, and exports
	 * the same bytes. */
	call_as(nt.key, "POST", "/v1/nlu/import?mode=replace",
	    "text/yaml; charset=utf-8", first, strlen(first), &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jint(r.json, "examples.unchanged"), 24);
	CU_ASSERT_EQUAL(jint(r.json, "examples.inserted"), 0);
	CU_ASSERT_EQUAL(jint(r.json, "examples.updated"), 0);
	CU_ASSERT_EQUAL(jint(r.json, "examples.deleted"), 0);
	CU_ASSERT_EQUAL(jint(r.json, "entities.unchanged"), 4);
	itest_response_free(&r);
	second = export_yaml();
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	CU_ASSERT_STRING_EQUAL(first, second);

	/* Rasa JSON, merged: added to what is there. */
	call_as(nt.key, "POST", "/v1/nlu/import?mode=merge", "application/json",
	    rasa_json, strlen(rasa_json), &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "mode"), "merge");
	CU_ASSERT_EQUAL(jint(r.json, "examples.inserted"), 3);
	CU_ASSERT_EQUAL(jint(r.json, "examples.deleted"), 0);
	/* food gains noodles, credit gains a form, amount is new. */
	CU_ASSERT_EQUAL(jint(r.json, "entities.updated"), 2);
	CU_ASSERT_EQUAL(jint(r.json, "entities.inserted"), 1);
	itest_response_free(&r);
	third = export_yaml();
	CU_ASSERT_PTR_NOT_NULL_FATAL(third);
	CU_ASSERT_PTR_NOT_NULL(strstr(third, "    - noodles\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(third, "    - credit account\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(third, "top up [100](amount) baht"));

	/* All or nothing: every problem listed, nothing written. */
	{
		static const char bad[] =
		    "nlu:\n"
		    "- intent: greet\n"
		    "  examples: |\n"
		    "    - hello\n"
		    "    - same text\n"
		    "- intent: goodbye\n"
		    "  examples: |\n"
		    "    - same text\n"
		    "- intent: nlu_fallback\n"
		    "  examples: |\n"
		    "    - reserved\n"
		    "- regex: broken\n"
		    "  examples: |\n"
		    "    - ([a-z]\n";
		char *after;

		call_as(nt.key, "POST", "/v1/nlu/import", "application/x-yaml",
		    bad, strlen(bad), &r);
		CU_ASSERT_EQUAL(r.status, 422);
		CU_ASSERT_TRUE(has_detail(&r, "examples[2].intent",
		    "conflicting_intent"));
		CU_ASSERT_TRUE(has_detail(&r, "examples[3].intent",
		    "invalid_intent"));
		CU_ASSERT_TRUE(has_detail(&r, "regex[broken].elements[0]",
		    "invalid_regex"));
		itest_response_free(&r);
		after = export_yaml();
		CU_ASSERT_TRUE(after != NULL && strcmp(after, third) == 0);
		free(after);
	}
	{
		static const char broken[] =
		    "nlu:\n- intent: x\n  examples: [unclosed\n";
		call_as(nt.key, "POST", "/v1/nlu/import", "application/x-yaml",
		    broken, strlen(broken), &r);
	}
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_STRING_EQUAL(tu_jstr(json_object_array_get_idx(tu_jget(r.json,
	    "error.details"), 0), "field"), "body");
	itest_response_free(&r);
	call_as(nt.key, "POST", "/v1/nlu/import", "text/csv", "a,b", 3, &r);
	CU_ASSERT_EQUAL(r.status, 415);
	itest_response_free(&r);
	call_as(nt.key, "POST", "/v1/nlu/import?mode=append",
	    "application/x-yaml", yaml_a, strlen(yaml_a), &r);
	CU_ASSERT_EQUAL(r.status, 422);
	CU_ASSERT_TRUE(has_detail(&r, "mode", "invalid_mode"));
	itest_response_free(&r);
	call_as(nt.read_key, "POST", "/v1/nlu/import", "application/x-yaml",
	    yaml_a, strlen(yaml_a), &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);

	/* Back to exactly the YAML for the models below. */
	call_as(nt.key, "POST", "/v1/nlu/import", "application/x-yaml", yaml_a,
	    strlen(yaml_a), &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jint(r.json, "examples.deleted"), 3);
	itest_response_free(&r);
	free(first);
	free(second);
	free(third);
}

/* ---- reload and parse --------------------------------------------------- */

static void
test_reload_trains_and_activates(void)
{
	struct itest_response r;
	struct json_object *t = NULL, *items, *m;
	int rc;

	CU_ASSERT_TRUE_FATAL(setup());
	/* No model yet. */
	jcall("POST", "/model/parse", "{\"text\":\"hello\"}", &r);
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "nlu_model_missing");
	itest_response_free(&r);

	rc = reload(NULL, false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(tu_jstr(t, "outcome"), "activated");
	CU_ASSERT_EQUAL(jint(t, "version"), 1);
	CU_ASSERT_TRUE(tu_jget(t, "metrics.accuracy") != NULL);
	json_object_put(t);

	jcall("GET", "/v1/nlu/models", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jint(r.json, "active_version"), 1);
	items = tu_jget(r.json, "items");
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(items), 1);
	m = json_object_array_get_idx(items, 0);
	CU_ASSERT_STRING_EQUAL(tu_jstr(m, "status"), "active");
	CU_ASSERT_EQUAL(strlen(tu_jstr(m, "checksum")), 64);
	CU_ASSERT_EQUAL(strlen(tu_jstr(m, "training_data_hash")), 64);
	CU_ASSERT_TRUE(json_object_get_double(tu_jget(m, "metrics.accuracy")) >= 0 &&
	    json_object_get_double(tu_jget(m, "metrics.accuracy")) <= 1);
	CU_ASSERT_TRUE(tu_jget(m, "metrics.macro_f1") != NULL);
	CU_ASSERT_TRUE(tu_jget(m, "metrics.in_scope_accuracy") != NULL);
	CU_ASSERT_TRUE(tu_jget(m, "metrics.oos_recall") != NULL);
	CU_ASSERT_TRUE(jint(m, "metrics.examples") > 0);
	snprintf(nt.version_a_id, sizeof(nt.version_a_id), "%s", tu_jstr(m, "id"));
	itest_response_free(&r);

	/* The file of the version and the published one. */
	{
		struct stat a, b;
		CU_ASSERT_EQUAL(stat(model_path("1.gnlu"), &a), 0);
		CU_ASSERT_EQUAL(stat(model_path("active.gnlu"), &b), 0);
		CU_ASSERT_TRUE(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	}

	/* Same data: nothing to do. */
	rc = reload(NULL, false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TRUE(t != NULL && streq(tu_jstr(t, "outcome"), "unchanged"));
	if (t)
		json_object_put(t);

	jcall("GET", "/v1/audit-log?action=nlu_model.activate", NULL, &r);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 1);
	CU_ASSERT_STRING_EQUAL(tu_jstr(json_object_array_get_idx(tu_jget(r.json,
	    "items"), 0), "actor_type"), "system");
	itest_response_free(&r);
}

static void
test_parse_endpoints(void)
{
	struct itest_response r;
	struct json_object *e0;
	char *big, path_end[128];
	size_t i;

	CU_ASSERT_TRUE_FATAL(setup());
	jcall("POST", "/model/parse", "{\"text\":\"I want a pizza\"}", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "text"), "I want a pizza");
	CU_ASSERT_PTR_NOT_NULL(tu_jstr(r.json, "intent.name"));
	CU_ASSERT_TRUE(tu_jget(r.json, "intent.confidence") != NULL);
	CU_ASSERT_TRUE(json_object_is_type(tu_jget(r.json, "intent_ranking"),
	    json_type_array));
	CU_ASSERT_TRUE(jlen(r.json, "intent_ranking")
	    <= 10);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "language"), "en");
	e0 = json_object_array_get_idx(tu_jget(r.json, "entities"), 0);
	CU_ASSERT_PTR_NOT_NULL(e0);
	CU_ASSERT_STRING_EQUAL(tu_jstr(e0, "entity"), "food");
	CU_ASSERT_STRING_EQUAL(tu_jstr(e0, "value"), "pizza");
	CU_ASSERT_EQUAL(jint(e0, "start"), 9);
	CU_ASSERT_EQUAL(jint(e0, "end"), 14);
	CU_ASSERT_PTR_NOT_NULL(tu_jstr(e0, "extractor"));
	CU_ASSERT_TRUE(tu_jget(e0, "confidence_entity") != NULL);
	itest_response_free(&r);

	/* Our endpoint answers the same shape; the regex from the data. */
	jcall("POST", "/v1/nlu/parse", "{\"text\":\"balance of account "
	    "9876543210\",\"language\":\"en\"}", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"entity\":\"account_number\""));
	itest_response_free(&r);

	/* 2,000 characters pass, 2,001 do not (Thai: 3 bytes each). */
	big = malloc(2001 * 3 + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	strcpy(big, "{\"text\":\"");
	for (i = 0; i < 2000; i++)
		strcat(big + 9 + i * 3, "ก");
	strcat(big, "\"}");
	jcall("POST", "/model/parse", big, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	strcpy(big + 9 + 2000 * 3, "ก\"}");
	jcall("POST", "/model/parse", big, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "text_too_long");
	itest_response_free(&r);
	free(big);

	/* Invalid UTF-8: a broken sequence, an overlong encoding. */
	call_as(nt.key, "POST", "/model/parse", "application/json",
	    "{\"text\":\"a\xc3\x28z\"}", 15, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);
	{
		static const char overlong[] = "{\"text\":\"over\xc0\xaflong\"}";
		call_as(nt.key, "POST", "/v1/nlu/parse", "application/json",
		    overlong, strlen(overlong), &r);
	}
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/parse", "{\"txt\":\"hello\"}", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	itest_response_free(&r);

	/* Rasa's GET /status names the tenant's model file. */
	call_as(nt.read_key, "GET", "/status", NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	snprintf(path_end, sizeof(path_end), "%s/active.gnlu", nt.tenant_id);
	CU_ASSERT_TRUE(tu_jstr(r.json, "model_file") != NULL &&
	    strstr(tu_jstr(r.json, "model_file"), path_end) != NULL);
	CU_ASSERT_TRUE(jint(r.json, "fingerprint.inode") > 0);
	CU_ASSERT_EQUAL(jint(r.json, "num_active_training_jobs"), 0);
	itest_response_free(&r);
}

/* num_active_training_jobs of GET /status for the caller's tenant: /status
 * for jobs registered in Redis (training/jobs.h); a registration whose
 * heartbeat stopped does not count; gacp-nlu reload registers while it
 * trains and leaves nothing behind. */
static int
status_jobs(void)
{
	struct itest_response r;
	int n;

	call_as(nt.read_key, "GET", "/status", NULL, NULL, 0, &r);
	n = r.status == 200 ? (int)jint(r.json, "num_active_training_jobs") :
	    -1000 - r.status;
	itest_response_free(&r);
	return n;
}

static void *
reload_thread(void *arg)
{
	struct json_object *t = NULL;

	/* Large on purpose: long enough for /status to see it train. */
	*(int *)arg = reload("--force --members 2 --hidden 512 --epochs 400 "
	    "--threads 1", false, &t);
	if (t != NULL)
		json_object_put(t);
	return NULL;
}

static void
test_status_counts_training_jobs(void)
{
	struct training_job j;
	struct jobs_redis rd;
	struct cache c;
	struct arena a;
	struct gacp_err err;
	char path[1024], pw[256] = "", key[96];
	pthread_t th;
	int reload_rc = -1, seen = 0, i;
	FILE *f;

	CU_ASSERT_TRUE_FATAL(setup());
	CU_ASSERT_EQUAL(status_jobs(), 0);

	snprintf(path, sizeof(path), "%s/secrets/redis.password",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(pw, sizeof(pw), f) == NULL)
			pw[0] = '\0';
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	memset(&rd, 0, sizeof(rd));
	rd.host = "127.0.0.1";
	rd.port = atoi(itest_env("GACP_REDIS_PORT", "56380"));
	rd.password = pw[0] ? pw : NULL;
	rd.timeout_ms = 2000;
	cache_init(&c, rd.host, rd.port, NULL, rd.password, rd.timeout_ms,
	    NULL);
	arena_init(&a, 4096);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(jobs_begin(&j, &c, &a, &rd, nt.tenant_id, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(status_jobs(), 1);
	/* The heartbeat pushes the lapse time ahead while the job runs. */
	{
		redisReply *rep = NULL;
		double before = -1.0, after = -1.0;

		jobs_key(nt.tenant_id, key, sizeof(key));
		if (cache_command(&c, &a, &rep, &err, "ZSCORE %s %s", key,
		    j.id) == GACP_OK && rep->type == REDIS_REPLY_STRING)
			before = atof(rep->str);
		usleep((JOBS_HEARTBEAT_MS + 1500) * 1000);
		if (cache_command(&c, &a, &rep, &err, "ZSCORE %s %s", key,
		    j.id) == GACP_OK && rep->type == REDIS_REPLY_STRING)
			after = atof(rep->str);
		CU_ASSERT_TRUE(before > 0.0);
		CU_ASSERT_TRUE(after >= before + JOBS_HEARTBEAT_MS - 500);
		CU_ASSERT_EQUAL(status_jobs(), 1);
	}
	/* A trainer that died 40 s ago: its entry lapsed and is not counted. */
	jobs_key(nt.tenant_id, key, sizeof(key));
	CU_ASSERT_EQUAL(tu_redis_int("ZADD %s %lld dead:1:1", key,
	    (long long)time(NULL) * 1000 - 40000), 1);
	CU_ASSERT_EQUAL(status_jobs(), 1);
	jobs_end(&j, &c, &a);
	CU_ASSERT_EQUAL(status_jobs(), 0);
	CU_ASSERT_EQUAL(tu_redis_int("ZREM %s dead:1:1", key), 1);
	CU_ASSERT_EQUAL(tu_redis_int("EXISTS %s", key), 0);

	/* A real reload: seen while it trains, gone afterwards. */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, reload_thread,
	    &reload_rc), 0);
	for (i = 0; i < 3000 && !seen; i++) {
		int n = status_jobs();

		CU_ASSERT_TRUE(n == 0 || n == 1);
		if (n == 1)
			seen = 1;
		else
			usleep(10000);
		/* Stop polling once the run is over. */
		if (tu_redis_int("EXISTS %s", key) == 0 && i > 300)
			break;
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(reload_rc, 0);
	CU_ASSERT_TRUE(seen);
	CU_ASSERT_EQUAL(status_jobs(), 0);
	CU_ASSERT_EQUAL(tu_redis_int("ZCARD %s", key), 0);
	arena_cleanup(&a);
	cache_cleanup(&c);
}

static void
test_reload_lock_and_unreachable_database(void)
{
	struct json_object *t = NULL;
	PGconn *c;
	PGresult *res;
	char cmd[1024], *out = NULL;
	int rc;

	CU_ASSERT_TRUE_FATAL(setup());
	/* A run in progress (its lock held): the next does nothing. */
	c = PQconnectdb(itest_env("GACP_DB_URL", "dbname=gacp"));
	CU_ASSERT_EQUAL_FATAL(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "SELECT pg_advisory_lock(7473209)");
	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu reload --tenant %s "
	    "--force " SMALL_MODEL, itest_env("GACP_ROOT", "."), nt.slug);
	rc = tu_run(cmd, &out);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "another run holds the lock"));
	free(out);
	PQfinish(c);
	CU_ASSERT_EQUAL(active_version(), 1);

	/* No database: a clear message and a distinct exit status. */
	snprintf(cmd, sizeof(cmd), "GACP_DATABASE_OWNER_CONNINFO='host=127.0.0.1 "
	    "port=1 dbname=gacp connect_timeout=2' %s/src/tools/gacp-nlu reload "
	    "2>&1", itest_env("GACP_ROOT", "."));
	rc = tu_run(cmd, &out);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "PostgreSQL is unreachable"));
	free(out);

	/* An unknown tenant. */
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu reload --tenant "
	    "no-such-tenant-xyz 2>&1", itest_env("GACP_ROOT", "."));
	rc = tu_run(cmd, &out);
	CU_ASSERT_EQUAL(rc, 4);
	free(out);
	(void)t;
}

/* Runs sql as the owner bound to the test tenant; true on success. */
static bool
owner_sql(const char *sql)
{
	PGconn *c = PQconnectdb(itest_env("GACP_DB_URL", "dbname=gacp"));
	const char *p[1] = { nt.tenant_id };
	PGresult *res;
	bool ok;

	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return false;
	}
	PQclear(PQexec(c, "BEGIN"));
	res = PQexecParams(c, "SELECT set_config('app.tenant_id', $1, true)", 1,
	    NULL, p, NULL, NULL, 0);
	PQclear(res);
	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	PQclear(PQexec(c, ok ? "COMMIT" : "ROLLBACK"));
	PQfinish(c);
	return ok;
}

/* A version worse than the active one by more than the margin is kept
 * but not served, and is not retrained for the same data. */
static void
test_reload_regression_gate(void)
{
	struct itest_response r;
	struct json_object *t = NULL;
	int rc;

	CU_ASSERT_TRUE_FATAL(setup());
	/* Make the active version look perfect beyond reach. */
	CU_ASSERT_TRUE_FATAL(owner_sql("UPDATE nlu_models SET metrics = "
	    "jsonb_set(metrics, '{accuracy}', '2') WHERE status = 'active'"));
	jcall("POST", "/v1/nlu/examples", "{\"text\":\"greetings friend\","
	    "\"intent\":\"greet\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	itest_response_free(&r);
	rc = reload("--max-regression 0.02", false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(tu_jstr(t, "outcome"), "rejected");
	CU_ASSERT_EQUAL(jint(t, "version"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(tu_jstr(t, "message"), "keeps serving"));
	json_object_put(t);
	CU_ASSERT_EQUAL(active_version(), 1);
	CU_ASSERT_TRUE(version_id(2, nt.rejected_id));
	{
		char path[128];
		snprintf(path, sizeof(path), "/v1/nlu/models/%s", nt.rejected_id);
		jcall("GET", path, NULL, &r);
		CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "status"), "rejected");
		CU_ASSERT_PTR_NOT_NULL(tu_jstr(r.json, "reason"));
		itest_response_free(&r);
	}
	/* Rejected for this data: not tried again. */
	rc = reload(NULL, false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TRUE(t != NULL && streq(tu_jstr(t, "outcome"), "unchanged"));
	if (t)
		json_object_put(t);
	CU_ASSERT_TRUE(owner_sql("UPDATE nlu_models SET metrics = "
	    "jsonb_set(metrics, '{accuracy}', '0') WHERE status = 'active'"));
}

/* Activating an older version rolls back: every process serves it after
 * its next check (a second at most). */
static void
test_activate_and_rollback(void)
{
	struct itest_response r;
	struct json_object *t = NULL;
	char path[128];
	int rc, i;

	CU_ASSERT_TRUE_FATAL(setup());
	jcall("POST", "/v1/nlu/examples", weather_examples, &r);
	CU_ASSERT_EQUAL(r.status, 201);
	itest_response_free(&r);
	rc = reload("--max-regression 1", false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(tu_jstr(t, "outcome"), "activated");
	CU_ASSERT_TRUE(version_id(jint(t, "version"), nt.version_b_id));
	json_object_put(t);
	wait_model_check();
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);

	/* Roll back to version 1. */
	snprintf(path, sizeof(path), "/v1/nlu/models/%s/activate",
	    nt.version_a_id);
	jcall("POST", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jint(r.json, "version"), 1);
	CU_ASSERT_STRING_EQUAL(tu_jstr(r.json, "status"), "active");
	CU_ASSERT_TRUE(jint(r.json, "previous_version") >= 3);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(active_version(), 1);
	wait_model_check();
	for (i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(parse_knows_weather(nt.read_key), 0);

	/* Forward again; the read-only key may not. */
	CU_ASSERT_EQUAL(activate(nt.version_b_id), 200);
	snprintf(path, sizeof(path), "/v1/nlu/models/%s/activate",
	    nt.version_a_id);
	call_as(nt.read_key, "POST", path, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
	jcall("POST", "/v1/nlu/models/00000000-0000-4000-8000-000000000000/"
	    "activate", NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	wait_model_check();
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
	jcall("GET", "/v1/audit-log?action=nlu_model.activate", NULL, &r);
	CU_ASSERT_TRUE(jlen(r.json, "items") >= 4);
	itest_response_free(&r);
}

struct load {
	volatile int stop;
	long         ok, failed, with, without;
};

static void *
parse_loop(void *arg)
{
	struct load *l = arg;

	while (!l->stop) {
		int k = parse_knows_weather(nt.key);
		if (k < 0)
			__sync_fetch_and_add(&l->failed, 1);
		else {
			__sync_fetch_and_add(&l->ok, 1);
			__sync_fetch_and_add(k ? &l->with : &l->without, 1);
		}
	}
	return NULL;
}

/* Models swap while parse requests flow: not one fails. */
static void
test_swap_under_load(void)
{
	struct load l = { 0, 0, 0, 0, 0 };
	pthread_t th[2];
	int i, swaps = 0;

	CU_ASSERT_TRUE_FATAL(setup());
	CU_ASSERT_EQUAL_FATAL(parse_knows_weather(nt.key), 1);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, parse_loop,
		    &l), 0);
	for (i = 0; i < 6; i++) {
		wait_model_check();
		swaps += activate(i % 2 == 0 ? nt.version_a_id :
		    nt.version_b_id) == 200;
	}
	wait_model_check();
	l.stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("\n    swap under load: %d activations, %ld parses ok, %ld "
	    "failed (%ld with the newer model, %ld with the older)\n", swaps,
	    l.ok, l.failed, l.with, l.without);
	CU_ASSERT_EQUAL(swaps, 6);
	CU_ASSERT_EQUAL(l.failed, 0);
	CU_ASSERT_TRUE(l.ok > 50);
	/* Both models answered while the requests flowed. */
	CU_ASSERT_TRUE(l.with > 0);
	CU_ASSERT_TRUE(l.without > 0);
	CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
}

/* Fault (e): a corrupt file published as active.gnlu is refused by its
 * checksum and the model before it keeps answering; a version whose file
 * is corrupt cannot be activated. */
static void
test_corrupt_model_refused(void)
{
	struct itest_response r;
	char path[128], log_path[1024], *log = NULL, cmd[1200];
	int i;

	CU_ASSERT_TRUE_FATAL(setup());
	CU_ASSERT_EQUAL_FATAL(parse_knows_weather(nt.key), 1);
	CU_ASSERT_TRUE_FATAL(publish_corrupt(model_path("active.gnlu"),
	    model_path("active.gnlu")));
	wait_model_check();
	for (i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
	snprintf(log_path, sizeof(log_path), "%s/log/gacp-error.log",
	    itest_env("GACP_VAR_DIR", "var/test"));
	snprintf(cmd, sizeof(cmd), "grep -c 'nlu_model_refused.*%s/active.gnlu' "
	    "'%s'", nt.tenant_id, log_path);
	tu_run(cmd, &log);
	CU_ASSERT_TRUE(log != NULL && atoi(log) >= 1);
	free(log);

	/* The rejected version's file, corrupted: activation refuses it. */
	CU_ASSERT_TRUE_FATAL(publish_corrupt(model_path("2.gnlu"),
	    model_path("2.gnlu")));
	snprintf(path, sizeof(path), "/v1/nlu/models/%s/activate",
	    nt.rejected_id);
	jcall("POST", path, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "nlu_model_file_invalid");
	itest_response_free(&r);
	CU_ASSERT_TRUE(active_version() >= 3);

	/* Publishing a good version again replaces the corrupt file. */
	CU_ASSERT_EQUAL(activate(nt.version_b_id), 200);
	wait_model_check();
	CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
}

/* Fault (d): the model directory is read-only during a reload: the run
 * fails cleanly, records nothing, and the old model keeps serving. */
static void
test_readonly_model_dir(void)
{
	struct itest_response r;
	struct json_object *t = NULL;
	char dir[1024];
	int64_t before;
	size_t versions;
	int rc, i;

	CU_ASSERT_TRUE_FATAL(setup());
	before = active_version();
	versions = count_versions();
	snprintf(dir, sizeof(dir), "%s/models/%s",
	    itest_env("GACP_VAR_DIR", "var/test"), nt.tenant_id);
	jcall("POST", "/v1/nlu/examples", "{\"text\":\"thanks a lot\","
	    "\"intent\":\"goodbye\"}", &r);
	CU_ASSERT_EQUAL(r.status, 201);
	itest_response_free(&r);
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0555), 0);
	rc = reload("--max-regression 1", true, &t);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_PTR_NOT_NULL(t);
	if (t != NULL) {
		CU_ASSERT_STRING_EQUAL(tu_jstr(t, "outcome"), "failed");
		CU_ASSERT_PTR_NOT_NULL(strstr(tu_jstr(t, "message"),
		    "keeps serving"));
		json_object_put(t);
	}
	/* An activation cannot publish either, and changes nothing. */
	CU_ASSERT_EQUAL(activate(nt.version_a_id), 500);
	CU_ASSERT_EQUAL(active_version(), before);
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
	CU_ASSERT_EQUAL(count_versions(), versions);

	/* Writable again: the same data trains and goes live. */
	CU_ASSERT_EQUAL_FATAL(chmod(dir, 0750), 0);
	rc = reload("--max-regression 1", true, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TRUE(t != NULL && streq(tu_jstr(t, "outcome"), "activated"));
	CU_ASSERT_TRUE(t != NULL && jint(t, "version") ==
	    (int64_t)versions + 1);
	if (t)
		json_object_put(t);
	CU_ASSERT_EQUAL(active_version(), (int64_t)versions + 1);
}

/* Old versions go: rows deleted, files removed, the newest kept. */
static void
test_reload_prunes_old_versions(void)
{
	struct itest_response r;
	struct json_object *t = NULL;
	struct stat st;
	char name[32];
	size_t versions;
	int64_t v, newest;
	int rc;

	CU_ASSERT_TRUE_FATAL(setup());
	versions = count_versions();
	CU_ASSERT_TRUE_FATAL(versions >= 3);
	rc = reload("--force --keep 1 --max-regression 1", false, &t);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_STRING_EQUAL(tu_jstr(t, "outcome"), "activated");
	newest = jint(t, "version");
	json_object_put(t);
	/* The active version and the one newest other. */
	CU_ASSERT_EQUAL(count_versions(), 2);
	CU_ASSERT_EQUAL(active_version(), newest);
	for (v = 1; v <= newest; v++) {
		snprintf(name, sizeof(name), "%lld.gnlu", (long long)v);
		CU_ASSERT_EQUAL(stat(model_path(name), &st) == 0,
		    v >= newest - 1);
	}
	CU_ASSERT_EQUAL(stat(model_path("active.gnlu"), &st), 0);
	CU_ASSERT_EQUAL(activate(nt.version_a_id), 404);
	jcall("GET", "/v1/audit-log?action=nlu_model.prune", NULL, &r);
	CU_ASSERT_EQUAL(jlen(r.json, "items"), 1);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(parse_knows_weather(nt.key), 1);
}

/* gacp-nlu eval --rows: one line per example after the header, each with
 * four fields, a confidence in [0, 1] and a decision that is the best
 * intent or the fallback, as many wrong decisions as the summary's
 * accuracy says; a failed run leaves an earlier file untouched; an
 * unwritable file is a clear error, exit status 1. */
static void
test_eval_rows(void)
{
	const char *root = itest_env("GACP_ROOT", ".");
	const char *var = itest_env("GACP_VAR_DIR", "var/test");
	char cmd[2048], model[512], rows[512], line[4096], *out = NULL;
	struct json_object *o;
	size_t n = 0, right = 0, examples = 0;
	double accuracy = -1.0;
	FILE *f;

	snprintf(model, sizeof(model), "%s/itest-eval-rows.model", var);
	snprintf(rows, sizeof(rows), "%s/itest-eval-rows.tsv", var);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu train --data "
	    "%s/doc/examples/demo-bot/nlu.yml --out %s --seed 3 --members 1 "
	    "--hidden 32 --dim-log2 12 --epochs 30 --threads 1 >/dev/null 2>&1",
	    root, root, model);
	CU_ASSERT_EQUAL_FATAL(tu_run(cmd, NULL), 0);
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu eval --model %s "
	    "--data %s/doc/examples/demo-bot/nlu.yml --rows %s --json "
	    "| tail -n 1", root, model, root, rows);
	CU_ASSERT_EQUAL_FATAL(tu_run(cmd, &out), 0);
	o = parse_json(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	examples = (size_t)json_object_get_int64(tu_jget(o, "examples"));
	accuracy = json_object_get_double(tu_jget(o, "accuracy"));
	json_object_put(o);
	free(out);
	CU_ASSERT_TRUE(examples > 400);

	f = fopen(rows, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
	CU_ASSERT_STRING_EQUAL(line, "gold\tbest\tconfidence\tdecided\n");
	while (fgets(line, sizeof(line), f) != NULL) {
		char *gold, *best, *conf, *decided, *end, *save = NULL;
		double c;

		line[strcspn(line, "\n")] = '\0';
		gold = strtok_r(line, "\t", &save);
		best = strtok_r(NULL, "\t", &save);
		conf = strtok_r(NULL, "\t", &save);
		decided = strtok_r(NULL, "\t", &save);
		CU_ASSERT_FATAL(gold && best && conf && decided);
		CU_ASSERT_PTR_NULL(strtok_r(NULL, "\t", &save));
		c = strtod(conf, &end);
		CU_ASSERT(*end == '\0' && c >= 0.0 && c <= 1.0);
		CU_ASSERT(streq(decided, best) ||
		    streq(decided, "nlu_fallback"));
		right += streq(decided, gold) ||
		    (streq(gold, "oos") && streq(decided, "nlu_fallback"));
		n++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(n, examples);
	if (n > 0)
		CU_ASSERT_DOUBLE_EQUAL((double)right / (double)n, accuracy,
		    0.00051);

	/* A run that fails (no such model) leaves the earlier file as it
	 * was and no temporary file beside it. */
	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu eval --model "
	    "%s.missing --data %s/doc/examples/demo-bot/nlu.yml --rows %s "
	    ">/dev/null 2>&1", root, model, root, rows);
	CU_ASSERT_EQUAL(tu_run(cmd, NULL), 1);
	n = 0;
	if ((f = fopen(rows, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			n++;
		fclose(f);
	}
	CU_ASSERT_EQUAL(n, examples + 1);
	snprintf(cmd, sizeof(cmd), "ls %s.tmp.* 2>/dev/null | wc -l", rows);
	CU_ASSERT_EQUAL_FATAL(tu_run(cmd, &out), 0);
	CU_ASSERT_EQUAL(out != NULL ? atoi(out) : -1, 0);
	free(out);

	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacp-nlu eval --model %s "
	    "--data %s/doc/examples/demo-bot/nlu.yml --rows %s/no-such-dir/r "
	    "2>&1", root, model, root, var);
	CU_ASSERT_EQUAL(tu_run(cmd, &out), 1);
	CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "rows_unwritable") :
	    NULL);
	free(out);
	unlink(model);
	unlink(rows);
}

void itest_nlu_register(void);

void
itest_nlu_register(void)
{
	static const struct test_case cases[] = {
		{ "examples CRUD, validation, paging, audit", test_examples_crud },
		{ "entity definitions CRUD", test_entities_crud },
		{ "Rasa YAML/JSON import, export round trip",
		    test_import_export },
		{ "reload trains, evaluates, activates",
		    test_reload_trains_and_activates },
		{ "parse endpoints (Rasa shape, limits), /status",
		    test_parse_endpoints },
		{ "reload lock, unreachable database",
		    test_reload_lock_and_unreachable_database },
		{ "reload regression gate", test_reload_regression_gate },
		{ "activate, rollback picked up by every process",
		    test_activate_and_rollback },
		{ "model swap under load: no failed request",
		    test_swap_under_load },
		{ "corrupt model file refused (fault e)",
		    test_corrupt_model_refused },
		{ "read-only model directory during reload (fault d)",
		    test_readonly_model_dir },
		{ "reload prunes old versions", test_reload_prunes_old_versions },
		{ "/status counts running training jobs",
		    test_status_counts_training_jobs },
		{ "gacp-nlu eval --rows: one line per example",
		    test_eval_rows },
		{ NULL, NULL },
	};

	tests_add_suite("nlu", cases);
}
