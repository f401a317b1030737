/* rest_util.c - helpers of the REST resource integration tests (see rest_util.h). */
#include "rest_util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

long long
ru_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void
ru_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
ru_unique(const char *prefix, char *out, size_t outlen)
{
	unsigned char rnd[4];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	snprintf(out, outlen, "%s%02x%02x%02x%02x", prefix, rnd[0], rnd[1],
	    rnd[2], rnd[3]);
}

void
ru_digits(char *out, size_t n)
{
	unsigned char rnd[64];
	size_t i;

	if (n > sizeof(rnd))
		n = sizeof(rnd);
	if (RAND_bytes(rnd, (int)n) != 1)
		memset(rnd, 7, sizeof(rnd));
	for (i = 0; i < n; i++)
		out[i] = (char)('0' + rnd[i] % 10);
	out[0] = (char)('1' + rnd[0] % 9);     /* no leading zero */
	out[n] = '\0';
}

bool
ru_demo_key(struct ru_cred *c)
{
	const char *key = getenv("DEMO_API_KEY");

	if (key == NULL || key[0] == '\0')
		return false;
	snprintf(c->header, sizeof(c->header), "X-API-Key: %s", key);
	return true;
}

int
ru_call(const char *method, const char *path, const struct ru_cred *cred,
    const char *body, const char *content_type, struct itest_response *out)
{
	const char *hdrs[3];
	char ct[128];
	int n = 0;

	if (body != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		    content_type ? content_type : "application/json");
		hdrs[n++] = ct;
	}
	if (cred != NULL)
		hdrs[n++] = cred->header;
	hdrs[n] = NULL;
	return itest_http(method, path, hdrs, body, body ? strlen(body) : 0,
	    out);
}

struct json_object *
ru_json_at(const struct itest_response *r, const char *path)
{
	struct json_object *cur = r->json;
	const char *p = path, *dot;
	char part[64];

	while (cur != NULL && *p != '\0') {
		size_t n;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		if (!json_object_object_get_ex(cur, part, &cur))
			return NULL;
		p += n + (dot ? 1 : 0);
	}
	return cur;
}

const char *
ru_json_str(const struct itest_response *r, const char *path)
{
	struct json_object *v = ru_json_at(r, path);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

int64_t
ru_json_int(const struct itest_response *r, const char *path)
{
	struct json_object *v = ru_json_at(r, path);

	return json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : -1;
}

bool
ru_field_error(const struct itest_response *r, const char *field,
    const char *code)
{
	struct json_object *d = ru_json_at(r, "error.details"), *e, *v;
	size_t i;

	if (!json_object_is_type(d, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(d); i++) {
		e = json_object_array_get_idx(d, i);
		if (!json_object_object_get_ex(e, "field", &v) ||
		    strcmp(json_object_get_string(v), field) != 0)
			continue;
		if (code == NULL || (json_object_object_get_ex(e, "code", &v) &&
		    strcmp(json_object_get_string(v), code) == 0))
			return true;
	}
	return false;
}

bool
ru_login(const char *tenant, const char *user, const char *password,
    struct ru_cred *c)
{
	struct json_object *b = json_object_new_object();
	struct itest_response r;
	const char *tok;
	bool ok = false;

	json_object_object_add(b, "tenant", json_object_new_string(tenant));
	json_object_object_add(b, "username", json_object_new_string(user));
	json_object_object_add(b, "password", json_object_new_string(password));
	ru_call("POST", "/v1/auth/login", NULL, json_object_to_json_string(b),
	    NULL, &r);
	json_object_put(b);
	if (r.status == 200 && (tok = ru_json_str(&r, "access_token")) != NULL) {
		snprintf(c->header, sizeof(c->header),
		    "Authorization: Bearer %s", tok);
		ok = true;
	} else {
		fprintf(stderr, "ru_login %s/%s: %ld %s\n", tenant, user,
		    r.status, r.body ? r.body : "");
	}
	itest_response_free(&r);
	return ok;
}

static const char *
password(void)
{
	return "Correct-Horse-9-Battery";
}

bool
ru_make_tenant(const char *prefix, struct ru_tenant *t)
{
	struct ru_cred admin;
	struct itest_response r;
	char body[512];
	const char *id;
	bool ok = false;

	memset(t, 0, sizeof(*t));
	if (!ru_login(itest_env("PLATFORM_TENANT_SLUG", "platform"),
	    itest_env("PLATFORM_ADMIN_USER", "operator"),
	    itest_env("PLATFORM_ADMIN_PASSWORD", ""), &admin))
		return false;
	ru_unique(prefix, t->slug, sizeof(t->slug));
	snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"Test %s\","
	    "\"owner\":{\"username\":\"owner\",\"password\":\"%s\"}}", t->slug,
	    t->slug, password());
	ru_call("POST", "/v1/tenants", &admin, body, NULL, &r);
	if (r.status == 201 && (id = ru_json_str(&r, "id")) != NULL) {
		snprintf(t->id, sizeof(t->id), "%s", id);
		ok = true;
	} else {
		fprintf(stderr, "ru_make_tenant: %ld %s\n", r.status,
		    r.body ? r.body : "");
	}
	itest_response_free(&r);
	return ok && ru_login(t->slug, "owner", password(), &t->owner);
}

bool
ru_make_user(const struct ru_tenant *t, const char *role, struct ru_cred *c)
{
	struct itest_response r;
	char body[512], name[64];
	bool ok;

	ru_unique(role, name, sizeof(name));
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\","
	    "\"roles\":[\"%s\"]}", name, password(), role);
	ru_call("POST", "/v1/users", &t->owner, body, NULL, &r);
	ok = r.status == 201;
	if (!ok)
		fprintf(stderr, "ru_make_user: %ld %s\n", r.status,
		    r.body ? r.body : "");
	itest_response_free(&r);
	return ok && ru_login(t->slug, name, password(), c);
}

