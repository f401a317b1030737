/* ctl_deadletter.c - gacpctl deadletter list|retry: events the worker gave up on.
 *
 * gacp-worker moves an inbound event to the stream gacp:deadletter when it
 * cannot parse it or after worker.max_deliveries failed attempts, with the
 * fields e (the queued event, JSON), error, source_id (its gacp:inbound id)
 * and deliveries (messenger/queue.h).  list shows them; retry puts the
 * original event back on gacp:inbound and deletes the dead letter, both in
 * one Lua script so an event is never in both streams or in neither.
 * The event's text is not printed: it is a customer's message.
 */
#include "tools/ctl.h"
#include "common/buf.h"
#include "messenger/queue.h"
#include "store/cache.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DL_LIST_DEFAULT 1000
#define DL_RETRY_BATCH  100

/* KEYS[1]: dead letters, KEYS[2]: inbound; ARGV: dead-letter ids.
 * Returns, per id, the new inbound id or "" when there was no such entry. */
static const char retry_script[] =
    "local out = {}\n"
    "for i, id in ipairs(ARGV) do\n"
    "  local found = redis.call('XRANGE', KEYS[1], id, id)\n"
    "  out[i] = ''\n"
    "  if #found == 1 then\n"
    "    local f, e = found[1][2], nil\n"
    "    for j = 1, #f, 2 do if f[j] == 'e' then e = f[j + 1] end end\n"
    "    out[i] = redis.call('XADD', KEYS[2], '*', 'e', e or '')\n"
    "    redis.call('XDEL', KEYS[1], id)\n"
    "  end\n"
    "end\n"
    "return out\n";

struct dead_letter {
	const char *id;          /* gacp:deadletter entry id */
	const char *error;
	const char *source_id;   /* its former gacp:inbound id */
	long long   deliveries;
	const char *tenant_id;   /* from the event, or "" */
	const char *mid;         /* from the event, or "" */
	char        time[32];    /* when it was dead-lettered (UTC) */
};

static void
put_json(void *p)
{
	json_object_put(p);
}

static const char *
reply_field(const redisReply *fields, const char *name)
{
	size_t i;

	for (i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements;
	    i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0)
			return fields->element[i + 1]->str;
	return NULL;
}

/* Stream ids are "<ms>-<seq>": the ms part is when it was added. */
static void
id_time(const char *id, char out[32])
{
	time_t secs = (time_t)(strtoll(id, NULL, 10) / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "-");
}

/* Read one XRANGE entry into dl (strings live in the arena or the reply). */
static int
dead_letter_parse(struct arena *a, const redisReply *e, struct dead_letter *dl)
{
	const redisReply *fields;
	struct json_object *ev;
	const char *payload, *v;

	memset(dl, 0, sizeof(*dl));
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return -1;
	fields = e->element[1];
	dl->id = e->element[0]->str;
	dl->error = (v = reply_field(fields, "error")) ? v : "";
	dl->source_id = (v = reply_field(fields, "source_id")) ? v : "";
	dl->deliveries = (v = reply_field(fields, "deliveries")) ? atoll(v) : 0;
	dl->tenant_id = dl->mid = "";
	id_time(dl->id, dl->time);
	payload = reply_field(fields, "e");
	if (payload != NULL && (ev = json_tokener_parse(payload)) != NULL) {
		arena_defer(a, put_json, ev);
		if (json_object_is_type(ev, json_type_object)) {
			struct json_object *f;
			if (json_object_object_get_ex(ev, "tenant_id", &f) &&
			    json_object_is_type(f, json_type_string))
				dl->tenant_id = json_object_get_string(f);
			if (json_object_object_get_ex(ev, "mid", &f) &&
			    json_object_is_type(f, json_type_string))
				dl->mid = json_object_get_string(f);
		}
	}
	return 0;
}

int
ctl_deadletter_list(struct ctl_ctx *ctl, int argc, char **argv)
{
	const char *count_opt = ctl_opt(argc, argv, "--count");
	long long count = count_opt ? atoll(count_opt) : DL_LIST_DEFAULT;
	struct gacp_err err;
	struct arena a;
	redisReply *r;
	struct buf b;
	size_t i, shown = 0;
	int rc;

	gacp_err_clear(&err);
	arena_init(&a, 4096);
	buf_init(&b);
	if (count <= 0) {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage",
		    "--count must be a positive number");
		goto out;
	}
	rc = cache_command(&ctl->app.cache, &a, &r, &err, "XRANGE %s - + COUNT %lld",
	    MXQ_DEADLETTER, count);
	if (rc != GACP_OK)
		goto out;
	buf_puts(&b, "{\"deadletters\":[");
	if (!ctl->json)
		printf("%-17s %-20s %4s %-36s %-24s %s\n", "ID", "TIME", "DLV",
		    "TENANT", "MID", "ERROR");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		struct dead_letter dl;

		if (dead_letter_parse(&a, r->element[i], &dl) != 0)
			continue;
		if (!ctl->json) {
			printf("%-17s %-20s %4lld %-36s %-24s %s\n", dl.id, dl.time,
			    dl.deliveries, dl.tenant_id[0] ? dl.tenant_id : "-",
			    dl.mid[0] ? dl.mid : "-", dl.error);
			shown++;
			continue;
		}
		buf_printf(&b, "%s{\"id\":", shown++ ? "," : "");
		buf_json_str(&b, dl.id);
		buf_puts(&b, ",\"time\":");
		buf_json_str(&b, dl.time);
		buf_puts(&b, ",\"error\":");
		buf_json_str(&b, dl.error);
		buf_printf(&b, ",\"deliveries\":%lld,\"tenant_id\":", dl.deliveries);
		buf_json_str(&b, dl.tenant_id);
		buf_puts(&b, ",\"mid\":");
		buf_json_str(&b, dl.mid);
		buf_puts(&b, ",\"source_id\":");
		buf_json_str(&b, dl.source_id);
		buf_putc(&b, '}');
	}
	buf_puts(&b, "]}\n");
	if (ctl->json)
		fputs(b.data, stdout);
	else if (shown == 0)
		printf("(no dead letters)\n");
