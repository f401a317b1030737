/* gacp-nlu.c - train, evaluate, query and benchmark NLU models.
 *
 *   gacp-nlu train --data FILE --out MODEL [--lang LANG] [--seed N]
 *                  [--valid FILE] [--members N] [--hidden N] [--epochs N]
 *                  [--dim-log2 N] [--threads N] [--synth-oos N]
 *                  [--threshold T] [--ambiguity A] [--lr R] [--batch N]
 *                  [--dropout-in P] [--dropout-hidden P]
 *                  [--label-smoothing E] [--char-weight W]
 *                  [--char-min N] [--char-max N] [--xword 0|1]
 *                  [--views 0|1] [--oos-recall-target R]
 *                  [--wordnet DIR|none] [--wn-senses N] [--wn-hypernyms 0|1]
 *                  [--wn-weight W] [--wn-decay D] [--wn-hyper H]
 *                  [--wn-augment N] [--wn-augment-p P]
 *                  [--linear-weight W] [--linear-dim-log2 N]
 *                  [--linear-epochs N] [--linear-lr R]
 *                  [--embeddings FILE|none] [--emb-top N] [--emb-scale S]
 *                  [--emb-idf 0|1] [--emb-max 0|1] [--conv-filters N]
 *                  [--nb-augment N] [--nb-augment-p P] [--nb-augment-cos C]
 *                  [--aug-members 0|1]
 *   gacp-nlu eval  --model MODEL --data FILE [--json] [--threshold T]
 *                  [--rows FILE]
 *   gacp-nlu parse --model MODEL [--now EPOCH] TEXT
 *   gacp-nlu bench --model MODEL --data FILE [--iterations N] [--json]
 *   gacp-nlu rss   --model MODEL --data FILE [--procs N] [--json]
 *
 * rss forks N processes (default 8) that each load the model the way a
 * FastCGI process does (mmap, read-only, shared) and parse every row of
 * FILE, then reports the sum of their RSS and PSS growth (from
 * /proc/PID/smaps_rollup) against the model file's size: the cost of N
 * processes serving one model.
 *
 * FILE is TSV (text<TAB>intent), Rasa NLU YAML or Rasa JSON, told apart by
 * extension and content.  Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "nlu/data.h"
#include "nlu/eval.h"
#include "nlu/model.h"
#include "nlu/parse.h"
#include "tools/nlu_reload.h"

struct args {
	const char *data, *out, *model, *valid, *text;
	const char *lang;
	const char *wordnet;
	long        wn_senses, wn_hypernyms;
	double      wn_weight, wn_decay, wn_hyper, wn_augment_p;
	long        wn_augment;
	double      linear_weight, linear_lr;
	long        linear_dim_log2, linear_epochs;
	const char *embeddings;
	long        emb_top, emb_idf, emb_max, conv_filters;
	double      emb_scale;
	long        nb_augment, aug_members;
	double      nb_augment_p, nb_augment_cos;
	long long   seed;
	long        members, hidden, epochs, dim_log2, threads, synth_oos;
	long        iterations, procs;
	double      threshold, ambiguity;
	double      lr, dropout_in, dropout_hidden, smoothing, char_weight;
	double      recall_target, in_scope_budget;
	const char *confidence;
	const char *weights;
	const char *rows;
	long        char_min, char_max, batch, xword, views;
	long long   now;
	int         json;
};

static void	usage(void) __attribute__((noreturn));
static int	parse_args(int, char **, struct args *);
static int	cmd_train(const struct args *);
static int	cmd_eval(const struct args *);
static int	cmd_parse(const struct args *);
static int	cmd_bench(const struct args *);
static int	cmd_rss(const struct args *);
static int	smaps_kib(pid_t, long *, long *);
static void	rss_child(const struct args *, const struct nlu_dataset *, int,
		    int) __attribute__((noreturn));
static double	mono_us(void);
static int	cmp_double(const void *, const void *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gacp-nlu train --data FILE --out MODEL [--lang LANG] "
	    "[--seed N] [--valid FILE]\n"
	    "                      [--members N] [--hidden N] [--epochs N] "
	    "[--dim-log2 N] [--threads N]\n"
	    "                      [--synth-oos N] [--threshold T] "
	    "[--ambiguity A]\n"
	    "                      [--lr R] [--batch N] [--dropout-in P] "
	    "[--dropout-hidden P]\n"
	    "                      [--label-smoothing E] [--char-weight W] "
	    "[--char-min N] [--char-max N]\n"
	    "                      [--xword 0|1] [--views 0|1] "
	    "[--oos-recall-target R]\n"
	    "                      [--in-scope-budget F] "
	    "[--confidence oos-margin|msp]\n"
	    "                      [--weights int8|float32]\n"
	    "                      [--wordnet DIR|none] [--wn-senses N] "
	    "[--wn-hypernyms 0|1]\n"
	    "                      [--wn-weight W] [--wn-decay D] "
	    "[--wn-hyper H]\n"
	    "                      [--wn-augment N] [--wn-augment-p P]\n"
	    "                      [--linear-weight W] [--linear-dim-log2 N] "
	    "[--linear-epochs N]\n"
	    "                      [--linear-lr R] [--embeddings FILE|none] "
	    "[--emb-top N]\n"
	    "                      [--emb-scale S] [--emb-idf 0|1] "
	    "[--emb-max 0|1] [--conv-filters N]\n"
	    "                      [--nb-augment N] [--nb-augment-p P] "
	    "[--nb-augment-cos C] [--aug-members 0|1]\n"
	    "       gacp-nlu eval --model MODEL --data FILE [--json] "
	    "[--threshold T] [--rows FILE]\n"
	    "       gacp-nlu parse --model MODEL [--now EPOCH] TEXT\n"
	    "       gacp-nlu bench --model MODEL --data FILE [--iterations N] "
	    "[--json]\n"
	    "       gacp-nlu rss --model MODEL --data FILE [--procs N] "
	    "[--json]\n");
	exit(2);
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->seed = -1;
	a->members = a->hidden = a->epochs = a->dim_log2 = -1;
	a->threads = a->synth_oos = -1;
	a->threshold = a->ambiguity = -1.0;
	a->lr = a->dropout_in = a->dropout_hidden = a->smoothing = -1.0;
	a->recall_target = a->in_scope_budget = -1.0;
	a->char_weight = -1.0;
	a->char_min = a->char_max = a->batch = -1;
	a->xword = a->views = -1;
	a->wn_senses = a->wn_hypernyms = -1;
	a->wn_weight = a->wn_decay = a->wn_hyper = a->wn_augment_p = -1.0;
	a->wn_augment = -1;
	a->linear_weight = a->linear_lr = -1.0;
	a->linear_dim_log2 = a->linear_epochs = -1;
	a->emb_top = a->emb_idf = a->emb_max = a->conv_filters = -1;
	a->emb_scale = -1.0;
	a->nb_augment = a->aug_members = -1;
	a->nb_augment_p = -1.0;
	a->nb_augment_cos = -2.0;
	a->iterations = 20000;
	a->procs = 8;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

#define OPT_STR(name, field) \
		if (strcmp(o, name) == 0) { \
			if (v == NULL) \
				usage(); \
			a->field = v; \
			i++; \
			continue; \
		}
#define OPT_NUM(name, field, conv) \
		if (strcmp(o, name) == 0) { \
			if (v == NULL) \
				usage(); \
			errno = 0; \
			a->field = conv; \
			if (errno != 0 || end == v || *end != '\0') { \
				fprintf(stderr, "gacp-nlu: bad value for %s: " \
				    "%s\n", name, v); \
				exit(2); \
			} \
			i++; \
			continue; \
		}
		OPT_STR("--data", data)
		OPT_STR("--out", out)
		OPT_STR("--model", model)
		OPT_STR("--valid", valid)
		OPT_STR("--lang", lang)
		OPT_STR("--wordnet", wordnet)
		OPT_STR("--embeddings", embeddings)
		OPT_NUM("--emb-top", emb_top, strtol(v, &end, 10))
		OPT_NUM("--emb-idf", emb_idf, strtol(v, &end, 10))
		OPT_NUM("--emb-max", emb_max, strtol(v, &end, 10))
		OPT_NUM("--emb-scale", emb_scale, strtod(v, &end))
		OPT_NUM("--conv-filters", conv_filters, strtol(v, &end, 10))
		OPT_NUM("--nb-augment-p", nb_augment_p, strtod(v, &end))
		OPT_NUM("--nb-augment-cos", nb_augment_cos, strtod(v, &end))
		OPT_NUM("--nb-augment", nb_augment, strtol(v, &end, 10))
		OPT_NUM("--aug-members", aug_members, strtol(v, &end, 10))
		OPT_NUM("--wn-senses", wn_senses, strtol(v, &end, 10))
		OPT_NUM("--wn-hypernyms", wn_hypernyms, strtol(v, &end, 10))
		OPT_NUM("--wn-weight", wn_weight, strtod(v, &end))
		OPT_NUM("--wn-decay", wn_decay, strtod(v, &end))
		OPT_NUM("--wn-hyper", wn_hyper, strtod(v, &end))
		OPT_NUM("--wn-augment-p", wn_augment_p, strtod(v, &end))
		OPT_NUM("--wn-augment", wn_augment, strtol(v, &end, 10))
		OPT_NUM("--linear-weight", linear_weight, strtod(v, &end))
		OPT_NUM("--linear-lr", linear_lr, strtod(v, &end))
		OPT_NUM("--linear-dim-log2", linear_dim_log2,
		    strtol(v, &end, 10))
		OPT_NUM("--linear-epochs", linear_epochs, strtol(v, &end, 10))
		OPT_NUM("--seed", seed, strtoll(v, &end, 10))
		OPT_NUM("--members", members, strtol(v, &end, 10))
		OPT_NUM("--hidden", hidden, strtol(v, &end, 10))
		OPT_NUM("--epochs", epochs, strtol(v, &end, 10))
		OPT_NUM("--dim-log2", dim_log2, strtol(v, &end, 10))
		OPT_NUM("--threads", threads, strtol(v, &end, 10))
		OPT_NUM("--synth-oos", synth_oos, strtol(v, &end, 10))
		OPT_NUM("--iterations", iterations, strtol(v, &end, 10))
		OPT_NUM("--threshold", threshold, strtod(v, &end))
		OPT_NUM("--ambiguity", ambiguity, strtod(v, &end))
		OPT_NUM("--now", now, strtoll(v, &end, 10))
		OPT_NUM("--lr", lr, strtod(v, &end))
		OPT_NUM("--dropout-in", dropout_in, strtod(v, &end))
		OPT_NUM("--dropout-hidden", dropout_hidden, strtod(v, &end))
		OPT_NUM("--label-smoothing", smoothing, strtod(v, &end))
		OPT_NUM("--oos-recall-target", recall_target, strtod(v, &end))
		OPT_NUM("--in-scope-budget", in_scope_budget, strtod(v, &end))
		OPT_STR("--confidence", confidence)
		OPT_STR("--weights", weights)
		OPT_STR("--rows", rows)
		OPT_NUM("--char-weight", char_weight, strtod(v, &end))
		OPT_NUM("--char-min", char_min, strtol(v, &end, 10))
		OPT_NUM("--char-max", char_max, strtol(v, &end, 10))
		OPT_NUM("--batch", batch, strtol(v, &end, 10))
		OPT_NUM("--xword", xword, strtol(v, &end, 10))
		OPT_NUM("--procs", procs, strtol(v, &end, 10))
		OPT_NUM("--views", views, strtol(v, &end, 10))
#undef OPT_STR
#undef OPT_NUM
		if (strcmp(o, "--json") == 0) {
			a->json = 1;
			continue;
		}
		if (o[0] == '-' && o[1] == '-') {
			fprintf(stderr, "gacp-nlu: unknown option %s\n", o);
			usage();
		}
		if (a->text != NULL)
			usage();
		a->text = o;
	}
	return 0;
}

static double
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_train(const struct args *a)
{
	struct nlu_dataset train, valid;
	struct nlu_train_opts o;
	struct nlu_train_report rep;
	struct nlu_model *m = NULL;
	struct gacp_err err;
	struct stat st;
	int rc = 1, have_valid = 0;
	size_t i;

	if (a->data == NULL || a->out == NULL)
		usage();
	nlu_dataset_init(&train);
	nlu_dataset_init(&valid);
	gacp_err_clear(&err);
	nlu_train_opts_default(&o);
	if (a->seed >= 0)
		o.seed = (uint64_t)a->seed;
	if (a->lang != NULL)
		snprintf(o.lang, sizeof(o.lang), "%s", a->lang);
	if (a->members > 0)
		o.members = (uint32_t)a->members;
	if (a->hidden > 0)
		o.mlp.hidden = (uint32_t)a->hidden;
	if (a->epochs > 0)
		o.mlp.epochs = (uint32_t)a->epochs;
	if (a->dim_log2 > 0)
		o.feat.dim_log2 = (uint32_t)a->dim_log2;
	if (a->threads > 0)
		o.threads = (uint32_t)a->threads;
	if (a->synth_oos >= 0)
		o.synth_oos = (uint32_t)a->synth_oos;
	if (a->threshold >= 0.0)
		o.threshold = (float)a->threshold;
	if (a->ambiguity >= 0.0)
		o.ambiguity = (float)a->ambiguity;
	if (a->lr > 0.0)
		o.mlp.lr = (float)a->lr;
	if (a->dropout_in >= 0.0)
		o.mlp.dropout_in = (float)a->dropout_in;
	if (a->dropout_hidden >= 0.0)
		o.mlp.dropout_hidden = (float)a->dropout_hidden;
	if (a->smoothing >= 0.0)
		o.mlp.label_smoothing = (float)a->smoothing;
	if (a->recall_target >= 0.0)
		o.oos_recall_target = (float)a->recall_target;
	if (a->in_scope_budget >= 0.0)
		o.in_scope_budget = (float)a->in_scope_budget;
	if (a->confidence != NULL) {
		if (strcmp(a->confidence, "msp") == 0)
			o.conf_oos_margin = 0;
		else if (strcmp(a->confidence, "oos-margin") == 0)
			o.conf_oos_margin = 1;
		else
			usage();
	}
	if (a->weights != NULL) {
		if (strcmp(a->weights, "int8") == 0)
			o.weights_int8 = 1;
		else if (strcmp(a->weights, "float32") == 0)
			o.weights_int8 = 0;
		else
			usage();
	}
	if (a->char_weight >= 0.0)
		o.feat.char_weight = (float)a->char_weight;
	if (a->char_min > 0)
		o.feat.char_min = (uint32_t)a->char_min;
	if (a->char_max > 0)
		o.feat.char_max = (uint32_t)a->char_max;
	if (a->batch > 0)
		o.mlp.batch = (uint32_t)a->batch;
	if (a->xword == 0)
		o.feat.flags &= ~NLU_FEAT_XWORD;
	else if (a->xword > 0)
		o.feat.flags |= NLU_FEAT_XWORD;
	if (a->views == 0)
		o.feat.flags &= ~NLU_FEAT_VIEWS;
	else if (a->views > 0)
		o.feat.flags |= NLU_FEAT_VIEWS;

	/* WordNet: --wordnet DIR, "none", or the installed database. */
	if (a->wordnet != NULL && strcmp(a->wordnet, "none") != 0) {
		o.wordnet_dir = a->wordnet;
	} else if (a->wordnet == NULL) {
		o.wordnet_dir = nlu_wn_default_dir();
		if (o.wordnet_dir == NULL)
			fprintf(stderr, "gacp-nlu train: no WordNet database in "
			    "%s (package wordnet-base); training without "
			    "WordNet features\n", NLU_WN_DEFAULT_DIR);
	}
	if (a->wn_senses > 0)
		o.wn_senses = (uint32_t)a->wn_senses;
	if (a->wn_hypernyms == 0)
		o.wn_build &= ~NLU_WN_BUILD_HYPERNYMS;
	else if (a->wn_hypernyms > 0)
		o.wn_build |= NLU_WN_BUILD_HYPERNYMS;
	if (a->wn_weight >= 0.0)
		o.feat.wn_weight = (float)a->wn_weight;
	if (a->wn_decay >= 0.0)
		o.feat.wn_decay = (float)a->wn_decay;
	if (a->wn_hyper >= 0.0)
		o.feat.wn_hyper = (float)a->wn_hyper;
	if (a->wn_augment >= 0)
		o.wn_augment = (uint32_t)a->wn_augment;
	if (a->wn_augment_p >= 0.0)
		o.wn_augment_p = (float)a->wn_augment_p;
	if (a->linear_weight >= 0.0)
		o.linear_weight = (float)a->linear_weight;
	if (a->linear_lr > 0.0)
		o.linear_lr = (float)a->linear_lr;
	if (a->linear_dim_log2 > 0)
		o.linear_dim_log2 = (uint32_t)a->linear_dim_log2;
	if (a->linear_epochs > 0)
		o.linear_epochs = (uint32_t)a->linear_epochs;
	if (a->embeddings != NULL && strcmp(a->embeddings, "none") != 0)
		o.embeddings = a->embeddings;
	if (a->emb_top >= 0)
		o.emb_top = (uint32_t)a->emb_top;
	if (a->emb_idf >= 0)
		o.emb_idf = a->emb_idf != 0;
	if (a->emb_max >= 0)
		o.emb_max = a->emb_max != 0;
	if (a->emb_scale >= 0.0)
		o.emb_scale = (float)a->emb_scale;
	if (a->conv_filters < -1 ||
	    a->conv_filters > (long)NLU_CONV_MAX_FILTERS) {
		fprintf(stderr, "gacp-nlu: bad value for --conv-filters: "
		    "%ld (0 to %u, a multiple of %u)\n", a->conv_filters,
		    NLU_CONV_MAX_FILTERS, NLU_MLP_LANES);
		exit(2);
	}
	if (a->conv_filters >= 0)
		o.conv_filters = (uint32_t)a->conv_filters;
	/* Out-of-range values reach nlu_model_train, which refuses them. */
	if (a->nb_augment >= 0)
		o.nb_augment = (uint32_t)a->nb_augment;
	if (a->aug_members >= 0)
		o.aug_members = a->aug_members != 0;
	if (a->nb_augment_p >= 0.0)
		o.nb_augment_p = (float)a->nb_augment_p;
	if (a->nb_augment_cos >= -1.0)
		o.nb_augment_cos = (float)a->nb_augment_cos;

	if (nlu_dataset_load_file(&train, a->data, NLU_DATA_AUTO, &err) != 0)
		goto fail;
	if (a->valid != NULL) {
		if (nlu_dataset_load_file(&valid, a->valid, NLU_DATA_AUTO,
		    &err) != 0)
			goto fail;
		have_valid = 1;
	}
	if (nlu_model_train(&train, have_valid ? &valid : NULL, &o, &m, &rep,
	    &err) != 0)
		goto fail;
	if (nlu_model_save(m, a->out, &err) != 0)
		goto fail;
	if (stat(a->out, &st) != 0)
		st.st_size = 0;
	printf("model:           %s\n", a->out);
	printf("sha256:          ");
	for (i = 0; i < 32; i++)
		printf("%02x", m->sha256[i]);
	printf("\nexamples:        %u (calibration %u)\n", rep.n_train,
	    rep.n_valid);
	printf("intents:         %u%s\n", m->n_labels,
	    m->oos_label >= 0 ? " (incl. oos)" : "");
	printf("members:         %u x %u hidden, 2^%u buckets\n", m->members,
	    m->hidden, m->feat.dim_log2);
	printf("first layers:    %s\n", m->weights_int8 ? "int8" : "float32");
	if (m->lin_weight > 0.0f)
		printf("linear member:   weight %.2f, 2^%u buckets\n",
		    m->lin_weight, m->lin_feat.dim_log2);
	printf("temperature:     %.4f\n", rep.temperature);
	if (rep.conf_kind == NLU_CONF_OOS_MARGIN)
		printf("confidence:      oos-margin: 1 / (1 + exp(-(a x + b))), "
		    "a %.4f, b %.4f\n", rep.conf_a, rep.conf_b);
	else
		printf("confidence:      msp\n");
	printf("threshold:       %.4f\n", rep.threshold);
	printf("valid in-scope:  %.4f\n", rep.valid_in_scope_acc);
	if (rep.valid_oos_recall >= 0.0f)
		printf("valid oos rec.:  %.4f\n", rep.valid_oos_recall);
	if (o.wordnet_dir != NULL)
		printf("wordnet:         %s, %u concepts, %u entries, %zu "
		    "bytes\n", o.wordnet_dir, rep.wn_concepts, rep.wn_entries,
		    rep.wn_bytes);
	else
		printf("wordnet:         none\n");
	if (o.embeddings != NULL)
		printf("word vectors:    %s, %u words x %u (%u of %u training "
		    "words), %zu bytes\n", o.embeddings, rep.emb_words,
		    m->emb.dim, rep.emb_vocab, rep.emb_vocab_all,
		    rep.emb_bytes);
	else
		printf("word vectors:    none\n");
	if (m->conv_filters > 0)
		printf("convolution:     widths %u-%u, %u filters each\n",
		    NLU_CONV_WIDTH_MIN, NLU_CONV_WIDTH_MAX, m->conv_filters);
	printf("train seconds:   %.2f\n", rep.train_seconds);
	printf("model bytes:     %lld\n", (long long)st.st_size);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "gacp-nlu train: %s (%s)\n", err.msg, err.code);
