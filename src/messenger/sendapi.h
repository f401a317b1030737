/* sendapi.h - the Messenger Send API client (libcurl).
 *
 * POST {base}/me/messages?access_token=… with recipient.id, messaging_type
 * RESPONSE and message.text (+ quick_replies), or a sender_action.  Every
 * call has connect and total timeouts.  Graph errors are classified by
 * their numeric code (never by message text), following Meta's Messenger
 * Platform error reference:
 *   retry later:   HTTP 5xx, HTTP 429, code 1/2 (transient), 4/17/32/613
 *                  (rate limits);
 *   give up:       100 (incl. subcode 2018001: no matching user),
 *                  10/2018278 (outside the allowed window), 551 (person
 *                  unavailable), and any other 4xx;
 *   re-authorise:  190 (token invalid or revoked).
 * Calls run side by side on one libcurl multi handle (mx_send_start,
 * mx_send_poll, mx_send_many): a worker process does not wait for one
 * person's answer from Facebook before sending the next person's, and
 * retries the first class of each call with exponential backoff and full
 * jitter, up to max_attempts.
 */
#ifndef GACP_MESSENGER_SENDAPI_H
#define GACP_MESSENGER_SENDAPI_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum mx_send_outcome {
	MX_SEND_OK = 0,
	MX_SEND_RETRY,       /* transient; exhausted retries if returned */
	MX_SEND_FAILED,      /* permanent for this message */
	MX_SEND_REAUTH,      /* the page token is no longer valid */
};

struct mx_send_client {
	void   *curl;             /* CURL *, for escaping the token */
	void   *multi;            /* CURLM *: every call runs on it, and its
	                           * connection cache keeps connections to
	                           * Graph alive from one batch to the next */
	char   *base_url;         /* e.g. https://graph.facebook.com/v19.0 */
	long    connect_timeout_ms;
	long    timeout_ms;
	int     max_attempts;
	long    backoff_base_ms;
	long    backoff_max_ms;
	void   *headers;          /* struct curl_slist *, every call's */
	void   *runs;             /* the calls on it (struct call_run list) */
	size_t  inflight;         /* how many: started, on_done not yet */
};

struct mx_quick_reply {
	const char *title;
	const char *payload;
};

struct mx_send_result {
	enum mx_send_outcome outcome;
	long    http_status;
	int     graph_code;          /* 0 when none */
	int     graph_subcode;
	int     attempts;
	char    message_id[128];     /* on success */
	char    error[256];          /* Graph's message or transport error */
};

int  mx_send_client_init(struct mx_send_client *c, const char *base_url,
    long connect_timeout_ms, long timeout_ms, int max_attempts,
    struct gacp_err *err);
void mx_send_client_cleanup(struct mx_send_client *c);

/* Build the JSON body of a text message (arena-free: heap string). */
char *mx_send_text_body(const char *psid, const char *text,
    const struct mx_quick_reply *qr, size_t nqr);
char *mx_send_action_body(const char *psid, const char *action);

/* One message to send (mx_send_many).  The caller fills the first
 * block; the result comes back in res and elapsed_us. */
struct mx_send_call {
	const char *access_token;
	const char *body;           /* the message */
	const char *first_body;     /* or NULL: sent once before body (a
	                             * sender_action such as typing_on); its
	                             * answer is not retried and not reported */
	/* Called before every call after the first (a retry, or the message
	 * after first_body), e.g. so the worker can tell the queue it still
	 * owns the event; non-zero stops there: res keeps the last outcome
	 * (MX_SEND_RETRY) and stopped is set.  NULL: nothing. */
	int       (*before_next)(void *arg);
	void       *before_next_arg;
	/* Called once the call has its result (res, stopped, elapsed_us
	 * final), while the others may still be on the wire, so a caller can
	 * record each outcome as it comes.  NULL: nothing. */
	void      (*on_done)(struct mx_send_call *call, void *arg);
	void       *on_done_arg;
	/* mx_send_start: the first call no sooner than this many ms from
	 * now (a page's pacing slot), before_next asked first; 0: now. */
	long        start_delay_ms;
	struct mx_send_result res;
	int         stopped;        /* before_next said stop */
	int         finished;       /* set right before on_done */
	int64_t     elapsed_us;     /* start of the first call to the result */
};

/* Calls that come and go: mx_send_start() puts one on the wire now and
 * returns; mx_send_poll() moves every call on (retries on their own
 * timers, each with exponential backoff and full jitter up to
 * max_attempts) and runs the on_done of each call that has its result,
 * waiting up to timeout_ms when nothing happens (0: never waits); it
 * returns how many calls are still in flight.  The call must stay where
 * it is until its on_done.  A worker keeps calls in flight from one
 * batch to the next this way.  Callbacks may start calls; they must not
 * poll.  Returns 0, or GACP_EINVAL for misuse (nothing sent). */
int    mx_send_start(struct mx_send_client *c, struct mx_send_call *call);
size_t mx_send_poll(struct mx_send_client *c, int timeout_ms);
size_t mx_send_inflight(const struct mx_send_client *c);
/* Send every call at once and return when all have a result (other calls
 * on the client move on meanwhile).  Returns 0, or a negative value only
 * for misuse (nothing sent). */
int  mx_send_many(struct mx_send_client *c, struct mx_send_call *calls,
    size_t n);
/* One call: mx_send_many with n = 1 and no first_body or hook. */
int  mx_send(struct mx_send_client *c, const char *access_token,
    const char *body, struct mx_send_result *res);
/* Classify one Graph answer (exposed for unit tests). */
enum mx_send_outcome mx_send_classify(long http_status, int code,
    int subcode);

#endif
