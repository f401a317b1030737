/* tiny-model.h - a small bilingual NLU model trained at fuzzer start-up (fuzz-tokenizer, fuzz-model). */
#ifndef GACP_FUZZ_TINY_MODEL_H
#define GACP_FUZZ_TINY_MODEL_H

#include <stddef.h>
#include <time.h>

#include "nlu/model.h"
#include "nlu/parse.h"

/* A fixed clock for relative dates, so runs are reproducible. */
#define TINY_MODEL_NOW ((time_t)1767225600)   /* 2026-01-01T00:00:00Z */

/* Train the model: three intents, English and Thai, one regex, one
 * lookup table and synonyms; one member, 2^10 buckets, 8 hidden units
 * (an image of about 40 KB).  Deterministic.  Aborts on failure. */
struct nlu_model *tiny_model_train(void);

/* Parse len bytes with m and check what nlu_parse() promises: invalid
 * UTF-8 is refused with GACP_EINVAL, otherwise the intent is "nlu_fallback"
 * or a label of m (with a confidence in [0, 1] when the model's thresholds
 * are sane, i.e. check_confidence), entities lie within the
 * text in code points, sorted by start, with UTF-8 names and values, and
 * nlu_parse_json() is a JSON object that our strict parser accepts.
 * Aborts when a promise is broken. */
void tiny_model_check_parse(struct nlu_parser *p, const struct nlu_model *m,
    const char *text, size_t len, int check_confidence);

#endif
