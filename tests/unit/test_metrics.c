/* test_metrics.c - unit tests of the shared-memory Prometheus metrics (http/metrics.c). */
#include "tests.h"
#include "common/buf.h"
#include "http/metrics.h"
#include "http/router.h"
#include "app/models.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void
handler(struct request_ctx *rc)
{
	(void)rc;
}

static const struct route routes[] = {
	{ HTTP_GET, "/health", handler, SEC_PUBLIC, NULL, "health" },
	{ HTTP_POST, "/items", handler, SEC_AUTHENTICATED, NULL, "items_create" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static char dir[64];
static char path[128];

static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gacp-ut-metrics-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/metrics", dir);
}

static void
remove_dir(void)
{
	char lock[160];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

/* True when text has `line` as one complete line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

/* Render m into a fresh buffer (the caller cleans it up). */
static void
render(struct metrics *m, struct buf *out)
{
	buf_init(out);
	metrics_render(m, routes, NROUTES, out);
}

static void
test_observe_and_render(void)
{
	struct gacp_err err;
	struct metrics *m;
	struct buf out;
	const char *p;

	make_dir();
	gacp_err_clear(&err);
	m = metrics_open(path, 4, NROUTES, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe_request(m, 0, HTTP_GET, 200, 300);
	metrics_observe_request(m, 0, HTTP_GET, 200, 300);
	metrics_observe_request(m, 0, HTTP_GET, 503, 2000000);
	metrics_observe_request(m, NROUTES, HTTP_POST, 404, 100);
	metrics_observe_request(m, NROUTES, HTTP_DELETE, 418, 10);
	metrics_counter_add(m, MC_DB_ERRORS, 3);
	metrics_counter_add(m, MC_REDIS_RECONNECTS, 1);
	metrics_counter_add(m, MC_WEBHOOK_DUPLICATE, 2);
	metrics_counter_add(m, MC_WEBHOOK_DUPLICATE, 3);
	render(m, &out);

	CU_ASSERT(has_line(out.data, "# TYPE gacp_http_requests_total counter"));
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"200\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"503\"} 1"));
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"unmatched\","
	    "method=\"POST\",status=\"404\"} 1"));
	/* An untracked status is counted by class. */
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"unmatched\","
	    "method=\"DELETE\",status=\"4xx\"} 1"));
	/* Series with no requests are not printed. */
	CU_ASSERT_PTR_NULL(strstr(out.data, "status=\"201\""));
	CU_ASSERT_PTR_NULL(strstr(out.data,
	    "gacp_http_requests_total{route=\"items_create\""));

	CU_ASSERT(has_line(out.data,
	    "# TYPE gacp_http_request_duration_seconds histogram"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"health\",method=\"GET\",le=\"0.00025\"} 0"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"health\",method=\"GET\",le=\"0.0005\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"health\",method=\"GET\",le=\"1\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"health\",method=\"GET\",le=\"2.5\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"health\",method=\"GET\",le=\"+Inf\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_sum"
	    "{route=\"health\",method=\"GET\"} 2.000600"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_count"
	    "{route=\"health\",method=\"GET\"} 3"));
	/* Matched routes always have a histogram; unmatched only when used. */
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_count"
	    "{route=\"items_create\",method=\"POST\"} 0"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_count"
	    "{route=\"unmatched\",method=\"POST\"} 1"));
	CU_ASSERT_PTR_NULL(strstr(out.data,
	    "{route=\"unmatched\",method=\"GET\""));

	CU_ASSERT(has_line(out.data, "# TYPE gacp_db_errors_total counter"));
	CU_ASSERT(has_line(out.data, "gacp_db_errors_total 3"));
	CU_ASSERT(has_line(out.data, "gacp_redis_errors_total 0"));
	CU_ASSERT(has_line(out.data, "gacp_redis_reconnects_total 1"));
	/* Labelled counters: one HELP/TYPE per family, one line per label. */
	CU_ASSERT(has_line(out.data,
	    "gacp_webhook_events_total{result=\"duplicate\"} 5"));
	CU_ASSERT(has_line(out.data,
	    "gacp_webhook_events_total{result=\"received\"} 0"));
	p = strstr(out.data, "# TYPE gacp_webhook_events_total counter\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1,
	    "# TYPE gacp_webhook_events_total counter\n"));
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

