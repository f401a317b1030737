/* sendapi.c - Messenger Send API client with retries (see sendapi.h). */
#include "messenger/sendapi.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEND_MAX_RESPONSE_BYTES (64 * 1024)

/* Where one call stands on the client's multi handle. */
enum call_state { CALL_WAITING, CALL_RUNNING, CALL_DONE };

struct call_run {
	struct call_run     *next;       /* the client's list of calls */
	struct mx_send_call *call;
	CURL                *easy;
	char                *url;        /* holds the token: scrubbed at the end */
	struct buf           answer;
	enum call_state      state;
	int                  phase;      /* 0: first_body, 1: body */
	int                  calls;      /* HTTP calls started */
	int                  delayed;    /* first call waits (start_delay_ms) */
	int64_t              next_at_us; /* CALL_WAITING: when to start */
	int64_t              start_us;
};

static void run_free(struct call_run *run);


int
mx_send_client_init(struct mx_send_client *c, const char *base_url,
    long connect_timeout_ms, long timeout_ms, int max_attempts,
    struct gacp_err *err)
{
	memset(c, 0, sizeof(*c));
	c->curl = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->curl == NULL || c->multi == NULL) {
		mx_send_client_cleanup(c);
		return gacp_err_set(err, GACP_EINTERNAL, "curl_init",
		    "cannot initialise libcurl");
	}
	c->base_url = xstrdup(base_url);
	c->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 2000;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->max_attempts = max_attempts > 0 ? max_attempts : 4;
	c->backoff_base_ms = 200;
	c->backoff_max_ms = 5000;
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->headers == NULL) {
		mx_send_client_cleanup(c);
		return gacp_err_set(err, GACP_EINTERNAL, "curl_init",
		    "cannot initialise libcurl");
	}
	return GACP_OK;
}

void
mx_send_client_cleanup(struct mx_send_client *c)
{
	struct call_run *run;

	if (c == NULL)
		return;
	/* Calls still on the wire are abandoned without their on_done: the
	 * caller stops (a worker drains its calls before it gets here). */
	while ((run = c->runs) != NULL) {
		c->runs = run->next;
		if (run->state == CALL_RUNNING && c->multi != NULL)
			curl_multi_remove_handle(c->multi, run->easy);
		run_free(run);
	}
	if (c->headers != NULL)
		curl_slist_free_all(c->headers);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base_url);
	memset(c, 0, sizeof(*c));
}

char *
mx_send_text_body(const char *psid, const char *text,
    const struct mx_quick_reply *qr, size_t nqr)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_puts(&b, "{\"recipient\":{\"id\":");
	buf_json_str(&b, psid);
	buf_puts(&b, "},\"messaging_type\":\"RESPONSE\",\"message\":{\"text\":");
	buf_json_str(&b, text);
	if (nqr > 0) {
		buf_puts(&b, ",\"quick_replies\":[");
		for (i = 0; i < nqr && i < 13; i++) {
			buf_puts(&b, i ? ",{\"content_type\":\"text\",\"title\":" :
			    "{\"content_type\":\"text\",\"title\":");
			buf_json_str(&b, qr[i].title);
			buf_puts(&b, ",\"payload\":");
			buf_json_str(&b, qr[i].payload);
			buf_putc(&b, '}');
		}
		buf_putc(&b, ']');
	}
	buf_puts(&b, "}}");
	return buf_steal(&b);
}

char *
mx_send_action_body(const char *psid, const char *action)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "{\"recipient\":{\"id\":");
	buf_json_str(&b, psid);
	buf_puts(&b, "},\"sender_action\":");
	buf_json_str(&b, action);
	buf_putc(&b, '}');
	return buf_steal(&b);
}

enum mx_send_outcome
mx_send_classify(long http_status, int code, int subcode)
{
	if (http_status >= 200 && http_status < 300 && code == 0)
		return MX_SEND_OK;
	if (code == 190)
		return MX_SEND_REAUTH;
	if (code == 1 || code == 2 || code == 4 || code == 17 || code == 32 ||
	    code == 613)
		return MX_SEND_RETRY;
	if (code == 100 || code == 10 || code == 551 || subcode == 2018001 ||
	    subcode == 2018278)
		return MX_SEND_FAILED;
	if (http_status == 429 || http_status >= 500 || http_status == 0)
		return MX_SEND_RETRY;
	return MX_SEND_FAILED;
}

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > SEND_MAX_RESPONSE_BYTES)
		return 0;
	buf_append(b, ptr, n);
	return n;
}

static void
parse_answer(const char *body, struct mx_send_result *res)
{
	struct json_object *root = json_tokener_parse(body), *e, *v;

	if (root == NULL)
		return;
	if (json_object_object_get_ex(root, "message_id", &v))
		snprintf(res->message_id, sizeof(res->message_id), "%s",
		    json_object_get_string(v));
	if (json_object_object_get_ex(root, "error", &e)) {
		if (json_object_object_get_ex(e, "code", &v))
			res->graph_code = json_object_get_int(v);
		if (json_object_object_get_ex(e, "error_subcode", &v))
			res->graph_subcode = json_object_get_int(v);
		if (json_object_object_get_ex(e, "message", &v))
			snprintf(res->error, sizeof(res->error), "%s",
			    json_object_get_string(v));
	}
	json_object_put(root);
}

