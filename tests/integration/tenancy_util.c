/* tenancy_util.c - helpers of the tenancy integration tests (see tenancy_util.h). */
#include "tenancy_util.h"
#include "common/util.h"
#include "security/crypto.h"
#include "security/keyring.h"
#include "security/token.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void
tu_unique(const char *prefix, char *out, size_t outlen)
{
	unsigned char rnd[4];
	char hex[9];

	util_random(rnd, sizeof(rnd));
	util_hex(rnd, sizeof(rnd), hex);
	snprintf(out, outlen, "%s%s", prefix, hex);
}

const char *
tu_password(void)
{
	return "Correct-Horse-9-Battery";
}

int
tu_call(const char *method, const char *path, const char *bearer,
    const char *api_key, const char *body, const char *extra,
    struct itest_response *out)
{
	const char *hdrs[5];
	char auth[4200], key[200];
	int n = 0;

	if (body != NULL)
		hdrs[n++] = "Content-Type: application/json";
	if (bearer != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		hdrs[n++] = auth;
	}
	if (api_key != NULL) {
		snprintf(key, sizeof(key), "X-API-Key: %s", api_key);
		hdrs[n++] = key;
	}
	if (extra != NULL)
		hdrs[n++] = extra;
	hdrs[n] = NULL;
	return itest_http(method, path, hdrs, body, body ? strlen(body) : 0,
	    out);
}

int
tu_login_resp(const char *tenant, const char *user, const char *password,
    struct itest_response *out)
{
	struct json_object *b = json_object_new_object();
	int rc;

	json_object_object_add(b, "tenant", json_object_new_string(tenant));
	json_object_object_add(b, "username", json_object_new_string(user));
	json_object_object_add(b, "password", json_object_new_string(password));
	rc = tu_call("POST", "/v1/auth/login", NULL, NULL,
	    json_object_to_json_string(b), NULL, out);
	json_object_put(b);
	return rc;
}

char *
tu_login(const char *tenant, const char *user, const char *password)
{
	struct itest_response r;
	const char *tok;
	char *out = NULL;

	tu_login_resp(tenant, user, password, &r);
	if (r.status == 200 && (tok = tu_json_str(&r, "access_token")) != NULL)
		out = strdup(tok);
	itest_response_free(&r);
	return out;
}

char *
tu_platform_token(void)
{
	return tu_login(itest_env("PLATFORM_TENANT_SLUG", "platform"),
	    itest_env("PLATFORM_ADMIN_USER", "operator"),
	    itest_env("PLATFORM_ADMIN_PASSWORD", ""));
}

char *
tu_demo_token(void)
{
	return tu_login(itest_env("DEMO_TENANT_SLUG", "demo"),
	    itest_env("DEMO_ADMIN_USER", "admin"),
	    itest_env("DEMO_ADMIN_PASSWORD", ""));
}

bool
tu_make_tenant(const char *prefix, const char *settings_json,
    struct tu_tenant *t)
{
	struct itest_response r;
	char body[1024], *admin = tu_platform_token();
	const char *id, *oid;
	bool ok = false;

	memset(t, 0, sizeof(*t));
	if (admin == NULL)
		return false;
	tu_unique(prefix, t->slug, sizeof(t->slug));
	snprintf(t->owner, sizeof(t->owner), "owner");
	snprintf(t->password, sizeof(t->password), "%s", tu_password());
	snprintf(body, sizeof(body), "{\"slug\":\"%s\",\"name\":\"Test %s\","
	    "\"settings\":%s,\"owner\":{\"username\":\"%s\",\"password\":\"%s\"}}",
	    t->slug, t->slug, settings_json ? settings_json : "{}", t->owner,
	    t->password);
	tu_call("POST", "/v1/tenants", admin, NULL, body, NULL, &r);
	if (r.status == 201 && (id = tu_json_str(&r, "id")) != NULL &&
	    (oid = tu_json_str(&r, "owner.id")) != NULL) {
		snprintf(t->id, sizeof(t->id), "%s", id);
		snprintf(t->owner_id, sizeof(t->owner_id), "%s", oid);
		ok = true;
	} else {
		fprintf(stderr, "tu_make_tenant: %ld %s\n", r.status, r.body);
	}
	itest_response_free(&r);
	free(admin);
	return ok;
}