static void
test_duration_edges(void)
{
	struct metrics *m;
	struct buf out;

	make_dir();
	m = metrics_open(path, 2, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	/* Bounds are inclusive ("le"); negative durations count as 0. */
	metrics_observe_request(m, 1, HTTP_POST, 201, 250);
	metrics_observe_request(m, 1, HTTP_POST, 201, -5);
	metrics_observe_request(m, 1, HTTP_POST, 201, 2500001);
	render(m, &out);
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"items_create\",method=\"POST\",le=\"0.00025\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"items_create\",method=\"POST\",le=\"2.5\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_bucket"
	    "{route=\"items_create\",method=\"POST\",le=\"+Inf\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_sum"
	    "{route=\"items_create\",method=\"POST\"} 2.500251"));
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route="
	    "\"items_create\",method=\"POST\",status=\"201\"} 3"));
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

static void
test_null_metrics_ignored(void)
{
	metrics_observe_request(NULL, 0, HTTP_GET, 200, 1);
	metrics_counter_add(NULL, MC_DB_ERRORS, 1);
	metrics_close(NULL);
	CU_PASS("no crash on NULL");
}

static void
test_reopen_same_process_keeps_slot(void)
{
	struct metrics *m;
	struct buf out;

	make_dir();
	m = metrics_open(path, 1, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe_request(m, 0, HTTP_GET, 200, 1);
	metrics_close(m);
	/* One slot only: reopening works because the slot is ours. */
	m = metrics_open(path, 1, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe_request(m, 0, HTTP_GET, 200, 1);
	render(m, &out);
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"200\"} 2"));
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

static void
test_layout_change_replaces_file(void)
{
	struct metrics *m;
	struct buf out;
	int fd;

	make_dir();
	/* Garbage where the file should be: replaced, not trusted. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "not a metrics file at all, just junk", 36), 36);
	close(fd);
	m = metrics_open(path, 2, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe_request(m, 0, HTTP_GET, 200, 1);
	metrics_close(m);
	/* Another slot count is another layout: a fresh file, zero counts. */
	m = metrics_open(path, 3, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	render(m, &out);
	CU_ASSERT_PTR_NULL(strstr(out.data, "gacp_http_requests_total{"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_count"
	    "{route=\"health\",method=\"GET\"} 0"));
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

static void
test_open_failure(void)
{
	struct gacp_err err;

	gacp_err_clear(&err);
	CU_ASSERT_PTR_NULL(metrics_open("/nonexistent-gacp-dir/sub/metrics", 2,
	    NROUTES, &err));
	CU_ASSERT_EQUAL(err.result, GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "metrics_unavailable");
}

/* Child: claim a slot, record n requests, tell the parent, and hold the
 * slot until the parent closes `go`.  Exit status 0 on success. */
static void
child_observe(int n, int ready_fd, int go_fd)
{
	struct metrics *m = metrics_open(path, 3, NROUTES, NULL);
	char c = 'x';
	int i;

	if (m == NULL)
		_exit(2);
	for (i = 0; i < n; i++)
		metrics_observe_request(m, 0, HTTP_GET, 200, 100);
	metrics_counter_add(m, MC_DB_RECONNECTS, 1);
	if (write(ready_fd, &c, 1) != 1)
		_exit(3);
	(void)!read(go_fd, &c, 1);     /* returns 0 once the parent closes */
	metrics_close(m);
	_exit(0);
}

/* Fork a process that runs one metrics_open and reports by exit status:
 * 0 when the open result is the expected one (NULL or not), after
 * recording one request if it got a slot. */
static int
fork_open_once(int expect_slot)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		struct gacp_err err;
		struct metrics *m = metrics_open(path, 3, NROUTES, &err);

		if (m == NULL)
			_exit(!expect_slot && err.result == GACP_ELIMIT ? 0 : 1);
		metrics_observe_request(m, 0, HTTP_GET, 200, 100);
		metrics_close(m);
		_exit(expect_slot ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
test_processes_summed_and_slots_reused(void)
{
	int ready[2], go[2], i, status;
	int counts[2] = { 5, 7 };
	pid_t pids[2];
	struct metrics *m;
	struct buf out;
	char c;

	make_dir();
	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
	fflush(stdout);
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] >= 0);
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			child_observe(counts[i], ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(read(ready[0], &c, 1), 1);

	/* Both children hold a slot; the parent takes the third. */
	m = metrics_open(path, 3, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	render(m, &out);
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"200\"} 12"));
	CU_ASSERT(has_line(out.data, "gacp_http_request_duration_seconds_count"
	    "{route=\"health\",method=\"GET\"} 12"));
	CU_ASSERT(has_line(out.data, "gacp_db_reconnects_total 2"));
	buf_cleanup(&out);
	/* Every slot is taken by a live process: a fourth cannot get one. */
	CU_ASSERT_EQUAL(fork_open_once(0), 0);

	close(go[1]);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(ready[0]);

	/* The dead processes' counts stay in the totals ... */
	render(m, &out);
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"200\"} 12"));
	buf_cleanup(&out);
	/* ... and a new process takes over a dead one's slot, counts kept. */
	CU_ASSERT_EQUAL(fork_open_once(1), 0);
	CU_ASSERT_EQUAL(fork_open_once(1), 0);
	render(m, &out);
	CU_ASSERT(has_line(out.data, "gacp_http_requests_total{route=\"health\","
	    "method=\"GET\",status=\"200\"} 14"));
	CU_ASSERT(has_line(out.data, "gacp_db_reconnects_total 2"));
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

/* The text exposition format, line by line: comments are "# HELP name
 * text" or "# TYPE name counter|gauge|histogram" (one TYPE per family,
 * before its samples); a sample is name[{label="value",…}] value, with
 * the name of a declared family (histograms: _bucket, _sum, _count;
 * buckets with an le label), counters named …_total.  Returns the
 * number of bad lines (each printed unless quiet). */
static int
exposition_check(const char *text, int quiet)
{
	char fam[64][96], typ[64][16];
	size_t nfam = 0, f;
	int bad = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		char line[512], name[96];
		size_t len = nl ? (size_t)(nl - p) : strlen(p), n = 0;
		int ok = 1;

		if (nl == NULL || len >= sizeof(line)) {
			if (!quiet)
				printf("\nunterminated or long line: %.60s\n", p);
			return bad + 1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char t[16];
			if (sscanf(line + 7, "%95s %15s", name, t) != 2 ||
			    (strcmp(t, "counter") && strcmp(t, "gauge") &&
			    strcmp(t, "histogram")) ||
			    (strcmp(t, "counter") == 0 &&
			    (strlen(name) < 6 ||
			    strcmp(name + strlen(name) - 6, "_total") != 0)))
				ok = 0;
			for (f = 0; f < nfam; f++)
				if (strcmp(fam[f], name) == 0)
					ok = 0;   /* declared twice */
			if (ok && nfam < 64) {
				snprintf(fam[nfam], sizeof(fam[0]), "%s", name);
				snprintf(typ[nfam++], sizeof(typ[0]), "%s", t);
			}
		} else {
			const char *q = line, *v;
			char *end;
			while (isalnum((unsigned char)*q) || *q == '_' || *q == ':')
				name[n++] = *q++;
			name[n] = '\0';
			if (n == 0 || isdigit((unsigned char)name[0]))
				ok = 0;
			if (*q == '{') {
				const char *close = strchr(q, '}');
				/* label="value" pairs, comma separated */
				const char *r = q + 1;
				if (close == NULL)
					ok = 0;
				while (ok && r < close) {
					while (r < close && (isalnum((unsigned char)*r) ||
					    *r == '_'))
						r++;
					if (r[0] != '=' || r[1] != '"') {
						ok = 0;
						break;
					}
					r = strchr(r + 2, '"');
					if (r == NULL || r > close) {
						ok = 0;
						break;
					}
					r++;
					if (*r == ',')
						r++;
				}
				q = close ? close + 1 : q;
			}
			if (*q != ' ')
				ok = 0;
			v = q + 1;
			if (strcmp(v, "+Inf") != 0) {
				(void)strtod(v, &end);
				if (end == v || *end != '\0')
					ok = 0;
			}
			for (f = 0; ok && f < nfam; f++) {
				size_t fl = strlen(fam[f]);
				if (strcmp(name, fam[f]) == 0 &&
				    strcmp(typ[f], "histogram") != 0)
					break;
				if (strcmp(typ[f], "histogram") == 0 &&
				    strncmp(name, fam[f], fl) == 0 &&
				    (strcmp(name + fl, "_sum") == 0 ||
				    strcmp(name + fl, "_count") == 0 ||
				    (strcmp(name + fl, "_bucket") == 0 &&
				    strstr(line, "le=\"") != NULL)))
					break;
			}
			if (f == nfam)
				ok = 0;   /* no TYPE line before it */
		}
		if (!ok) {
			if (!quiet)
				printf("\nbad exposition line: %s\n", line);
			bad++;
		}
	}
	return bad;
}

