/* graph-stub.c - a local stand-in for Facebook's Graph API Send endpoint.
 *
 * The only fake in the test suite (there is no internet here): it accepts
 * POST /<version>/me/messages?access_token=T the way the Messenger Send API
 * does, CHECKS what it receives (known access token, recipient.id,
 * messaging_type, message text or quick replies or sender_action, limits),
 * answers like Graph (message_id, or an error object with code/subcode),
 * and records every call as one JSON line in the log file so tests and a
 * person trying the demo can read what the bot sent.
 *
 * Control endpoints for fault tests:
 *   POST /__control/script  [{"status":500}, {"status":400,"code":551}, ...]
 *        answers for the next calls, in order (then back to normal);
 *        an entry may carry "delay_ms".
 *   POST /__control/reset   forget the script.
 * --latency-ms N delays every Send API answer by N ms (a scripted
 * delay_ms replaces it for its call), as Facebook's own latency would.
 * A delayed answer does not hold up the others: its connection is parked
 * and answered when due, so calls made at once overlap as they would
 * against Graph.  Each log line says when the call arrived and how many
 * calls were open then, itself included ("open_calls"), so a test can
 * see that a client overlapped its calls without timing anything.
 * Accepted tokens: lines of --tokens-file (re-read on every call) and each
 * --token.  Single-threaded, one request per connection (Connection: close).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST_BYTES (1024 * 1024)
#define MAX_TOKENS 64
#define MAX_SCRIPT 64
#define MAX_PARKED 1024

struct scripted {
	int  status;
	int  code;
	int  subcode;
	int  delay_ms;
};

/* A Send API call answered later (its delay). */
struct parked {
	int                 fd;
	int64_t             due_us;
	char               *path;
	int                 token_valid;
	struct json_object *body;
	int                 status;
	char               *answer;
	char                received[40];
	int                 open_calls;
};

