/* test_badinput.c - the rows of doc/bad-input.md that only a request
 * through nginx can show: oversized and malformed headers, request
 * smuggling attempts, path traversal, header injection, slow clients, and
 * the JSON and query cases the parser's unit tests do not reach over HTTP.
 *
 * What libcurl refuses to send (NUL and bare CR in headers, two
 * Content-Lengths, obsolete line folding) goes over a raw socket to nginx.
 * Each test names the catalogue row it backs.
 */
#include "itest.h"
#include "rest_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int
connect_nginx(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(itest_env("GACP_HTTP_PORT",
	    "18080")));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send len bytes of req, read the answer until the server closes or
 * timeout_ms passes; the status of the first response line (0: none), the
 * answer into out (NUL-terminated, truncated to outlen). */
static int
raw(const char *req, size_t len, int timeout_ms, char *out, size_t outlen)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	size_t got = 0, off = 0;
	int fd = connect_nginx(), status = 0;
	ssize_t n;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (off < len && (n = write(fd, req + off, len - off)) > 0)
		off += (size_t)n;
	{
		char buf[16384];
		while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
			got += (size_t)n;
			if (got >= sizeof(buf) - 1)
				break;
		}
		buf[got] = '\0';
		if (strncmp(buf, "HTTP/1.", 7) == 0)
			status = atoi(buf + 9);
		if (out != NULL && outlen > 0) {
			size_t k = got < outlen - 1 ? got : outlen - 1;
			memcpy(out, buf, k);
			out[k] = '\0';
		}
	}
	close(fd);
	return status;
}

static int
raw_str(const char *req, char *out, size_t outlen)
{
	return raw(req, strlen(req), 5000, out, outlen);
}