/* The call has its result: final figures; on_done comes once it is off
 * the client's list (reap()). */
static void
call_finish(struct call_run *run)
{
	run->state = CALL_DONE;
	run->call->elapsed_us = run->calls > 0 ?
	    util_mono_us() - run->start_us : 0;
}

/* The outcome of one finished HTTP call into res. */
static void
call_result(CURL *easy, CURLcode cc, const struct buf *answer,
    struct mx_send_result *res)
{
	res->http_status = 0;
	res->graph_code = res->graph_subcode = 0;
	res->error[0] = res->message_id[0] = '\0';
	if (cc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "transport: %s",
		    curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res->http_status);
		parse_answer(answer->data ? answer->data : "", res);
		if (res->http_status >= 300 && res->error[0] == '\0')
			snprintf(res->error, sizeof(res->error), "HTTP %ld",
			    res->http_status);
	}
	res->outcome = mx_send_classify(res->http_status, res->graph_code,
	    res->graph_subcode);
}

/* Full-jitter exponential backoff (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): uniform in [0, min(cap, base * 2^n)] ms. */
static long
backoff_ms(const struct mx_send_client *c, int attempt_no)
{
	long cap = c->backoff_base_ms << (attempt_no < 16 ? attempt_no : 16);
	unsigned int r = 0;

	if (cap > c->backoff_max_ms || cap <= 0)
		cap = c->backoff_max_ms;
	(void)util_random(&r, sizeof(r));
	return (long)(r % (unsigned int)(cap + 1));
}