bool
tu_make_user(const char *owner_token, const char *username, const char *role,
    char id_out[37])
{
	struct itest_response r;
	char body[512];
	const char *id;
	bool ok = false;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\","
	    "\"roles\":[\"%s\"]}", username, tu_password(), role);
	tu_call("POST", "/v1/users", owner_token, NULL, body, NULL, &r);
	if (r.status == 201 && (id = tu_json_str(&r, "id")) != NULL) {
		snprintf(id_out, 37, "%s", id);
		ok = true;
	} else {
		fprintf(stderr, "tu_make_user: %ld %s\n", r.status, r.body);
	}
	itest_response_free(&r);
	return ok;
}

bool
tu_make_key(const char *owner_token, const char *scopes_json,
    char key_out[80], char id_out[37])
{
	struct itest_response r;
	char body[1024];
	const char *key, *id;
	bool ok = false;

	snprintf(body, sizeof(body), "{\"name\":\"test key\",\"scopes\":%s}",
	    scopes_json);
	tu_call("POST", "/v1/api-keys", owner_token, NULL, body, NULL, &r);
	if (r.status == 201 && (key = tu_json_str(&r, "key")) != NULL &&
	    (id = tu_json_str(&r, "id")) != NULL) {
		snprintf(key_out, 80, "%s", key);
		snprintf(id_out, 37, "%s", id);
		ok = true;
	} else {
		fprintf(stderr, "tu_make_key: %ld %s\n", r.status, r.body);
	}
	itest_response_free(&r);
	return ok;
}

struct json_object *
tu_jget(struct json_object *o, const char *path)
{
	char part[64];
	const char *p = path, *dot;

	while (o != NULL && *p != '\0') {
		size_t n;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		if (!json_object_object_get_ex(o, part, &o))
			return NULL;
		p = dot ? dot + 1 : p + n;
	}
	return o;
}

