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

int
mx_send_client_init(struct mx_send_client *c, const char *base_url,
    long connect_timeout_ms, long timeout_ms, int max_attempts,
    struct gacp_err *err)
{
	memset(c, 0, sizeof(*c));
	c->curl = curl_easy_init();
	if (c->curl == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "curl_init",
		    "cannot initialise libcurl");
	c->base_url = xstrdup(base_url);
	c->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 2000;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	c->max_attempts = max_attempts > 0 ? max_attempts : 4;
	c->backoff_base_ms = 200;
	c->backoff_max_ms = 5000;
	return GACP_OK;
}

void
mx_send_client_cleanup(struct mx_send_client *c)
{
	if (c == NULL)
		return;
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

static void
attempt(struct mx_send_client *c, const char *url, const char *body,
    struct mx_send_result *res)
{
	CURL *curl = c->curl;
	struct curl_slist *hdrs = NULL;
	struct buf answer;
	CURLcode cc;

	buf_init(&answer);
	res->http_status = 0;
	res->graph_code = res->graph_subcode = 0;
	res->error[0] = res->message_id[0] = '\0';
	curl_easy_reset(curl);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "transport: %s",
		    curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->http_status);
		parse_answer(answer.data, res);
		if (res->http_status >= 300 && res->error[0] == '\0')
			snprintf(res->error, sizeof(res->error), "HTTP %ld",
			    res->http_status);
	}
	res->outcome = mx_send_classify(res->http_status, res->graph_code,
	    res->graph_subcode);
	curl_slist_free_all(hdrs);
	buf_cleanup(&answer);
}

/* Full-jitter exponential backoff (AWS Architecture Blog, "Exponential
 * Backoff and Jitter"): uniform in [0, min(cap, base * 2^n)]. */
static void
backoff(const struct mx_send_client *c, int attempt_no)
{
	long cap = c->backoff_base_ms << (attempt_no < 16 ? attempt_no : 16);
	unsigned int r = 0;
	struct timespec ts;
	long ms;

	if (cap > c->backoff_max_ms || cap <= 0)
		cap = c->backoff_max_ms;
	(void)util_random(&r, sizeof(r));
	ms = (long)(r % (unsigned int)(cap + 1));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

int
mx_send(struct mx_send_client *c, const char *access_token, const char *body,
    struct mx_send_result *res)
{
	char *escaped, *url;
	int i;

	memset(res, 0, sizeof(*res));
	if (c == NULL || c->curl == NULL || access_token == NULL || body == NULL)
		return GACP_EINVAL;
	escaped = curl_easy_escape(c->curl, access_token, 0);
	url = xasprintf("%s/me/messages?access_token=%s", c->base_url,
	    escaped ? escaped : "");
	curl_free(escaped);
	for (i = 0; i < c->max_attempts; i++) {
		if (i > 0) {
			backoff(c, i);
			if (c->before_retry != NULL &&
			    c->before_retry(c->before_retry_arg) != 0)
				break;
		}
		attempt(c, url, body, res);
		res->attempts = i + 1;
		if (res->outcome != MX_SEND_RETRY)
			break;
		log_msg(LOG_WARN, "send_api_retry", "attempt %d: HTTP %ld code %d: %s",
		    i + 1, res->http_status, res->graph_code, res->error);
	}
	explicit_bzero(url, strlen(url));
	free(url);
	return GACP_OK;
}
