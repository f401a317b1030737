/* fuzz-tokenizer.c - libFuzzer target: the NLU text pipeline and entity extraction on arbitrary bytes (nlu/text.c, nlu/entities.c, nlu/parse.c).
 *
 * A tiny model is trained once at start-up (tiny-model.c).  Each input,
 * invalid UTF-8 and NUL bytes included, goes to:
 *   - nlu_text_process(): refused exactly when it is not valid UTF-8 (or
 *     too long); otherwise the tokens are non-empty, in order, do not
 *     overlap, lie within the normalised code points and have a known
 *     kind; processing the same text again (buffers reused) gives the
 *     same code points and tokens; the language is one of a few codes;
 *     every token encodes to UTF-8 within the given room;
 *   - nlu_entities_extract() with the model's extractors: entity spans are
 *     code points within the original text, sorted by start;
 *   - nlu_parse(): see tiny_model_check_parse().
 */
#include "common/err.h"
#include "common/utf8.h"
#include "nlu/entities.h"
#include "nlu/parse.h"
#include "nlu/text.h"
#include "tiny-model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct nlu_model *model;
static struct nlu_parser parser;
static struct nlu_text text;
static struct nlu_ent_scratch es;
static struct nlu_entity_list ents;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gacp_err err;

	(void)argc;
	(void)argv;
	model = tiny_model_train();
	if (nlu_parser_init(&parser, &err) != 0 ||
	    nlu_text_init(&text, &err) != 0) {
		fprintf(stderr, "fuzz-tokenizer: %s\n", err.msg);
		abort();
	}
	nlu_ent_scratch_init(&es);
	nlu_entity_list_init(&ents);
	return 0;
}

static void
check_tokens(const struct nlu_text *t)
{
	static const char *langs[] = { "th", "en", "und", "zh", "ja", "ko",
	    "ru", "ar", "hi", "el", "he", "lo", "km", "my", "vi" };
	const char *lang = nlu_text_lang(t);
	char out[16];
	size_t i, prev_end = 0, n;

	for (i = 0; i < t->n_tok; i++) {
		const struct nlu_tok *k = &t->tok[i];

		if (k->len == 0 || k->off < prev_end ||
		    (size_t)k->off + k->len > t->n_cp ||
		    k->kind < NLU_TOK_LATIN || k->kind > NLU_TOK_DIGIT)
			abort();
		prev_end = k->off + k->len;
		n = nlu_text_tok_utf8(t, i, out, sizeof(out));
		if (n >= sizeof(out) || out[n] != '\0' || strlen(out) != n)
			abort();
	}
	for (i = 0; i < t->n_cp; i++)
		if (t->cp[i] == 0 || t->cp[i] > 0x10ffff ||
		    (t->cp[i] >= 0xd800 && t->cp[i] <= 0xdfff))
			abort();
	if (lang == NULL || strlen(lang) < 2 || strlen(lang) > 3)
		abort();
	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strcmp(lang, langs[i]) == 0)
			return;
	/* Another ISO 639-1 code: two lower-case letters. */
	if (strlen(lang) != 2 || lang[0] < 'a' || lang[0] > 'z' ||
	    lang[1] < 'a' || lang[1] > 'z')
		abort();
}

/* Process twice: same result (the scratch buffers are reused). */
static void
fuzz_text(const char *s, size_t len)
{
	struct gacp_err err;
	uint32_t *cp;
	struct nlu_tok *tok;
	size_t n_cp, n_tok;
	int rc;

	rc = nlu_text_process(&text, s, len, &err);
	if (len > NLU_TEXT_MAX_BYTES) {
		if (rc != GACP_ETOOBIG)
			abort();
		return;
	}
	if ((rc == GACP_OK) != utf8_valid(s, len))
		abort();
	if (rc != GACP_OK) {
		if (rc != GACP_EINVAL)
			abort();
		return;
	}
	check_tokens(&text);
	n_cp = text.n_cp;
	n_tok = text.n_tok;
	cp = malloc((n_cp + 1) * sizeof(*cp));
	tok = malloc((n_tok + 1) * sizeof(*tok));
	if (n_cp > 0)
		memcpy(cp, text.cp, n_cp * sizeof(*cp));
	if (n_tok > 0)
		memcpy(tok, text.tok, n_tok * sizeof(*tok));
	if (nlu_text_process(&text, s, len, &err) != GACP_OK ||
	    text.n_cp != n_cp || text.n_tok != n_tok ||
	    (n_cp > 0 && memcmp(cp, text.cp, n_cp * sizeof(*cp)) != 0) ||
	    (n_tok > 0 && memcmp(tok, text.tok, n_tok * sizeof(*tok)) != 0))
		abort();
	free(cp);
	free(tok);
}

static void
fuzz_entities(const char *s, size_t len)
{
	struct gacp_err err;
	size_t i, ncp;
	int rc;

	nlu_entity_list_reset(&ents);
	rc = nlu_entities_extract(model->entities, &es, s, len, TINY_MODEL_NOW,
	    7 * 3600, &ents, &err);
	if (!utf8_valid(s, len)) {
		if (rc != GACP_EINVAL || ents.n != 0)
			abort();
		return;
	}
	if (rc != GACP_OK)
		abort();
	ncp = utf8_count(s, len);
	for (i = 0; i < ents.n; i++)
		if (ents.v[i].start >= ents.v[i].end || ents.v[i].end > ncp ||
		    (i > 0 && ents.v[i - 1].start > ents.v[i].start))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	fuzz_text(s, size);
	if (size <= NLU_TEXT_MAX_BYTES)
		fuzz_entities(s, size);
	tiny_model_check_parse(&parser, model, s, size, 1);
	return 0;
}
