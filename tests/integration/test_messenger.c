/* test_messenger.c - Messenger end to end through nginx: signed webhooks,
 * the Redis Stream queue, gacp-worker, the flow engine and the Graph API
 * stand-in, checked on the stand-in's call log ($GACP_VAR_DIR/graph-api.log)
 * and in PostgreSQL.
 *
 * Every test uses PSIDs and mids of its own (time-based, so a reused stack
 * holds none of them), waits by polling with a deadline and never sleeps a
 * fixed long time.  A reply "counts" when the stand-in logged a Send API
 * call with a message for that PSID and answered 200.
 *
 * Environment (scripts/test exports it): GACP_URL, GACP_VAR_DIR,
 * GACP_REDIS_PORT, GACP_ROOT, and from demo.env DEMO_PAGE_ID,
 * DEMO_APP_SECRET, DEMO_VERIFY_TOKEN, GACP_DB_URL.
 */
#include "itest.h"
#include "rest_util.h"
#include "common/arena.h"
#include "messenger/queue.h"
#include "store/cache.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#define MX_WAIT_MS        20000   /* a reply normally takes milliseconds */
#define MX_POLL_MS        20
#define MX_BURST          50      /* events in the SIGKILL test */
#define MX_MAX_PIDS       64

/* ---- environment ---------------------------------------------------------- */

struct mx_env {
	const char *page_id;
	const char *app_secret;
	const char *verify_token;
	char        tenant_id[37];
	char        channel_id[37];
	bool        ready;
};

static struct mx_env env;

static PGconn *db_connect(void);

/* Load the demo page's settings and its tenant/channel ids once. */
static bool
env_load(void)
{
	PGconn *db;
	PGresult *res;
	const char *p[1];

	if (env.ready)
		return true;
	env.page_id = getenv("DEMO_PAGE_ID");
	env.app_secret = getenv("DEMO_APP_SECRET");
	env.verify_token = getenv("DEMO_VERIFY_TOKEN");
	if (env.page_id == NULL || env.app_secret == NULL ||
	    env.verify_token == NULL || (db = db_connect()) == NULL)
		return false;
	p[0] = env.page_id;
	res = PQexecParams(db, "SELECT tenant_id, id FROM channels WHERE "
	    "page_id = $1 AND NOT is_deleted", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		snprintf(env.tenant_id, sizeof(env.tenant_id), "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(env.channel_id, sizeof(env.channel_id), "%s",
		    PQgetvalue(res, 0, 1));
		env.ready = true;
	}
	PQclear(res);
	PQfinish(db);
	return env.ready;
}

static long long
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A fresh numeric PSID (Messenger ids are digits). */
static void
new_psid(char out[32])
{
	static unsigned counter;

	snprintf(out, 32, "7%lld%03u", now_ms(), counter++ % 1000);
}

/* ---- PostgreSQL ----------------------------------------------------------- */

/* The owner role, scoped to the demo tenant: every table forces row-level
 * security, so even the owner sees rows only with app.tenant_id set. */
static PGconn *
db_connect(void)
{
	const char *url = itest_env("GACP_DB_URL", NULL);
	PGconn *c;
	PGresult *r;
	const char *p[1];

	if (url == NULL)
		return NULL;
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "test_messenger: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	r = PQexec(c, "SELECT id FROM gacp_tenant_by_slug('demo')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	p[0] = PQgetvalue(r, 0, 0);
	PQclear(PQexecParams(c, "SELECT set_config('app.tenant_id', $1, false)",
	    1, NULL, p, NULL, NULL, 0));
	PQclear(r);
	return c;
}

/* First column of the first row of a query (malloc'd), or NULL. */
static char *
db_value(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	char *out = NULL;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0))
		out = strdup(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "test_messenger: %s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
	return out;
}

static long
db_count(PGconn *c, const char *sql, int n, const char *const *params)
{
	char *v = db_value(c, sql, n, params);
	long out = v ? atol(v) : -1;

	free(v);
	return out;
}

static bool
db_ok(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "test_messenger: %s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* The inbound message of the demo channel with this mid, as a row
 * (id, intent, language); NULL until the worker stored it. */
static PGresult *
db_inbound(PGconn *c, const char *mid)
{
	const char *p[2] = { env.channel_id, mid };
	PGresult *r = PQexecParams(c, "SELECT id, coalesce(intent, ''), "
	    "coalesce(language, '') FROM messages WHERE channel_id = $1 AND "
	    "direction = 'in' AND external_id = $2", 2, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Replies to the inbound message with this mid, as rows (status, text,
 * error). */
static PGresult *
db_replies(PGconn *c, const char *mid)
{
	const char *p[2] = { env.channel_id, mid };

	return PQexecParams(c, "SELECT o.status, coalesce(o.text, ''), "
	    "coalesce(o.error::text, '') FROM messages i JOIN messages o ON "
	    "o.tenant_id = i.tenant_id AND o.reply_to = i.id AND o.direction = "
	    "'out' WHERE i.channel_id = $1 AND i.direction = 'in' AND "
	    "i.external_id = $2", 2, NULL, p, NULL, NULL, 0);
}

/* Wait until the worker has finished with mid: its inbound row exists and
 * no reply to it is still pending or being sent.  1 if so before the deadline. */
static int
db_wait_done(PGconn *c, const char *mid, int timeout_ms)
{
	const char *p[2] = { env.channel_id, mid };
	long long deadline = now_ms() + timeout_ms;

	do {
		long n = db_count(c, "SELECT count(*) FROM messages i WHERE "
		    "i.channel_id = $1 AND i.direction = 'in' AND i.external_id = "
		    "$2 AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.tenant_id "
		    "= i.tenant_id AND o.reply_to = i.id AND o.status IN "
		    "('pending', 'sending'))", 2, p);
		if (n > 0)
			return 1;
		sleep_ms(MX_POLL_MS);
	} while (now_ms() < deadline);
	return 0;
}

/* ---- Redis ---------------------------------------------------------------- */

static redisContext *
redis_connect(void)
{
	char path[4096], pw[256] = "";
	struct timeval tv = { 2, 0 };
	redisContext *c;
	redisReply *r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/secrets/redis.password",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(pw, sizeof(pw), f) == NULL)
			pw[0] = '\0';
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	c = redisConnectWithTimeout("127.0.0.1",
	    atoi(itest_env("GACP_REDIS_PORT", "56380")), tv);
	if (c == NULL || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (pw[0] != '\0') {
		r = redisCommand(c, "AUTH %s", pw);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

static long long
redis_xlen(const char *stream)
{
	redisContext *c = redis_connect();
	redisReply *r;
	long long n = -1;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "XLEN %s", stream);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return n;
}

/* Entries ever added to gacp:inbound (XINFO STREAM entries-added), or -1.
 * Unlike XLEN it does not drop when the workers trim acknowledged
 * entries, so "nothing was queued" stays checkable with workers running. */
static long long
inbound_added(void)
{
	redisContext *c = redis_connect();
	redisReply *r;
	long long n = -1;
	size_t i;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "XINFO STREAM gacp:inbound");
	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, "entries-added") == 0 &&
		    r->element[i + 1]->type == REDIS_REPLY_INTEGER)
			n = r->element[i + 1]->integer;
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return n;
}

static const redisReply *
field(const redisReply *flat, const char *name)
{
	size_t i;

	for (i = 0; flat != NULL && flat->type == REDIS_REPLY_ARRAY &&
	    i + 1 < flat->elements; i += 2)
		if (flat->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(flat->element[i]->str, name) == 0)
			return flat->element[i + 1];
	return NULL;
}

/* True when every entry of gacp:inbound was handed to the workers and
 * acknowledged (or dead-lettered): nothing queued, nothing pending. */
static bool
queue_idle_now(redisContext *c)
{
	redisReply *s = redisCommand(c, "XINFO STREAM gacp:inbound");
	redisReply *g = redisCommand(c, "XINFO GROUPS gacp:inbound");
	const redisReply *last, *pending, *delivered;
	bool idle = false;
	size_t i;

	if (s == NULL || g == NULL || s->type != REDIS_REPLY_ARRAY ||
	    g->type != REDIS_REPLY_ARRAY)
		goto out;
	last = field(s, "last-generated-id");
	for (i = 0; i < g->elements; i++) {
		const redisReply *name = field(g->element[i], "name");
		if (name == NULL || strcmp(name->str, "workers") != 0)
			continue;
		pending = field(g->element[i], "pending");
		delivered = field(g->element[i], "last-delivered-id");
		idle = last != NULL && pending != NULL && delivered != NULL &&
		    pending->integer == 0 && strcmp(last->str, delivered->str) == 0;
	}
out:
	if (s)
		freeReplyObject(s);
	if (g)
		freeReplyObject(g);
	return idle;
}

static int
queue_wait_idle(int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	redisContext *c = NULL;
	int ok = 0;

	do {
		if (c == NULL || c->err) {
			if (c)
				redisFree(c);
			c = redis_connect();
		}
		if (c != NULL && queue_idle_now(c)) {
			ok = 1;
			break;
		}
		sleep_ms(MX_POLL_MS);
	} while (now_ms() < deadline);
	if (c)
		redisFree(c);
	return ok;
}

/* ---- webhooks ------------------------------------------------------------- */

static void
sign(const char *body, size_t len, const char *secret, char out[80])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)body, len, mac, &maclen);
	strcpy(out, "sha256=");
	for (i = 0; i < maclen; i++)
		sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

/* POST body to /webhooks/messenger with the given signature header value
 * (NULL: no header).  Returns the HTTP status; r (optional) keeps the
 * answer. */
static long
post_webhook(const char *body, const char *signature, struct itest_response *r)
{
	char sig_hdr[128];
	const char *hdrs[3] = { "Content-Type: application/json", NULL, NULL };
	struct itest_response tmp;
	long status;

	if (signature != NULL) {
		snprintf(sig_hdr, sizeof(sig_hdr), "X-Hub-Signature-256: %s",
		    signature);
		hdrs[1] = sig_hdr;
	}
	if (r == NULL)
		r = &tmp;
	itest_http("POST", "/webhooks/messenger", hdrs, body, strlen(body), r);
	status = r->status;
	if (r == &tmp)
		itest_response_free(&tmp);
	return status;
}

static long
post_signed(const char *body)
{
	char sig[80];

	sign(body, strlen(body), env.app_secret, sig);
	return post_webhook(body, sig, NULL);
}

/* A messaging event: a text message from psid to the demo page. */
static struct json_object *
ev_text(const char *psid, const char *mid, const char *text)
{
	struct json_object *ev = json_object_new_object();
	struct json_object *s = json_object_new_object();
	struct json_object *rcp = json_object_new_object();
	struct json_object *msg = json_object_new_object();

	json_object_object_add(s, "id", json_object_new_string(psid));
	json_object_object_add(rcp, "id", json_object_new_string(env.page_id));
	json_object_object_add(msg, "mid", json_object_new_string(mid));
	json_object_object_add(msg, "text", json_object_new_string(text));
	json_object_object_add(ev, "sender", s);
	json_object_object_add(ev, "recipient", rcp);
	json_object_object_add(ev, "timestamp", json_object_new_int64(now_ms()));
	json_object_object_add(ev, "message", msg);
	return ev;
}

