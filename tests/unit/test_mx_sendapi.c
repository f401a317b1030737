/* test_mx_sendapi.c - unit tests of the Send API client (messenger/sendapi.c):
 * the classification of Graph's answers, the request bodies, and
 * mx_send_many and mx_send_start/mx_send_poll against a loopback HTTP
 * server run on a thread of this test (scripted answers; it records what
 * it received).
 *
 * The server accepts every connection of a round before it answers any,
 * so a client that sent its calls one after another would never get an
 * answer to its first: the overlap of the calls is shown by the test
 * finishing, not by a clock.  (The server gives up after 10 s, and the
 * test then fails on the missing answers.)
 */
#include "tests.h"
#include "common/json.h"
#include "messenger/sendapi.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- classification and bodies ------------------------------------------ */

static void
test_classify(void)
{
	CU_ASSERT_EQUAL(mx_send_classify(200, 0, 0), MX_SEND_OK);
	CU_ASSERT_EQUAL(mx_send_classify(500, 0, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(503, 2, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(429, 0, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(0, 0, 0), MX_SEND_RETRY);   /* transport */
	CU_ASSERT_EQUAL(mx_send_classify(400, 4, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(400, 17, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(400, 32, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(400, 613, 0), MX_SEND_RETRY);
	CU_ASSERT_EQUAL(mx_send_classify(400, 100, 2018001), MX_SEND_FAILED);
	CU_ASSERT_EQUAL(mx_send_classify(400, 10, 2018278), MX_SEND_FAILED);
	CU_ASSERT_EQUAL(mx_send_classify(400, 551, 0), MX_SEND_FAILED);
	CU_ASSERT_EQUAL(mx_send_classify(400, 0, 0), MX_SEND_FAILED);
	/* 190 by its code, whatever the status or the message. */
	CU_ASSERT_EQUAL(mx_send_classify(400, 190, 0), MX_SEND_REAUTH);
	CU_ASSERT_EQUAL(mx_send_classify(401, 190, 460), MX_SEND_REAUTH);
}

static void
test_bodies(void)
{
	struct mx_quick_reply qr[15];
	struct json_object *o, *v, *m, *q;
	char *body;
	int i;

	for (i = 0; i < 15; i++) {
		qr[i].title = "ตกลง \"yes\"";
		qr[i].payload = "YES";
	}
	body = mx_send_text_body("1234", "สวัสดี\n\"hi\"", qr, 15);
	o = json_tokener_parse(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(json_get_str(o, "messaging_type"), "RESPONSE");
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "recipient", &v));
	CU_ASSERT_STRING_EQUAL(json_get_str(v, "id"), "1234");
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "message", &m));
	CU_ASSERT_STRING_EQUAL(json_get_str(m, "text"), "สวัสดี\n\"hi\"");
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(m, "quick_replies", &q));
	/* Messenger takes at most 13 quick replies. */
	CU_ASSERT_EQUAL(json_object_array_length(q), 13);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_object_array_get_idx(q, 0),
	    "title"), "ตกลง \"yes\"");
	json_object_put(o);
	free(body);

	body = mx_send_action_body("99", "typing_on");
	o = json_tokener_parse(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(json_get_str(o, "sender_action"), "typing_on");
	CU_ASSERT_FALSE(json_object_object_get_ex(o, "message", &m));
	json_object_put(o);
	free(body);
}

/* ---- a loopback server ---------------------------------------------------- */

#define SRV_MAX 32

/* Answers by body: a body holding "fail":N and "status":S is answered S
 * the first N times it arrives, then 200 (S 400 with Graph code 551, any
 * other with code 2).  With hold > 0 the first `hold` connections are
 * all accepted before any is answered. */
struct srv {
	int  fd;
	int  port;
	int  hold;
	int  expect;               /* requests to serve, then stop */
	char bodies[SRV_MAX][256];
	char paths[SRV_MAX][256];
	int  received;
	int  timed_out;
};

static void
read_request(int fd, char *path, size_t plen, char *body, size_t blen)
{
	char buf[8192];
	size_t got = 0, need = 0;
	char *end = NULL, *cl, *sp;

	path[0] = body[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(end - buf) + 4 +
			    (cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
			if (got >= need)
				break;
		}
		if (got == sizeof(buf) - 1)
			return;
	}
	if ((sp = strchr(buf, ' ')) != NULL) {
		char *sp2 = strchr(sp + 1, ' ');
		if (sp2 != NULL)
			snprintf(path, plen, "%.*s", (int)(sp2 - sp - 1), sp + 1);
	}
	snprintf(body, blen, "%s", end + 4);
}

static int
field(const char *body, const char *key)
{
	const char *p = strstr(body, key);

	return p != NULL ? atoi(p + strlen(key)) : 0;
}

static void
answer(struct srv *s, int fd, int idx)
{
	const char *body = s->bodies[idx];
	int fail = field(body, "\"fail\":"), status = 200, k, seen = 0;
	char out[512], ans[256];
	int len;
	ssize_t w;

	for (k = 0; k < idx; k++)
		seen += strcmp(s->bodies[k], body) == 0;
	if (seen < fail)
		status = field(body, "\"status\":");
	if (status == 200)
		snprintf(ans, sizeof(ans), "{\"recipient_id\":\"1\","
		    "\"message_id\":\"m_%d\"}", idx);
	else
		snprintf(ans, sizeof(ans), "{\"error\":{\"message\":\"scripted\","
		    "\"type\":\"T\",\"code\":%d}}", status == 400 ? 551 : 2);
	len = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s", status, strlen(ans), ans);
	w = write(fd, out, (size_t)len);
	(void)w;
	close(fd);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;
	int held[SRV_MAX], nheld = 0, i;

	while (s->received < s->expect && s->received < SRV_MAX) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int fd, idx;

		if (poll(&p, 1, 10000) <= 0) {
			s->timed_out = 1;
			break;
		}
		if ((fd = accept(s->fd, NULL, NULL)) < 0)
			break;
		idx = s->received;
		read_request(fd, s->paths[idx], sizeof(s->paths[0]),
		    s->bodies[idx], sizeof(s->bodies[0]));
		s->received++;
		if (idx < s->hold) {
			held[nheld++] = fd;
			if (nheld == s->hold)
				for (i = 0; i < nheld; i++)
					answer(s, held[i], i);
			continue;
		}
		answer(s, fd, idx);
	}
	if (nheld < s->hold)            /* never all there: let them go */
		for (i = 0; i < nheld; i++)
			answer(s, held[i], i);
	return NULL;
}

