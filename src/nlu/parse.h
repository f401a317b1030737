/* parse.h - one NLU parse: intent with fallback, entities, Rasa JSON.
 *
 * struct nlu_parser is per-thread state (scoring scratch, PCRE2 match data,
 * the last result); a FastCGI process or worker thread keeps one and calls
 * nlu_parse() for each message with whatever model is current.  The model
 * is only read, so one model serves every thread.
 *
 * The JSON follows Rasa's POST /model/parse response:
 *   {"text", "intent": {"name", "confidence"},
 *    "entities": [{"entity", "start", "end", "confidence_entity", "value",
 *                  "extractor", "processors"?}],
 *    "intent_ranking": [{"name", "confidence"}, ... top 10],
 *    "language"}
 * A fallback reports intent "nlu_fallback" with the threshold as its
 * confidence and puts it first in the ranking, as Rasa's
 * FallbackClassifier does.
 */
#ifndef GACP_NLU_PARSE_H
#define GACP_NLU_PARSE_H

#include <stddef.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "nlu/entities.h"
#include "nlu/model.h"

#define NLU_RANKING_MAX 10

struct nlu_parse_opts {
	float  threshold;     /* < 0: the model's */
	float  ambiguity;     /* < 0: the model's */
	time_t now;           /* anchor of relative dates; 0: time(NULL) */
	long   utc_offset_s;  /* local time of relative dates */
	int    entities;      /* extract entities (1) or not (0) */
};

struct nlu_parser {
	struct nlu_scratch     sc;
	struct nlu_ent_scratch es;
	struct nlu_entity_list ents;       /* entities of the last parse */
	struct nlu_decision    dec;        /* decision of the last parse */
	float                  threshold;  /* thresholds the parse used */
	float                  ambiguity;
	const char            *lang;       /* language of the last text */
};

/* Prototypes */

/* Defaults: model thresholds, now, Thailand time (UTC+7), entities on. */
void nlu_parse_opts_default(struct nlu_parse_opts *o);

int  nlu_parser_init(struct nlu_parser *p, struct gacp_err *err);
void nlu_parser_cleanup(struct nlu_parser *p);

/* Classify text (len bytes) and extract its entities.  GACP_EINVAL for
 * invalid UTF-8 (code "invalid_utf8"), GACP_ETOOBIG for oversized text.
 * Results stay in p until the next call. */
int  nlu_parse(struct nlu_parser *p, const struct nlu_model *m,
         const char *text, size_t len, const struct nlu_parse_opts *o,
         struct gacp_err *err);

/* Name of the decided intent of the last parse ("nlu_fallback" or a
 * label of m) and its confidence. */
const char *nlu_parse_intent(const struct nlu_parser *p,
         const struct nlu_model *m, float *confidence);

/* Append the Rasa-shaped JSON of the last parse of text to out. */
void nlu_parse_json(const struct nlu_parser *p, const struct nlu_model *m,
         const char *text, size_t len, struct buf *out);

#endif