/* An entry of the demo page holding events (reference taken). */
static struct json_object *
entry_of(struct json_object **events, size_t n, const char *list)
{
	struct json_object *e = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, events[i]);
	json_object_object_add(e, "id", json_object_new_string(env.page_id));
	json_object_object_add(e, "time", json_object_new_int64(now_ms()));
	json_object_object_add(e, list, arr);
	return e;
}

/* {"object":"page","entry":[entries…]} as a malloc'd string; the entries'
 * references are taken. */
static char *
body_of(struct json_object **entries, size_t n)
{
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char *out;
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, entries[i]);
	json_object_object_add(root, "object", json_object_new_string("page"));
	json_object_object_add(root, "entry", arr);
	out = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

/* One signed text message as a whole webhook body. */
static char *
body_text(const char *psid, const char *mid, const char *text)
{
	struct json_object *ev = ev_text(psid, mid, text);
	struct json_object *e = entry_of(&ev, 1, "messaging");

	return body_of(&e, 1);
}

static long
say(const char *psid, const char *mid, const char *text)
{
	char *body = body_text(psid, mid, text);
	long st = post_signed(body);

	free(body);
	return st;
}

/* ---- the Graph API stand-in ---------------------------------------------- */

static const char *
graph_log_path(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/graph-api.log",
	    itest_env("GACP_VAR_DIR", "var/test"));
	return path;
}

static long
graph_log_size(void)
{
	struct stat st;

	return stat(graph_log_path(), &st) == 0 ? (long)st.st_size : 0;
}

struct graph_call {
	char  psid[40];
	long long time_ms;   /* when the stand-in logged it (epoch ms) */
	int   status;        /* HTTP status the stand-in answered */
	bool  message;       /* a message (not a sender_action) */
	char *text;          /* message.text or NULL */
	int   open_calls;    /* calls open at the stand-in when it arrived,
	                      * itself included */
};

struct graph_calls {
	struct graph_call *v;
	size_t             n;
};

static void
graph_calls_free(struct graph_calls *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* "2026-01-31T12:34:56.123456Z" (the stand-in's clock) as epoch ms. */
static long long
iso_ms(const char *iso)
{
	struct tm tm;
	const char *frac;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || (frac = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return (long long)timegm(&tm) * 1000 +
	    (*frac == '.' ? atol(frac + 1) / 1000 : 0);
}

/* Every Send API call logged after byte offset `from`. */
static void
graph_calls_since(long from, struct graph_calls *out)
{
	FILE *f = fopen(graph_log_path(), "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return;
	fseek(f, from, SEEK_SET);
	while ((len = getline(&line, &cap, f)) > 0) {
		struct json_object *j, *req, *rcp, *id, *msg, *st, *txt;
		struct graph_call *c;

		if (line[len - 1] != '\n')
			break;          /* being written */
		if ((j = json_tokener_parse(line)) == NULL)
			continue;
		if (!json_object_object_get_ex(j, "request", &req) ||
		    !json_object_object_get_ex(req, "recipient", &rcp) ||
		    !json_object_object_get_ex(rcp, "id", &id)) {
			json_object_put(j);
			continue;
		}
		if (out->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			out->v = realloc(out->v, alloc * sizeof(*out->v));
		}
		c = &out->v[out->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->psid, sizeof(c->psid), "%s", json_object_get_string(id));
		if (json_object_object_get_ex(j, "status", &st))
			c->status = json_object_get_int(st);
		if (json_object_object_get_ex(j, "time", &st))
			c->time_ms = iso_ms(json_object_get_string(st));
		if (json_object_object_get_ex(j, "open_calls", &st))
			c->open_calls = json_object_get_int(st);
		if (json_object_object_get_ex(req, "message", &msg)) {
			c->message = true;
			if (json_object_object_get_ex(msg, "text", &txt))
				c->text = strdup(json_object_get_string(txt));
		}
		json_object_put(j);
	}
	free(line);
	fclose(f);
}

/* Replies delivered to psid (message calls answered 200) since `from`. */
static int
count_replies(const struct graph_calls *calls, const char *psid)
{
	size_t i;
	int n = 0;

	for (i = 0; i < calls->n; i++)
		if (calls->v[i].message && calls->v[i].status == 200 &&
		    strcmp(calls->v[i].psid, psid) == 0)
			n++;
	return n;
}

/* Message calls to psid, whatever the answer. */
static int
count_attempts(const struct graph_calls *calls, const char *psid)
{
	size_t i;
	int n = 0;

	for (i = 0; i < calls->n; i++)
		if (calls->v[i].message && strcmp(calls->v[i].psid, psid) == 0)
			n++;
	return n;
}

static const struct graph_call *
last_reply(const struct graph_calls *calls, const char *psid)
{
	size_t i;

	for (i = calls->n; i > 0; i--)
		if (calls->v[i - 1].message && calls->v[i - 1].status == 200 &&
		    strcmp(calls->v[i - 1].psid, psid) == 0)
			return &calls->v[i - 1];
	return NULL;
}

/* Wait until psid got n replies since `from`; the reply text of the last
 * one (malloc'd) or NULL. */
static char *
wait_reply(long from, const char *psid, int n, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	do {
		struct graph_calls calls;
		char *text = NULL;

		graph_calls_since(from, &calls);
		if (count_replies(&calls, psid) >= n) {
			const struct graph_call *c = last_reply(&calls, psid);
			text = strdup(c->text ? c->text : "");
		}
		graph_calls_free(&calls);
		if (text != NULL)
			return text;
		sleep_ms(MX_POLL_MS);
	} while (now_ms() < deadline);
	return NULL;
}

static int
graph_control(const char *what, const char *body)
{
	char url[256], cmd[1024];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%s/__control/%s",
	    itest_env("GACP_GRAPH_PORT", "58081"), what);
	snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null -X POST "
	    "-H 'Content-Type: application/json' --data-binary '%s' '%s'",
	    body, url);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- expected answers: doc/examples/demo-bot/responses.yml ---------------- */

static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* The text of utter_<intent> for a language (malloc'd), or NULL. */
static char *
expected_text(const char *intent, const char *language)
{
	char path[4096], key[128];
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *variations;
	yaml_node_item_t *it;
	char *out = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/doc/examples/demo-bot/responses.yml",
	    itest_env("GACP_ROOT", "."));
	snprintf(key, sizeof(key), "utter_%s", intent);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		fclose(f);
		return NULL;
	}
	variations = map_get(&doc, map_get(&doc, yaml_document_get_root_node(&doc),
	    "responses"), key);
	for (it = variations && variations->type == YAML_SEQUENCE_NODE ?
	    variations->data.sequence.items.start : NULL;
	    it != NULL && it < variations->data.sequence.items.top && out == NULL;
	    it++) {
		yaml_node_t *v = yaml_document_get_node(&doc, *it);
		yaml_node_t *text = map_get(&doc, v, "text");
		yaml_node_t *cond = map_get(&doc, v, "condition");
		yaml_node_item_t *c;

		for (c = cond && cond->type == YAML_SEQUENCE_NODE ?
		    cond->data.sequence.items.start : NULL;
		    c != NULL && c < cond->data.sequence.items.top; c++) {
			yaml_node_t *val = map_get(&doc,
			    yaml_document_get_node(&doc, *c), "value");
			if (val != NULL && text != NULL &&
			    strcmp((const char *)val->data.scalar.value, language) == 0)
				out = strdup((const char *)text->data.scalar.value);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return out;
}

/* ---- tests ---------------------------------------------------------------- */

#define REQUIRE_ENV() do {                                                   \
	CU_ASSERT_TRUE_FATAL(env_load());                                     \
} while (0)

/* Post text from a new PSID; assert the bot answered with exactly the
 * responses.yml text of intent in language, and what PostgreSQL holds. */
static void
check_answer(const char *text, const char *intent, const char *language)
{
	char psid[32], mid[64], *got, *want;
	long from = graph_log_size();
	PGconn *db = db_connect();
	PGresult *in, *out;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_lang_%s", psid);
	want = expected_text(intent, language);
	CU_ASSERT_PTR_NOT_NULL(want);
	CU_ASSERT_EQUAL(say(psid, mid, text), 200);
	got = wait_reply(from, psid, 1, MX_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL(got);
	if (got != NULL && want != NULL && strcmp(got, want) != 0)
		fprintf(stderr, "\n  \"%s\": expected %s/%s \"%s\", got \"%s\"\n",
		    text, intent, language, want, got);
	CU_ASSERT_TRUE(got != NULL && want != NULL && strcmp(got, want) == 0);
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	in = db_inbound(db, mid);
	CU_ASSERT_PTR_NOT_NULL(in);
	if (in != NULL) {
		CU_ASSERT_STRING_EQUAL(PQgetvalue(in, 0, 1), intent);
		CU_ASSERT_STRING_EQUAL(PQgetvalue(in, 0, 2), language);
		PQclear(in);
	}
	out = db_replies(db, mid);
	CU_ASSERT_EQUAL(PQntuples(out), 1);
	if (PQntuples(out) == 1) {
		CU_ASSERT_STRING_EQUAL(PQgetvalue(out, 0, 0), "sent");
		CU_ASSERT_TRUE(want != NULL &&
		    strcmp(PQgetvalue(out, 0, 1), want) == 0);
	}
	PQclear(out);
	PQfinish(db);
	free(got);
	free(want);
}

static void
test_thai_message(void)
{
	check_answer("สวัสดีครับ", "greet", "th");
	check_answer("ต้องใช้เอกสารอะไรบ้างครับ", "required_documents", "th");
}

static void
test_english_message(void)
{
	check_answer("how much does GACP certification cost?",
	    "certification_fee", "en");
	check_answer("what documents do I need for GACP?",
	    "required_documents", "en");
}

static double metric(const char *series);

/* Scripts cached by the Redis server (INFO memory), -1 if unreadable. */
static long long
redis_cached_scripts(void)
{
	redisContext *c = redis_connect();
	redisReply *r;
	long long n = -1;
	const char *p;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "INFO memory");
	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "number_of_cached_scripts:")) != NULL)
		n = atoll(p + strlen("number_of_cached_scripts:"));
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return n;
}

/* The processes run their Lua scripts with EVALSHA; a server whose script
 * cache was emptied (a restart, a failover to a replica, SCRIPT FLUSH)
 * answers NOSCRIPT and they send the body once with EVAL: the webhook,
 * the worker and the duplicate check all keep working. */
static void
test_script_cache_flushed(void)
{
	redisContext *c;
	redisReply *r;
	char psid[32], mid[64];
	long long recv0, dup0;

	REQUIRE_ENV();
	c = redis_connect();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	r = redisCommand(c, "SCRIPT FLUSH");
	CU_ASSERT_TRUE(r != NULL && r->type == REDIS_REPLY_STATUS);
	if (r)
		freeReplyObject(r);
	redisFree(c);
	CU_ASSERT_EQUAL(redis_cached_scripts(), 0);

	check_answer("hello there", "greet", "en");
	CU_ASSERT_TRUE(redis_cached_scripts() >= 1);

	/* The same event again, now through EVALSHA: a duplicate. */
	recv0 = (long long)metric("gacp_webhook_events_total{result=\"received\"}");
	dup0 = (long long)metric("gacp_webhook_events_total{result=\"duplicate\"}");
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_noscript_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid, "thanks"), 200);
	CU_ASSERT_EQUAL(say(psid, mid, "thanks"), 200);
	CU_ASSERT_EQUAL((long long)metric(
	    "gacp_webhook_events_total{result=\"received\"}"), recv0 + 1);
	CU_ASSERT_EQUAL((long long)metric(
	    "gacp_webhook_events_total{result=\"duplicate\"}"), dup0 + 1);
}