/* Whether the answer's header block (up to the blank line) names hdr. */
static int
header_has(const char *answer, const char *hdr)
{
	const char *end = strstr(answer, "\r\n\r\n");
	const char *p = answer;
	size_t n = strlen(hdr);

	while ((p = strcasestr(p, hdr)) != NULL && (end == NULL || p < end)) {
		if (p > answer && p[-1] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* ---- HTTP layer ----------------------------------------------------------- */

static void
test_header_limits(void)
{
	char *big = malloc(12000), *many = malloc(12000), ans[4096];
	size_t i, off;

	/* One 10 KB header: over large_client_header_buffers (8k). */
	off = (size_t)snprintf(big, 12000, "GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-Big: ");
	for (i = 0; i < 10000; i++)
		big[off++] = 'a';
	memcpy(big + off, "\r\nConnection: close\r\n\r\n", 24);
	CU_ASSERT_EQUAL(raw(big, off + 23, 5000, ans, sizeof(ans)), 400);

	/* 60 headers of ~100 bytes: within the buffers. */
	off = (size_t)snprintf(many, 12000, "GET /health HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 60; i++)
		off += (size_t)snprintf(many + off, 12000 - off,
		    "X-H%zu: %0100d\r\n", i, 0);
	off += (size_t)snprintf(many + off, 12000 - off,
	    "Connection: close\r\n\r\n");
	CU_ASSERT_EQUAL(raw(many, off, 5000, ans, sizeof(ans)), 200);

	/* A 9 KB query: nginx's 414 before the application's own. */
	off = (size_t)snprintf(big, 12000, "GET /health?q=");
	for (i = 0; i < 9000; i++)
		big[off++] = 'a';
	off += (size_t)snprintf(big + off, 12000 - off,
	    " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CU_ASSERT_EQUAL(raw(big, off, 5000, ans, sizeof(ans)), 414);
	free(big);
	free(many);
}

/* An HTTP/0.9 request line: nginx answers the body alone, no status line
 * and no headers (it still speaks 0.9 for GET); the application's answer
 * is the same JSON. */
static void
test_http09(void)
{
	char ans[4096];

	CU_ASSERT_EQUAL(raw_str("GET /health\r\n", ans, sizeof(ans)), 0);
	CU_ASSERT_EQUAL(strncmp(ans, "{\"status\":\"ok\"}", 15), 0);
	CU_ASSERT_PTR_NULL(strstr(ans, "HTTP/"));
}

static void
test_nul_and_bare_cr_in_headers(void)
{
	static const char nul[] = "GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\0b\r\nConnection: close\r\n\r\n";
	char ans[4096];

	CU_ASSERT_EQUAL(raw(nul, sizeof(nul) - 1, 5000, ans, sizeof(ans)), 400);
	CU_ASSERT_EQUAL(raw_str("GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\rX-Evil: 1\r\nConnection: close\r\n\r\n", ans, sizeof(ans)),
	    400);
	/* Obsolete line folding. */
	CU_ASSERT_EQUAL(raw_str("GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\r\n X-Evil: 1\r\nConnection: close\r\n\r\n", ans,
	    sizeof(ans)), 400);
	/* A bare LF ends the header (nginx): X-Evil is just another
	 * request header, and nothing of it comes back. */
	CU_ASSERT_EQUAL(raw_str("GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\nX-Evil: 1\r\nConnection: close\r\n\r\n", ans, sizeof(ans)),
	    200);
	CU_ASSERT_FALSE(header_has(ans, "X-Evil"));
}

static void
test_smuggling_attempts(void)
{
	char ans[4096];

	/* Two Content-Lengths. */
	CU_ASSERT_EQUAL(raw_str("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n"
	    "Content-Length: 20\r\nConnection: close\r\n\r\n{}", ans,
	    sizeof(ans)), 400);
	/* Content-Length with chunked. */
	CU_ASSERT_EQUAL(raw_str("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    "0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n", ans, sizeof(ans)), 400);
	/* Negative Content-Length. */
	CU_ASSERT_EQUAL(raw_str("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: -1\r\nConnection: close\r\n\r\n", ans,
	    sizeof(ans)), 400);
}

static void
test_path_traversal(void)
{
	static const char *const paths[] = {
		"/../../etc/passwd", "/v1/../../etc/passwd",
		"/v1/%2e%2e/%2e%2e/etc/passwd",
	};
	char req[512], ans[4096];
	struct ru_cred key;
	struct itest_response r;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
		    "Connection: close\r\n\r\n", paths[i]);
		CU_ASSERT_EQUAL(raw_str(req, ans, sizeof(ans)), 400);
		CU_ASSERT_PTR_NULL(strstr(ans, "root:"));
	}
	/* An encoded slash stays inside one path segment; a double
	 * encoding is decoded once: no such user, never a file. */
	CU_ASSERT_TRUE_FATAL(ru_demo_key(&key));
	CU_ASSERT_EQUAL(ru_call("GET", "/v1/users/..%2f..%2fetc", &key, NULL,
	    NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	itest_response_free(&r);
	CU_ASSERT_EQUAL(ru_call("GET", "/v1/users/%252e%252e%252fetc", &key,
	    NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	RU_ASSERT_STR(itest_error_code(&r), "not_found");
	itest_response_free(&r);
}

static void
test_crlf_injection(void)
{
	struct ru_cred key;
	struct itest_response r;
	char ans[4096];

	/* CRLF in the path: no route, and no header is added. */
	CU_ASSERT_EQUAL(raw_str("GET /health%0d%0aX-Evil:%201 HTTP/1.1\r\n"
	    "Host: x\r\nConnection: close\r\n\r\n", ans, sizeof(ans)), 404);
	CU_ASSERT_FALSE(header_has(ans, "X-Evil"));
	/* CRLF in JSON text: echoed JSON-escaped in the body only. */
	CU_ASSERT_TRUE_FATAL(ru_demo_key(&key));
	CU_ASSERT_EQUAL(ru_call("POST", "/model/parse", &key,
	    "{\"text\":\"hi\\r\\nSet-Cookie: x=1\"}", NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strcasestr(r.headers, "\nSet-Cookie"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\\r\\nSet-Cookie"));
	itest_response_free(&r);
}

/* ---- JSON and query ------------------------------------------------------- */

static void
expect(const char *method, const char *path, const char *body, long status,
    const char *code)
{
	struct ru_cred key;
	struct itest_response r;

	CU_ASSERT_TRUE_FATAL(ru_demo_key(&key));
	CU_ASSERT_EQUAL_FATAL(ru_call(method, path, &key, body, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, status);
	if (code != NULL)
		RU_ASSERT_STR(itest_error_code(&r), code);
	if (r.status != status)
		fprintf(stderr, "\n  %s %s %s: %ld %s\n", method, path,
		    body ? body : "", r.status, r.body);
	itest_response_free(&r);
}

static void
test_json_bodies(void)
{
	struct ru_cred key;
	struct itest_response r;

	expect("POST", "/model/parse",
	    "{\"text\":\"hello\",\"text\":\"ค่าธรรมเนียมเท่าไหร่\"}", 400,
	    "invalid_json");
	expect("POST", "/v1/nlu/parse", "{\"text\":\"hello\",\"threshold\":NaN}",
	    400, "invalid_json");
	expect("POST", "/v1/nlu/parse", "{\"text\":\"hello\",\"t\":Infinity}",
	    400, "invalid_json");
	expect("POST", "/v1/channels", "{\"max\":1e999}", 400, "invalid_json");
	expect("POST", "/v1/nlu/parse", "[\"hello\"]", 400, "invalid_json");
	/* Unknown fields: ignored by the Rasa-compatible parse. */
	expect("POST", "/v1/nlu/parse", "{\"text\":\"hello\",\"bogus\":1}", 200,
	    NULL);
	/* An escaped lone surrogate becomes U+FFFD, not invalid UTF-8. */
	CU_ASSERT_TRUE_FATAL(ru_demo_key(&key));
	CU_ASSERT_EQUAL(ru_call("POST", "/model/parse", &key,
	    "{\"text\":\"a\\ud800b\"}", NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	RU_ASSERT_STR(ru_json_str(&r, "text"), "a\xef\xbf\xbd" "b");
	itest_response_free(&r);
}

static void
test_query_limits(void)
{
	expect("GET", "/v1/audit-log?limit=-5", NULL, 422, "validation_failed");
	expect("GET", "/v1/audit-log?limit=99999999999999999999999", NULL, 422,
	    "validation_failed");
	expect("GET", "/v1/conversations?limit=-1", NULL, 422,
	    "validation_failed");
}

/* ---- slow clients ---------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds until the server closes fd (reading whatever it sends
 * into *answered), at most limit_ms; -1 if it did not. */
static long long
wait_closed(int fd, long long start, int limit_ms, int *answered)
{
	char buf[512];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	*answered = 0;
	while (now_ms() - start < limit_ms) {
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return now_ms() - start;
		if (n > 0 && strncmp(buf, "HTTP/", 5) == 0)
			*answered = 1;
	}
	return -1;
}

/* Headers trickled and a body announced but not sent: nginx closes both
 * after its 10 s timeouts without passing anything to the application,
 * and with 300 such connections open /health still answers at once. */
static void
test_slowloris(void)
{
	enum { NSLOW = 300 };
	static const char partial[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-A: ";
	static const char body[] = "POST /v1/auth/login HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{";
	int *slow = calloc(NSLOW, sizeof(int)), hdr, bdy, i, open_n = 0;
	int answered_h = 1, answered_b = 1;
	long long start, t_h, t_b, t0;
	struct itest_response r;

	hdr = connect_nginx();
	bdy = connect_nginx();
	CU_ASSERT_TRUE_FATAL(hdr >= 0 && bdy >= 0);
	start = now_ms();
	CU_ASSERT_EQUAL((size_t)write(hdr, partial, sizeof(partial) - 1),
	    sizeof(partial) - 1);
	CU_ASSERT_EQUAL((size_t)write(bdy, body, sizeof(body) - 1),
	    sizeof(body) - 1);
	for (i = 0; i < NSLOW; i++) {
		slow[i] = connect_nginx();
		if (slow[i] >= 0 && write(slow[i], partial, 10) == 10)
			open_n++;
	}
	CU_ASSERT_EQUAL(open_n, NSLOW);
	t0 = now_ms();
	CU_ASSERT_EQUAL(itest_http("GET", "/health", NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_TRUE(now_ms() - t0 < 1000);
	itest_response_free(&r);

	t_h = wait_closed(hdr, start, 14000, &answered_h);
	t_b = wait_closed(bdy, start, 14000, &answered_b);
	/* client_header_timeout / client_body_timeout are 10 s. */
	CU_ASSERT_TRUE(t_h >= 9000 && t_h <= 13000);
	CU_ASSERT_TRUE(t_b >= 9000 && t_b <= 13000);
	CU_ASSERT_FALSE(answered_h);
	fprintf(stderr, "\n  slow headers closed after %lld ms, slow body after "
	    "%lld ms (answered %d/%d)\n", t_h, t_b, answered_h, answered_b);
	close(hdr);
	close(bdy);
	for (i = 0; i < NSLOW; i++)
		if (slow[i] >= 0)
			close(slow[i]);
	free(slow);
}

void
itest_badinput_register(void)
{
	static const struct test_case cases[] = {
		{ "oversized header 400, many headers 200, long URL 414",
		    test_header_limits },
		{ "HTTP/0.9 request line: the body alone", test_http09 },
		{ "NUL, bare CR, folding in headers 400; bare LF reflects nothing",
		    test_nul_and_bare_cr_in_headers },
		{ "two Content-Lengths, CL with chunked, negative CL: 400",
		    test_smuggling_attempts },
		{ "path traversal 400, encoded slash and double encoding 404",
		    test_path_traversal },
		{ "CRLF in path or JSON text adds no header", test_crlf_injection },
		{ "duplicate keys, NaN, 1e999, non-object: 400 invalid_json",
		    test_json_bodies },
		{ "negative and huge limits: 422", test_query_limits },
		{ "slowloris: closed after 10 s, /health unaffected",
		    test_slowloris },
		{ NULL, NULL }
	};
	tests_add_suite("badinput", cases);
}
