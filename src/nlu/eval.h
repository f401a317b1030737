/* eval.h - intent classification metrics of a model on labelled data.
 *
 * Out of scope: a gold label "oos" counts as correct when the model falls
 * back (nlu_fallback) or predicts "oos"; both predictions are one class
 * ("oos") for macro-F1 and the confusion pairs.  In-scope accuracy is
 * over rows whose gold label is not "oos" (Larson et al. 2019).
 */
#ifndef GACP_NLU_EVAL_H
#define GACP_NLU_EVAL_H

#include <stddef.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"
#include "nlu/data.h"
#include "nlu/model.h"

#define NLU_EVAL_WORST_PAIRS 10

struct nlu_confusion {
	char   *gold;       /* heap */
	char   *pred;       /* heap */
	size_t  count;
};

struct nlu_eval {
	size_t               examples;
	size_t               in_scope;
	size_t               oos;
	size_t               correct;
	size_t               in_scope_correct;
	size_t               oos_correct;
	double               accuracy;           /* fractions in [0, 1] */
	double               in_scope_accuracy;
	double               oos_recall;         /* 0 when no oos rows */
	double               macro_f1;
	struct nlu_confusion worst[NLU_EVAL_WORST_PAIRS];
	size_t               n_worst;
};

/* Prototypes */

/* Evaluate m on every example of ds; threshold/ambiguity < 0 mean the
 * model's.  Returns GACP_EINVAL on an example that is not valid UTF-8. */
int  nlu_eval_run(const struct nlu_model *m, const struct nlu_dataset *ds,
         float threshold, float ambiguity, struct nlu_eval *out,
         struct gacp_err *err);
/* The same, also writing one tab-separated line per example to rows
 * (NULL: none) after a header line: gold intent, best intent before any
 * fallback, its confidence (what the threshold acts on), the decision
 * (nlu_fallback or the intent).  The caller checks rows for errors. */
int  nlu_eval_run_rows(const struct nlu_model *m, const struct nlu_dataset *ds,
         float threshold, float ambiguity, FILE *rows, struct nlu_eval *out,
         struct gacp_err *err);
void nlu_eval_cleanup(struct nlu_eval *e);
/* One JSON object: accuracy, in_scope_accuracy, oos_recall, macro_f1,
 * examples, in_scope, oos, worst_confusions. */
void nlu_eval_json(const struct nlu_eval *e, struct buf *out);

#endif
