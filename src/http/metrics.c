/* metrics.c - shared-memory Prometheus metrics (see metrics.h). */
#include "http/metrics.h"
#include "http/router.h"
#include "common/buf.h"
#include "common/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define METRICS_MAGIC "GACPMET2"   /* 2: + histograms, model loads */

/* Status codes that get their own series; anything else counts as its
 * class ("2xx" … "5xx") so cardinality stays bounded. */
static const int tracked_status[] = {
	200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 423,
	429, 500, 502, 503, 504,
};
#define NSTATUS_TRACKED (sizeof(tracked_status) / sizeof(tracked_status[0]))
#define NSTATUS (NSTATUS_TRACKED + 4)   /* + 2xx/3xx/4xx/5xx other */

/* Histogram upper bounds in microseconds (Prometheus "le" in seconds). */
static const int64_t bucket_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000,
};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* Counters of one family (same name) must be adjacent: the renderer
 * prints HELP/TYPE once per family. */
static const struct {
	const char *name;
	const char *labels;     /* "" or `result="received"` */
	const char *help;
} counter_info[MC_COUNTER_COUNT] = {
	{ "gacp_db_errors_total", "", "PostgreSQL calls that failed." },
	{ "gacp_redis_errors_total", "", "Redis calls that failed." },
	{ "gacp_db_reconnects_total", "", "PostgreSQL connections (re)opened." },
	{ "gacp_redis_reconnects_total", "", "Redis connections (re)opened." },
	{ "gacp_webhook_events_total", "result=\"received\"",
	    "Messenger webhook events by result." },
	{ "gacp_webhook_events_total", "result=\"duplicate\"", NULL },
	{ "gacp_webhook_events_total", "result=\"ignored\"", NULL },
	{ "gacp_webhook_events_total", "result=\"rejected_signature\"", NULL },
	{ "gacp_webhook_events_total", "result=\"rejected_unknown_page\"", NULL },
	{ "gacp_webhook_events_total", "result=\"rejected_invalid\"", NULL },
	{ "gacp_webhook_events_total", "result=\"rejected_suspended\"", NULL },
	{ "gacp_webhook_events_total", "result=\"store_failed\"", NULL },
	{ "gacp_worker_events_total", "result=\"processed\"",
	    "Queued events handled by gacp-worker, by result." },
	{ "gacp_worker_events_total", "result=\"failed\"", NULL },
	{ "gacp_worker_events_total", "result=\"dead_lettered\"", NULL },
	{ "gacp_worker_events_total", "result=\"deferred\"", NULL },
	{ "gacp_queue_maintenance_total", "action=\"entries_trimmed\"",
	    "gacp:inbound upkeep by the workers: acknowledged entries trimmed, "
	    "idle consumers without pending entries removed." },
	{ "gacp_queue_maintenance_total", "action=\"consumers_removed\"", NULL },
	{ "gacp_send_api_calls_total", "outcome=\"ok\"",
	    "Messenger Send API calls by outcome." },
	{ "gacp_send_api_calls_total", "outcome=\"retry\"", NULL },
	{ "gacp_send_api_calls_total", "outcome=\"failed\"", NULL },
	{ "gacp_send_api_calls_total", "outcome=\"reauth\"", NULL },
	{ "gacp_nlu_model_loads_total", "result=\"loaded\"",
	    "NLU model files mapped by a process after publishing, or refused "
	    "(the old model keeps serving)." },
	{ "gacp_nlu_model_loads_total", "result=\"refused\"", NULL },
};

/* Upper bounds of the non-route histograms, microseconds.  An NLU parse
 * takes tens of microseconds; a worker event includes the Send API call
 * and its retries (seconds when Facebook is slow); a stage of an event
 * ranges from a cached read to a stalled commit. */
#define HIST_MAX_BUCKETS 16
#define HIST_BOUNDS_FIT(a) \
	_Static_assert(sizeof(a) / sizeof((a)[0]) - 1 <= HIST_MAX_BUCKETS, \
	    #a " has more bounds than HIST_MAX_BUCKETS")
static const int64_t nlu_bucket_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	1000000, 0,
};
static const int64_t stage_bucket_us[] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 10000000, 0,
};
static const int64_t event_bucket_us[] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000, 30000000, 0,
};