out:
	nlu_model_free(m);
	nlu_dataset_cleanup(&train);
	nlu_dataset_cleanup(&valid);
	return rc;
}

static int
cmd_eval(const struct args *a)
{
	struct nlu_dataset ds;
	struct nlu_model *m = NULL;
	struct nlu_eval ev;
	struct gacp_err err;
	struct buf out;
	FILE *rows = NULL;
	char *rows_tmp = NULL;
	int rc = 1;
	size_t i;

	if (a->data == NULL || a->model == NULL)
		usage();
	nlu_dataset_init(&ds);
	memset(&ev, 0, sizeof(ev));
	buf_init(&out);
	gacp_err_clear(&err);
	/* --rows: written during the one evaluation pass, into a file
	 * beside it that replaces it only once complete, so a run that
	 * fails leaves no partial file and an earlier one as it was. */
	if (a->rows != NULL) {
		rows_tmp = xasprintf("%s.tmp.%ld", a->rows, (long)getpid());
		if ((rows = fopen(rows_tmp, "w")) == NULL) {
			fprintf(stderr, "gacp-nlu eval: cannot write %s: %s "
			    "(rows_unwritable)\n", a->rows, strerror(errno));
			goto out;
		}
	}
	if (nlu_model_load(a->model, &m, &err) != 0 ||
	    nlu_dataset_load_file(&ds, a->data, NLU_DATA_AUTO, &err) != 0 ||
	    nlu_eval_run_rows(m, &ds, (float)a->threshold, -1.0f, rows, &ev,
	    &err) != 0) {
		fprintf(stderr, "gacp-nlu eval: %s (%s)\n", err.msg, err.code);
		goto out;
	}
	if (rows != NULL) {
		int bad = ferror(rows), closed = fclose(rows);

		rows = NULL;
		if (closed != 0 || bad || rename(rows_tmp, a->rows) != 0) {
			fprintf(stderr, "gacp-nlu eval: cannot write %s: %s "
			    "(rows_unwritable)\n", a->rows, strerror(errno));
			goto out;
		}
		free(rows_tmp);
		rows_tmp = NULL;
	}
	printf("examples:           %zu (%zu in scope, %zu out of scope)\n",
	    ev.examples, ev.in_scope, ev.oos);
	printf("threshold:          %.4f\n", a->threshold >= 0.0 ?
	    a->threshold : (double)m->threshold);
	printf("accuracy:           %.4f\n", ev.accuracy);
	printf("in-scope accuracy:  %.4f\n", ev.in_scope_accuracy);
	printf("oos recall:         %.4f\n", ev.oos_recall);
	printf("macro F1:           %.4f\n", ev.macro_f1);
	if (ev.n_worst > 0)
		printf("worst confusions (gold -> predicted):\n");
	for (i = 0; i < ev.n_worst; i++)
		printf("  %4zu  %s -> %s\n", ev.worst[i].count,
		    ev.worst[i].gold, ev.worst[i].pred);
	if (a->json) {
		nlu_eval_json(&ev, &out);
		printf("%s\n", out.data);
	}
	rc = 0;
out:
	if (rows != NULL)
		fclose(rows);
	if (rows_tmp != NULL) {
		unlink(rows_tmp);
		free(rows_tmp);
	}
	nlu_eval_cleanup(&ev);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
	buf_cleanup(&out);
	return rc;
}