static void
srv_start(struct srv *s, pthread_t *t)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_TRUE_FATAL(s->fd >= 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(s->fd, 64), 0);
	getsockname(s->fd, (struct sockaddr *)&a, &alen);
	s->port = ntohs(a.sin_port);
	CU_ASSERT_EQUAL_FATAL(pthread_create(t, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s, pthread_t t)
{
	pthread_join(t, NULL);
	close(s->fd);
}

static void
client(struct mx_send_client *c, const struct srv *s)
{
	char base[64];
	struct gacp_err err;

	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v19.0", s->port);
	CU_ASSERT_EQUAL_FATAL(mx_send_client_init(c, base, 2000, 5000, 3, &err),
	    GACP_OK);
	c->backoff_base_ms = 1;     /* retries without the wait */
	c->backoff_max_ms = 5;
}

struct done_log {
	struct mx_send_call *calls[SRV_MAX];
	int n;
};

static void
on_done(struct mx_send_call *call, void *arg)
{
	struct done_log *d = arg;

	if (d->n < SRV_MAX)
		d->calls[d->n++] = call;
}

/* ---- mx_send_many --------------------------------------------------------- */

/* Eight calls at once: all eight reach the server before it answers any;
 * each gets its own answer, on_done once each. */
static void
test_many_overlap(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct mx_send_client c;
	struct mx_send_call calls[8];
	struct done_log d;
	char bodies[8][64];
	pthread_t t;
	int i, k;

	s->hold = 8;
	s->expect = 8;
	srv_start(s, &t);
	client(&c, s);
	memset(calls, 0, sizeof(calls));
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 8; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "{\"n\":%d}", i);
		calls[i].access_token = "tok en/+";
		calls[i].body = bodies[i];
		calls[i].on_done = on_done;
		calls[i].on_done_arg = &d;
	}
	CU_ASSERT_EQUAL(mx_send_many(&c, calls, 8), GACP_OK);
	srv_stop(s, t);
	CU_ASSERT_FALSE(s->timed_out);
	CU_ASSERT_EQUAL(s->received, 8);
	CU_ASSERT_EQUAL(d.n, 8);
	for (i = 0; i < 8; i++) {
		int seen = 0;

		CU_ASSERT_EQUAL(calls[i].res.outcome, MX_SEND_OK);
		CU_ASSERT_EQUAL(calls[i].res.attempts, 1);
		CU_ASSERT_EQUAL(calls[i].res.http_status, 200);
		CU_ASSERT_EQUAL(strncmp(calls[i].res.message_id, "m_", 2), 0);
		CU_ASSERT_FALSE(calls[i].stopped);
		for (k = 0; k < 8; k++)
			seen += d.calls[k] == &calls[i];
		CU_ASSERT_EQUAL(seen, 1);             /* on_done once */
		for (seen = 0, k = 0; k < 8; k++)
			seen += strcmp(s->bodies[k], bodies[i]) == 0;
		CU_ASSERT_EQUAL(seen, 1);             /* arrived once */
	}
	/* The token is URL-escaped into the query. */
	CU_ASSERT_STRING_EQUAL(s->paths[0],
	    "/v19.0/me/messages?access_token=tok%20en%2F%2B");
	mx_send_client_cleanup(&c);
	free(s);
}

