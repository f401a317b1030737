/* fuzz-embeddings.c - libFuzzer target: the word-vector file reader
 * (nlu/embed.c: GloVe text and wink JSON, nlu_emb_src_parse).
 *
 * The input is the file's bytes.  Checked beyond "no crash":
 *   - a refusal is GACP_EINVAL "nlu_embeddings_format", never another
 *     error (there is no I/O here);
 *   - an accepted file keeps only words the filter asks for (in the
 *     vocabulary, or of rank < top), each non-empty, at most
 *     NLU_EMB_MAX_WORD bytes and UTF-8, with a dimension in
 *     1..NLU_EMB_MAX_DIM and finite values;
 *   - the table section built from them (nlu_emb_build, with and without
 *     the maximum) opens (nlu_emb_open) and finds every kept word.
 */
#include "common/buf.h"
#include "common/err.h"
#include "common/utf8.h"
#include "nlu/embed.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sorted by strcmp, as the trainer passes its vocabulary. */
static const char *const vocab[] = {
	"a", "buy", "cost", "fee", "price", "the", "\xe0\xb8\x81",
};
#define TOP 4u

static int
in_vocab(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++)
		if (strcmp(vocab[i], w) == 0)
			return 1;
	return 0;
}

static void
check_section(const struct nlu_emb_src *s, uint32_t flags)
{
	struct nlu_emb e;
	struct gacp_err err;
	struct buf b;
	size_t i;

	buf_init(&b);
	gacp_err_clear(&err);
	nlu_emb_build(s, NULL, flags, &b);
	if (nlu_emb_open(&e, b.data, b.len, &err) != GACP_OK)
		abort();
	if (e.dim != s->dim || e.n > s->n || e.flags != flags)
		abort();
	for (i = 0; i < s->n; i++)
		if (nlu_emb_find(&e, s->word[i]) < 0)
			abort();
	buf_cleanup(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlu_emb_filter f = {
		vocab, sizeof(vocab) / sizeof(vocab[0]), TOP,
	};
	struct nlu_emb_src s;
	struct gacp_err err;
	size_t i, k;

	gacp_err_clear(&err);
	if (nlu_emb_src_parse("fuzz", (const char *)data, size, &f, &s,
	    &err) != GACP_OK) {
		if (err.result != GACP_EINVAL ||
		    strcmp(err.code, "nlu_embeddings_format") != 0)
			abort();
		return 0;
	}
	if (s.dim == 0 || s.dim > NLU_EMB_MAX_DIM || s.n > s.n_file)
		abort();
	for (i = 0; i < s.n; i++) {
		const char *w = s.word[i];
		size_t wl = strlen(w);

		if (wl == 0 || wl > NLU_EMB_MAX_WORD || !utf8_valid(w, wl))
			abort();
		if (!in_vocab(w) && s.rank[i] >= TOP)
			abort();
		for (k = 0; k < s.dim; k++)
			if (!isfinite(s.vec[i * s.dim + k]))
				abort();
	}
	if (s.n > 0) {
		check_section(&s, 0);
		check_section(&s, NLU_EMB_MAX);
	}
	nlu_emb_src_cleanup(&s);
	return 0;
}