static int
cmd_parse(const struct args *a)
{
	struct nlu_model *m = NULL;
	struct nlu_parser p;
	struct nlu_parse_opts po;
	struct gacp_err err;
	struct buf out;
	int rc = 1, have_parser = 0;

	if (a->model == NULL || a->text == NULL)
		usage();
	buf_init(&out);
	gacp_err_clear(&err);
	nlu_parse_opts_default(&po);
	if (a->now > 0)
		po.now = (time_t)a->now;
	if (nlu_model_load(a->model, &m, &err) != 0 ||
	    nlu_parser_init(&p, &err) != 0)
		goto fail;
	have_parser = 1;
	if (nlu_parse(&p, m, a->text, strlen(a->text), &po, &err) != 0)
		goto fail;
	nlu_parse_json(&p, m, a->text, strlen(a->text), &out);
	printf("%s\n", out.data);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "gacp-nlu parse: %s (%s)\n", err.msg, err.code);
out:
	if (have_parser)
		nlu_parser_cleanup(&p);
	nlu_model_free(m);
	buf_cleanup(&out);
	return rc;
}

/* Sequential latency of full parses (classification, entities, JSON) on
 * one core, cycling over the texts of the data file. */
static int
cmd_bench(const struct args *a)
{
	struct nlu_dataset ds;
	struct nlu_model *m = NULL;
	struct nlu_parser p;
	struct nlu_parse_opts po;
	struct gacp_err err;
	struct buf out;
	double *lat = NULL, t_start, total_us;
	long i, n = a->iterations > 0 ? a->iterations : 20000;
	int rc = 1, have_parser = 0;

	if (a->model == NULL || a->data == NULL)
		usage();
	nlu_dataset_init(&ds);
	buf_init(&out);
	gacp_err_clear(&err);
	nlu_parse_opts_default(&po);
	po.now = time(NULL);
	if (nlu_model_load(a->model, &m, &err) != 0 ||
	    nlu_dataset_load_file(&ds, a->data, NLU_DATA_AUTO, &err) != 0 ||
	    nlu_parser_init(&p, &err) != 0)
		goto fail;
	have_parser = 1;
	if (ds.n_ex == 0) {
		gacp_err_set(&err, GACP_EINVAL, "nlu_empty", "no examples");
		goto fail;
	}
	/* Warm-up: page in the weights and grow the scratch buffers. */
	for (i = 0; i < (long)ds.n_ex && i < 2000; i++) {
		const char *t = ds.ex[i].text;
		if (nlu_parse(&p, m, t, strlen(t), &po, &err) != 0)
			goto fail;
	}
	lat = xmalloc((size_t)n * sizeof(*lat));
	t_start = mono_us();
	for (i = 0; i < n; i++) {
		const char *t = ds.ex[(size_t)i % ds.n_ex].text;
		double t0 = mono_us();

		if (nlu_parse(&p, m, t, strlen(t), &po, &err) != 0)
			goto fail;
		buf_reset(&out);
		nlu_parse_json(&p, m, t, strlen(t), &out);
		lat[i] = mono_us() - t0;
	}
	total_us = mono_us() - t_start;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("parses:          %ld\n", n);
	printf("p50 us:          %.1f\n", lat[n / 2]);
	printf("p99 us:          %.1f\n", lat[(n * 99) / 100]);
	printf("max us:          %.1f\n", lat[n - 1]);
	printf("parses/s:        %.0f\n", (double)n / (total_us / 1e6));
	if (a->json)
		printf("{\"parses\":%ld,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		    "\"parses_per_s\":%.0f}\n", n, lat[n / 2],
		    lat[(n * 99) / 100], (double)n / (total_us / 1e6));
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "gacp-nlu bench: %s (%s)\n", err.msg, err.code);
out:
	free(lat);
	if (have_parser)
		nlu_parser_cleanup(&p);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
	buf_cleanup(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	struct args a;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "reload") == 0)
		return nlu_reload_main(argc - 1, argv + 1);
	parse_args(argc, argv, &a);
	if (strcmp(argv[1], "train") == 0)
		return cmd_train(&a);
	if (strcmp(argv[1], "eval") == 0)
		return cmd_eval(&a);
	if (strcmp(argv[1], "parse") == 0)
		return cmd_parse(&a);
	if (strcmp(argv[1], "bench") == 0)
		return cmd_bench(&a);
	if (strcmp(argv[1], "rss") == 0)
		return cmd_rss(&a);
	usage();
}

