/* parse.c - NLU parse (intent, fallback, entities) and its Rasa JSON. */
#include "nlu/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
nlu_parse_opts_default(struct nlu_parse_opts *o)
{
	o->threshold = -1.0f;
	o->ambiguity = -1.0f;
	o->now = 0;
	o->utc_offset_s = 7 * 3600;
	o->entities = 1;
}

int
nlu_parser_init(struct nlu_parser *p, struct gacp_err *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	rc = nlu_scratch_init(&p->sc, err);
	if (rc != 0)
		return rc;
	nlu_ent_scratch_init(&p->es);
	nlu_entity_list_init(&p->ents);
	p->lang = "und";
	return 0;
}

void
nlu_parser_cleanup(struct nlu_parser *p)
{
	if (p == NULL)
		return;
	nlu_scratch_cleanup(&p->sc);
	nlu_ent_scratch_cleanup(&p->es);
	nlu_entity_list_cleanup(&p->ents);
}

int
nlu_parse(struct nlu_parser *p, const struct nlu_model *m, const char *text,
    size_t len, const struct nlu_parse_opts *o, struct gacp_err *err)
{
	struct nlu_parse_opts def;
	int rc;

	if (o == NULL) {
		nlu_parse_opts_default(&def);
		o = &def;
	}
	nlu_entity_list_reset(&p->ents);
	p->threshold = o->threshold >= 0.0f ? o->threshold : m->threshold;
	p->ambiguity = o->ambiguity >= 0.0f ? o->ambiguity : m->ambiguity;
	rc = nlu_model_score(m, &p->sc, text, len, err);
	if (rc != 0)
		return rc;
	p->lang = nlu_text_lang(&p->sc.text);
	if (strcmp(p->lang, "und") == 0 && strcmp(m->lang, "multi") != 0 &&
	    m->lang[0] != '\0')
		p->lang = m->lang;
	nlu_model_decide(m, p->sc.probs, p->threshold, p->ambiguity, &p->dec);
	if (o->entities && m->entities != NULL)
		rc = nlu_entities_extract(m->entities, &p->es, text, len,
		    o->now ? o->now : time(NULL), o->utc_offset_s, &p->ents,
		    err);
	return rc;
}

const char *
nlu_parse_intent(const struct nlu_parser *p, const struct nlu_model *m,
    float *confidence)
{
	if (p->dec.label < 0) {
		if (confidence != NULL)
			*confidence = p->threshold;
		return NLU_FALLBACK_INTENT;
	}
	if (confidence != NULL)
		*confidence = p->dec.confidence;
	return m->labels[p->dec.label];
}

/* Probabilities are finite by construction; clamp anyway so the output is
 * always valid JSON. */
static double
json_num(float f)
{
	return isfinite(f) ? (double)f : 0.0;
}

void
nlu_parse_json(const struct nlu_parser *p, const struct nlu_model *m,
    const char *text, size_t len, struct buf *out)
{
	uint32_t order[NLU_RANKING_MAX];
	uint32_t n_rank = 0, c, k;
	const float *probs = p->sc.probs;
	float conf;
	const char *intent = nlu_parse_intent(p, m, &conf);
	size_t i;

	/* Top labels by probability: one pass, each label inserted into
	 * the short sorted list (a label ranks after an equal one before
	 * it, so ties keep label order). */
	for (c = 0; c < m->n_labels; c++) {
		if (n_rank == NLU_RANKING_MAX &&
		    !(probs[c] > probs[order[n_rank - 1]]))
			continue;
		k = n_rank < NLU_RANKING_MAX ? n_rank++ : n_rank - 1;
		for (; k > 0 && probs[c] > probs[order[k - 1]]; k--)
			order[k] = order[k - 1];
		order[k] = c;
	}

	buf_puts(out, "{\"text\":");
	buf_json_strn(out, text, len);
	buf_puts(out, ",\"intent\":{\"name\":");
	buf_json_str(out, intent);
	buf_printf(out, ",\"confidence\":%.6g}", json_num(conf));
	buf_puts(out, ",\"entities\":[");
	for (i = 0; i < p->ents.n; i++) {
		const struct nlu_entity *e = &p->ents.v[i];

		if (i > 0)
			buf_putc(out, ',');
		buf_puts(out, "{\"entity\":");
		buf_json_str(out, e->entity);
		buf_printf(out, ",\"start\":%u,\"end\":%u", e->start, e->end);
		buf_printf(out, ",\"confidence_entity\":%.6g",
		    json_num(e->confidence));
		buf_puts(out, ",\"value\":");
		if (e->numeric)
			/* Through strtod: "+5" and "007" are not JSON. */
			buf_printf(out, "%.15g", strtod(e->value, NULL));
		else
			buf_json_str(out, e->value);
		buf_puts(out, ",\"extractor\":");
		buf_json_str(out, e->extractor);
		if (e->synonym)
			buf_puts(out, ",\"processors\":[\"EntitySynonymMapper\"]");
		buf_putc(out, '}');
	}
	buf_puts(out, "],\"intent_ranking\":[");
	k = 0;
	if (p->dec.label < 0) {
		buf_printf(out, "{\"name\":\"%s\",\"confidence\":%.6g}",
		    NLU_FALLBACK_INTENT, json_num(conf));
		k = 1;
	}
	for (c = 0; c + k < NLU_RANKING_MAX && c < n_rank; c++) {
		if (c + k > 0)
			buf_putc(out, ',');
		buf_puts(out, "{\"name\":");
		buf_json_str(out, m->labels[order[c]]);
		buf_printf(out, ",\"confidence\":%.6g}",
		    json_num(probs[order[c]]));
	}
	buf_puts(out, "],\"language\":");
	buf_json_str(out, p->lang);
	buf_putc(out, '}');
}