HIST_BOUNDS_FIT(nlu_bucket_us);
HIST_BOUNDS_FIT(stage_bucket_us);
HIST_BOUNDS_FIT(event_bucket_us);

/* Histograms of one family must be adjacent (HELP/TYPE once). */
static const struct {
	const char    *name;
	const char    *labels;
	const char    *help;
	const int64_t *bounds;        /* ascending, 0-terminated */
} hist_info[MH_HISTOGRAM_COUNT] = {
	{ "gacp_nlu_parse_duration_seconds", "source=\"api\"",
	    "Time to parse one text with the tenant's NLU model, by caller.",
	    nlu_bucket_us },
	{ "gacp_nlu_parse_duration_seconds", "source=\"worker\"", NULL,
	    nlu_bucket_us },
	{ "gacp_nlu_parse_duration_seconds", "source=\"rest\"", NULL,
	    nlu_bucket_us },
	{ "gacp_worker_event_duration_seconds", "",
	    "Time gacp-worker spends on one queued event (NLU, flow, Send API, "
	    "commit).", event_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"queued\"",
	    "Where a Messenger event's time goes, by stage: queued (webhook "
	    "to worker), waiting (behind its batch), turn (NLU, flow, "
	    "transaction), pace, claim, send_api, finish, ack.",
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"waiting\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"turn\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"pace\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"claim\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"send_api\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"finish\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_stage_duration_seconds", "stage=\"ack\"", NULL,
	    stage_bucket_us },
	{ "gacp_worker_event_latency_seconds", "",
	    "Time from the webhook storing a Messenger event to the worker "
	    "acknowledging it (its reply sent, when it has one).",
	    stage_bucket_us },
};

struct hist_stats {
	uint64_t bucket[HIST_MAX_BUCKETS + 1];   /* last = above every bound */
	uint64_t sum_us;
};

struct key_stats {
	uint64_t status[NSTATUS];
	uint64_t bucket[NBUCKETS + 1];   /* last = +Inf */
	uint64_t sum_us;
};

struct metrics_header {
	char     magic[8];
	uint32_t nslots;
	uint32_t nkeys;
	uint64_t slot_bytes;
};

struct metrics_slot {
	int32_t          pid;
	int32_t          pad;
	uint64_t         counters[MC_COUNTER_COUNT];
	struct hist_stats hists[MH_HISTOGRAM_COUNT];
	struct key_stats keys[];         /* nkeys = nroutes + HTTP_METHOD_COUNT */
};

struct metrics {
	void                 *map;
	size_t                map_bytes;
	struct metrics_header *hdr;
	struct metrics_slot  *mine;
	size_t                nroutes;
};

static size_t
slot_bytes_for(size_t nkeys)
{
	size_t b = sizeof(struct metrics_slot) + nkeys * sizeof(struct key_stats);
	return (b + 63) & ~(size_t)63;
}

static struct metrics_slot *
slot_at(const struct metrics *m, unsigned i)
{
	return (struct metrics_slot *)((char *)m->map +
	    sizeof(struct metrics_header) + 64 + (size_t)i * m->hdr->slot_bytes);
}

static int
layout_ok(const struct metrics_header *h, unsigned nslots, size_t nkeys)
{
	return memcmp(h->magic, METRICS_MAGIC, 8) == 0 && h->nslots == nslots &&
	    h->nkeys == nkeys && h->slot_bytes == slot_bytes_for(nkeys);
}

/* Create a fresh file beside path and rename it over path, so processes
 * still mapping the old inode are not disturbed. */
static int
create_file(const char *path, unsigned nslots, size_t nkeys, size_t total)
{
	char tmp[4096];
	struct metrics_header h;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
	if (fd < 0)
		return -1;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, METRICS_MAGIC, 8);
	h.nslots = nslots;
	h.nkeys = (uint32_t)nkeys;
	h.slot_bytes = slot_bytes_for(nkeys);
	if (ftruncate(fd, (off_t)total) != 0 ||
	    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    rename(tmp, path) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return 0;
}