static void
test_verify_handshake(void)
{
	struct itest_response r;
	char path[512];

	REQUIRE_ENV();
	snprintf(path, sizeof(path), "/webhooks/messenger?hub.mode=subscribe&"
	    "hub.verify_token=%s&hub.challenge=1158201444", env.verify_token);
	itest_http("GET", path, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "1158201444");
	itest_response_free(&r);

	itest_http("GET", "/webhooks/messenger?hub.mode=subscribe&"
	    "hub.verify_token=not-the-token&hub.challenge=1158201444", NULL,
	    NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NULL(strstr(r.body, "1158201444"));
	itest_response_free(&r);

	/* The right token with another mode is refused too. */
	snprintf(path, sizeof(path), "/webhooks/messenger?hub.mode=unsubscribe&"
	    "hub.verify_token=%s&hub.challenge=1158201444", env.verify_token);
	itest_http("GET", path, NULL, NULL, 0, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	itest_response_free(&r);
}

static void
test_bad_signature_queues_nothing(void)
{
	char psid[32], mid[64], sig[80], *body;
	struct itest_response r;
	long long before, after;
	long from = graph_log_size();
	PGconn *db = db_connect();

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_badsig_%s", psid);
	body = body_text(psid, mid, "hello");
	before = inbound_added();
	CU_ASSERT_TRUE(before >= 0);

	/* Signed with another secret. */
	sign(body, strlen(body), "not-the-app-secret", sig);
	CU_ASSERT_EQUAL(post_webhook(body, sig, &r), 403);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "bad_signature");
	itest_response_free(&r);
	/* The right secret over another body (one byte changed). */
	sign(body, strlen(body) - 1, env.app_secret, sig);
	CU_ASSERT_EQUAL(post_webhook(body, sig, &r), 403);
	itest_response_free(&r);
	/* Malformed header values. */
	CU_ASSERT_EQUAL(post_webhook(body, "sha256=zz", NULL), 403);
	CU_ASSERT_EQUAL(post_webhook(body, "sha1=0123", NULL), 403);
	/* No signature at all. */
	CU_ASSERT_EQUAL(post_webhook(body, NULL, &r), 401);
	CU_ASSERT_STRING_EQUAL(itest_error_code(&r), "missing_signature");
	itest_response_free(&r);

	after = inbound_added();
	CU_ASSERT_EQUAL(after, before);
	/* Nothing reaches the worker: no reply, no stored message, and the
	 * mid was not marked seen (the real delivery is still accepted). */
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	{
		struct graph_calls calls;
		graph_calls_since(from, &calls);
		CU_ASSERT_EQUAL(count_attempts(&calls, psid), 0);
		graph_calls_free(&calls);
	}
	CU_ASSERT_PTR_NULL(db_inbound(db, mid));
	CU_ASSERT_EQUAL(post_signed(body), 200);
	CU_ASSERT_EQUAL(inbound_added(), before + 1);
	free(wait_reply(from, psid, 1, MX_WAIT_MS));
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	free(body);
	PQfinish(db);
}

/* Echoes of the page's own messages, delivery and read receipts and
 * standby events are acknowledged and dropped: nothing queued, no reply. */
static void
test_ignored_events(void)
{
	char p_echo[32], p_deliv[32], p_read[32], p_standby[32], marker[32];
	char mid[64], *body, *got;
	struct json_object *evs[3], *entries[2], *o, *m;
	long from = graph_log_size();
	long long before;
	PGconn *db = db_connect();

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	new_psid(p_echo);
	new_psid(p_deliv);
	new_psid(p_read);
	new_psid(p_standby);
	new_psid(marker);

	/* Echo: sent by the page to the person. */
	evs[0] = json_tokener_parse("{\"sender\":{},\"recipient\":{},"
	    "\"timestamp\":1,\"message\":{\"is_echo\":true,\"app_id\":1517,"
	    "\"text\":\"hello from the page\"}}");
	json_object_object_get_ex(evs[0], "sender", &o);
	json_object_object_add(o, "id", json_object_new_string(env.page_id));
	json_object_object_get_ex(evs[0], "recipient", &o);
	json_object_object_add(o, "id", json_object_new_string(p_echo));
	json_object_object_get_ex(evs[0], "message", &m);
	snprintf(mid, sizeof(mid), "m_echo_%s", p_echo);
	json_object_object_add(m, "mid", json_object_new_string(mid));
	/* Delivery and read receipts. */
	evs[1] = ev_text(p_deliv, "unused", "unused");
	json_object_object_del(evs[1], "message");
	json_object_object_add(evs[1], "delivery", json_tokener_parse(
	    "{\"mids\":[\"m_x\"],\"watermark\":1458668856253}"));
	evs[2] = ev_text(p_read, "unused", "unused");
	json_object_object_del(evs[2], "message");
	json_object_object_add(evs[2], "read", json_tokener_parse(
	    "{\"watermark\":1458668856253}"));
	entries[0] = entry_of(evs, 3, "messaging");
	/* standby[]: another app owns the thread. */
	snprintf(mid, sizeof(mid), "m_standby_%s", p_standby);
	o = ev_text(p_standby, mid, "hello");
	entries[1] = entry_of(&o, 1, "standby");
	body = body_of(entries, 2);

	before = inbound_added();
	CU_ASSERT_EQUAL(post_signed(body), 200);
	CU_ASSERT_EQUAL(inbound_added(), before);
	free(body);

	/* A real message afterwards: once it is answered, the worker is past
	 * anything the ignored events could have caused. */
	snprintf(mid, sizeof(mid), "m_marker_%s", marker);
	CU_ASSERT_EQUAL(say(marker, mid, "hello"), 200);
	got = wait_reply(from, marker, 1, MX_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	{
		struct graph_calls calls;
		graph_calls_since(from, &calls);
		CU_ASSERT_EQUAL(count_attempts(&calls, p_echo), 0);
		CU_ASSERT_EQUAL(count_attempts(&calls, p_deliv), 0);
		CU_ASSERT_EQUAL(count_attempts(&calls, p_read), 0);
		CU_ASSERT_EQUAL(count_attempts(&calls, p_standby), 0);
		graph_calls_free(&calls);
	}
	{
		const char *p[4] = { p_echo, p_deliv, p_read, p_standby };
		CU_ASSERT_EQUAL(db_count(db, "SELECT count(*) FROM contacts "
		    "WHERE psid IN ($1, $2, $3, $4)", 4, p), 0);
	}
	PQfinish(db);
}

/* Facebook batches: every event of every entry is answered. */
static void
test_batch_two_entries_three_events(void)
{
	char psids[6][32], mids[6][64], *body;
	struct json_object *evs[6], *entries[2];
	struct graph_calls calls;
	long from = graph_log_size();
	long long before;
	PGconn *db = db_connect();
	int i;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	for (i = 0; i < 6; i++) {
		new_psid(psids[i]);
		snprintf(mids[i], sizeof(mids[i]), "m_batch_%.31s", psids[i]);
		evs[i] = ev_text(psids[i], mids[i], i % 2 ? "hello" : "สวัสดีครับ");
	}
	entries[0] = entry_of(evs, 3, "messaging");
	entries[1] = entry_of(evs + 3, 3, "messaging");
	body = body_of(entries, 2);
	before = inbound_added();
	CU_ASSERT_EQUAL(post_signed(body), 200);
	CU_ASSERT_EQUAL(inbound_added(), before + 6);
	free(body);
	for (i = 0; i < 6; i++) {
		free(wait_reply(from, psids[i], 1, MX_WAIT_MS));
		CU_ASSERT_TRUE(db_wait_done(db, mids[i], MX_WAIT_MS));
	}
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	graph_calls_since(from, &calls);
	for (i = 0; i < 6; i++) {
		PGresult *r = db_replies(db, mids[i]);
		CU_ASSERT_EQUAL(count_replies(&calls, psids[i]), 1);
		CU_ASSERT_EQUAL(PQntuples(r), 1);
		CU_ASSERT_TRUE(PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sent") == 0);
		PQclear(r);
	}
	graph_calls_free(&calls);
	PQfinish(db);
}

/* A worker process sends the replies of its batch at once: four events
 * in one webhook request (one atomic enqueue, so one or two batches), the
 * stand-in holding each answer for 1 s.  Sent one after another, at most
 * two calls (one per worker process) would be open at the stand-in at
 * once; the stand-in counts them as they arrive (open_calls), so no time
 * is measured.  Every reply is delivered once and recorded sent. */
static void
test_batch_replies_overlap(void)
{
	char psids[4][32], mids[4][64], *body;
	struct json_object *evs[4], *entry;
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	int i, most_open = 0;
	size_t k;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL_FATAL(graph_control("script", "[{\"status\":200,"
	    "\"delay_ms\":1000},{\"status\":200,\"delay_ms\":1000},"
	    "{\"status\":200,\"delay_ms\":1000},{\"status\":200,"
	    "\"delay_ms\":1000}]"), 0);
	for (i = 0; i < 4; i++) {
		new_psid(psids[i]);
		snprintf(mids[i], sizeof(mids[i]), "m_overlap_%.31s", psids[i]);
		evs[i] = ev_text(psids[i], mids[i], i % 2 ? "hello" : "สวัสดีครับ");
	}
	entry = entry_of(evs, 4, "messaging");
	body = body_of(&entry, 1);
	CU_ASSERT_EQUAL(post_signed(body), 200);
	free(body);
	for (i = 0; i < 4; i++) {
		free(wait_reply(from, psids[i], 1, MX_WAIT_MS));
		CU_ASSERT_TRUE(db_wait_done(db, mids[i], MX_WAIT_MS));
	}
	graph_control("reset", "{}");
	graph_calls_since(from, &calls);
	for (i = 0; i < 4; i++) {
		PGresult *r = db_replies(db, mids[i]);

		CU_ASSERT_EQUAL(count_replies(&calls, psids[i]), 1);
		CU_ASSERT_TRUE(PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sent") == 0);
		PQclear(r);
		for (k = 0; k < calls.n; k++)
			if (calls.v[k].message &&
			    strcmp(calls.v[k].psid, psids[i]) == 0 &&
			    calls.v[k].open_calls > most_open)
				most_open = calls.v[k].open_calls;
	}
	CU_ASSERT_TRUE(most_open >= 3);
	fprintf(stderr, "\n  at most %d Send API calls open at once ", most_open);
	graph_calls_free(&calls);
	PQfinish(db);
}

/* Wait until the reply to mid is on the wire (committed 'sending').  1 if
 * so before the deadline. */
static int
db_wait_sending(PGconn *c, const char *mid, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	do {
		PGresult *r = db_replies(c, mid);
		int sending = PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sending") == 0;

		PQclear(r);
		if (sending)
			return 1;
		sleep_ms(MX_POLL_MS);
	} while (now_ms() < deadline);
	return 0;
}

/* A slow Send API call does not hold back the events read after it: one
 * worker process (so no other process can pick the later events up); the
 * stand-in holds the first reply's answer for 3 s; once that reply is on
 * the wire ('sending'), the same person writes again and three more
 * people write, each in a webhook of their own.  The three replies reach
 * the stand-in while the first call is still open there (open_calls
 * counts it) and are recorded sent while the first is still 'sending';
 * the person's second message waits for the first reply's outcome (its
 * reply is sent after the first's answer, never before).  A process that
 * waited for its calls before reading on would make everyone wait the
 * 3 s.  Every reply is delivered once. */
static void
test_slow_call_does_not_hold_back(void)
{
	char psids[4][32], mids[5][64];
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	int i, overlapped = 0;
	size_t k, first_at = 0, second_at = 0;
	PGresult *r;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop worker"), 0);
	setenv("GACP_WORKER_PROCESSES", "1", 1);
	CU_ASSERT_EQUAL(itest_stack("start worker"), 0);
	CU_ASSERT_EQUAL(graph_control("script",
	    "[{\"status\":200,\"delay_ms\":3000}]"), 0);
	for (i = 0; i < 4; i++) {
		new_psid(psids[i]);
		snprintf(mids[i], sizeof(mids[i]), "m_slow_%.31s", psids[i]);
	}
	snprintf(mids[4], sizeof(mids[4]), "m_slow2_%.31s", psids[0]);
	CU_ASSERT_EQUAL(say(psids[0], mids[0], "hello"), 200);
	CU_ASSERT_TRUE(db_wait_sending(db, mids[0], MX_WAIT_MS));
	CU_ASSERT_EQUAL(say(psids[0], mids[4],
	    "what documents do I need for GACP?"), 200);
	for (i = 1; i < 4; i++)
		CU_ASSERT_EQUAL(say(psids[i], mids[i], i % 2 ?
		    "สวัสดีครับ" : "how much does GACP certification cost?"), 200);
	for (i = 1; i < 4; i++)
		CU_ASSERT_TRUE(db_wait_done(db, mids[i], MX_WAIT_MS));
	/* The others are through; the first is still waiting for its
	 * answer (3 s, against the few ms the others took), and the same
	 * person's second message waits behind it. */
	r = db_replies(db, mids[0]);
	CU_ASSERT_TRUE(PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "sending") == 0);
	PQclear(r);
	r = db_replies(db, mids[4]);
	CU_ASSERT_TRUE(PQntuples(r) == 0 ||
	    strcmp(PQgetvalue(r, 0, 0), "sent") != 0);
	PQclear(r);
	CU_ASSERT_TRUE(db_wait_done(db, mids[0], MX_WAIT_MS));
	CU_ASSERT_TRUE(db_wait_done(db, mids[4], MX_WAIT_MS));
	graph_control("reset", "{}");
	graph_calls_since(from, &calls);
	for (i = 0; i < 5; i++) {
		r = db_replies(db, mids[i]);
		CU_ASSERT_TRUE(PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sent") == 0);
		PQclear(r);
	}
	CU_ASSERT_EQUAL(count_replies(&calls, psids[0]), 2);
	for (i = 1; i < 4; i++) {
		CU_ASSERT_EQUAL(count_replies(&calls, psids[i]), 1);
		for (k = 0; k < calls.n; k++)
			if (calls.v[k].message &&
			    strcmp(calls.v[k].psid, psids[i]) == 0 &&
			    calls.v[k].open_calls >= 2)
				overlapped++;
	}
	CU_ASSERT_EQUAL(overlapped, 3);
	/* The log is in the order the stand-in answered: the person's
	 * first reply (answered after 3 s) before the second. */
	for (k = 0; k < calls.n; k++)
		if (calls.v[k].message && strcmp(calls.v[k].psid, psids[0]) == 0) {
			if (first_at == 0)
				first_at = k + 1;
			else
				second_at = k + 1;
		}
	CU_ASSERT_TRUE(first_at > 0 && second_at > first_at);
	graph_calls_free(&calls);
	CU_ASSERT_EQUAL(itest_stack("stop worker"), 0);
	unsetenv("GACP_WORKER_PROCESSES");
	CU_ASSERT_EQUAL(itest_stack("start worker"), 0);
	PQfinish(db);
}

/* Send API calls are paced per page (messenger.send_rate_per_page, a
 * token bucket holding as many calls as a second allows): 30 people's
 * events queued at once for one page, one worker process at 10 calls a
 * second.  The first 10 go at once, the other 20 at the bucket's rate, so
 * the replies take at least 2 s from first to last; the check is a lower
 * bound (a slow machine only spreads them more).  Every reply is sent
 * once. */
#define PACE_EVENTS 30
#define PACE_RATE 10
static void
test_send_paced_per_page(void)
{
	char psids[PACE_EVENTS][32], mids[PACE_EVENTS][64], *body;
	struct json_object *evs[PACE_EVENTS], *entry;
	struct graph_calls calls;
	long from = graph_log_size();
	long long first = 0, last = 0;
	PGconn *db = db_connect();
	char rate[16];
	size_t k;
	int i;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop worker"), 0);
	for (i = 0; i < PACE_EVENTS; i++) {
		new_psid(psids[i]);
		snprintf(mids[i], sizeof(mids[i]), "m_pace_%.31s", psids[i]);
		evs[i] = ev_text(psids[i], mids[i], i % 2 ? "hello" : "สวัสดีครับ");
	}
	entry = entry_of(evs, PACE_EVENTS, "messaging");
	body = body_of(&entry, 1);
	CU_ASSERT_EQUAL(post_signed(body), 200);
	free(body);
	snprintf(rate, sizeof(rate), "%d", PACE_RATE);
	setenv("GACP_MESSENGER_SEND_RATE_PER_PAGE", rate, 1);
	setenv("GACP_WORKER_PROCESSES", "1", 1);
	CU_ASSERT_EQUAL(itest_stack("start worker"), 0);
	for (i = 0; i < PACE_EVENTS; i++)
		CU_ASSERT_TRUE(db_wait_done(db, mids[i], MX_WAIT_MS));
	graph_calls_since(from, &calls);
	for (i = 0; i < PACE_EVENTS; i++) {
		PGresult *r = db_replies(db, mids[i]);

		CU_ASSERT_EQUAL(count_replies(&calls, psids[i]), 1);
		CU_ASSERT_TRUE(PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sent") == 0);
		PQclear(r);
		for (k = 0; k < calls.n; k++) {
			if (!calls.v[k].message ||
			    strcmp(calls.v[k].psid, psids[i]) != 0)
				continue;
			if (first == 0 || calls.v[k].time_ms < first)
				first = calls.v[k].time_ms;
			if (calls.v[k].time_ms > last)
				last = calls.v[k].time_ms;
		}
	}
	/* 20 calls beyond the bucket at 10 a second: 2 s; 1.8 s allows
	 * for the log's millisecond clock and the bucket's rounding. */
	CU_ASSERT_TRUE(last - first >= (PACE_EVENTS - PACE_RATE) * 1000 /
	    PACE_RATE - 200);
	fprintf(stderr, "\n  %d replies paced at %d/s over %lld ms ", PACE_EVENTS,
	    PACE_RATE, last - first);
	graph_calls_free(&calls);
	CU_ASSERT_EQUAL(itest_stack("stop worker"), 0);
	unsetenv("GACP_MESSENGER_SEND_RATE_PER_PAGE");
	unsetenv("GACP_WORKER_PROCESSES");
	CU_ASSERT_EQUAL(itest_stack("start worker"), 0);
	PQfinish(db);
}

/* A text event of the demo channel as the webhook queues it
 * (mx_event_to_json), malloc'd. */
static char *
queued_event_json(const char *psid, const char *mid, const char *text)
{
	struct json_object *ev = json_object_new_object();
	char *out;

	json_object_object_add(ev, "tenant_id", json_object_new_string(env.tenant_id));
	json_object_object_add(ev, "channel_id", json_object_new_string(env.channel_id));
	json_object_object_add(ev, "page_id", json_object_new_string(env.page_id));
	json_object_object_add(ev, "psid", json_object_new_string(psid));
	json_object_object_add(ev, "timestamp_ms", json_object_new_int64(now_ms()));
	json_object_object_add(ev, "received_us", json_object_new_int64(now_ms() * 1000));
	json_object_object_add(ev, "kind", json_object_new_string("text"));
	json_object_object_add(ev, "mid", json_object_new_string(mid));
	json_object_object_add(ev, "text", json_object_new_string(text));
	out = strdup(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
	return out;
}

/* Facebook redelivers when it did not see our 200: the same body three
 * times gives one reply (webhook dedupe), and the same queued event handed
 * to the workers twice more gives none either (message_keys). */
static void
test_same_event_three_times(void)
{
	char psid[32], mid[64], *body;
	struct graph_calls calls;
	long from = graph_log_size();
	long long before;
	redisContext *rc;
	redisReply *last;
	PGconn *db = db_connect();
	PGresult *r;
	const char *p[2];
	int i;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_dup_%s", psid);
	body = body_text(psid, mid, "hello");
	before = inbound_added();
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(post_signed(body), 200);
	CU_ASSERT_EQUAL(inbound_added(), before + 1);
	free(body);
	free(wait_reply(from, psid, 1, MX_WAIT_MS));
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));

	/* Past the webhook: queue the stored event twice more, as a Redis
	 * failover or a reclaimed entry would. */
	rc = redis_connect();
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	last = redisCommand(rc, "XREVRANGE gacp:inbound + - COUNT 50");
	CU_ASSERT_TRUE_FATAL(last != NULL && last->type == REDIS_REPLY_ARRAY);
	for (i = 0; i < (int)last->elements; i++) {
		redisReply *fields = last->element[i]->element[1];
		if (fields->elements == 2 && strstr(fields->element[1]->str, mid)) {
			int k;
			for (k = 0; k < 2; k++)
				freeReplyObject(redisCommand(rc, "XADD gacp:inbound * "
				    "e %s", fields->element[1]->str));
			break;
		}
	}
	/* The workers trim acknowledged entries: if it is gone already,
	 * queue the same event as the webhook stored it. */
	if (i == (int)last->elements) {
		char *ev = queued_event_json(psid, mid, "hello");
		int k;
		for (k = 0; k < 2; k++)
			freeReplyObject(redisCommand(rc, "XADD gacp:inbound * e %s",
			    ev));
		free(ev);
	}
	freeReplyObject(last);
	redisFree(rc);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));

	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_replies(&calls, psid), 1);
	graph_calls_free(&calls);
	p[0] = env.channel_id;
	p[1] = mid;
	CU_ASSERT_EQUAL(db_count(db, "SELECT count(*) FROM messages WHERE "
	    "channel_id = $1 AND direction = 'in' AND external_id = $2", 2, p), 1);
	r = db_replies(db, mid);
	CU_ASSERT_EQUAL(PQntuples(r), 1);
	PQclear(r);
	PQfinish(db);
}

/* Pids of the worker (supervisor and children) from its pidfile. */
static int
worker_pids(pid_t *pids, int max)
{
	char path[4096], line[64];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/run/worker.pid",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL)
		if (atol(line) > 0)
			pids[n++] = (pid_t)atol(line);
	fclose(f);
	return n;
}

/* Gone, or a zombie nobody reaped yet. */
static bool
pid_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool gone = true;

	if (kill(pid, 0) != 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
		gone = p[2] == 'Z';
	fclose(f);
	return gone;
}

/* SIGKILL every worker process, children first (so none stops cleanly
 * on its supervisor's death signal). */
static int
kill_worker(void)
{
	pid_t pids[MX_MAX_PIDS];
	char path[4096];
	int n = worker_pids(pids, MX_MAX_PIDS), i;
	long long deadline = now_ms() + 10000;

	for (i = n - 1; i >= 0; i--)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		while (!pid_gone(pids[i]) && now_ms() < deadline)
			sleep_ms(5);
	/* Nobody removes a SIGKILLed daemon's pidfile. */
	snprintf(path, sizeof(path), "%s/run/worker.pid",
	    itest_env("GACP_VAR_DIR", "var/test"));
	unlink(path);
	return n;
}

static int
claim_wait_ms(void)
{
	return atoi(itest_env("GACP_WORKER_CLAIM_IDLE_MS", "30000")) + 30000;
}

/* The replies to psid logged since `from`: how many, and whether all
 * but the last were logged before `before_ms` with the same text. */
static int
replies_of(const struct graph_calls *calls, const char *psid,
    long long before_ms, bool *early_copies)
{
	const struct graph_call *last = last_reply(calls, psid);
	size_t i;
	int n = 0;

	*early_copies = true;
	for (i = 0; i < calls->n; i++) {
		const struct graph_call *c = &calls->v[i];
		if (!c->message || c->status != 200 || strcmp(c->psid, psid) != 0)
			continue;
		n++;
		if (c != last && (c->time_ms >= before_ms || c->text == NULL ||
		    last->text == NULL || strcmp(c->text, last->text) != 0))
			*early_copies = false;
	}
	return n;
}

/* A burst is queued, the workers start on it and are SIGKILLed mid-way;
 * after a restart every event is stored exactly once and no person gets
 * a reply twice.
 *
 * A Send API call that was on the wire when its worker died cannot be
 * told apart from one that never left (Graph has no idempotency key).
 * The worker commits 'sending' before each call, and the one that
 * reclaims the event records such a reply as failed, reason
 * delivery_unknown, instead of sending it again (at most once).  A
 * process keeps up to worker.max_inflight replies on the wire at once
 * (across its batches), so that many can be in doubt when it dies.  The
 * test allows that only for replies whose worker was killed (at most
 * worker.max_inflight per killed worker process), and checks every
 * other reply was sent once. */
/* Send API calls a worker process has on the wire at most
 * (worker.max_inflight; the environment's GACP_WORKER_MAX_INFLIGHT
 * reaches the worker the stack starts). */
static int
worker_max_inflight(void)
{
	const char *v = getenv("GACP_WORKER_MAX_INFLIGHT");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 16;
}

static void
test_worker_sigkill_mid_batch(void)
{
	char psids[MX_BURST][32], mids[MX_BURST][64];
	struct graph_calls calls;
	long from = graph_log_size();
	long long start, restart_ms;
	int i, answered = 0, killed, doubled = 0, in_doubt = 0;
	PGconn *db = db_connect();
	static const char *texts[] = { "hello", "สวัสดีครับ",
	    "what documents do I need for GACP?", "ค่าธรรมเนียมเท่าไหร่คะ",
	    "how much does GACP certification cost?" };

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	/* Queue the burst while no worker runs, so the kill lands inside it. */
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop worker"), 0);
	for (i = 0; i < MX_BURST; i++) {
		new_psid(psids[i]);
		snprintf(mids[i], sizeof(mids[i]), "m_kill_%.31s", psids[i]);
		CU_ASSERT_EQUAL(say(psids[i], mids[i], texts[i % 5]), 200);
	}
	CU_ASSERT_EQUAL_FATAL(itest_stack("start worker"), 0);
	start = now_ms();
	while (now_ms() - start < MX_WAIT_MS) {
		graph_calls_since(from, &calls);
		answered = 0;
		for (i = 0; i < MX_BURST; i++)
			answered += count_replies(&calls, psids[i]) > 0;
		graph_calls_free(&calls);
		if (answered >= 3)
			break;
		sleep_ms(2);
	}
	killed = kill_worker();     /* the supervisor and its children */
	CU_ASSERT_TRUE(killed >= 2);
	CU_ASSERT_TRUE(answered >= 1);
	restart_ms = now_ms();
	CU_ASSERT_EQUAL_FATAL(itest_stack("start worker"), 0);

	/* The new workers reclaim what the dead ones held once it has been
	 * idle for worker.claim_idle_ms. */
	for (i = 0; i < MX_BURST; i++)
		CU_ASSERT_TRUE(db_wait_done(db, mids[i], claim_wait_ms()));
	CU_ASSERT_TRUE(queue_wait_idle(claim_wait_ms()));
	graph_calls_since(from, &calls);
	for (i = 0; i < MX_BURST; i++) {
		bool early;
		int n = replies_of(&calls, psids[i], restart_ms, &early);
		PGresult *r = db_replies(db, mids[i]);
		const char *p[2] = { env.channel_id, mids[i] };
		bool sent = PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "sent") == 0;
		bool unknown = PQntuples(r) == 1 &&
		    strcmp(PQgetvalue(r, 0, 0), "failed") == 0 &&
		    strstr(PQgetvalue(r, 0, 2), "delivery_unknown") != NULL;

		CU_ASSERT_TRUE(n <= 1);              /* never twice */
		CU_ASSERT_EQUAL(db_count(db, "SELECT count(*) FROM messages WHERE "
		    "channel_id = $1 AND direction = 'in' AND external_id = $2",
		    2, p), 1);
		CU_ASSERT_EQUAL(PQntuples(r), 1);
		/* Sent once, or in doubt: then only a call the killed workers
		 * made (n == 1 early) or none at all (n == 0). */
		CU_ASSERT_TRUE((sent && n == 1) || (unknown && (n == 0 || early)));
		doubled += n > 1;
		in_doubt += unknown;
		PQclear(r);
	}
	CU_ASSERT_EQUAL(doubled, 0);
	CU_ASSERT_TRUE(in_doubt <= (killed - 1) * worker_max_inflight());
	fprintf(stderr, "\n  SIGKILL after %d of %d answered; %d reply(s) in "
	    "flight when killed (recorded delivery_unknown, not sent again) ",
	    answered, MX_BURST, in_doubt);
	graph_calls_free(&calls);
	PQfinish(db);
}