/* A call's owner as before_next sees it: counts the questions and gives
 * its fixed answer (1: stop). */
struct owner {
	int asked;
	int stop;
};

static int
ask_owner(void *arg)
{
	struct owner *o = arg;

	o->asked++;
	return o->stop;
}

/* Retries are per call: a gets 500 then 200 (two attempts); b 400/551,
 * permanent (one attempt, failed); c sends a typing indicator first,
 * answered 500 and not retried, then its message; d gets 500 every time
 * (max_attempts 3, then MX_SEND_RETRY); e gets 500 and its hook stops
 * the retry (stopped, one attempt). */
static void
test_many_retries(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct mx_send_client c;
	struct mx_send_call calls[5];
	struct owner stop = { 0, 1 };
	int i, typing = 0;
	pthread_t t;

	s->expect = 2 + 1 + 2 + 3 + 1;
	srv_start(s, &t);
	client(&c, s);
	memset(calls, 0, sizeof(calls));
	for (i = 0; i < 5; i++)
		calls[i].access_token = "t";
	calls[0].body = "{\"id\":\"a\",\"fail\":1,\"status\":500}";
	calls[1].body = "{\"id\":\"b\",\"fail\":9,\"status\":400}";
	calls[2].first_body = "{\"typing\":1,\"fail\":9,\"status\":500}";
	calls[2].body = "{\"id\":\"c\"}";
	calls[3].body = "{\"id\":\"d\",\"fail\":9,\"status\":500}";
	calls[4].body = "{\"id\":\"e\",\"fail\":9,\"status\":500}";
	calls[4].before_next = ask_owner;
	calls[4].before_next_arg = &stop;
	CU_ASSERT_EQUAL(mx_send_many(&c, calls, 5), GACP_OK);
	srv_stop(s, t);
	CU_ASSERT_FALSE(s->timed_out);
	CU_ASSERT_EQUAL(s->received, 9);

	CU_ASSERT_EQUAL(calls[0].res.outcome, MX_SEND_OK);
	CU_ASSERT_EQUAL(calls[0].res.attempts, 2);
	CU_ASSERT_EQUAL(calls[1].res.outcome, MX_SEND_FAILED);
	CU_ASSERT_EQUAL(calls[1].res.attempts, 1);
	CU_ASSERT_EQUAL(calls[1].res.graph_code, 551);
	CU_ASSERT_EQUAL(calls[2].res.outcome, MX_SEND_OK);
	CU_ASSERT_EQUAL(calls[2].res.attempts, 1);
	CU_ASSERT_EQUAL(calls[3].res.outcome, MX_SEND_RETRY);
	CU_ASSERT_EQUAL(calls[3].res.attempts, 3);
	CU_ASSERT_EQUAL(calls[3].res.http_status, 500);
	CU_ASSERT_EQUAL(calls[4].res.outcome, MX_SEND_RETRY);
	CU_ASSERT_EQUAL(calls[4].res.attempts, 1);
	CU_ASSERT_TRUE(calls[4].stopped);
	CU_ASSERT_EQUAL(stop.asked, 1);
	for (i = 0; i < 4; i++)
		CU_ASSERT_FALSE(calls[i].stopped);
	/* The typing indicator went first, once. */
	for (i = 0; i < s->received; i++)
		typing += strstr(s->bodies[i], "typing") != NULL;
	CU_ASSERT_EQUAL(typing, 1);
	mx_send_client_cleanup(&c);
	free(s);
}

