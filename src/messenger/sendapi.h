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
 * mx_send() retries the first class with exponential backoff and full
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
	void   *curl;             /* CURL *, reused across calls (keep-alive) */
	char   *base_url;         /* e.g. https://graph.facebook.com/v19.0 */
	long    connect_timeout_ms;
	long    timeout_ms;
	int     max_attempts;
	long    backoff_base_ms;
	long    backoff_max_ms;
	/* Called before every retry (after its backoff), e.g. so the worker
	 * can tell the queue it still owns the event; non-zero stops the
	 * retries (the result stays MX_SEND_RETRY).  NULL: nothing. */
	int   (*before_retry)(void *arg);
	void   *before_retry_arg;
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

/* POST body, retrying transient failures.  Returns 0 when a result was
 * obtained (see res->outcome); a negative value only for misuse. */
int  mx_send(struct mx_send_client *c, const char *access_token,
    const char *body, struct mx_send_result *res);
/* Classify one Graph answer (exposed for unit tests). */
enum mx_send_outcome mx_send_classify(long http_status, int code,
    int subcode);

#endif