/* ---- webhooks ------------------------------------------------------------ */

long
ru_post_webhook(const char *body, const char *secret)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0, i;
	char sig[160];
	const char *hdrs[3] = { "Content-Type: application/json", NULL, NULL };
	struct itest_response r;
	long status;

	if (secret != NULL) {
		HMAC(EVP_sha256(), secret, (int)strlen(secret),
		    (const unsigned char *)body, strlen(body), mac, &maclen);
		strcpy(sig, "X-Hub-Signature-256: sha256=");
		for (i = 0; i < maclen; i++)
			sprintf(sig + strlen(sig), "%02x", mac[i]);
		hdrs[1] = sig;
	}
	itest_http("POST", "/webhooks/messenger", hdrs, body, strlen(body), &r);
	status = r.status;
	itest_response_free(&r);
	return status;
}

long
ru_say(const char *page_id, const char *secret, const char *psid,
    const char *mid, const char *text)
{
	struct json_object *root = json_object_new_object();
	struct json_object *entries = json_object_new_array();
	struct json_object *entry = json_object_new_object();
	struct json_object *events = json_object_new_array();
	struct json_object *ev = json_object_new_object();
	struct json_object *sender = json_object_new_object();
	struct json_object *rcpt = json_object_new_object();
	struct json_object *msg = json_object_new_object();
	long long now = ru_now_ms();
	long status;

	json_object_object_add(sender, "id", json_object_new_string(psid));
	json_object_object_add(rcpt, "id", json_object_new_string(page_id));
	json_object_object_add(msg, "mid", json_object_new_string(mid));
	json_object_object_add(msg, "text", json_object_new_string(text));
	json_object_object_add(ev, "sender", sender);
	json_object_object_add(ev, "recipient", rcpt);
	json_object_object_add(ev, "timestamp", json_object_new_int64(now));
	json_object_object_add(ev, "message", msg);
	json_object_array_add(events, ev);
	json_object_object_add(entry, "id", json_object_new_string(page_id));
	json_object_object_add(entry, "time", json_object_new_int64(now));
	json_object_object_add(entry, "messaging", events);
	json_object_array_add(entries, entry);
	json_object_object_add(root, "object", json_object_new_string("page"));
	json_object_object_add(root, "entry", entries);
	status = ru_post_webhook(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), secret);
	json_object_put(root);
	return status;
}

/* ---- the Graph API stand-in ---------------------------------------------- */

static const char *
graph_log(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/graph-api.log",
	    itest_env("GACP_VAR_DIR", "var/test"));
	return path;
}

long
ru_graph_mark(void)
{
	struct stat st;

	return stat(graph_log(), &st) == 0 ? (long)st.st_size : 0;
}

int
ru_graph_messages(long mark, const char *psid, char **last_text)
{
	FILE *f = fopen(graph_log(), "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0;

	if (last_text != NULL)
		*last_text = NULL;
	if (f == NULL)
		return 0;
	fseek(f, mark, SEEK_SET);
	while ((len = getline(&line, &cap, f)) > 0) {
		struct json_object *j, *req, *rcpt, *id, *msg, *st, *txt;

		if (line[len - 1] != '\n')
			break;          /* being written */
		if ((j = json_tokener_parse(line)) == NULL)
			continue;
		if (json_object_object_get_ex(j, "request", &req) &&
		    json_object_object_get_ex(req, "recipient", &rcpt) &&
		    json_object_object_get_ex(rcpt, "id", &id) &&
		    strcmp(json_object_get_string(id), psid) == 0 &&
		    json_object_object_get_ex(req, "message", &msg) &&
		    json_object_object_get_ex(j, "status", &st) &&
		    json_object_get_int(st) == 200) {
			n++;
			if (last_text != NULL) {
				free(*last_text);
				*last_text = json_object_object_get_ex(msg, "text",
				    &txt) ? strdup(json_object_get_string(txt)) :
				    strdup("");
			}
		}
		json_object_put(j);
	}
	free(line);
	fclose(f);
	return n;
}

char *
ru_graph_wait(long mark, const char *psid, int n, int timeout_ms)
{
	long long deadline = ru_now_ms() + timeout_ms;
	char *text;

	do {
		if (ru_graph_messages(mark, psid, &text) >= n)
			return text;
		free(text);
		ru_sleep_ms(20);
	} while (ru_now_ms() < deadline);
	return NULL;
}

/* ---- the database ------------------------------------------------------- */

PGconn *
ru_db(const char *tenant_id)
{
	const char *url = getenv("GACP_DB_URL");
	const char *p[1] = { tenant_id };
	PGconn *c;
	PGresult *r;

	if (url == NULL)
		return NULL;
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "ru_db: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	r = PQexecParams(c, "SELECT set_config('app.tenant_id', $1, false)",
	    1, NULL, p, NULL, NULL, 0);
	PQclear(r);
	return c;
}

char *
ru_db_value(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	char *out = NULL;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0))
		out = strdup(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "ru_db_value: %s", PQresultErrorMessage(r));
	PQclear(r);
	return out;
}

bool
ru_db_exec(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "ru_db_exec: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}