/* mx_send: one call, the same retries. */
static void
test_single(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct mx_send_client c;
	struct mx_send_result r;
	pthread_t t;

	s->expect = 3;
	srv_start(s, &t);
	client(&c, s);
	CU_ASSERT_EQUAL(mx_send(&c, "t", "{\"fail\":2,\"status\":503}", &r),
	    GACP_OK);
	srv_stop(s, t);
	CU_ASSERT_EQUAL(r.outcome, MX_SEND_OK);
	CU_ASSERT_EQUAL(r.attempts, 3);
	CU_ASSERT_EQUAL(mx_send(&c, NULL, "{}", &r), GACP_EINVAL);
	mx_send_client_cleanup(&c);
	free(s);
}

/* ---- mx_send_start / mx_send_poll ---------------------------------------- */

struct chain {
	struct mx_send_client *c;
	struct mx_send_call   *next;     /* started by the first's on_done */
	struct done_log       *d;
	int                    started;
};

static void
on_done_chain(struct mx_send_call *call, void *arg)
{
	struct chain *ch = arg;

	on_done(call, ch->d);
	if (ch->next != NULL && !ch->started) {
		ch->started = 1;
		CU_ASSERT_EQUAL(mx_send_start(ch->c, ch->next), GACP_OK);
	}
}

/* Calls started at different times are on the wire together: the server
 * answers none of the first three until all three arrived, so the first,
 * started alone and polled without waiting, is still in flight when the
 * others start; the first's on_done starts a fourth call. */
static void
test_start_poll(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct mx_send_client c;
	struct mx_send_call calls[4];
	struct done_log d;
	struct chain ch;
	char bodies[4][64];
	pthread_t t;
	int i;

	s->hold = 3;
	s->expect = 4;
	srv_start(s, &t);
	client(&c, s);
	memset(calls, 0, sizeof(calls));
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 4; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "{\"n\":%d}", i);
		calls[i].access_token = "t";
		calls[i].body = bodies[i];
		calls[i].on_done = on_done;
		calls[i].on_done_arg = &d;
	}
	ch.c = &c;
	ch.next = &calls[3];
	ch.d = &d;
	ch.started = 0;
	calls[0].on_done = on_done_chain;
	calls[0].on_done_arg = &ch;
	CU_ASSERT_EQUAL(mx_send_poll(&c, 0), 0);       /* nothing yet */
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[0]), GACP_OK);
	for (i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(mx_send_poll(&c, 0), 1);
	CU_ASSERT_FALSE(calls[0].finished);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[1]), GACP_OK);
	CU_ASSERT_EQUAL(mx_send_inflight(&c), 2);
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[2]), GACP_OK);
	for (i = 0; i < 100 && mx_send_inflight(&c) > 0; i++)
		mx_send_poll(&c, 1000);
	srv_stop(s, t);
	CU_ASSERT_FALSE(s->timed_out);
	CU_ASSERT_EQUAL(s->received, 4);
	CU_ASSERT_EQUAL(mx_send_inflight(&c), 0);
	CU_ASSERT_EQUAL(ch.started, 1);
	CU_ASSERT_EQUAL(d.n, 4);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_TRUE(calls[i].finished);
		CU_ASSERT_EQUAL(calls[i].res.outcome, MX_SEND_OK);
		CU_ASSERT_EQUAL(calls[i].res.attempts, 1);
	}
	/* The chained call was sent after the first three were answered. */
	CU_ASSERT_STRING_EQUAL(s->bodies[3], bodies[3]);
	CU_ASSERT_EQUAL(mx_send_start(&c, NULL), GACP_EINVAL);
	mx_send_client_cleanup(&c);
	free(s);
}

/* A call with a start delay (a page's pacing slot) is not on the wire
 * when mx_send_start returns, only once a poll finds it due; its owner is
 * asked (before_next) right before that first call.  A second call
 * started after it without a delay goes out first: the server answers
 * the first request it gets at once, and the order of its log says which
 * came first.  A delayed call whose owner says stop is never sent. */