const char *
tu_jstr(struct json_object *o, const char *path)
{
	struct json_object *v = tu_jget(o, path);

	return v && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

const char *
tu_json_str(const struct itest_response *r, const char *path)
{
	return tu_jstr(r->json, path);
}

int64_t
tu_json_int(const struct itest_response *r, const char *path)
{
	struct json_object *v = tu_jget(r->json, path);

	return v && json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : -1;
}

static redisContext *
redis_connect(void)
{
	char path[1024], pw[256] = "";
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
	c = redisConnect("127.0.0.1",
	    atoi(itest_env("GACP_REDIS_PORT", "56380")));
	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	if (pw[0] != '\0') {
		r = redisCommand(c, "AUTH %s", pw);
		if (r != NULL)
			freeReplyObject(r);
	}
	return c;
}

long long
tu_redis_int(const char *fmt, ...)
{
	redisContext *c = redis_connect();
	redisReply *r;
	long long v = -1;
	va_list ap;

	if (c == NULL)
		return -1;
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return v;
}

void
tu_reset_ip_limit(void)
{
	tu_redis_int("DEL gacp:{ip:127.0.0.1}:rl:auth");
}

static PGconn *
db_connect(const char *env)
{
	PGconn *c = PQconnectdb(itest_env(env, ""));

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "%s: %s", env, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGconn *
tu_db_app(void)
{
	return db_connect("GACP_APP_DB_URL");
}

PGconn *
tu_db_owner(void)
{
	return db_connect("GACP_DB_URL");
}

long long
tu_db_scalar(PGconn *conn, const char *tenant, const char *sql,
    char sqlstate[6])
{
	const char *p[1] = { tenant ? tenant : "" };
	PGresult *res;
	long long v = -1;
	ExecStatusType st;

	if (sqlstate != NULL)
		sqlstate[0] = '\0';
	PQclear(PQexec(conn, "BEGIN"));
	PQclear(PQexecParams(conn, "SELECT set_config('app.tenant_id', $1, true)",
	    1, NULL, p, NULL, NULL, 0));
	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (st == PGRES_TUPLES_OK)
		v = 0;
	else if (st == PGRES_COMMAND_OK)
		v = strtoll(PQcmdTuples(res), NULL, 10);
	else if (sqlstate != NULL && PQresultErrorField(res, PG_DIAG_SQLSTATE))
		snprintf(sqlstate, 6, "%s", PQresultErrorField(res,
		    PG_DIAG_SQLSTATE));
	PQclear(res);
	PQclear(PQexec(conn, st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ?
	    "COMMIT" : "ROLLBACK"));
	return v;
}

char *
tu_jwt(const char *header_json, const char *payload_json,
    const unsigned char *key, size_t key_len)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *h = crypto_base64_encode_alloc(CRYPTO_B64_URL, header_json,
	    strlen(header_json));
	char *p = crypto_base64_encode_alloc(CRYPTO_B64_URL, payload_json,
	    strlen(payload_json));
	char *signing, *sig, *out;
	size_t n = strlen(h) + strlen(p) + 2;

	signing = malloc(n);
	snprintf(signing, n, "%s.%s", h, p);
	crypto_hmac_sha256(key, key_len, signing, strlen(signing), mac);
	sig = crypto_base64_encode_alloc(CRYPTO_B64_URL, mac, sizeof(mac));
	n = strlen(signing) + strlen(sig) + 2;
	out = malloc(n);
	snprintf(out, n, "%s.%s", signing, sig);
	free(h);
	free(p);
	free(signing);
	free(sig);
	return out;
}

bool
tu_jwt_key(char kid[40], unsigned char key[512], size_t *key_len)
{
	struct keyring *kr = NULL;
	const struct keyring_key *k;
	struct gacp_err err;
	char path[1024];

	snprintf(path, sizeof(path), "%s/secrets/jwt.keys",
	    itest_env("GACP_VAR_DIR", "var/test"));
	if (token_keyring_load(path, &kr, &err) != GACP_OK) {
		fprintf(stderr, "tu_jwt_key: %s: %s\n", path, err.msg);
		return false;
	}
	k = keyring_current(kr);
	snprintf(kid, 40, "%s", k->kid);
	memcpy(key, k->bytes, k->len);
	*key_len = k->len;
	keyring_free(kr);
	return true;
}

int
tu_ctl(const char *args, const char *stdin_text, char **out)
{
	char cmd[2048], in_path[] = "/tmp/gacp-itest-ctl-XXXXXX";
	char buf[4096];
	FILE *p;
	size_t cap = 8192, len = 0, n;
	int fd, status;

	fd = mkstemp(in_path);
	if (fd < 0)
		return -1;
	if (stdin_text != NULL &&
	    write(fd, stdin_text, strlen(stdin_text)) < 0) {
		close(fd);
		unlink(in_path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "GACP_CONFIG=%s/gacp.conf %s/src/tools/gacpctl "
	    "%s <%s 2>>%s/log/itest-ctl.log", itest_env("GACP_VAR_DIR", "var/test"),
	    itest_env("GACP_ROOT", "."), args, in_path,
	    itest_env("GACP_VAR_DIR", "var/test"));
	*out = calloc(1, cap);
	p = popen(cmd, "r");
	if (p == NULL) {
		unlink(in_path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			*out = realloc(*out, cap);
		}
		memcpy(*out + len, buf, n);
		len += n;
		(*out)[len] = '\0';
	}
	status = pclose(p);
	unlink(in_path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
tu_run(const char *cmd, char **out)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int st;

	if (out)
		*out = NULL;
	if (p == NULL)
		return -1;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (nb == NULL)
				break;
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		if (n == 0)
			break;
		len += n;
	}
	if (buf)
		buf[len] = '\0';
	st = pclose(p);
	if (out)
		*out = buf ? buf : calloc(1, 1);
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