struct metrics *
metrics_open(const char *path, unsigned nslots, size_t nroutes,
    struct gacp_err *err)
{
	size_t nkeys = nroutes + HTTP_METHOD_COUNT;
	size_t total = sizeof(struct metrics_header) + 64 +
	    (size_t)nslots * slot_bytes_for(nkeys);
	struct metrics *m = NULL;
	struct metrics_header h;
	char lockpath[4096];
	int lockfd = -1, fd = -1;
	unsigned i;
	pid_t me = getpid();

	/* A separate lock file serialises creation: the data file itself may
	 * be replaced by rename while we hold a lock on it. */
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
		gacp_err_set(err, GACP_EIO, "metrics_unavailable",
		    "cannot lock %s: %s", lockpath, strerror(errno));
		goto fail;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    !layout_ok(&h, nslots, nkeys)) {
		if (fd >= 0)
			close(fd);
		if (create_file(path, nslots, nkeys, total) != 0) {
			gacp_err_set(err, GACP_EIO, "metrics_unavailable",
			    "cannot create %s: %s", path, strerror(errno));
			fd = -1;
			goto fail;
		}
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			gacp_err_set(err, GACP_EIO, "metrics_unavailable",
			    "cannot open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	m = xcalloc(1, sizeof(*m));
	m->map_bytes = total;
	m->nroutes = nroutes;
	m->map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m->map == MAP_FAILED) {
		gacp_err_set(err, GACP_EIO, "metrics_unavailable",
		    "cannot map %s: %s", path, strerror(errno));
		m->map = NULL;
		goto fail;
	}
	m->hdr = m->map;
	for (i = 0; i < nslots && m->mine == NULL; i++) {
		struct metrics_slot *s = slot_at(m, i);
		int32_t owner = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
		if (owner == (int32_t)me ||
		    owner == 0 || (kill(owner, 0) != 0 && errno == ESRCH)) {
			if (__atomic_compare_exchange_n(&s->pid, &owner,
			    (int32_t)me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				m->mine = s;
		}
	}
	if (m->mine == NULL) {
		gacp_err_set(err, GACP_ELIMIT, "metrics_unavailable",
		    "all %u metric slots of %s are taken", nslots, path);
		goto fail;
	}
	close(fd);
	flock(lockfd, LOCK_UN);
	close(lockfd);
	return m;
fail:
	if (m != NULL && m->map != NULL)
		munmap(m->map, m->map_bytes);
	free(m);
	if (fd >= 0)
		close(fd);
	if (lockfd >= 0)
		close(lockfd);
	return NULL;
}

void
metrics_close(struct metrics *m)
{
	if (m == NULL)
		return;
	/* Keep the slot's pid: the counts stay and a later process takes the
	 * slot over once this pid is gone. */
	munmap(m->map, m->map_bytes);
	free(m);
}

static size_t
status_index(int status)
{
	size_t i;

	for (i = 0; i < NSTATUS_TRACKED; i++)
		if (tracked_status[i] == status)
			return i;
	if (status >= 200 && status < 600)
		return NSTATUS_TRACKED + (size_t)(status / 100 - 2);
	return NSTATUS_TRACKED + 3;
}

void
metrics_observe_request(struct metrics *m, size_t route_index,
    enum http_method method, int status, int64_t duration_us)
{
	struct key_stats *k;
	size_t key, b;

	if (m == NULL)
		return;
	key = route_index < m->nroutes ? route_index :
	    m->nroutes + (size_t)method;
	if (key >= m->hdr->nkeys)
		return;
	k = &m->mine->keys[key];
	if (duration_us < 0)
		duration_us = 0;
	for (b = 0; b < NBUCKETS && duration_us > bucket_us[b]; b++)
		;
	__atomic_fetch_add(&k->status[status_index(status)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&k->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&k->sum_us, (uint64_t)duration_us, __ATOMIC_RELAXED);
}

void
metrics_counter_add(struct metrics *m, enum metrics_counter c, uint64_t n)
{
	if (m == NULL || (unsigned)c >= MC_COUNTER_COUNT)
		return;
	__atomic_fetch_add(&m->mine->counters[c], n, __ATOMIC_RELAXED);
}

void
metrics_observe(struct metrics *m, enum metrics_histogram h,
    int64_t duration_us)
{
	const int64_t *bounds;
	struct hist_stats *hs;
	size_t b;

	if (m == NULL || (unsigned)h >= MH_HISTOGRAM_COUNT)
		return;
	if (duration_us < 0)
		duration_us = 0;
	bounds = hist_info[h].bounds;
	for (b = 0; bounds[b] != 0 && duration_us > bounds[b]; b++)
		;
	hs = &m->mine->hists[h];
	__atomic_fetch_add(&hs->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&hs->sum_us, (uint64_t)duration_us, __ATOMIC_RELAXED);
}

void
metrics_render_family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_render_sample(struct buf *out, const char *name, const char *labels,
    double value)
{
	if (labels != NULL && labels[0] != '\0')
		buf_printf(out, "%s{%s} %.17g\n", name, labels, value);
	else
		buf_printf(out, "%s %.17g\n", name, value);
}

/* One histogram's series: cumulative buckets, +Inf, sum, count. */
static void
render_hist(struct buf *out, size_t h, const struct hist_stats *hs)
{
	const int64_t *bounds = hist_info[h].bounds;
	const char *labels = hist_info[h].labels;
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	size_t b;

	for (b = 0; bounds[b] != 0; b++) {
		cum += hs->bucket[b];
		buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n",
		    hist_info[h].name, labels, sep, (double)bounds[b] / 1e6,
		    (unsigned long long)cum);
	}
	cum += hs->bucket[b];
	buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", hist_info[h].name,
	    labels, sep, (unsigned long long)cum);
	if (labels[0] != '\0') {
		buf_printf(out, "%s_sum{%s} %.6f\n", hist_info[h].name, labels,
		    (double)hs->sum_us / 1e6);
		buf_printf(out, "%s_count{%s} %llu\n", hist_info[h].name, labels,
		    (unsigned long long)cum);
	} else {
		buf_printf(out, "%s_sum %.6f\n", hist_info[h].name,
		    (double)hs->sum_us / 1e6);
		buf_printf(out, "%s_count %llu\n", hist_info[h].name,
		    (unsigned long long)cum);
	}
}

static void
status_label(size_t si, char *out, size_t outlen)
{
	static const char *classes[] = { "2xx", "3xx", "4xx", "5xx" };

	if (si < NSTATUS_TRACKED)
		snprintf(out, outlen, "%d", tracked_status[si]);
	else
		snprintf(out, outlen, "%s", classes[si - NSTATUS_TRACKED]);
}

static void
key_labels(const struct route *routes, size_t nroutes, size_t key,
    const char **route, const char **method)
{
	if (key < nroutes) {
		*route = routes[key].name;
		*method = http_method_name(routes[key].method);
	} else {
		*route = "unmatched";
		*method = http_method_name((enum http_method)(key - nroutes));
	}
}

void
metrics_render(const struct metrics *m, const struct route *routes,
    size_t nroutes, struct buf *out)
{
	size_t nkeys = m->hdr->nkeys, k, s, b, c;
	struct key_stats *sum = xcalloc(nkeys, sizeof(*sum));
	uint64_t counters[MC_COUNTER_COUNT] = { 0 };
	struct hist_stats hists[MH_HISTOGRAM_COUNT];
	unsigned i;

	memset(hists, 0, sizeof(hists));

	if (nroutes != m->nroutes)
		nroutes = m->nroutes;
	for (i = 0; i < m->hdr->nslots; i++) {
		struct metrics_slot *slot = slot_at(m, i);
		if (__atomic_load_n(&slot->pid, __ATOMIC_ACQUIRE) == 0)
			continue;
		for (c = 0; c < MC_COUNTER_COUNT; c++)
			counters[c] += __atomic_load_n(&slot->counters[c],
			    __ATOMIC_RELAXED);
		for (c = 0; c < MH_HISTOGRAM_COUNT; c++) {
			for (b = 0; b <= HIST_MAX_BUCKETS; b++)
				hists[c].bucket[b] += __atomic_load_n(
				    &slot->hists[c].bucket[b], __ATOMIC_RELAXED);
			hists[c].sum_us += __atomic_load_n(&slot->hists[c].sum_us,
			    __ATOMIC_RELAXED);
		}
		for (k = 0; k < nkeys; k++) {
			struct key_stats *src = &slot->keys[k];
			for (s = 0; s < NSTATUS; s++)
				sum[k].status[s] += __atomic_load_n(&src->status[s],
				    __ATOMIC_RELAXED);
			for (b = 0; b <= NBUCKETS; b++)
				sum[k].bucket[b] += __atomic_load_n(&src->bucket[b],
				    __ATOMIC_RELAXED);
			sum[k].sum_us += __atomic_load_n(&src->sum_us,
			    __ATOMIC_RELAXED);
		}
	}

	buf_puts(out, "# HELP gacp_http_requests_total HTTP requests answered, "
	    "by route, method and status.\n"
	    "# TYPE gacp_http_requests_total counter\n");
	for (k = 0; k < nkeys; k++) {
		const char *route, *method;
		key_labels(routes, nroutes, k, &route, &method);
		for (s = 0; s < NSTATUS; s++) {
			char st[8];
			if (sum[k].status[s] == 0)
				continue;
			status_label(s, st, sizeof(st));
			buf_printf(out, "gacp_http_requests_total{route=\"%s\","
			    "method=\"%s\",status=\"%s\"} %llu\n", route, method,
			    st, (unsigned long long)sum[k].status[s]);
		}
	}
	buf_puts(out, "# HELP gacp_http_request_duration_seconds Time from "
	    "request parsed to response written.\n"
	    "# TYPE gacp_http_request_duration_seconds histogram\n");
	for (k = 0; k < nkeys; k++) {
		const char *route, *method;
		uint64_t cum = 0;

		if (k >= nroutes) {
			uint64_t any = 0;
			for (b = 0; b <= NBUCKETS; b++)
				any += sum[k].bucket[b];
			if (any == 0)
				continue;   /* keep unused unmatched methods out */
		}
		key_labels(routes, nroutes, k, &route, &method);
		for (b = 0; b < NBUCKETS; b++) {
			cum += sum[k].bucket[b];
			buf_printf(out, "gacp_http_request_duration_seconds_bucket"
			    "{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n", route,
			    method, (double)bucket_us[b] / 1e6,
			    (unsigned long long)cum);
		}
		cum += sum[k].bucket[NBUCKETS];
		buf_printf(out, "gacp_http_request_duration_seconds_bucket"
		    "{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n", route,
		    method, (unsigned long long)cum);
		buf_printf(out, "gacp_http_request_duration_seconds_sum"
		    "{route=\"%s\",method=\"%s\"} %.6f\n", route, method,
		    (double)sum[k].sum_us / 1e6);
		buf_printf(out, "gacp_http_request_duration_seconds_count"
		    "{route=\"%s\",method=\"%s\"} %llu\n", route, method,
		    (unsigned long long)cum);
	}
	for (c = 0; c < MC_COUNTER_COUNT; c++) {
		if (counter_info[c].help != NULL)
			buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n",
			    counter_info[c].name, counter_info[c].help,
			    counter_info[c].name);
		if (counter_info[c].labels[0] != '\0')
			buf_printf(out, "%s{%s} %llu\n", counter_info[c].name,
			    counter_info[c].labels,
			    (unsigned long long)counters[c]);
		else
			buf_printf(out, "%s %llu\n", counter_info[c].name,
			    (unsigned long long)counters[c]);
	}
	for (c = 0; c < MH_HISTOGRAM_COUNT; c++) {
		if (hist_info[c].help != NULL)
			metrics_render_family(out, hist_info[c].name, "histogram",
			    hist_info[c].help);
		render_hist(out, c, &hists[c]);
	}
	free(sum);
}