/* Rss and Pss of a process in KiB, from /proc/PID/smaps_rollup. */
static int
smaps_kib(pid_t pid, long *rss_kib, long *pss_kib)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	*rss_kib = *pss_kib = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Rss:", 4) == 0)
			*rss_kib = strtol(line + 4, NULL, 10);
		else if (strncmp(line, "Pss:", 4) == 0)
			*pss_kib = strtol(line + 4, NULL, 10);
	}
	fclose(f);
	return *rss_kib < 0 || *pss_kib < 0 ? -1 : 0;
}

/* One serving process: tell the parent its baseline is ready, wait for the
 * go, load the model and parse every row, tell the parent, and wait for
 * the parent to close the pipe before exiting. */
static void
rss_child(const struct args *a, const struct nlu_dataset *ds, int to_parent,
    int from_parent)
{
	struct nlu_model *m = NULL;
	struct nlu_parser p;
	struct nlu_parse_opts po;
	struct gacp_err err;
	struct buf out;
	char c = 'r';
	size_t i;
	int status = 1;

	gacp_err_clear(&err);
	buf_init(&out);
	nlu_parse_opts_default(&po);
	po.now = 0;
	if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1)
		_exit(1);
	if (nlu_model_load(a->model, &m, &err) != 0 ||
	    nlu_parser_init(&p, &err) != 0) {
		fprintf(stderr, "gacp-nlu rss: %s (%s)\n", err.msg, err.code);
		_exit(1);
	}
	for (i = 0; i < ds->n_ex; i++) {
		const char *t = ds->ex[i].text;

		if (nlu_parse(&p, m, t, strlen(t), &po, &err) != 0)
			continue;
		buf_reset(&out);
		nlu_parse_json(&p, m, t, strlen(t), &out);
	}
	c = 'l';
	if (write(to_parent, &c, 1) == 1 && read(from_parent, &c, 1) == 0)
		status = 0;
	nlu_parser_cleanup(&p);
	nlu_model_free(m);
	buf_cleanup(&out);
	_exit(status);
}