/* A worker killed while its Send API call is on the wire: the reply was
 * committed 'sending' first, so the worker that reclaims the event
 * records it failed (delivery_unknown) and the person never gets it
 * twice.  The stand-in holds the call for 3 s to make the window wide. */
static void
test_worker_killed_during_send_not_resent(void)
{
	char psid[32], mid[64];
	struct graph_calls calls;
	long from = graph_log_size();
	long long deadline;
	PGconn *db = db_connect();
	PGresult *r;
	const char *p[2];
	int sending = 0;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL(graph_control("script",
	    "[{\"status\":200,\"delay_ms\":3000}]"), 0);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_inflight_%s", psid);
	p[0] = env.channel_id;
	p[1] = mid;
	CU_ASSERT_EQUAL(say(psid, mid, "hello"), 200);
	deadline = now_ms() + MX_WAIT_MS;
	while (!sending && now_ms() < deadline) {
		sending = db_count(db, "SELECT count(*) FROM messages i JOIN "
		    "messages o ON o.tenant_id = i.tenant_id AND o.reply_to = "
		    "i.id WHERE i.channel_id = $1 AND i.external_id = $2 AND "
		    "o.status = 'sending'", 2, p) == 1;
		if (!sending)
			sleep_ms(MX_POLL_MS);
	}
	CU_ASSERT_TRUE_FATAL(sending);
	CU_ASSERT_TRUE(kill_worker() >= 2);
	graph_control("reset", "{}");
	CU_ASSERT_EQUAL_FATAL(itest_stack("start worker"), 0);
	CU_ASSERT_TRUE(db_wait_done(db, mid, claim_wait_ms()));
	CU_ASSERT_TRUE(queue_wait_idle(claim_wait_ms()));
	r = db_replies(db, mid);
	CU_ASSERT_EQUAL(PQntuples(r), 1);
	if (PQntuples(r) == 1) {
		CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 0), "failed");
		CU_ASSERT_PTR_NOT_NULL(strstr(PQgetvalue(r, 0, 2),
		    "delivery_unknown"));
	}
	PQclear(r);
	sleep_ms(3200);             /* the held call has been answered */
	graph_calls_since(from, &calls);
	CU_ASSERT_TRUE(count_replies(&calls, psid) <= 1);
	graph_calls_free(&calls);
	PQfinish(db);
}