static int
exposition_errors(const char *text)
{
	return exposition_check(text, 0);
}

static void
test_histograms(void)
{
	struct metrics *m;
	struct buf out;
	const char *p;

	make_dir();
	m = metrics_open(path, 2, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	/* Bounds are inclusive; negative counts as 0; above the last bound
	 * only +Inf counts it. */
	metrics_observe(m, MH_NLU_PARSE_API, 100);
	metrics_observe(m, MH_NLU_PARSE_API, -3);
	metrics_observe(m, MH_NLU_PARSE_API, 101);
	metrics_observe(m, MH_NLU_PARSE_API, 2000000);
	metrics_observe(m, MH_NLU_PARSE_WORKER, 3000);
	metrics_observe(m, MH_WORKER_EVENT, 40000000);
	metrics_observe(m, MH_STAGE_CLAIM, 180);
	metrics_observe(m, MH_STAGE_SEND_API, 12000000);
	metrics_observe(m, MH_WORKER_LATENCY, 7500);
	metrics_observe(m, MH_HISTOGRAM_COUNT, 1);      /* ignored */
	metrics_observe(NULL, MH_NLU_PARSE_API, 1);     /* ignored */
	metrics_counter_add(m, MC_NLU_MODEL_REFUSED, 1);
	render(m, &out);
	CU_ASSERT(has_line(out.data,
	    "# TYPE gacp_nlu_parse_duration_seconds histogram"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"api\",le=\"0.0001\"} 2"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"api\",le=\"0.00025\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"api\",le=\"1\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"api\",le=\"+Inf\"} 4"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_sum"
	    "{source=\"api\"} 2.000201"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_count"
	    "{source=\"api\"} 4"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"worker\",le=\"0.0025\"} 0"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_bucket"
	    "{source=\"worker\",le=\"0.005\"} 1"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_parse_duration_seconds_count"
	    "{source=\"rest\"} 0"));
	CU_ASSERT(has_line(out.data, "gacp_worker_event_duration_seconds_bucket"
	    "{le=\"30\"} 0"));
	CU_ASSERT(has_line(out.data, "gacp_worker_event_duration_seconds_bucket"
	    "{le=\"+Inf\"} 1"));
	CU_ASSERT(has_line(out.data, "gacp_worker_event_duration_seconds_sum "
	    "40.000000"));
	CU_ASSERT(has_line(out.data, "gacp_worker_event_duration_seconds_count 1"));
	/* Stages: one family, a label per stage, finer buckets. */
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_bucket{stage=\"claim\","
	    "le=\"0.0001\"} 0"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_bucket{stage=\"claim\","
	    "le=\"0.00025\"} 1"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_count{stage=\"claim\"} 1"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_bucket{stage=\"send_api\","
	    "le=\"10\"} 0"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_bucket{stage=\"send_api\","
	    "le=\"+Inf\"} 1"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_stage_duration_seconds_count{stage=\"ack\"} 0"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_event_latency_seconds_bucket{le=\"0.01\"} 1"));
	CU_ASSERT(has_line(out.data,
	    "gacp_worker_event_latency_seconds_sum 0.007500"));
	p = strstr(out.data, "# TYPE gacp_worker_stage_duration_seconds histogram");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1,
	    "# TYPE gacp_worker_stage_duration_seconds histogram"));
	CU_ASSERT(has_line(out.data,
	    "gacp_nlu_model_loads_total{result=\"refused\"} 1"));
	/* One HELP/TYPE per family, whatever the number of label sets. */
	p = strstr(out.data, "# TYPE gacp_nlu_parse_duration_seconds histogram");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1,
	    "# TYPE gacp_nlu_parse_duration_seconds histogram"));
	/* Buckets are cumulative: never smaller than the one before. */
	{
		const char *q = out.data;
		unsigned long long prev = 0, v;
		int n = 0;
		while ((q = strstr(q, "gacp_nlu_parse_duration_seconds_bucket"
		    "{source=\"api\"")) != NULL) {
			const char *sp = strchr(q, ' ');
			CU_ASSERT_FATAL(sp != NULL);
			v = strtoull(sp + 1, NULL, 10);
			CU_ASSERT(v >= prev);
			prev = v;
			q = sp;
			n++;
		}
		CU_ASSERT_EQUAL(n, 13);   /* 12 bounds + +Inf */
	}
	CU_ASSERT_EQUAL(exposition_errors(out.data), 0);
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

static void
test_exposition_format(void)
{
	struct metrics *m;
	struct buf out;

	make_dir();
	m = metrics_open(path, 2, NROUTES, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_observe_request(m, 0, HTTP_GET, 200, 300);
	metrics_observe_request(m, NROUTES, HTTP_PUT, 404, 100);
	metrics_counter_add(m, MC_SEND_OK, 2);
	metrics_observe(m, MH_NLU_PARSE_REST, 700);
	render(m, &out);
	metrics_render_family(&out, "gacp_inbound_queue_length", "gauge",
	    "Entries.");
	metrics_render_sample(&out, "gacp_inbound_queue_length", "", 12);
	metrics_render_family(&out, "gacp_nlu_active_model_version", "gauge",
	    "Version.");
	metrics_render_sample(&out, "gacp_nlu_active_model_version",
	    "tenant=\"0b5e7a52-2f0c-4f3e-9d6a-1c2b3d4e5f60\"", 3);
	metrics_render_sample(&out, "gacp_inbound_queue_oldest_age_seconds_x",
	    "", 0.25);
	CU_ASSERT(has_line(out.data, "gacp_inbound_queue_length 12"));
	CU_ASSERT(has_line(out.data, "gacp_nlu_active_model_version{tenant="
	    "\"0b5e7a52-2f0c-4f3e-9d6a-1c2b3d4e5f60\"} 3"));
	CU_ASSERT(has_line(out.data, "gacp_inbound_queue_oldest_age_seconds_x 0.25"));
	/* The checker catches the sample without a TYPE line, and only it. */
	CU_ASSERT_EQUAL(exposition_check(out.data, 1), 1);
	CU_ASSERT_EQUAL(exposition_check("# TYPE x_seconds counter\n", 1), 1);
	CU_ASSERT_EQUAL(exposition_check("# TYPE a_total counter\n"
	    "a_total{x=\"1\" 2\n", 1), 1);
	CU_ASSERT_EQUAL(exposition_check("# TYPE a_total counter\n"
	    "a_total 1\n# TYPE a_total counter\n", 1), 1);   /* declared twice */
	CU_ASSERT_EQUAL(exposition_check("# TYPE h histogram\n"
	    "h_bucket 1\n", 1), 1);                         /* bucket without le */
	buf_cleanup(&out);
	metrics_close(m);
	remove_dir();
}

/* A fake model file: the 64-byte header with payload checksum byte b. */
static void
write_model(const char *p, unsigned char b)
{
	unsigned char h[96];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	memset(h, 0, sizeof(h));
	memcpy(h, "GACPNLU", 8);
	memset(h + 16, b, 32);
	CU_ASSERT_EQUAL(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
	close(fd);
}

static void
test_models_scan_active(void)
{
	static const char *t[] = {
		"30000000-0000-4000-8000-000000000003",
		"10000000-0000-4000-8000-000000000001",
		"20000000-0000-4000-8000-000000000002",
		"40000000-0000-4000-8000-000000000004",
	};
	char mdir[64], p[256], q[256];
	struct models *ms;
	struct models_active *act;
	size_t n, total, i;

	snprintf(mdir, sizeof(mdir), "/tmp/gacp-ut-models-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(mdir));
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", mdir, t[i]);
		CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
		snprintf(p, sizeof(p), "%s/%s/1.gnlu", mdir, t[i]);
		write_model(p, 1);
		snprintf(p, sizeof(p), "%s/%s/2.gnlu", mdir, t[i]);
		write_model(p, 2);
	}
	/* Retraining unchanged data gives byte-identical versions. */
	snprintf(p, sizeof(p), "%s/%s/3.gnlu", mdir, t[0]);
	write_model(p, 2);
	snprintf(p, sizeof(p), "%s/%s/3.gnlu", mdir, t[1]);
	write_model(p, 1);
	/* t[0]: version 2 published as a hard link (the identical version 3
	 * is not the file published: the inode decides) */
	snprintf(p, sizeof(p), "%s/%s/2.gnlu", mdir, t[0]);
	snprintf(q, sizeof(q), "%s/%s/active.gnlu", mdir, t[0]);
	CU_ASSERT_FATAL(link(p, q) == 0);
	/* t[1]: published as a copy (same checksum as versions 1 and 3):
	 * the newest of them */
	snprintf(q, sizeof(q), "%s/%s/active.gnlu", mdir, t[1]);
	write_model(q, 1);
	/* t[2]: no model published; t[3]: a file of no version */
	snprintf(q, sizeof(q), "%s/%s/active.gnlu", mdir, t[3]);
	write_model(q, 9);
	snprintf(p, sizeof(p), "%s/not-a-tenant", mdir);
	CU_ASSERT_FATAL(mkdir(p, 0700) == 0);

	ms = models_new(mdir, 1000000);
	act = models_scan_active(ms, 10, &n, &total);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(act[0].tenant_id, t[1]);   /* id order */
	CU_ASSERT_EQUAL(act[0].version, 3);
	CU_ASSERT_STRING_EQUAL(act[1].tenant_id, t[0]);
	CU_ASSERT_EQUAL(act[1].version, 2);
	CU_ASSERT_STRING_EQUAL(act[2].tenant_id, t[3]);
	CU_ASSERT_EQUAL(act[2].version, 0);
	free(act);
	/* Capped: the first by id, the total still counts all. */
	act = models_scan_active(ms, 1, &n, &total);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(act[0].tenant_id, t[1]);
	free(act);
	models_free(ms);
	/* A missing directory: nothing, no crash. */
	ms = models_new("/nonexistent-gacp-models", 1000000);
	act = models_scan_active(ms, 10, &n, &total);
	CU_ASSERT_PTR_NULL(act);
	CU_ASSERT_EQUAL(total, 0);
	models_free(ms);
	snprintf(p, sizeof(p), "rm -rf '%s'", mdir);
	CU_ASSERT_EQUAL(system(p), 0);
}

static const struct test_case cases[] = {
	{ "observe and render", test_observe_and_render },
	{ "duration edges", test_duration_edges },
	{ "NULL metrics ignored", test_null_metrics_ignored },
	{ "reopen keeps slot", test_reopen_same_process_keeps_slot },
	{ "layout change replaces file", test_layout_change_replaces_file },
	{ "open failure", test_open_failure },
	{ "processes summed, slots reused", test_processes_summed_and_slots_reused },
	{ "histograms", test_histograms },
	{ "exposition format", test_exposition_format },
	{ "models scan active", test_models_scan_active },
	{ NULL, NULL }
};

void
test_metrics_register(void)
{
	tests_add_suite("metrics", cases);
}