static int
cmd_rss(const struct args *a)
{
	struct nlu_dataset ds;
	struct gacp_err err;
	struct stat st;
	pid_t *pid = NULL;
	int *up = NULL, *down = NULL;
	long n = a->procs, i, started = 0, rss0 = 0, pss0 = 0, rss1 = 0;
	long pss1 = 0, r, s;
	char c;
	int rc = 1, fds[2];

	if (a->model == NULL || a->data == NULL || n < 1 || n > 64)
		usage();
	nlu_dataset_init(&ds);
	gacp_err_clear(&err);
	if (stat(a->model, &st) != 0) {
		fprintf(stderr, "gacp-nlu rss: %s: %s\n", a->model,
		    strerror(errno));
		return 1;
	}
	if (nlu_dataset_load_file(&ds, a->data, NLU_DATA_AUTO, &err) != 0) {
		fprintf(stderr, "gacp-nlu rss: %s (%s)\n", err.msg, err.code);
		return 1;
	}
	pid = xcalloc((size_t)n, sizeof(*pid));
	up = xcalloc((size_t)n, sizeof(*up));
	down = xcalloc((size_t)n, sizeof(*down));
	fflush(NULL);
	for (i = 0; i < n; i++) {
		int to_child[2];

		if (pipe(fds) != 0)
			goto out;
		if (pipe(to_child) != 0) {
			close(fds[0]);
			close(fds[1]);
			goto out;
		}
		pid[i] = fork();
		if (pid[i] == 0) {
			long j;

			/* Drop the siblings' pipe ends, or a sibling would keep
			 * another child's pipe open and its EOF never come. */
			for (j = 0; j < i; j++) {
				close(up[j]);
				close(down[j]);
			}
			close(fds[0]);
			close(to_child[1]);
			rss_child(a, &ds, fds[1], to_child[0]);
		}
		close(fds[1]);
		close(to_child[0]);
		up[i] = fds[0];
		down[i] = to_child[1];
		if (pid[i] < 0) {
			close(up[i]);
			close(down[i]);
			goto out;
		}
		started++;
	}
	/* Baselines, once every process has started and before any loads. */
	for (i = 0; i < n; i++)
		if (read(up[i], &c, 1) != 1)
			goto out;
	for (i = 0; i < n; i++) {
		if (smaps_kib(pid[i], &r, &s) != 0)
			goto out;
		rss0 += r;
		pss0 += s;
	}
	c = 'g';
	for (i = 0; i < n; i++)
		if (write(down[i], &c, 1) != 1)
			goto out;
	for (i = 0; i < n; i++)
		if (read(up[i], &c, 1) != 1)
			goto out;
	for (i = 0; i < n; i++) {
		if (smaps_kib(pid[i], &r, &s) != 0)
			goto out;
		rss1 += r;
		pss1 += s;
	}
	rc = 0;
	printf("processes:       %ld\n", n);
	printf("model MiB:       %.1f\n", (double)st.st_size / 1048576.0);
	printf("rss MiB:         %.1f (growth %.1f, sum over processes)\n",
	    rss1 / 1024.0, (rss1 - rss0) / 1024.0);
	printf("pss MiB:         %.1f (growth %.1f, shared pages split)\n",
	    pss1 / 1024.0, (pss1 - pss0) / 1024.0);
	printf("pss growth / model size: %.2f\n",
	    (double)(pss1 - pss0) * 1024.0 / (double)st.st_size);
	if (a->json)
		printf("{\"procs\":%ld,\"model_bytes\":%lld,"
		    "\"rss_kib\":%ld,\"rss_growth_kib\":%ld,"
		    "\"pss_kib\":%ld,\"pss_growth_kib\":%ld}\n", n,
		    (long long)st.st_size, rss1, rss1 - rss0, pss1,
		    pss1 - pss0);
out:
	if (rc != 0)
		fprintf(stderr, "gacp-nlu rss: a serving process failed\n");
	for (i = 0; i < started; i++) {
		int status;

		close(down[i]);
		close(up[i]);
		if (waitpid(pid[i], &status, 0) != pid[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = 1;
	}
	free(pid);
	free(up);
	free(down);
	nlu_dataset_cleanup(&ds);
	return rc;
}
