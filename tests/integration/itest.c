/* itest.c - HTTP and stack helpers of the integration tests (itest.h). */
#include "itest.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct sink {
	char   *data;
	size_t  len;
};

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	char *p = realloc(s->data, s->len + n + 1);

	if (p == NULL)
		return 0;
	s->data = p;
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

const char *
itest_env(const char *name, const char *def)
{
	const char *v = getenv(name);
	return (v != NULL && v[0] != '\0') ? v : def;
}

/* Opt-in recorder for the OpenAPI conformance check (tests/openapi/check):
 * with GACP_ITEST_RECORD=FILE, every answered request is appended to FILE
 * as one JSON line {method, path, status, content_type, body}.  The body is
 * kept as text; the check parses it. */
static void
record(const char *method, const char *path, long status, const char *ctype,
    const char *body, size_t body_len)
{
	const char *file = getenv("GACP_ITEST_RECORD");
	struct json_object *o;
	int fd;

	if (file == NULL || file[0] == '\0')
		return;
	o = json_object_new_object();
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "status", json_object_new_int64(status));
	json_object_object_add(o, "content_type",
	    ctype ? json_object_new_string(ctype) : NULL);
	json_object_object_add(o, "body",
	    json_object_new_string_len(body, (int)body_len));
	/* One write(2) per line on an O_APPEND descriptor, so that lines of
	 * concurrent test processes do not interleave. */
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		const char *json = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		size_t n = strlen(json);
		char *line = malloc(n + 2);

		if (line != NULL) {
			memcpy(line, json, n);
			line[n] = '\n';
			if (write(fd, line, n + 1) < 0)
				perror("GACP_ITEST_RECORD");
			free(line);
		}
		close(fd);
	}
	json_object_put(o);
}

int
itest_http(const char *method, const char *path, const char *const *headers,
    const char *body, size_t body_len, struct itest_response *out)
{
	struct sink b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hl = NULL;
	char url[4096];
	CURL *c;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	c = curl_easy_init();
	if (c == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s",
	    itest_env("GACP_URL", "http://127.0.0.1:18080"), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		char *ctype = NULL;

		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
		record(method, path, out->status, ctype,
		    b.data ? b.data : "", b.len);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	out->body = b.data ? b.data : calloc(1, 1);
	out->body_len = b.len;
	out->headers = h.data ? h.data : calloc(1, 1);
	if (out->body_len > 0)
		out->json = json_tokener_parse(out->body);
	return rc == CURLE_OK ? 0 : -1;
}

void
itest_response_free(struct itest_response *r)
{
	free(r->body);
	free(r->headers);
	if (r->json != NULL)
		json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

int
itest_header(const struct itest_response *r, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vlen;
			while (*v == ' ')
				v++;
			vlen = len - (size_t)(v - p);
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = eol ? eol + 2 : NULL;
	}
	return 0;
}

const char *
itest_error_code(const struct itest_response *r)
{
	struct json_object *e, *c;

	if (r->json == NULL || !json_object_object_get_ex(r->json, "error", &e) ||
	    !json_object_object_get_ex(e, "code", &c))
		return NULL;
	return json_object_get_string(c);
}

int
itest_stack(const char *args)
{
	char cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s/scripts/gacp-stack %s >>%s/log/itest-stack.log 2>&1",
	    itest_env("GACP_ROOT", "."), args, itest_env("GACP_VAR_DIR", "var/test"));
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int
itest_wait_status(const char *path, long want_status, int timeout_ms)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 100) {
		struct itest_response r;
		long got;
		itest_http("GET", path, NULL, NULL, 0, &r);
		got = r.status;
		itest_response_free(&r);
		if (got == want_status)
			return 1;
		nanosleep(&pause, NULL);
	}
	return 0;
}