out:
	buf_cleanup(&b);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}

/* Retry n ids in one script run; appends "id" entries of the retried ones
 * to b and counts them.  Ids that did not exist are counted in *missing. */
static int
retry_ids(struct ctl_ctx *ctl, struct arena *a, const char **ids, size_t n,
    struct buf *b, size_t *retried, size_t *missing, struct gacp_err *err)
{
	const char **vals = arena_calloc(a, n + 2, sizeof(*vals));
	redisReply *r;
	size_t i;
	int rc;

	vals[0] = MXQ_DEADLETTER;
	vals[1] = MXQ_STREAM;
	for (i = 0; i < n; i++)
		vals[2 + i] = ids[i];
	rc = cache_eval(&ctl->app.cache, a, retry_script, 2, n + 2, vals, NULL,
	    &r, err);
	if (rc != GACP_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
		return gacp_err_set(err, GACP_EINTERNAL, "unexpected_reply",
		    "unexpected answer from Redis to the retry script");
	for (i = 0; i < n; i++) {
		const redisReply *e = r->element[i];
		if (e->type != REDIS_REPLY_STRING || e->str[0] == '\0') {
			(*missing)++;
			if (!ctl->json)
				fprintf(stderr, "gacpctl: no dead letter %s\n", ids[i]);
			continue;
		}
		if (ctl->json) {
			buf_printf(b, "%s{\"id\":", (*retried) ? "," : "");
			buf_json_str(b, ids[i]);
			buf_puts(b, ",\"inbound_id\":");
			buf_json_str(b, e->str);
			buf_putc(b, '}');
		} else {
			printf("retried %s as %s\n", ids[i], e->str);
		}
		(*retried)++;
	}
	return GACP_OK;
}

/* Every dead letter present now, in batches; entries the worker adds
 * while we run (a retried event failing again) wait for the next run. */
static int
retry_all(struct ctl_ctx *ctl, struct arena *a, struct buf *b,
    size_t *retried, size_t *missing, struct gacp_err *err)
{
	const char *after = "-", *last;
	redisReply *r;
	int rc;

	rc = cache_command(&ctl->app.cache, a, &r, err, "XREVRANGE %s + - COUNT 1",
	    MXQ_DEADLETTER);
	if (rc != GACP_OK)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return GACP_OK;
	last = arena_strdup(a, r->element[0]->element[0]->str);
	for (;;) {
		const char **ids;
		size_t i, n;

		rc = cache_command(&ctl->app.cache, a, &r, err,
		    "XRANGE %s %s %s COUNT %d", MXQ_DEADLETTER, after, last,
		    DL_RETRY_BATCH);
		if (rc != GACP_OK)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
			return GACP_OK;
		n = r->elements;
		ids = arena_calloc(a, n, sizeof(*ids));
		for (i = 0; i < n; i++)
			ids[i] = arena_strdup(a, r->element[i]->element[0]->str);
		if ((rc = retry_ids(ctl, a, ids, n, b, retried, missing,
		    err)) != GACP_OK)
			return rc;
		if (strcmp(ids[n - 1], last) == 0)
			return GACP_OK;
		after = arena_sprintf(a, "(%s", ids[n - 1]);   /* exclusive */
	}
}

static bool
stream_id_valid(const char *s)
{
	size_t digits = 0, seq = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s++ != '-' || digits == 0 || digits > 20)
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		seq++;
	return *s == '\0' && seq > 0 && seq <= 20;
}

int
ctl_deadletter_retry(struct ctl_ctx *ctl, int argc, char **argv)
{
	bool all = ctl_flag(argc, argv, "--all");
	const char **ids;
	size_t n = 0, retried = 0, missing = 0;
	struct gacp_err err;
	struct arena a;
	struct buf b;
	int i, rc = GACP_OK;

	gacp_err_clear(&err);
	arena_init(&a, 4096);
	buf_init(&b);
	ids = arena_calloc(&a, (size_t)argc + 1, sizeof(*ids));
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "--json") == 0)
			continue;
		if (!stream_id_valid(argv[i])) {
			rc = gacp_err_set(&err, GACP_EINVAL, "usage",
			    "'%s' is not a stream entry id (like 1700000000000-0)",
			    argv[i]);
			goto out;
		}
		ids[n++] = argv[i];
	}
	if (all == (n > 0)) {
		rc = gacp_err_set(&err, GACP_EINVAL, "usage",
		    "give dead-letter ids or --all (gacpctl deadletter list shows them)");
		goto out;
	}
	buf_puts(&b, "{\"retried\":[");
	rc = all ? retry_all(ctl, &a, &b, &retried, &missing, &err) :
	    retry_ids(ctl, &a, ids, n, &b, &retried, &missing, &err);
	if (rc != GACP_OK)
		goto out;
	buf_printf(&b, "],\"missing\":%zu}\n", missing);
	if (ctl->json)
		fputs(b.data, stdout);
	else if (all && retried == 0)
		printf("(no dead letters)\n");
	if (missing > 0)
		rc = gacp_err_set(&err, GACP_ENOTFOUND, "not_found",
		    "%zu of %zu dead letters not found", missing, n);
out:
	buf_cleanup(&b);
	arena_cleanup(&a);
	return rc == GACP_OK ? CTL_OK : ctl_fail(&err);
}