/* An event acknowledged with 200 survives a Redis restart (AOF). */
static void
test_redis_restart_between_webhook_and_worker(void)
{
	char psid[32], mid[64], *got, *want;
	long from = graph_log_size();
	long long queued;
	PGconn *db = db_connect();

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop worker"), 0);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_redis_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid, "สวัสดีครับ"), 200);
	queued = redis_xlen("gacp:inbound");
	CU_ASSERT_EQUAL(itest_stack("stop redis"), 0);
	CU_ASSERT_EQUAL(redis_xlen("gacp:inbound"), -1);   /* really down */
	CU_ASSERT_EQUAL_FATAL(itest_stack("start redis"), 0);
	{
		long long after = redis_xlen("gacp:inbound");
		if (after != queued)
			fprintf(stderr, "\n  XLEN %lld before, %lld after restart\n", queued, after);
		CU_ASSERT_EQUAL(after, queued);
	}
	CU_ASSERT_EQUAL_FATAL(itest_stack("start worker"), 0);
	got = wait_reply(from, psid, 1, MX_WAIT_MS);
	want = expected_text("greet", "th");
	CU_ASSERT_TRUE(got != NULL && want != NULL && strcmp(got, want) == 0);
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	free(got);
	free(want);
	/* The API processes reconnect: the next webhook is accepted. */
	CU_ASSERT_TRUE(itest_wait_status("/ready", 200, MX_WAIT_MS));
	PQfinish(db);
}

/* Send one message while the stand-in answers per script; wait until the
 * worker finished with it.  Returns the reply row (status, text, error). */
static PGresult *
send_scripted(PGconn *db, const char *script, const char *tag, char psid[32],
    char mid[64])
{
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL(graph_control("script", script), 0);
	new_psid(psid);
	snprintf(mid, 64, "m_%s_%s", tag, psid);
	CU_ASSERT_EQUAL(say(psid, mid, "hello"), 200);
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	graph_control("reset", "{}");
	return db_replies(db, mid);
}

static void
test_graph_500_twice_then_ok(void)
{
	char psid[32], mid[64];
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	PGresult *r;
	size_t i;
	int statuses[8], n = 0;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	r = send_scripted(db, "[{\"status\":500},{\"status\":500}]", "g500",
	    psid, mid);
	CU_ASSERT_EQUAL(PQntuples(r), 1);
	if (PQntuples(r) == 1) {
		CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 0), "sent");
		CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 2), "");
	}
	PQclear(r);
	graph_calls_since(from, &calls);
	for (i = 0; i < calls.n && n < 8; i++)
		if (calls.v[i].message && strcmp(calls.v[i].psid, psid) == 0)
			statuses[n++] = calls.v[i].status;
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_TRUE(n == 3 && statuses[0] == 500 && statuses[1] == 500 &&
	    statuses[2] == 200);
	CU_ASSERT_EQUAL(count_replies(&calls, psid), 1);
	graph_calls_free(&calls);
	PQfinish(db);
}