static void
test_start_delay(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct mx_send_client c;
	struct mx_send_call calls[3];
	struct owner keep = { 0, 0 }, stop = { 0, 1 };
	int i;
	pthread_t t;

	s->expect = 2;
	srv_start(s, &t);
	client(&c, s);
	memset(calls, 0, sizeof(calls));
	for (i = 0; i < 3; i++)
		calls[i].access_token = "t";
	calls[0].body = "{\"id\":\"delayed\"}";
	calls[0].start_delay_ms = 1500;
	calls[0].before_next = ask_owner;
	calls[0].before_next_arg = &keep;
	calls[1].body = "{\"id\":\"now\"}";
	calls[2].body = "{\"id\":\"never\"}";
	calls[2].start_delay_ms = 1;
	calls[2].before_next = ask_owner;
	calls[2].before_next_arg = &stop;
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[0]), GACP_OK);
	CU_ASSERT_EQUAL(keep.asked, 0);
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[1]), GACP_OK);
	CU_ASSERT_EQUAL(mx_send_start(&c, &calls[2]), GACP_OK);
	CU_ASSERT_EQUAL(mx_send_inflight(&c), 3);
	for (i = 0; i < 100 && mx_send_inflight(&c) > 0; i++)
		mx_send_poll(&c, 1000);
	srv_stop(s, t);
	CU_ASSERT_FALSE(s->timed_out);
	CU_ASSERT_EQUAL(s->received, 2);
	CU_ASSERT_STRING_EQUAL(s->bodies[0], "{\"id\":\"now\"}");
	CU_ASSERT_STRING_EQUAL(s->bodies[1], "{\"id\":\"delayed\"}");
	CU_ASSERT_EQUAL(keep.asked, 1);
	CU_ASSERT_EQUAL(calls[0].res.outcome, MX_SEND_OK);
	CU_ASSERT_EQUAL(calls[0].res.attempts, 1);
	CU_ASSERT_EQUAL(calls[1].res.outcome, MX_SEND_OK);
	CU_ASSERT_EQUAL(stop.asked, 1);
	CU_ASSERT_TRUE(calls[2].stopped);
	CU_ASSERT_TRUE(calls[2].finished);
	CU_ASSERT_EQUAL(calls[2].res.attempts, 0);
	CU_ASSERT_EQUAL(calls[2].res.outcome, MX_SEND_RETRY);
	mx_send_client_cleanup(&c);
	free(s);
}

/* A client cleaned up with a call still on the wire (a peer that never
 * answers) lets it go without its on_done and without a leak (the
 * sanitizer build checks the latter). */
static void
test_cleanup_in_flight(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct mx_send_client c;
	struct mx_send_call call;
	struct done_log d;
	struct gacp_err err;
	char base[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), i;

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(fd, 4), 0);     /* never accepted */
	getsockname(fd, (struct sockaddr *)&a, &alen);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v19.0",
	    ntohs(a.sin_port));
	CU_ASSERT_EQUAL_FATAL(mx_send_client_init(&c, base, 2000, 5000, 3,
	    &err), GACP_OK);
	memset(&call, 0, sizeof(call));
	memset(&d, 0, sizeof(d));
	call.access_token = "secret";
	call.body = "{}";
	call.on_done = on_done;
	call.on_done_arg = &d;
	CU_ASSERT_EQUAL(mx_send_start(&c, &call), GACP_OK);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(mx_send_poll(&c, 10), 1);
	mx_send_client_cleanup(&c);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_FALSE(call.finished);
	close(fd);
}

void
test_mx_sendapi_register(void)
{
	static const struct test_case cases[] = {
		{ "Graph answers classified by code", test_classify },
		{ "message and sender_action bodies", test_bodies },
		{ "calls made at once overlap, one result each",
		    test_many_overlap },
		{ "retries per call, permanent errors not retried",
		    test_many_retries },
		{ "one call retried until it is answered", test_single },
		{ "calls started at different times overlap; on_done may "
		    "start another", test_start_poll },
		{ "cleanup with a call in flight", test_cleanup_in_flight },
		{ "a start delay: sent when due, its owner asked first",
		    test_start_delay },
		{ NULL, NULL },
	};

	tests_add_suite("mx_sendapi", cases);
}