/* Put the call's next HTTP call on the multi handle. */
static void
call_start(struct mx_send_client *c, struct call_run *run)
{
	struct mx_send_call *call = run->call;
	const char *body = run->phase == 0 ? call->first_body : call->body;

	buf_reset(&run->answer);
	curl_easy_reset(run->easy);
	curl_easy_setopt(run->easy, CURLOPT_URL, run->url);
	curl_easy_setopt(run->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(run->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(run->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(run->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(run->easy, CURLOPT_WRITEDATA, &run->answer);
	curl_easy_setopt(run->easy, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(run->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(run->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(run->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(run->easy, CURLOPT_PRIVATE, (void *)run);
	if (run->calls == 0)
		run->start_us = util_mono_us();
	run->calls++;
	run->state = CALL_RUNNING;
	if (curl_multi_add_handle(c->multi, run->easy) != CURLM_OK) {
		/* Not on the wire: a transport failure. */
		snprintf(call->res.error, sizeof(call->res.error),
		    "transport: cannot start the call");
		call->res.outcome = MX_SEND_RETRY;
		call_finish(run);
	}
}

/* The call's HTTP call ended: what comes next for it. */
static void
call_done(struct mx_send_client *c, struct call_run *run, CURLcode cc)
{
	struct mx_send_call *call = run->call;
	int64_t now = util_mono_us();

	curl_multi_remove_handle(c->multi, run->easy);
	if (run->phase == 0) {
		/* The typing indicator: whatever it got, the message next. */
		run->phase = 1;
		run->state = CALL_WAITING;
		run->next_at_us = now;
		return;
	}
	call_result(run->easy, cc, &run->answer, &call->res);
	call->res.attempts++;
	if (call->res.outcome == MX_SEND_RETRY &&
	    call->res.attempts < c->max_attempts) {
		log_msg(LOG_WARN, "send_api_retry", "attempt %d: HTTP %ld code "
		    "%d: %s", call->res.attempts, call->res.http_status,
		    call->res.graph_code, call->res.error);
		run->state = CALL_WAITING;
		run->next_at_us = now + 1000 * backoff_ms(c, call->res.attempts);
		return;
	}
	call_finish(run);
}

static void
run_free(struct call_run *run)
{
	if (run->easy != NULL)
		curl_easy_cleanup(run->easy);
	if (run->url != NULL) {
		explicit_bzero(run->url, strlen(run->url));
		free(run->url);
	}
	buf_cleanup(&run->answer);
	free(run);
}

/* Finished calls off the list first, then their on_done: a callback may
 * start new calls (mx_send_start) or poll again without finding the list
 * half changed. */
static void
reap(struct mx_send_client *c)
{
	struct call_run **pp = (struct call_run **)&c->runs, *done = NULL, *run;

	while ((run = *pp) != NULL) {
		if (run->state == CALL_DONE) {
			*pp = run->next;
			run->next = done;
			done = run;
			c->inflight--;
		} else {
			pp = &run->next;
		}
	}
	while ((run = done) != NULL) {
		struct mx_send_call *call = run->call;

		done = run->next;
		run_free(run);
		call->finished = 1;
		if (call->on_done != NULL)
			call->on_done(call, call->on_done_arg);
	}
}

/* Start what is due, move the transfers on, take their results.
 * Returns non-zero when something happened (a call started or ended);
 * *wait_us: until the next retry is due (capped by the caller's value). */
static int
step(struct mx_send_client *c, int64_t *wait_us)
{
	int64_t now = util_mono_us();
	struct call_run *run;
	int running = 0, left = 0, progress = 0;
	CURLMsg *msg;

	for (run = c->runs; run != NULL; run = run->next) {
		struct mx_send_call *call = run->call;

		if (run->state != CALL_WAITING)
			continue;
		if (run->next_at_us > now) {
			if (run->next_at_us - now < *wait_us)
				*wait_us = run->next_at_us - now;
			continue;
		}
		progress = 1;
		if ((run->calls > 0 || run->delayed) && call->before_next != NULL &&
		    call->before_next(call->before_next_arg) != 0) {
			call->stopped = 1;
			if (call->res.attempts == 0) {
				call->res.outcome = MX_SEND_RETRY;
				snprintf(call->res.error, sizeof(call->res.error),
				    "not sent: the event is no longer ours");
			}
			call_finish(run);
			continue;
		}
		run->delayed = 0;
		call_start(c, run);
	}
	curl_multi_perform(c->multi, &running);
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		void *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		run = priv;
		if (run != NULL && run->easy == msg->easy_handle &&
		    run->state == CALL_RUNNING) {
			call_done(c, run, msg->data.result);
			progress = 1;
		}
	}
	for (run = c->runs; run != NULL; run = run->next)
		if (run->state == CALL_DONE)
			break;
	if (run != NULL) {
		reap(c);
		progress = 1;
	}
	return progress;
}

int
mx_send_start(struct mx_send_client *c, struct mx_send_call *call)
{
	struct call_run *run;
	char *escaped;
	int running = 0;

	if (c == NULL || c->multi == NULL || call == NULL ||
	    call->access_token == NULL || call->body == NULL)
		return GACP_EINVAL;
	memset(&call->res, 0, sizeof(call->res));
	call->stopped = 0;
	call->finished = 0;
	call->elapsed_us = 0;
	run = xcalloc(1, sizeof(*run));
	run->call = call;
	escaped = curl_easy_escape(c->curl, call->access_token, 0);
	run->url = xasprintf("%s/me/messages?access_token=%s", c->base_url,
	    escaped ? escaped : "");
	if (escaped != NULL) {
		explicit_bzero(escaped, strlen(escaped));
		curl_free(escaped);
	}
	buf_init(&run->answer);
	run->phase = call->first_body != NULL ? 0 : 1;
	run->next = c->runs;
	c->runs = run;
	c->inflight++;
	if ((run->easy = curl_easy_init()) == NULL) {
		snprintf(call->res.error, sizeof(call->res.error),
		    "transport: cannot initialise libcurl");
		call->res.outcome = MX_SEND_RETRY;
		call_finish(run);      /* reported by the next poll */
		return GACP_OK;
	}
	if (call->start_delay_ms > 0) {
		/* Its slot comes later: started by a poll then. */
		run->delayed = 1;
		run->state = CALL_WAITING;
		run->next_at_us = util_mono_us() + 1000LL * call->start_delay_ms;
		return GACP_OK;
	}
	/* On the wire now, not at the next poll; results wait for it. */
	call_start(c, run);
	curl_multi_perform(c->multi, &running);
	return GACP_OK;
}

size_t
mx_send_poll(struct mx_send_client *c, int timeout_ms)
{
	int64_t wait_us;

	if (c == NULL || c->multi == NULL || c->inflight == 0)
		return 0;
	wait_us = timeout_ms > 0 ? 1000LL * timeout_ms : 0;
	if (step(c, &wait_us) || wait_us <= 0 || c->inflight == 0)
		return c->inflight;
	curl_multi_poll(c->multi, NULL, 0, (int)((wait_us + 999) / 1000), NULL);
	wait_us = 0;
	step(c, &wait_us);
	return c->inflight;
}

size_t
mx_send_inflight(const struct mx_send_client *c)
{
	return c != NULL ? c->inflight : 0;
}

int
mx_send_many(struct mx_send_client *c, struct mx_send_call *calls, size_t n)
{
	size_t i, done;

	if (c == NULL || c->multi == NULL || (n > 0 && calls == NULL))
		return GACP_EINVAL;
	for (i = 0; i < n; i++)
		if (calls[i].access_token == NULL || calls[i].body == NULL)
			return GACP_EINVAL;
	for (i = 0; i < n; i++)
		(void)mx_send_start(c, &calls[i]);
	for (;;) {
		for (done = 0, i = 0; i < n; i++)
			done += calls[i].finished != 0;
		if (done == n)
			return GACP_OK;
		mx_send_poll(c, 1000);
	}
}

int
mx_send(struct mx_send_client *c, const char *access_token, const char *body,
    struct mx_send_result *res)
{
	struct mx_send_call call;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&call, 0, sizeof(call));
	call.access_token = access_token;
	call.body = body;
	if ((rc = mx_send_many(c, &call, 1)) == GACP_OK)
		*res = call.res;
	return rc;
}