static void
test_graph_permanent_error_marks_failed(void)
{
	char psid[32], mid[64];
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	PGresult *r;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	r = send_scripted(db, "[{\"status\":400,\"code\":551}]", "g551", psid,
	    mid);
	CU_ASSERT_EQUAL(PQntuples(r), 1);
	if (PQntuples(r) == 1) {
		struct json_object *e = json_tokener_parse(PQgetvalue(r, 0, 2)), *v;
		CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 0), "failed");
		CU_ASSERT_PTR_NOT_NULL(e);
		CU_ASSERT_TRUE(e != NULL && json_object_object_get_ex(e, "code", &v) &&
		    json_object_get_int(v) == 551);
		CU_ASSERT_TRUE(e != NULL &&
		    json_object_object_get_ex(e, "http_status", &v) &&
		    json_object_get_int(v) == 400);
		CU_ASSERT_TRUE(e != NULL && json_object_object_get_ex(e, "reason", &v) &&
		    strcmp(json_object_get_string(v), "permanent_error") == 0);
		json_object_put(e);
	}
	PQclear(r);
	/* Permanent: tried once, not retried. */
	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_attempts(&calls, psid), 1);
	CU_ASSERT_EQUAL(count_replies(&calls, psid), 0);
	graph_calls_free(&calls);
	PQfinish(db);
}

static void
test_graph_token_invalid_needs_reauth(void)
{
	char psid[32], mid[64], psid2[32], mid2[64];
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	PGresult *r;
	const char *p[1];
	char *status;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	p[0] = env.channel_id;
	r = send_scripted(db, "[{\"status\":400,\"code\":190}]", "g190", psid,
	    mid);
	CU_ASSERT_TRUE(PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "failed") == 0);
	PQclear(r);
	status = db_value(db, "SELECT status FROM channels WHERE id = $1", 1, p);
	CU_ASSERT_TRUE(status != NULL && strcmp(status, "needs_reauth") == 0);
	free(status);
	status = db_value(db, "SELECT last_error->>'code' FROM channels WHERE "
	    "id = $1", 1, p);
	CU_ASSERT_TRUE(status != NULL && strcmp(status, "190") == 0);
	free(status);
	CU_ASSERT_TRUE(db_count(db, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'channel.needs_reauth' AND resource_id = $1::text", 1, p) >= 1);

	/* While it needs re-authorisation the bot stops sending on it. */
	new_psid(psid2);
	snprintf(mid2, sizeof(mid2), "m_g190b_%s", psid2);
	CU_ASSERT_EQUAL(say(psid2, mid2, "hello"), 200);
	CU_ASSERT_TRUE(db_wait_done(db, mid2, MX_WAIT_MS));
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	r = db_replies(db, mid2);
	CU_ASSERT_TRUE(PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "failed") == 0 &&
	    strstr(PQgetvalue(r, 0, 2), "channel_unavailable") != NULL);
	PQclear(r);
	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_attempts(&calls, psid), 1);
	CU_ASSERT_EQUAL(count_attempts(&calls, psid2), 0);
	graph_calls_free(&calls);

	/* Re-authorised (what reconnecting the page does): later tests send. */
	CU_ASSERT_TRUE(db_ok(db, "UPDATE channels SET status = 'active', "
	    "last_error = NULL WHERE id = $1", 1, p));
	PQfinish(db);
}

/* While a person talks to an agent the bot stays silent. */
static void
test_handoff_silences_bot(void)
{
	char psid[32], mid[64], mid2[64], *got, *want;
	struct graph_calls calls;
	long from = graph_log_size();
	PGconn *db = db_connect();
	PGresult *r;
	const char *p[2];
	char *status;

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_handoff_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid, "I want to talk to a human"), 200);
	got = wait_reply(from, psid, 1, MX_WAIT_MS);
	want = expected_text("human_handoff", "en");
	CU_ASSERT_TRUE(got != NULL && want != NULL && strcmp(got, want) == 0);
	free(got);
	free(want);
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	p[0] = env.channel_id;
	p[1] = psid;
	status = db_value(db, "SELECT v.status FROM conversations v JOIN contacts "
	    "c ON c.tenant_id = v.tenant_id AND c.id = v.contact_id WHERE "
	    "c.channel_id = $1 AND c.psid = $2", 2, p);
	CU_ASSERT_TRUE(status != NULL && strcmp(status, "handoff") == 0);
	free(status);

	/* The next message is stored for the agent but not answered. */
	snprintf(mid2, sizeof(mid2), "m_handoff2_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid2, "how much does GACP certification cost?"),
	    200);
	CU_ASSERT_TRUE(db_wait_done(db, mid2, MX_WAIT_MS));
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	r = db_replies(db, mid2);
	CU_ASSERT_EQUAL(PQntuples(r), 0);
	PQclear(r);
	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_attempts(&calls, psid), 1);
	graph_calls_free(&calls);
	PQfinish(db);
}

/* ---- gacpctl deadletter --------------------------------------------------- */

/* Run gacpctl with the stack's configuration; stdout into out (malloc'd). */
static int
gacpctl(const char *args, char **out)
{
	char cmd[2048], buf[4096];
	size_t len = 0, n;
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), "GACP_CONFIG=%s/gacp.conf %s/src/tools/gacpctl %s "
	    "2>>%s/log/itest-stack.log", itest_env("GACP_VAR_DIR", "var/test"),
	    itest_env("GACP_ROOT", "."), args, itest_env("GACP_VAR_DIR", "var/test"));
	*out = calloc(1, 1);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		*out = realloc(*out, len + n + 1);
		memcpy(*out + len, buf, n);
		len += n;
		(*out)[len] = '\0';
	}
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The dead letter whose source entry is source_id, from
 * `gacpctl --json deadletter list` (a new reference), or NULL. */
static struct json_object *
deadletter_find(const char *key, const char *value)
{
	struct json_object *root, *list, *found = NULL;
	char *out;
	size_t i;

	if (gacpctl("--json deadletter list", &out) != 0) {
		free(out);
		return NULL;
	}
	root = json_tokener_parse(out);
	free(out);
	if (root != NULL && json_object_object_get_ex(root, "deadletters", &list))
		for (i = 0; i < json_object_array_length(list) && !found; i++) {
			struct json_object *e = json_object_array_get_idx(list, i);
			const char *v = json_object_get_string(
			    json_object_object_get(e, key));
			if (v != NULL && strcmp(v, value) == 0)
				found = json_object_get(e);
		}
	json_object_put(root);
	return found;
}

static struct json_object *
deadletter_wait(const char *key, const char *value, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct json_object *e;

	while ((e = deadletter_find(key, value)) == NULL && now_ms() < deadline)
		sleep_ms(100);
	return e;
}

/* A malformed entry is dead-lettered at once and listed; a dead letter of
 * a good event comes back to life with retry and is answered. */
static void
test_deadletter_list_and_retry(void)
{
	char psid[32], mid[64], cmd[256], *out, *got, *payload;
	struct json_object *e, *v;
	redisContext *rc;
	redisReply *r;
	long from = graph_log_size();
	long long dl_before;
	PGconn *db = db_connect();

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	rc = redis_connect();
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);

	/* 1. The worker dead-letters what it cannot parse. */
	r = redisCommand(rc, "XADD gacp:inbound * e %s", "{\"not\":\"an event\"}");
	CU_ASSERT_TRUE_FATAL(r != NULL && r->type == REDIS_REPLY_STRING);
	e = deadletter_wait("source_id", r->str, MX_WAIT_MS);
	freeReplyObject(r);
	CU_ASSERT_PTR_NOT_NULL(e);
	if (e != NULL) {
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "error", &v) &&
		    strcmp(json_object_get_string(v), "malformed event") == 0);
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "deliveries", &v) &&
		    json_object_get_int(v) >= 1);
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "id", &v));
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "time", &v));
		json_object_put(e);
	}
	/* Human listing names it too. */
	CU_ASSERT_EQUAL(gacpctl("deadletter list", &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "malformed event"));
	free(out);

	/* 2. A good event in the dead-letter stream, as the worker leaves one
	 * after max_deliveries failures: the payload the webhook queues. */
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_dead_%s", psid);
	payload = NULL;
	{
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, "tenant_id", json_object_new_string(env.tenant_id));
		json_object_object_add(ev, "channel_id", json_object_new_string(env.channel_id));
		json_object_object_add(ev, "page_id", json_object_new_string(env.page_id));
		json_object_object_add(ev, "psid", json_object_new_string(psid));
		json_object_object_add(ev, "timestamp_ms", json_object_new_int64(now_ms()));
		json_object_object_add(ev, "received_us", json_object_new_int64(now_ms() * 1000));
		json_object_object_add(ev, "kind", json_object_new_string("text"));
		json_object_object_add(ev, "mid", json_object_new_string(mid));
		json_object_object_add(ev, "text", json_object_new_string("hello"));
		payload = strdup(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
		json_object_put(ev);
	}
	dl_before = redis_xlen("gacp:deadletter");
	r = redisCommand(rc, "XADD gacp:deadletter * e %s error %s source_id %s "
	    "deliveries %s", payload, "send_unavailable: Send API kept failing",
	    "1-1", "5");
	CU_ASSERT_TRUE_FATAL(r != NULL && r->type == REDIS_REPLY_STRING);
	e = deadletter_find("mid", mid);
	CU_ASSERT_PTR_NOT_NULL(e);
	if (e != NULL) {
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "tenant_id", &v) &&
		    strcmp(json_object_get_string(v), env.tenant_id) == 0);
		CU_ASSERT_TRUE(json_object_object_get_ex(e, "deliveries", &v) &&
		    json_object_get_int(v) == 5);
		json_object_put(e);
	}
	/* Not answered while dead. */
	{
		struct graph_calls calls;
		graph_calls_since(from, &calls);
		CU_ASSERT_EQUAL(count_attempts(&calls, psid), 0);
		graph_calls_free(&calls);
	}
	snprintf(cmd, sizeof(cmd), "--json deadletter retry %s", r->str);
	CU_ASSERT_EQUAL(gacpctl(cmd, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"retried\""));
	free(out);
	CU_ASSERT_EQUAL(redis_xlen("gacp:deadletter"), dl_before);
	e = deadletter_find("mid", mid);
	CU_ASSERT_PTR_NULL(e);
	json_object_put(e);
	got = wait_reply(from, psid, 1, MX_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	CU_ASSERT_TRUE(db_wait_done(db, mid, MX_WAIT_MS));
	/* Retrying it again: it is gone. */
	CU_ASSERT_EQUAL(gacpctl(cmd, &out), 4);
	free(out);
	freeReplyObject(r);

	/* 3. retry --all empties the stream (malformed ones come back as
	 * dead letters again, which is what they are). */
	CU_ASSERT_EQUAL(gacpctl("deadletter retry --all", &out), 0);
	free(out);
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL(gacpctl("deadletter retry", &out), 2);   /* usage */
	free(out);
	free(payload);
	redisFree(rc);
	PQfinish(db);
}

/* ---- /metrics ------------------------------------------------------------- */

/* Value of the sample whose line starts with `series ` in a fresh scrape
 * of /metrics; -1 when absent or the scrape failed. */
