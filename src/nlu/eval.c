/* eval.c - accuracy, out-of-scope recall, macro-F1, confusions. */
#include "nlu/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Class index space of an evaluation: the model's labels, with "oos" and
 * nlu_fallback folded into one extra class, plus gold labels the model
 * does not know (each its own class, never predicted). */
struct classes {
	char  **name;
	size_t  n, cap;
};

static size_t
class_of(struct classes *c, const char *name)
{
	size_t i;

	if (strcmp(name, NLU_FALLBACK_INTENT) == 0)
		name = NLU_OOS_LABEL;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return i;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->name = xrealloc(c->name, c->cap * sizeof(*c->name));
	}
	c->name[c->n] = xstrdup(name);
	return c->n++;
}

int
nlu_eval_run(const struct nlu_model *m, const struct nlu_dataset *ds,
    float threshold, float ambiguity, struct nlu_eval *out,
    struct gacp_err *err)
{
	return nlu_eval_run_rows(m, ds, threshold, ambiguity, NULL, out, err);
}

int
nlu_eval_run_rows(const struct nlu_model *m, const struct nlu_dataset *ds,
    float threshold, float ambiguity, FILE *rows, struct nlu_eval *out,
    struct gacp_err *err)
{
	struct nlu_scratch s;
	struct classes cls;
	size_t *gold = NULL, *pred = NULL, i, k, n_cls, *tp, *fp, *fn, *conf;
	double f1_sum = 0.0;
	size_t f1_n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&cls, 0, sizeof(cls));
	if (threshold < 0.0f)
		threshold = m->threshold;
	if (ambiguity < 0.0f)
		ambiguity = m->ambiguity;
	rc = nlu_scratch_init(&s, err);
	if (rc != 0)
		return rc;
	/* Make the model's classes first, so indices are stable. */
	for (i = 0; i < m->n_labels; i++)
		class_of(&cls, m->labels[i]);
	class_of(&cls, NLU_OOS_LABEL);
	if (rows != NULL)
		fprintf(rows, "gold\tbest\tconfidence\tdecided\n");
	gold = xcalloc(ds->n_ex + 1, sizeof(*gold));
	pred = xcalloc(ds->n_ex + 1, sizeof(*pred));
	for (i = 0; i < ds->n_ex; i++) {
		const struct nlu_example *e = &ds->ex[i];
		struct nlu_decision d;
		const char *p;

		rc = nlu_model_score(m, &s, e->text, strlen(e->text), err);
		if (rc != 0)
			goto out;
		nlu_model_decide(m, s.probs, threshold, ambiguity, &d);
		p = d.label < 0 ? NLU_OOS_LABEL : m->labels[d.label];
		if (rows != NULL)
			fprintf(rows, "%s\t%s\t%.6f\t%s\n", e->intent,
			    m->labels[d.top], (double)d.confidence, d.label < 0 ?
			    NLU_FALLBACK_INTENT : m->labels[d.label]);
		gold[i] = class_of(&cls, e->intent);
		pred[i] = class_of(&cls, p);
		out->examples++;
		if (strcmp(e->intent, NLU_OOS_LABEL) == 0) {
			out->oos++;
			if (gold[i] == pred[i])
				out->oos_correct++;
		} else {
			out->in_scope++;
			if (gold[i] == pred[i])
				out->in_scope_correct++;
		}
	}
	out->correct = out->in_scope_correct + out->oos_correct;
	out->accuracy = out->examples ?
	    (double)out->correct / (double)out->examples : 0.0;
	out->in_scope_accuracy = out->in_scope ?
	    (double)out->in_scope_correct / (double)out->in_scope : 0.0;
	out->oos_recall = out->oos ?
	    (double)out->oos_correct / (double)out->oos : 0.0;

	n_cls = cls.n;
	tp = xcalloc(n_cls, sizeof(*tp));
	fp = xcalloc(n_cls, sizeof(*fp));
	fn = xcalloc(n_cls, sizeof(*fn));
	conf = xcalloc(n_cls * n_cls, sizeof(*conf));
	for (i = 0; i < out->examples; i++) {
		if (gold[i] == pred[i]) {
			tp[gold[i]]++;
		} else {
			fn[gold[i]]++;
			fp[pred[i]]++;
			conf[gold[i] * n_cls + pred[i]]++;
		}
	}
	/* Macro-F1 over classes present in gold or predictions. */
	for (k = 0; k < n_cls; k++) {
		double denom = 2.0 * (double)tp[k] + (double)fp[k] +
		    (double)fn[k];

		if (tp[k] + fp[k] + fn[k] == 0)
			continue;
		f1_sum += denom > 0.0 ? 2.0 * (double)tp[k] / denom : 0.0;
		f1_n++;
	}
	out->macro_f1 = f1_n ? f1_sum / (double)f1_n : 0.0;
	/* Worst confused (gold, predicted) pairs, most frequent first. */
	while (out->n_worst < NLU_EVAL_WORST_PAIRS) {
		size_t best = 0, bi = 0;

		for (k = 0; k < n_cls * n_cls; k++) {
			if (conf[k] > best) {
				best = conf[k];
				bi = k;
			}
		}
		if (best == 0)
			break;
		out->worst[out->n_worst].gold = xstrdup(cls.name[bi / n_cls]);
		out->worst[out->n_worst].pred = xstrdup(cls.name[bi % n_cls]);
		out->worst[out->n_worst].count = best;
		out->n_worst++;
		conf[bi] = 0;
	}
	free(tp);
	free(fp);
	free(fn);
	free(conf);
	rc = 0;
out:
	for (i = 0; i < cls.n; i++)
		free(cls.name[i]);
	free(cls.name);
	free(gold);
	free(pred);
	nlu_scratch_cleanup(&s);
	return rc;
}

void
nlu_eval_cleanup(struct nlu_eval *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n_worst; i++) {
		free(e->worst[i].gold);
		free(e->worst[i].pred);
	}
	e->n_worst = 0;
}

void
nlu_eval_json(const struct nlu_eval *e, struct buf *out)
{
	size_t i;

	buf_printf(out, "{\"accuracy\":%.6f,\"in_scope_accuracy\":%.6f,"
	    "\"oos_recall\":%.6f,\"macro_f1\":%.6f,\"examples\":%zu,"
	    "\"in_scope\":%zu,\"oos\":%zu,\"worst_confusions\":[",
	    e->accuracy, e->in_scope_accuracy, e->oos_recall, e->macro_f1,
	    e->examples, e->in_scope, e->oos);
	for (i = 0; i < e->n_worst; i++) {
		if (i > 0)
			buf_putc(out, ',');
		buf_puts(out, "{\"gold\":");
		buf_json_str(out, e->worst[i].gold);
		buf_puts(out, ",\"predicted\":");
		buf_json_str(out, e->worst[i].pred);
		buf_printf(out, ",\"count\":%zu}", e->worst[i].count);
	}
	buf_puts(out, "]}");
}