struct stub {
	int              listen_fd;
	int              latency_ms;
	struct parked    parked[MAX_PARKED];
	int              nparked;
	FILE            *log;
	const char      *tokens_file;
	const char      *tokens[MAX_TOKENS];
	int              ntokens;
	struct scripted  script[MAX_SCRIPT];
	int              nscript;
	unsigned long    calls;
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
now_iso(char *out, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char tmp[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ldZ", tmp, (long)tv.tv_usec);
}

static int
token_ok(struct stub *s, const char *token)
{
	char line[512];
	FILE *f;
	int i, ok = 0;

	if (token == NULL || token[0] == '\0')
		return 0;
	for (i = 0; i < s->ntokens; i++)
		if (strcmp(s->tokens[i], token) == 0)
			return 1;
	if (s->tokens_file == NULL || (f = fopen(s->tokens_file, "r")) == NULL)
		return 0;
	while (!ok && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = strcmp(line, token) == 0;
	}
	fclose(f);
	return ok;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decoded value of query parameter name, into out. */
static int
query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), o = 0;
	const char *p = query;

	while (p != NULL && *p) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			p += n + 1;
			while (*p && *p != '&' && o + 1 < outlen) {
				if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
					out[o++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
					p += 3;
				} else {
					out[o++] = *p == '+' ? ' ' : *p;
					p++;
				}
			}
			out[o] = '\0';
			return 1;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return 0;
}

static void
send_response(int fd, int status, const char *body)
{
	char head[256];
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" :
	    status == 404 ? "Not Found" : status == 429 ? "Too Many Requests" :
	    "Error";
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", status, reason, strlen(body));
	ssize_t w = write(fd, head, (size_t)n);
	if (w >= 0)
		w = write(fd, body, strlen(body));
	(void)w;
}

static char *
graph_error(int code, int subcode, const char *message, const char *type)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	char *out;

	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(e, "code", json_object_new_int(code));
	if (subcode)
		json_object_object_add(e, "error_subcode", json_object_new_int(subcode));
	json_object_object_add(e, "fbtrace_id", json_object_new_string("Stub"));
	json_object_object_add(o, "error", e);
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* Check a Send API body; returns NULL when valid or a reason. */
static const char *
check_send_body(struct json_object *body)
{
	struct json_object *rcpt, *id, *mtype, *msg, *action, *text, *qr, *att, *tag;
	const char *mt;
	size_t i;

	if (!json_object_is_type(body, json_type_object))
		return "body is not a JSON object";
	if (!json_object_object_get_ex(body, "recipient", &rcpt) ||
	    !json_object_object_get_ex(rcpt, "id", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    json_object_get_string_len(id) == 0)
		return "recipient.id missing";
	if (json_object_object_get_ex(body, "sender_action", &action)) {
		const char *a = json_object_get_string(action);
		if (strcmp(a, "typing_on") && strcmp(a, "typing_off") &&
		    strcmp(a, "mark_seen"))
			return "unknown sender_action";
		if (json_object_object_get_ex(body, "message", &msg))
			return "sender_action cannot be sent with message";
		return NULL;
	}
	if (!json_object_object_get_ex(body, "messaging_type", &mtype))
		return "messaging_type missing";
	mt = json_object_get_string(mtype);
	if (strcmp(mt, "RESPONSE") && strcmp(mt, "UPDATE") && strcmp(mt, "MESSAGE_TAG"))
		return "messaging_type invalid";
	if (strcmp(mt, "MESSAGE_TAG") == 0 &&
	    !json_object_object_get_ex(body, "tag", &tag))
		return "tag required with MESSAGE_TAG";
	if (!json_object_object_get_ex(body, "message", &msg) ||
	    !json_object_is_type(msg, json_type_object))
		return "message missing";
	if (json_object_object_get_ex(msg, "text", &text)) {
		if (!json_object_is_type(text, json_type_string) ||
		    json_object_get_string_len(text) == 0 ||
		    json_object_get_string_len(text) > 2000 * 4)
			return "message.text must be 1..2000 characters";
	} else if (!json_object_object_get_ex(msg, "attachment", &att)) {
		return "message needs text or attachment";
	}
	if (json_object_object_get_ex(msg, "quick_replies", &qr)) {
		if (!json_object_is_type(qr, json_type_array) ||
		    json_object_array_length(qr) == 0 ||
		    json_object_array_length(qr) > 13)
			return "quick_replies must be an array of 1..13";
		for (i = 0; i < json_object_array_length(qr); i++) {
			struct json_object *q = json_object_array_get_idx(qr, i), *v;
			if (!json_object_object_get_ex(q, "content_type", &v) ||
			    strcmp(json_object_get_string(v), "text") != 0)
				return "quick_reply content_type must be text";
			if (!json_object_object_get_ex(q, "title", &v) ||
			    json_object_get_string_len(v) == 0 ||
			    json_object_get_string_len(v) > 20 * 4)
				return "quick_reply title must be 1..20 characters";
			if (!json_object_object_get_ex(q, "payload", &v) ||
			    json_object_get_string_len(v) > 1000)
				return "quick_reply payload missing or > 1000";
		}
	}
	return NULL;
}

/* One line per call, written when it is answered: "time" is then,
 * "received" when the call arrived. */
static void
log_call(struct stub *s, const char *path, int token_valid,
    struct json_object *body, int status, const char *answer,
    const char *received, int open_calls)
{
	struct json_object *line = json_object_new_object(), *ans;
	char when[40];

	if (s->log == NULL)
		return;
	now_iso(when, sizeof(when));
	json_object_object_add(line, "time", json_object_new_string(when));
	json_object_object_add(line, "received", json_object_new_string(received));
	json_object_object_add(line, "open_calls", json_object_new_int(open_calls));
	json_object_object_add(line, "path", json_object_new_string(path));
	json_object_object_add(line, "access_token_ok", json_object_new_boolean(token_valid));
	json_object_object_add(line, "status", json_object_new_int(status));
	json_object_object_add(line, "request", body ? json_object_get(body) : NULL);
	ans = json_tokener_parse(answer);
	json_object_object_add(line, "response", ans);
	fprintf(s->log, "%s\n", json_object_to_json_string_ext(line,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(s->log);
	json_object_put(line);
}

static void
handle_control(struct stub *s, int fd, const char *path, const char *body)
{
	struct json_object *arr;
	size_t i;

	if (strcmp(path, "/__control/reset") == 0) {
		s->nscript = 0;
		send_response(fd, 200, "{\"ok\":true}");
		return;
	}
	if (strcmp(path, "/__control/script") != 0) {
		send_response(fd, 404, "{\"error\":\"no such control\"}");
		return;
	}
	arr = json_tokener_parse(body);
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		send_response(fd, 400, "{\"error\":\"expected a JSON array\"}");
		return;
	}
	s->nscript = 0;
	for (i = 0; i < json_object_array_length(arr) && s->nscript < MAX_SCRIPT; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *v;
		struct scripted *sc = &s->script[s->nscript++];
		memset(sc, 0, sizeof(*sc));
		sc->status = json_object_object_get_ex(e, "status", &v) ? json_object_get_int(v) : 200;
		if (json_object_object_get_ex(e, "code", &v)) sc->code = json_object_get_int(v);
		if (json_object_object_get_ex(e, "subcode", &v)) sc->subcode = json_object_get_int(v);
		if (json_object_object_get_ex(e, "delay_ms", &v)) sc->delay_ms = json_object_get_int(v);
	}
	json_object_put(arr);
	send_response(fd, 200, "{\"ok\":true}");
}

/* Answer a parked call and forget it. */
static void
answer_parked(struct stub *s, int i)
{
	struct parked *p = &s->parked[i];

	log_call(s, p->path, p->token_valid, p->body, p->status, p->answer,
	    p->received, p->open_calls);
	send_response(p->fd, p->status, p->answer);
	close(p->fd);
	free(p->path);
	free(p->answer);
	json_object_put(p->body);
	s->parked[i] = s->parked[--s->nparked];
}

/* Answer every parked call that is due; the time to the next one (ms,
 * -1: none). */
static int
answer_due(struct stub *s)
{
	int64_t now = mono_us(), next = -1;
	int i = 0;

	while (i < s->nparked) {
		if (s->parked[i].due_us <= now) {
			answer_parked(s, i);
			continue;
		}
		if (next < 0 || s->parked[i].due_us - now < next)
			next = s->parked[i].due_us - now;
		i++;
	}
	return next < 0 ? -1 : (int)((next + 999) / 1000);
}

/* Returns 1 when the call was parked (fd now belongs to it). */
static int
handle_send(struct stub *s, int fd, const char *path, const char *query,
    const char *body)
{
	char token[512] = "", answer_buf[256], received[40];
	struct json_object *json = json_tokener_parse(body);
	const char *why;
	char *answer = NULL;
	int valid = query_param(query, "access_token", token, sizeof(token)) &&
	    token_ok(s, token);
	int status = 200, delay_ms = s->latency_ms;

	now_iso(received, sizeof(received));
	if (s->nscript > 0) {
		struct scripted sc = s->script[0];
		memmove(s->script, s->script + 1, (size_t)(s->nscript - 1) * sizeof(sc));
		s->nscript--;
		if (sc.delay_ms > 0)
			delay_ms = sc.delay_ms;
		if (sc.status != 200) {
			status = sc.status;
			answer = graph_error(sc.code ? sc.code : 2, sc.subcode,
			    sc.code == 190 ? "Error validating access token" :
			    "Scripted failure", sc.code == 190 ? "OAuthException" :
			    "GraphMethodException");
		}
	}
	if (answer == NULL && !valid) {
		status = 400;
		answer = graph_error(190, 0, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
	}
	if (answer == NULL && (json == NULL || (why = check_send_body(json)) != NULL)) {
		status = 400;
		answer = graph_error(100, 0, json == NULL ? "body is not JSON" : why, "OAuthException");
	}
	if (answer == NULL) {
		struct json_object *rcpt, *id;
		json_object_object_get_ex(json, "recipient", &rcpt);
		json_object_object_get_ex(rcpt, "id", &id);
		snprintf(answer_buf, sizeof(answer_buf),
		    "{\"recipient_id\":\"%s\",\"message_id\":\"m_stub_%lu\"}",
		    json_object_get_string(id), ++s->calls);
		answer = strdup(answer_buf);
	}
	if (delay_ms > 0 && s->nparked < MAX_PARKED) {
		struct parked *p = &s->parked[s->nparked++];

		p->fd = fd;
		p->due_us = mono_us() + (int64_t)delay_ms * 1000;
		p->path = strdup(path);
		p->token_valid = valid;
		p->body = json;
		p->status = status;
		p->answer = answer;
		memcpy(p->received, received, sizeof(p->received));
		p->open_calls = s->nparked;
		return 1;
	}
	if (delay_ms > 0)
		usleep((useconds_t)delay_ms * 1000);
	log_call(s, path, valid, json, status, answer, received, s->nparked + 1);
	send_response(fd, status, answer);
	free(answer);
	json_object_put(json);
	return 0;
}

/* Read and answer one request; returns 1 when its answer was parked
 * (the connection stays open), else 0 (the caller closes it). */
static int
serve_one(struct stub *s, int fd)
{
	int parked = 0;
	char *req = malloc(MAX_REQUEST_BYTES + 1), *hdr_end, *path, *query, *sp, *cl;
	size_t got = 0, need = 0;
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (req == NULL)
		return 0;
	for (;;) {
		ssize_t n;
		if (poll(&pfd, 1, 5000) <= 0)
			goto out;
		n = read(fd, req + got, MAX_REQUEST_BYTES - got);
		if (n <= 0)
			goto out;
		got += (size_t)n;
		req[got] = '\0';
		hdr_end = strstr(req, "\r\n\r\n");
		if (hdr_end != NULL) {
			cl = strcasestr(req, "\r\nContent-Length:");
			need = (size_t)(hdr_end - req) + 4 +
			    (cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0);
			if (got >= need)
				break;
		}
		if (got == MAX_REQUEST_BYTES)
			goto out;
	}
	sp = strchr(req, ' ');
	if (sp == NULL)
		goto out;
	*sp = '\0';
	path = sp + 1;
	sp = strchr(path, ' ');
	if (sp == NULL)
		goto out;
	*sp = '\0';
	query = strchr(path, '?');
	if (query)
		*query++ = '\0';
	if (strncmp(path, "/__control/", 11) == 0 && strcmp(req, "POST") == 0)
		handle_control(s, fd, path, hdr_end + 4);
	else if (strcmp(req, "POST") == 0 && strstr(path, "/me/messages") != NULL)
		parked = handle_send(s, fd, path, query ? query : "", hdr_end + 4);
	else
		send_response(fd, 404, "{\"error\":{\"message\":\"Unknown path\",\"code\":803}}");
out:
	free(req);
	return parked;
}

int
main(int argc, char **argv)
{
	struct stub s;
	struct sockaddr_in addr;
	struct sigaction sa;
	const char *log_path = NULL, *pidfile = NULL;
	int port = 58080, daemonize = 0, i, one = 1;

	memset(&s, 0, sizeof(s));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--log") && i + 1 < argc) log_path = argv[++i];
		else if (!strcmp(argv[i], "--pidfile") && i + 1 < argc) pidfile = argv[++i];
		else if (!strcmp(argv[i], "--tokens-file") && i + 1 < argc) s.tokens_file = argv[++i];
		else if (!strcmp(argv[i], "--token") && i + 1 < argc && s.ntokens < MAX_TOKENS) s.tokens[s.ntokens++] = argv[++i];
		else if (!strcmp(argv[i], "--latency-ms") && i + 1 < argc) s.latency_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--daemon")) daemonize = 1;
		else {
			fprintf(stderr, "usage: gacp-graph-stub [--port P] [--log FILE] "
			    "[--tokens-file F] [--token T]... [--latency-ms N] [--pidfile F] "
			    "[--daemon]\n");
			return 2;
		}
	}
	s.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* loopback only */
	if (bind(s.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(s.listen_fd, 128) != 0) {
		perror("graph-stub: bind/listen");
		return 1;
	}
	if (log_path && (s.log = fopen(log_path, "a")) == NULL) {
		perror(log_path);
		return 1;
	}
	if (daemonize && daemon(1, 1) != 0) {
		perror("daemon");
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		struct pollfd lp = { s.listen_fd, POLLIN, 0 };
		int fd, wait_ms = answer_due(&s);

		if (poll(&lp, 1, wait_ms) <= 0)
			continue;       /* a parked call is due, or a signal */
		fd = accept(s.listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!serve_one(&s, fd))
			close(fd);
	}
	while (s.nparked > 0)
		answer_parked(&s, 0);
	if (pidfile)
		unlink(pidfile);
	return 0;
}