static double
metric(const char *series)
{
	struct itest_response r;
	size_t n = strlen(series);
	double v = -1;
	const char *p;

	memset(&r, 0, sizeof(r));
	if (itest_http("GET", "/metrics", NULL, NULL, 0, &r) != 0 ||
	    r.status != 200 || r.body == NULL) {
		itest_response_free(&r);
		return -1;
	}
	for (p = r.body; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	itest_response_free(&r);
	return v;
}

/* Poll until series reaches at least want. */
static double
metric_wait(const char *series, double want, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	double v;

	while ((v = metric(series)) < want && now_ms() < deadline)
		sleep_ms(MX_POLL_MS);
	return v;
}

/* The counters move: a webhook is received once and a duplicate counted
 * as such, the worker processes it (its NLU parse lands in the worker's
 * histogram, its reply in the Send API outcomes, all from the worker's
 * process through the shared metrics file), an API parse lands in the
 * API's histogram, and the queue and model gauges are read at scrape
 * time. */
static void
test_metrics_move(void)
{
	static const char
	    *recv = "gacp_webhook_events_total{result=\"received\"}",
	    *dup = "gacp_webhook_events_total{result=\"duplicate\"}",
	    *bad = "gacp_webhook_events_total{result=\"rejected_signature\"}",
	    *done = "gacp_worker_events_total{result=\"processed\"}",
	    *sent = "gacp_send_api_calls_total{outcome=\"ok\"}",
	    *wparse = "gacp_nlu_parse_duration_seconds_count{source=\"worker\"}",
	    *aparse = "gacp_nlu_parse_duration_seconds_count{source=\"api\"}",
	    *abucket = "gacp_nlu_parse_duration_seconds_bucket{source=\"api\","
	        "le=\"+Inf\"}",
	    *latency = "gacp_worker_event_latency_seconds_count";
	/* Every stage a delivered reply goes through. */
	static const char *const stages[] = {
		"queued", "waiting", "turn", "pace", "claim", "send_api",
		"finish", "ack",
	};
	double r0, d0, b0, p0, s0, w0, a0, ab0, l0, st0[8], v;
	size_t i;
	char psid[32], mid[64], series[128], *body, *got;
	struct itest_response r;
	struct ru_cred key;
	long from = graph_log_size();

	REQUIRE_ENV();
	CU_ASSERT_TRUE_FATAL(queue_wait_idle(MX_WAIT_MS));
	r0 = metric(recv);
	d0 = metric(dup);
	b0 = metric(bad);
	p0 = metric(done);
	s0 = metric(sent);
	w0 = metric(wparse);
	a0 = metric(aparse);
	ab0 = metric(abucket);
	l0 = metric(latency);
	CU_ASSERT_TRUE_FATAL(r0 >= 0 && d0 >= 0 && b0 >= 0 && p0 >= 0 &&
	    s0 >= 0 && w0 >= 0 && a0 >= 0 && l0 >= 0);
	_Static_assert(sizeof(stages) / sizeof(stages[0]) ==
	    sizeof(st0) / sizeof(st0[0]), "a baseline per stage");
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		snprintf(series, sizeof(series), "gacp_worker_stage_duration_"
		    "seconds_count{stage=\"%s\"}", stages[i]);
		st0[i] = metric(series);
		CU_ASSERT_TRUE(st0[i] >= 0);
	}

	new_psid(psid);
	snprintf(mid, sizeof(mid), "m_metrics_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid, "hello"), 200);
	CU_ASSERT_EQUAL(metric(recv), r0 + 1);
	CU_ASSERT_EQUAL(say(psid, mid, "hello"), 200);   /* Facebook's retry */
	CU_ASSERT_EQUAL(metric(dup), d0 + 1);
	CU_ASSERT_EQUAL(metric(recv), r0 + 1);
	body = body_text(psid, "m_metrics_bad", "hello");
	CU_ASSERT_EQUAL(post_webhook(body, "sha256=00", NULL), 403);
	free(body);
	CU_ASSERT_EQUAL(metric(bad), b0 + 1);

	got = wait_reply(from, psid, 1, MX_WAIT_MS);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	CU_ASSERT_TRUE(metric_wait(done, p0 + 1, MX_WAIT_MS) >= p0 + 1);
	CU_ASSERT_TRUE(metric_wait(sent, s0 + 1, MX_WAIT_MS) >= s0 + 1);
	CU_ASSERT_EQUAL(metric(wparse), w0 + 1);
	/* The event's latency and each of its stages, once. */
	CU_ASSERT_EQUAL(metric_wait(latency, l0 + 1, MX_WAIT_MS), l0 + 1);
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		snprintf(series, sizeof(series), "gacp_worker_stage_duration_"
		    "seconds_count{stage=\"%s\"}", stages[i]);
		v = metric(series);
		if (v != st0[i] + 1)
			fprintf(stderr, "stage %s: %g, was %g\n", stages[i], v,
			    st0[i]);
		CU_ASSERT_EQUAL(v, st0[i] + 1);
	}

	/* An API parse: its histogram count and +Inf bucket move by one. */
	CU_ASSERT_TRUE_FATAL(ru_demo_key(&key));
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(ru_call("POST", "/v1/nlu/parse", &key,
	    "{\"text\":\"how much is the certification fee?\"}", NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(metric(aparse), a0 + 1);
	CU_ASSERT_EQUAL(metric(abucket), ab0 + 1);

	/* Scrape-time gauges. */
	CU_ASSERT_TRUE(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL(metric("gacp_queue_stats_up"), 1);
	CU_ASSERT_TRUE(metric("gacp_inbound_queue_length") >= 0);
	CU_ASSERT_EQUAL(metric("gacp_inbound_queue_undelivered"), 0);
	/* A worker's consumer exists from its first XREADGROUP, and a
	 * worker removes other idle consumers without pending entries (a
	 * blocked read can look idle), so the count may be 0 for a moment
	 * between two reads: wait for a live one rather than sample once. */
	CU_ASSERT_TRUE(metric_wait("gacp_inbound_queue_consumers", 1,
	    MX_WAIT_MS) >= 1);
	CU_ASSERT_EQUAL(metric("gacp_deadletter_queue_length"),
	    (double)redis_xlen("gacp:deadletter"));
	/* The demo tenant's model is trained and activated through the
	 * version registry by scripts/demo-bot-provision (gacpctl nlu
	 * train): the gauge shows the active row's version. */
	snprintf(series, sizeof(series),
	    "gacp_nlu_active_model_version{tenant=\"%s\"}", env.tenant_id);
	{
		PGconn *vdb = db_connect();
		long active = vdb ? db_count(vdb, "SELECT coalesce(max(version), "
		    "0) FROM nlu_models WHERE status = 'active' AND NOT "
		    "is_deleted", 0, NULL) : -1;
		CU_ASSERT_TRUE(active >= 1);
		CU_ASSERT_EQUAL(metric(series), (double)active);
		PQfinish(vdb);
	}
	v = metric("gacp_nlu_active_models");
	CU_ASSERT_TRUE(v >= 1);
	/* A tenant whose version 3 is published (a link, as versions_publish
	 * makes): the gauge says 3 on the next scrape, and the series goes
	 * when its model does. */
	{
		static const char tid[] = "00000000-0000-4000-8000-0000000a11ce";
		char dir[4096], f3[4200], act[4200], cmd[8500];
		FILE *f;

		snprintf(dir, sizeof(dir), "%s/models/%s",
		    itest_env("GACP_VAR_DIR", "var/test"), tid);
		snprintf(f3, sizeof(f3), "%s/3.gnlu", dir);
		snprintf(act, sizeof(act), "%s/active.gnlu", dir);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CU_ASSERT_EQUAL(system(cmd), 0);
		CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(f3, "w"));
		fputs("GACPNLU\n", f);
		fclose(f);
		CU_ASSERT_EQUAL(link(f3, act), 0);
		snprintf(series, sizeof(series),
		    "gacp_nlu_active_model_version{tenant=\"%s\"}", tid);
		CU_ASSERT_EQUAL(metric(series), 3);
		CU_ASSERT_EQUAL(metric("gacp_nlu_active_models"), v + 1);
		CU_ASSERT_EQUAL(system(cmd), 0);
		CU_ASSERT_EQUAL(metric(series), -1);
	}
}

/* ---- queue upkeep and conversation order (issue #6 gaps) ----------------- */

/* The platform's own Redis client on the test stack's Redis. */
static bool
queue_client(struct cache *c, struct arena *a)
{
	char path[4096], pw[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/secrets/redis.password",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(pw, sizeof(pw), f) == NULL)
			pw[0] = '\0';
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
	}
	cache_init(c, "127.0.0.1", atoi(itest_env("GACP_REDIS_PORT", "56380")),
	    NULL, pw[0] ? pw : NULL, 2000, NULL);
	arena_init(a, 16 * 1024);
	return cache_connect(c, NULL) == GACP_OK;
}

/* Whether entry id is still in gacp:inbound. */
static bool
entry_exists(redisContext *rc, const char *id)
{
	redisReply *r = redisCommand(rc, "XRANGE gacp:inbound %s %s", id, id);
	bool yes = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1;

	if (r)
		freeReplyObject(r);
	return yes;
}

/* A consumer's pending count in the worker group, -1 when it is gone. */
static long long
consumer_pending(redisContext *rc, const char *name)
{
	redisReply *r = redisCommand(rc, "XINFO CONSUMERS gacp:inbound workers");
	long long n = -1;
	size_t i, f;

	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements;
	    i++) {
		redisReply *c = r->element[i];
		const char *cname = NULL;
		long long pend = 0;
		for (f = 0; f + 1 < c->elements; f += 2) {
			if (strcmp(c->element[f]->str, "name") == 0)
				cname = c->element[f + 1]->str;
			else if (strcmp(c->element[f]->str, "pending") == 0)
				pend = c->element[f + 1]->integer;
		}
		if (cname != NULL && strcmp(cname, name) == 0)
			n = pend;
	}
	if (r)
		freeReplyObject(r);
	return n;
}

/* With the workers stopped (so the test owns the group), on the real
 * stream and group:
 * 1. trimming removes acknowledged entries only: an undelivered entry and
 *    a pending one stay, the same entry once acked goes;
 * 2. reaping removes an idle consumer without pending entries and keeps
 *    one that owns an entry, however idle;
 * 3. dead-lettering moves and acks in one step, and refuses an entry that
 *    is no longer pending (nothing is added twice). */
static void
test_queue_trim_reap_deadletter(void)
{
	struct cache c;
	struct arena a;
	struct mxq_entry e;
	redisContext *rc;
	redisReply *r;
	char id[64];
	long long n, dl_before;
	struct gacp_err err;

	REQUIRE_ENV();
	CU_ASSERT_TRUE_FATAL(queue_wait_idle(MX_WAIT_MS));
	CU_ASSERT_EQUAL_FATAL(itest_stack("stop worker"), 0);
	rc = redis_connect();
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	CU_ASSERT_TRUE_FATAL(queue_client(&c, &a));
	gacp_err_clear(&err);

	/* 1. Everything so far is acknowledged: trimmed away. */
	CU_ASSERT_EQUAL(mxq_trim(&c, &a, &n, &err), GACP_OK);
	CU_ASSERT_EQUAL(redis_xlen("gacp:inbound"), 0);
	r = redisCommand(rc, "XADD gacp:inbound * e %s", "{\"itest\":\"upkeep\"}");
	CU_ASSERT_TRUE_FATAL(r != NULL && r->type == REDIS_REPLY_STRING);
	snprintf(id, sizeof(id), "%s", r->str);
	freeReplyObject(r);
	CU_ASSERT_EQUAL(mxq_trim(&c, &a, &n, &err), GACP_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_TRUE(entry_exists(rc, id));            /* undelivered */
	r = redisCommand(rc, "XREADGROUP GROUP workers itest-owner COUNT 1 "
	    "STREAMS gacp:inbound >");
	CU_ASSERT_TRUE(r != NULL && r->type == REDIS_REPLY_ARRAY);
	if (r)
		freeReplyObject(r);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-owner"), 1);
	CU_ASSERT_EQUAL(mxq_trim(&c, &a, &n, &err), GACP_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_TRUE(entry_exists(rc, id));            /* pending */

	/* 2. An idle consumer without entries goes; the owner stays. */
	r = redisCommand(rc, "XGROUP CREATECONSUMER gacp:inbound workers "
	    "itest-idle");
	if (r)
		freeReplyObject(r);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-idle"), 0);
	sleep_ms(300);
	CU_ASSERT_EQUAL(mxq_reap_consumers(&c, &a, "itest-self", 200, &n, &err),
	    GACP_OK);
	CU_ASSERT_TRUE(n >= 1);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-idle"), -1);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-owner"), 1);
	/* Not idle long enough: kept. */
	r = redisCommand(rc, "XGROUP CREATECONSUMER gacp:inbound workers "
	    "itest-idle");
	if (r)
		freeReplyObject(r);
	CU_ASSERT_EQUAL(mxq_reap_consumers(&c, &a, "itest-self", 60000, &n,
	    &err), GACP_OK);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-idle"), 0);

	/* 3. Dead-letter the pending entry: moved and acked together. */
	dl_before = redis_xlen("gacp:deadletter");
	memset(&e, 0, sizeof(e));
	e.id = id;
	e.payload = "{\"itest\":\"upkeep\"}";
	e.deliveries = 5;
	CU_ASSERT_EQUAL(mxq_deadletter(&c, &a, &e, "itest: dead", &err), GACP_OK);
	CU_ASSERT_EQUAL(redis_xlen("gacp:deadletter"), dl_before + 1);
	CU_ASSERT_EQUAL(consumer_pending(rc, "itest-owner"), 0);
	/* Again: no longer pending, nothing added. */
	CU_ASSERT_EQUAL(mxq_deadletter(&c, &a, &e, "itest: dead", &err),
	    GACP_ENOTFOUND);
	CU_ASSERT_EQUAL(redis_xlen("gacp:deadletter"), dl_before + 1);
	/* Acknowledged now: trimmed. */
	CU_ASSERT_EQUAL(mxq_trim(&c, &a, &n, &err), GACP_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_FALSE(entry_exists(rc, id));
	/* Leave no test dead letter behind. */
	r = redisCommand(rc, "XREVRANGE gacp:deadletter + - COUNT 1");
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		redisReply *d = redisCommand(rc, "XDEL gacp:deadletter %s",
		    r->element[0]->element[0]->str);
		if (d)
			freeReplyObject(d);
	}
	if (r)
		freeReplyObject(r);
	r = redisCommand(rc, "XGROUP DELCONSUMER gacp:inbound workers itest-idle");
	if (r)
		freeReplyObject(r);
	r = redisCommand(rc, "XGROUP DELCONSUMER gacp:inbound workers itest-owner");
	if (r)
		freeReplyObject(r);
	CU_ASSERT_EQUAL(itest_stack("start worker"), 0);
	arena_cleanup(&a);
	cache_cleanup(&c);
	redisFree(rc);
}

/* The holds themselves: an earlier failed event holds its conversation
 * against later ones (not against itself or an earlier one), an earlier
 * holder is not displaced, only the holder releases. */
static void
test_conversation_hold(void)
{
	struct cache c;
	struct arena a;
	struct gacp_err err;
	const char *key;
	char psid[32];
	int held;

	REQUIRE_ENV();
	CU_ASSERT_TRUE_FATAL(queue_client(&c, &a));
	gacp_err_clear(&err);
	new_psid(psid);
	key = mxq_hold_key(&a, env.tenant_id, env.channel_id, psid);
	CU_ASSERT_EQUAL(mxq_hold_check(&c, &a, key, 2000, "2-0", &held, &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(held, 0);
	CU_ASSERT_EQUAL(mxq_hold_set(&c, &a, key, 1000, "1-0", 60000, &err),
	    GACP_OK);
	mxq_hold_check(&c, &a, key, 2000, "2-0", &held, &err);
	CU_ASSERT_EQUAL(held, 1);                 /* later event waits */
	mxq_hold_check(&c, &a, key, 1000, "1-0", &held, &err);
	CU_ASSERT_EQUAL(held, 0);                 /* the holder itself */
	mxq_hold_check(&c, &a, key, 500, "0-5", &held, &err);
	CU_ASSERT_EQUAL(held, 0);                 /* an earlier event */
	/* A later failure does not take the hold over. */
	CU_ASSERT_EQUAL(mxq_hold_set(&c, &a, key, 2000, "2-0", 60000, &err),
	    GACP_OK);
	mxq_hold_check(&c, &a, key, 2000, "2-0", &held, &err);
	CU_ASSERT_EQUAL(held, 1);
	/* Only the holder releases. */
	CU_ASSERT_EQUAL(mxq_hold_release(&c, &a, key, "2-0", &err), GACP_OK);
	mxq_hold_check(&c, &a, key, 2000, "2-0", &held, &err);
	CU_ASSERT_EQUAL(held, 1);
	CU_ASSERT_EQUAL(mxq_hold_release(&c, &a, key, "1-0", &err), GACP_OK);
	mxq_hold_check(&c, &a, key, 2000, "2-0", &held, &err);
	CU_ASSERT_EQUAL(held, 0);
	arena_cleanup(&a);
	cache_cleanup(&c);
}

/* End to end: the Send API fails every attempt for a person's first
 * message (the event fails and waits for its retry); their second
 * message must not be answered before the first.  Once Graph recovers
 * both are answered, first before second. */
static void
test_failed_event_not_overtaken(void)
{
	static const char *deferred =
	    "gacp_worker_events_total{result=\"deferred\"}";
	char psid[32], mid1[64], mid2[64], *got;
	struct graph_calls calls;
	long from = graph_log_size();
	long long deadline;
	double d0;
	int k = 0;
	PGconn *db = db_connect();

	REQUIRE_ENV();
	CU_ASSERT_PTR_NOT_NULL_FATAL(db);
	CU_ASSERT_TRUE_FATAL(queue_wait_idle(MX_WAIT_MS));
	d0 = metric(deferred);
	/* messenger.send_attempts (4) answers of 500: the event fails. */
	CU_ASSERT_EQUAL(graph_control("script", "[{\"status\":500},"
	    "{\"status\":500},{\"status\":500},{\"status\":500}]"), 0);
	new_psid(psid);
	snprintf(mid1, sizeof(mid1), "m_order1_%s", psid);
	snprintf(mid2, sizeof(mid2), "m_order2_%s", psid);
	CU_ASSERT_EQUAL(say(psid, mid1, "hello"), 200);
	/* Wait until the four attempts were made (the event failed). */
	deadline = now_ms() + MX_WAIT_MS;
	do {
		graph_calls_since(from, &calls);
		k = count_attempts(&calls, psid);
		graph_calls_free(&calls);
		if (k >= 4)
			break;
		sleep_ms(MX_POLL_MS);
	} while (now_ms() < deadline);
	CU_ASSERT_EQUAL_FATAL(k, 4);
	sleep_ms(200);   /* the worker records the failure and the hold */
	CU_ASSERT_EQUAL(say(psid, mid2, "thanks"), 200);
	CU_ASSERT_TRUE(metric_wait(deferred, d0 + 1, MX_WAIT_MS) >= d0 + 1);
	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_replies(&calls, psid), 0);
	graph_calls_free(&calls);
	/* The retry (after worker.claim_idle_ms) answers both, in order. */
	got = wait_reply(from, psid, 2, 120000);
	CU_ASSERT_PTR_NOT_NULL(got);
	free(got);
	graph_calls_since(from, &calls);
	CU_ASSERT_EQUAL(count_replies(&calls, psid), 2);
	graph_calls_free(&calls);
	/* The first reply answers the first message (stored replies keep
	 * their inbound message: compare send times in PostgreSQL, once the
	 * worker has committed both; the stand-in logs a call before the
	 * worker records it). */
	CU_ASSERT_TRUE(db_wait_done(db, mid1, MX_WAIT_MS));
	CU_ASSERT_TRUE(db_wait_done(db, mid2, MX_WAIT_MS));
	{
		const char *p[2] = { mid1, mid2 };
		char *ok = db_value(db, "SELECT (SELECT max(o.sent_at) FROM "
		    "messages o JOIN messages i ON o.tenant_id = i.tenant_id AND "
		    "o.reply_to = i.id WHERE i.direction = 'in' AND "
		    "i.external_id = $1) < (SELECT min(o.sent_at) FROM messages o "
		    "JOIN messages i ON o.tenant_id = i.tenant_id AND o.reply_to = "
		    "i.id WHERE i.direction = 'in' AND i.external_id = $2)", 2, p);
		CU_ASSERT_PTR_NOT_NULL(ok);
		CU_ASSERT_TRUE(ok != NULL && strcmp(ok, "t") == 0);
		free(ok);
	}
	PQfinish(db);
}

void
itest_messenger_register(void)
{
	static const struct test_case cases[] = {
		{ "verify-token handshake", test_verify_handshake },
		{ "Thai message gets the Thai answer", test_thai_message },
		{ "English message gets the English answer", test_english_message },
		{ "Redis script cache emptied: EVALSHA falls back to EVAL",
		    test_script_cache_flushed },
		{ "bad or missing signature refused, nothing queued",
		    test_bad_signature_queues_nothing },
		{ "echo, delivery, read, standby ignored", test_ignored_events },
		{ "a batch's replies go to the Send API at once",
		    test_batch_replies_overlap },
		{ "a slow Send API call does not hold back later events",
		    test_slow_call_does_not_hold_back },
		{ "Send API calls paced per page", test_send_paced_per_page },
		{ "2 entries x 3 events give 6 replies",
		    test_batch_two_entries_three_events },
		{ "same event 3 times gives one reply", test_same_event_three_times },
		{ "Graph 500 twice then 200: one reply, sent",
		    test_graph_500_twice_then_ok },
		{ "Graph permanent error 551 marks the message failed",
		    test_graph_permanent_error_marks_failed },
		{ "Graph code 190 marks the channel needs_reauth",
		    test_graph_token_invalid_needs_reauth },
		{ "handed-off conversation gets no bot reply",
		    test_handoff_silences_bot },
		{ "gacpctl deadletter list and retry", test_deadletter_list_and_retry },
		{ "/metrics counters move with webhooks, worker and parse",
		    test_metrics_move },
		{ "queue: trim acked only, reap idle consumers, atomic dead letter",
		    test_queue_trim_reap_deadletter },
		{ "conversation hold: set, check, release", test_conversation_hold },
		{ "a failed event is not overtaken by a later one",
		    test_failed_event_not_overtaken },
		{ "Redis restarted between webhook and worker loses nothing",
		    test_redis_restart_between_webhook_and_worker },
		{ "worker SIGKILLed mid-batch: nothing lost, nothing doubled",
		    test_worker_sigkill_mid_batch },
		{ "worker killed during a Send API call: reply not sent twice",
		    test_worker_killed_during_send_not_resent },
		{ NULL, NULL },
	};

	tests_add_suite("messenger", cases);
}
