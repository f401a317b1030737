/* test_nlu_embed.c - word vectors: the reader of both file formats and its
 * errors, the model's table section and its refusal when damaged, and a
 * model trained with sentence vectors (deterministic, round trip, a
 * damaged or relabelled section refused). */
#include "tests.h"
#include "fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlu/embed.h"
#include "nlu/model.h"
#include "security/crypto.h"

/* Four dimensions; "buy" and "purchase" close, "hello" and "hi" close. */
static const char good_text[] =
    "7 4\n"
    "the 0.1 0.1 0.1 0.1\n"
    "hello 1 0 0 0.1\n"
    "hi 0.9 0.1 0 0.1\n"
    "\n"
    "buy 0 1 0 0.2\n"
    "purchase 0 0.95 0.05 0.2\n"
    "fee 0 0 1 0\n"
    "price 0 0.1 0.9 0\n";

static const char good_json[] =
    "{\"precision\":8,\"l2NormIndex\":4,\"wordIndex\":5,\"size\":3,"
    "\"dimensions\":4,\"words\":[\"the\",\"hello\",\"caf\\u00e9\"],"
    "\"vectors\":{\"the\":[0.1,0.1,0.1,0.1,0.2,0],"
    "\"hello\":[1,0,0,0.1,1.005,1],"
    "\"caf\\u00e9\":[0,-2.5e-1,0,0,0.25,2]},"
    "\"unkVector\":[0,0,0,0,0,-1]}";

static char *
tmp_path(const char *name)
{
	char *p = malloc(256);

	snprintf(p, 256, "/tmp/gacp-emb-test-%ld-%s", (long)getpid(), name);
	return p;
}

/* Load text as a vector file; returns the error code ("" on success). */
static const char *
load_str(const char *text, const struct nlu_emb_filter *f,
    struct nlu_emb_src *s, struct gacp_err *err)
{
	char *path = tmp_path("vec");

	fixture_write_file(path, text, strlen(text));
	gacp_err_clear(err);
	if (nlu_emb_src_load(path, f, s, err) != 0) {
		unlink(path);
		free(path);
		return err->code;
	}
	unlink(path);
	free(path);
	return "";
}

static long
src_find(const struct nlu_emb_src *s, const char *w)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->word[i], w) == 0)
			return (long)i;
	return -1;
}

static void
test_reader_text(void)
{
	struct nlu_emb_src s;
	struct nlu_emb_filter f;
	struct gacp_err err;
	const char *vocab[] = { "fee", "unknown" };
	long i;

	/* Everything: the word2vec header and the blank line skipped. */
	CU_ASSERT_STRING_EQUAL(load_str(good_text, NULL, &s, &err), "");
	CU_ASSERT_EQUAL(s.dim, 4);
	CU_ASSERT_EQUAL(s.n, 7);
	CU_ASSERT_EQUAL(s.n_file, 7);
	i = src_find(&s, "purchase");
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_EQUAL(s.rank[i], 4);
	CU_ASSERT_DOUBLE_EQUAL(s.vec[i * 4 + 1], 0.95, 1e-6);
	nlu_emb_src_cleanup(&s);

	/* The two most frequent words and the vocabulary's. */
	f.vocab = vocab;
	f.n_vocab = 2;
	f.top = 2;
	CU_ASSERT_STRING_EQUAL(load_str(good_text, &f, &s, &err), "");
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT(src_find(&s, "the") >= 0);
	CU_ASSERT(src_find(&s, "hello") >= 0);
	CU_ASSERT(src_find(&s, "fee") >= 0);
	CU_ASSERT(src_find(&s, "buy") < 0);
	nlu_emb_src_cleanup(&s);

	/* No header line: GloVe's own format. */
	CU_ASSERT_STRING_EQUAL(load_str("a 1 2 3 4\nb 3 4 5 6\n", NULL, &s,
	    &err), "");
	CU_ASSERT_EQUAL(s.dim, 4);
	CU_ASSERT_EQUAL(s.n, 2);
	nlu_emb_src_cleanup(&s);
}

static void
test_reader_malformed(void)
{
	struct nlu_emb_src s;
	struct gacp_err err;
	char *missing = tmp_path("missing");

	/* A line with another dimension, named by its number. */
	CU_ASSERT_STRING_EQUAL(load_str("a 1 2 3\nb 1 2\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dimension is 3"));
	CU_ASSERT_EQUAL(s.n, 0);
	/* A value that is not a number, or not finite. */
	CU_ASSERT_STRING_EQUAL(load_str("a 1 2 3 4\nb 1 x 3 4\n", NULL, &s,
	    &err), "nlu_embeddings_format");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 2"));
	CU_ASSERT_STRING_EQUAL(load_str("a 1 inf 3 4\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("a 1 1e999 3 4\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	/* Finite as a double but not as the float it is kept in. */
	CU_ASSERT_STRING_EQUAL(load_str("a 1 1e39 3 4\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("a 1 3e38 3 4\n", NULL, &s, &err),
	    "");
	nlu_emb_src_cleanup(&s);
	/* A dimension that is not a multiple of 4 (GloVe's 50-d file) is
	 * padded with zeros (found by fuzz-embeddings: the trainer used to
	 * refuse it only after reading the whole file, and GloVe 50-d could
	 * not be used at all). */
	CU_ASSERT_STRING_EQUAL(load_str("a 1 2 3\nb 3 4 5\n", NULL, &s, &err),
	    "");
	CU_ASSERT_EQUAL(s.dim, 4);
	CU_ASSERT_EQUAL(s.n, 2);
	if (s.n == 2) {
		CU_ASSERT_DOUBLE_EQUAL(s.vec[2], 3.0, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(s.vec[3], 0.0, 0.0);
		CU_ASSERT_DOUBLE_EQUAL(s.vec[4], 3.0, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(s.vec[7], 0.0, 0.0);
	}
	nlu_emb_src_cleanup(&s);
	/* A word alone, a word that is not UTF-8, nothing at all. */
	CU_ASSERT_STRING_EQUAL(load_str("a\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("\xff\xfe 1 2\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("\n\n", NULL, &s, &err),
	    "nlu_embeddings_format");
	/* Unreadable. */
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(nlu_emb_src_load(missing, NULL, &s, &err), GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_embeddings_unreadable");
	free(missing);
}

static void
test_reader_json(void)
{
	struct nlu_emb_src s;
	struct gacp_err err;
	long i;

	CU_ASSERT_STRING_EQUAL(load_str(good_json, NULL, &s, &err), "");
	CU_ASSERT_EQUAL(s.dim, 4);
	CU_ASSERT_EQUAL(s.n, 3);
	i = src_find(&s, "caf\xc3\xa9");
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_EQUAL(s.rank[i], 2);
	CU_ASSERT_DOUBLE_EQUAL(s.vec[i * 4 + 1], -0.25, 1e-6);
	nlu_emb_src_cleanup(&s);

	/* An array one value short: named with its word. */
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":2,\"wordIndex\":3,"
	    "\"l2NormIndex\":2,\"vectors\":{\"a\":[1,2,3,0],\"b\":[1,2,3]}}",
	    NULL, &s, &err), "nlu_embeddings_format");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "\"b\" has 3 values"));
	/* Vectors before their dimension; a value that is not a number;
	 * an unterminated object; no vectors at all. */
	CU_ASSERT_STRING_EQUAL(load_str("{\"vectors\":{\"a\":[1]},"
	    "\"dimensions\":1}", NULL, &s, &err), "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":1,\"vectors\":"
	    "{\"a\":[true]}}", NULL, &s, &err), "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":1,\"vectors\":"
	    "{\"a\":[1]", NULL, &s, &err), "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":1,\"words\":[]}",
	    NULL, &s, &err), "nlu_embeddings_format");
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":5000,\"vectors\":{}}",
	    NULL, &s, &err), "nlu_embeddings_format");
	/* An empty word is read but not kept: no text can meet it. */
	CU_ASSERT_STRING_EQUAL(load_str("{\"dimensions\":4,\"vectors\":"
	    "{\"\":[1,2,3,4],\"b\":[1,2,3,4]}}", NULL, &s, &err), "");
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.n_file, 2);
	CU_ASSERT(src_find(&s, "b") >= 0);
	nlu_emb_src_cleanup(&s);
	/* A NUL byte inside a value the reader skips: refused, where it used
	 * to loop for ever (found by fuzz-embeddings). */
	{
		static const char nul[] = "{\"other\":[1,\0 2],"
		    "\"dimensions\":4}";

		gacp_err_clear(&err);
		CU_ASSERT_EQUAL(nlu_emb_src_parse("nul", nul, sizeof(nul) - 1,
		    NULL, &s, &err), GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, "nlu_embeddings_format");
		CU_ASSERT_EQUAL(s.n, 0);
	}
}

/* The table of good_text with weight 1 everywhere. */
static void
build_table(struct buf *b)
{
	struct nlu_emb_src s;
	struct gacp_err err;

	CU_ASSERT_STRING_EQUAL_FATAL(load_str(good_text, NULL, &s, &err), "");
	buf_init(b);
	nlu_emb_build(&s, NULL, 0, b);
	nlu_emb_src_cleanup(&s);
}

static void
test_table(void)
{
	struct nlu_emb e;
	struct nlu_text t;
	struct gacp_err err;
	struct buf b;
	unsigned char *bad;
	float v[4], w[4], dot = 0.0f, norm = 0.0f;
	size_t k;

	build_table(&b);
	CU_ASSERT_FATAL(nlu_emb_open(&e, b.data, b.len, &err) == 0);
	CU_ASSERT_EQUAL(e.n, 7);
	CU_ASSERT_EQUAL(e.dim, 4);
	CU_ASSERT(nlu_emb_find(&e, "buy") >= 0);
	CU_ASSERT(nlu_emb_find(&e, "the") >= 0);
	CU_ASSERT_EQUAL(nlu_emb_find(&e, "sell"), -1);
	CU_ASSERT_EQUAL(nlu_emb_find(&e, ""), -1);

	/* Sentence vectors: unit norm times the scale, near for synonyms,
	 * zero with no known word (Thai is not looked up). */
	CU_ASSERT_FATAL(nlu_text_init(&t, NULL) == 0);
	CU_ASSERT_FATAL(nlu_text_process(&t, "Buy it!", 7, NULL) == 0);
	CU_ASSERT_EQUAL(nlu_emb_sentence(&e, &t, 2.0f, v), 1);
	for (k = 0; k < 4; k++)
		norm += v[k] * v[k];
	CU_ASSERT_DOUBLE_EQUAL(norm, 4.0, 1e-4);
	CU_ASSERT_FATAL(nlu_text_process(&t, "purchase", 8, NULL) == 0);
	CU_ASSERT_EQUAL(nlu_emb_sentence(&e, &t, 2.0f, w), 1);
	for (k = 0; k < 4; k++)
		dot += v[k] * w[k];
	CU_ASSERT(dot / 4.0f > 0.95f);
	CU_ASSERT_FATAL(nlu_text_process(&t, "ราคา xyz", strlen("ราคา xyz"),
	    NULL) == 0);
	CU_ASSERT_EQUAL(nlu_emb_sentence(&e, &t, 1.0f, v), 0);
	for (k = 0; k < 4; k++)
		CU_ASSERT_EQUAL(v[k], 0.0f);

	/* With the maximum: the mean as before, then the per-dimension
	 * maximum of "hello" (1 0 0 0.1) and "buy" (0 1 0 0.2), normalised
	 * on its own. */
	{
		struct buf bm;
		struct nlu_emb em;
		struct nlu_emb_src src;
		float mv[8];

		CU_ASSERT_STRING_EQUAL_FATAL(load_str(good_text, NULL, &src,
		    &err), "");
		buf_init(&bm);
		nlu_emb_build(&src, NULL, NLU_EMB_MAX, &bm);
		nlu_emb_src_cleanup(&src);
		CU_ASSERT_FATAL(nlu_emb_open(&em, bm.data, bm.len, &err) == 0);
		CU_ASSERT_EQUAL(em.in_dim, 8);
		CU_ASSERT_FATAL(nlu_text_process(&t, "hello buy", 9, NULL) ==
		    0);
		CU_ASSERT_EQUAL(nlu_emb_sentence(&em, &t, 1.0f, mv), 2);
		/* max = (1, 1, 0, 0.2) / |.| = 1.42127 */
		CU_ASSERT_DOUBLE_EQUAL(mv[4], 1.0 / 1.42127, 0.01);
		CU_ASSERT_DOUBLE_EQUAL(mv[5], 1.0 / 1.42127, 0.01);
		CU_ASSERT_DOUBLE_EQUAL(mv[6], 0.0, 1e-6);
		CU_ASSERT_DOUBLE_EQUAL(mv[7], 0.2 / 1.42127, 0.01);
		/* mean = (0.5, 0.5, 0, 0.15) normalised */
		CU_ASSERT_DOUBLE_EQUAL(mv[0], mv[1], 0.01);
		CU_ASSERT_DOUBLE_EQUAL(mv[0], 0.5 / 0.72457, 0.01);
		/* Unknown flags are refused. */
		bm.data[16] = 2;
		CU_ASSERT_EQUAL(nlu_emb_open(&em, bm.data, bm.len, &err),
		    GACP_EINVAL);
		buf_cleanup(&bm);
	}
	nlu_text_cleanup(&t);

	/* Damaged sections are refused. */
	bad = malloc(b.len);
	CU_ASSERT_EQUAL(nlu_emb_open(&e, b.data, b.len - 1, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_corrupt");
	CU_ASSERT_EQUAL(nlu_emb_open(&e, b.data, 20, &err), GACP_EINVAL);
	memcpy(bad, b.data, b.len);
	bad[0] = 'X';
	CU_ASSERT_EQUAL(nlu_emb_open(&e, bad, b.len, &err), GACP_EINVAL);
	/* Words out of order (the first two offsets swapped). */
	memcpy(bad, b.data, b.len);
	memcpy(bad + NLU_EMB_HEADER, b.data + NLU_EMB_HEADER + 4, 4);
	memcpy(bad + NLU_EMB_HEADER + 4, b.data + NLU_EMB_HEADER, 4);
	CU_ASSERT_EQUAL(nlu_emb_open(&e, bad, b.len, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sorted"));
	/* A word offset past the pool. */
	memcpy(bad, b.data, b.len);
	memset(bad + NLU_EMB_HEADER, 0x7f, 4);
	CU_ASSERT_EQUAL(nlu_emb_open(&e, bad, b.len, &err), GACP_EINVAL);
	/* The pool's last word unterminated. */
	memcpy(bad, b.data, b.len);
	bad[b.len - 1] = 'x';
	CU_ASSERT_EQUAL(nlu_emb_open(&e, bad, b.len, &err), GACP_EINVAL);
	/* A dimension that does not match the size. */
	memcpy(bad, b.data, b.len);
	bad[8] = 8;
	CU_ASSERT_EQUAL(nlu_emb_open(&e, bad, b.len, &err), GACP_EINVAL);
	free(bad);
	buf_cleanup(&b);
}

/* Nearest neighbours by cosine over good_text's table: synonyms first,
 * never the word itself, the floor and the candidate mask obeyed, the
 * same whatever the thread count. */
static void
test_neighbours(void)
{
	struct nlu_emb e;
	struct buf b;
	unsigned char query[7], cand[7];
	uint32_t ix[7 * 2], ix1[7 * 2];
	float cs[7 * 2], cs1[7 * 2];
	long buy, fee, hello, hi, price, purchase, the;
	size_t i;

	build_table(&b);
	CU_ASSERT_FATAL(nlu_emb_open(&e, b.data, b.len, NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(e.n, 7);
	buy = nlu_emb_find(&e, "buy");
	fee = nlu_emb_find(&e, "fee");
	hello = nlu_emb_find(&e, "hello");
	hi = nlu_emb_find(&e, "hi");
	price = nlu_emb_find(&e, "price");
	purchase = nlu_emb_find(&e, "purchase");
	the = nlu_emb_find(&e, "the");
	memset(query, 1, sizeof(query));
	memset(cand, 1, sizeof(cand));
	query[the] = 0;
	ix[the * 2] = 12345;   /* rows of words not asked for: untouched */
	nlu_emb_neighbours(&e, query, cand, 2, 0.9f, 3, ix, cs);
	CU_ASSERT_EQUAL(ix[buy * 2], (uint32_t)purchase);
	CU_ASSERT(cs[buy * 2] > 0.99f && cs[buy * 2] <= 1.0001f);
	CU_ASSERT_EQUAL(ix[buy * 2 + 1], UINT32_MAX);
	CU_ASSERT_EQUAL(cs[buy * 2 + 1], 0.0f);
	CU_ASSERT_EQUAL(ix[purchase * 2], (uint32_t)buy);
	CU_ASSERT_EQUAL(ix[hello * 2], (uint32_t)hi);
	CU_ASSERT_EQUAL(ix[hi * 2], (uint32_t)hello);
	CU_ASSERT_EQUAL(ix[fee * 2], (uint32_t)price);
	CU_ASSERT_EQUAL(ix[price * 2], (uint32_t)fee);
	CU_ASSERT_EQUAL(ix[the * 2], 12345);
	for (i = 0; i < 7 * 2; i++) {
		CU_ASSERT(ix[i] != i / 2);
		if (i / 2 != (size_t)the)
			CU_ASSERT(ix[i] == UINT32_MAX || cs[i] >= 0.9f);
	}
	/* One thread: the same bits. */
	memcpy(ix1, ix, sizeof(ix));
	nlu_emb_neighbours(&e, query, cand, 2, 0.9f, 1, ix1, cs1);
	CU_ASSERT(memcmp(ix, ix1, sizeof(ix)) == 0);
	CU_ASSERT(memcmp(cs, cs1, sizeof(cs)) == 0);
	/* A low floor fills both places, best first. */
	nlu_emb_neighbours(&e, query, cand, 2, -1.0f, 2, ix, cs);
	CU_ASSERT(ix[buy * 2 + 1] != UINT32_MAX);
	CU_ASSERT(cs[buy * 2] >= cs[buy * 2 + 1]);
	/* Only "fee" and "price" may be neighbours: none for "buy" at 0.5,
	 * and "fee" is not its own. */
	memset(cand, 0, sizeof(cand));
	cand[fee] = cand[price] = 1;
	nlu_emb_neighbours(&e, query, cand, 2, 0.5f, 2, ix, cs);
	CU_ASSERT_EQUAL(ix[buy * 2], UINT32_MAX);
	CU_ASSERT_EQUAL(ix[fee * 2], (uint32_t)price);
	CU_ASSERT_EQUAL(ix[fee * 2 + 1], UINT32_MAX);
	/* k out of range: nothing written. */
	ix[buy * 2] = 7;
	nlu_emb_neighbours(&e, query, cand, 0, 0.5f, 1, ix, cs);
	nlu_emb_neighbours(&e, query, cand, NLU_EMB_NB_MAX_K + 1, 0.5f, 1, ix,
	    cs);
	CU_ASSERT_EQUAL(ix[buy * 2], 7);
	buf_cleanup(&b);
}

/* A model with sentence vectors from good_text. */
static const char *const rows[][2] = {
	{ "hello", "greet" }, { "hi there", "greet" },
	{ "hello friend", "greet" }, { "hi", "greet" },
	{ "good day hello", "greet" },
	{ "buy a ticket", "buy" }, { "buy now", "buy" },
	{ "i want to buy", "buy" }, { "buy it", "buy" },
	{ "buy the thing", "buy" },
	{ "what is the fee", "fee" }, { "fee please", "fee" },
	{ "how much is the fee", "fee" }, { "the fee", "fee" },
	{ "fee for it", "fee" },
};

/* The rows above as a data set, and small training options with the
 * vectors of vec_path, for the training tests below. */
static void
small_training(const char *vec_path, uint32_t threads, struct nlu_dataset *ds,
    struct nlu_train_opts *o)
{
	size_t i;

	nlu_dataset_init(ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		nlu_dataset_add(ds, rows[i][0], rows[i][1], NULL, 0, NULL);
	nlu_train_opts_default(o);
	o->seed = 5;
	o->threads = threads;
	o->members = 2;
	o->mlp.hidden = 16;
	o->feat.dim_log2 = 11;
	o->embeddings = vec_path;
}

/* int8 0: float32 first layers, as format version 5 and before wrote. */
static int
train_emb_conv_w(const char *vec_path, uint32_t threads, uint32_t conv,
    int int8, struct nlu_model **m, struct gacp_err *err)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	int rc;

	small_training(vec_path, threads, &ds, &o);
	o.emb_top = 3;
	o.emb_scale = 2.0f;
	o.conv_filters = conv;
	o.weights_int8 = int8;
	gacp_err_clear(err);
	rc = nlu_model_train(&ds, NULL, &o, m, NULL, err);
	nlu_dataset_cleanup(&ds);
	return rc;
}

static int
train_emb_conv(const char *vec_path, uint32_t threads, uint32_t conv,
    struct nlu_model **m, struct gacp_err *err)
{
	return train_emb_conv_w(vec_path, threads, conv, 1, m, err);
}

static int
train_emb(const char *vec_path, uint32_t threads, struct nlu_model **m,
    struct gacp_err *err)
{
	return train_emb_conv(vec_path, threads, 0, m, err);
}

/* m's image with the n bytes at payload offset at replaced by bytes and
 * its checksum recomputed, so that only the structural checks can refuse
 * it, written to path and loaded (img: scratch of m->image_bytes). */
static int
load_patched(const struct nlu_model *m, unsigned char *img, size_t at,
    const void *bytes, size_t n, const char *path, struct nlu_model **l,
    struct gacp_err *err)
{
	memcpy(img, m->image, m->image_bytes);
	memcpy(img + NLU_MODEL_HEADER_BYTES + at, bytes, n);
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	fixture_write_file(path, img, m->image_bytes);
	return nlu_model_load(path, l, err);
}

/* a and b give q the same probabilities, bit for bit. */
static void
check_same_probs(const struct nlu_model *a, const struct nlu_model *b,
    const char *q)
{
	struct nlu_scratch sa, sb;
	struct gacp_err err;
	uint32_t c;

	CU_ASSERT_EQUAL_FATAL(a->n_labels, b->n_labels);
	CU_ASSERT_FATAL(nlu_scratch_init(&sa, &err) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&sb, &err) == 0);
	CU_ASSERT(nlu_model_score(a, &sa, q, strlen(q), &err) == 0);
	CU_ASSERT(nlu_model_score(b, &sb, q, strlen(q), &err) == 0);
	for (c = 0; c < a->n_labels; c++)
		CU_ASSERT_DOUBLE_EQUAL(sa.probs[c], sb.probs[c], 0.0);
	nlu_scratch_cleanup(&sa);
	nlu_scratch_cleanup(&sb);
}

/* m's image relabelled as format version `version` (outside the
 * checksum) is refused with a message holding why, and the image cut
 * short by cut bytes is refused (img: scratch of m->image_bytes). */
static void
check_relabelled_and_cut(const struct nlu_model *m, unsigned char *img,
    unsigned char version, const char *why, size_t cut, const char *path)
{
	struct nlu_model *l = NULL;
	struct gacp_err err;

	memcpy(img, m->image, m->image_bytes);
	img[8] = version;
	fixture_write_file(path, img, m->image_bytes);
	CU_ASSERT_EQUAL(nlu_model_load(path, &l, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
	CU_ASSERT_PTR_NULL(l);
	fixture_write_file(path, m->image, m->image_bytes - cut);
	CU_ASSERT_EQUAL(nlu_model_load(path, &l, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NULL(l);
}

static void
test_model_with_vectors(void)
{
	struct nlu_model *m = NULL, *again = NULL, *l = NULL;
	struct gacp_err err;
	char *vec = tmp_path("model.vec"), *path = tmp_path("emb.model");
	unsigned char *img, byte;
	const char *q = "purchase it";
	uint64_t off;
	uint32_t zero = 0;

	fixture_write_file(vec, good_text, strlen(good_text));
	CU_ASSERT_FATAL(train_emb(vec, 2, &m, &err) == 0);
	CU_ASSERT_FATAL(train_emb(vec, 1, &again, &err) == 0);
	/* Deterministic whatever the thread count. */
	CU_ASSERT_EQUAL_FATAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_EQUAL(m->format, NLU_MODEL_FORMAT_VERSION);
	CU_ASSERT_EQUAL(m->emb.dim, 4);
	/* Mean and maximum by default. */
	CU_ASSERT_EQUAL(m->emb.flags, NLU_EMB_MAX);
	CU_ASSERT_EQUAL(m->emb.in_dim, 8);
	/* The three most frequent words and the training words found in
	 * the file ("hello", "hi", "buy", "fee"), not "purchase". */
	CU_ASSERT_EQUAL(m->emb.n, 5);
	CU_ASSERT(nlu_emb_find(&m->emb, "fee") >= 0);
	CU_ASSERT_EQUAL(nlu_emb_find(&m->emb, "purchase"), -1);
	CU_ASSERT_DOUBLE_EQUAL(m->emb_scale, 2.0, 1e-6);

	/* Round trip through the file: the same probabilities. */
	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->emb.n, m->emb.n);
	check_same_probs(m, l, q);

	img = malloc(m->image_bytes);
	/* A damaged section with a matching checksum: an int8 value of
	 * -128 (never written) in the first word's vector. */
	memcpy(&off, m->image + NLU_MODEL_HEADER_BYTES + 288, 8);
	CU_ASSERT_FATAL(off > 0 && off < m->image_bytes);
	nlu_model_free(l);
	l = NULL;
	byte = 0x80;
	CU_ASSERT_EQUAL(load_patched(m, img, off + NLU_EMB_HEADER +
	    12 * m->emb.n, &byte, 1, path, &l, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_corrupt");
	/* The section's length one short: out of the payload's accounting. */
	byte = (unsigned char)(m->image[NLU_MODEL_HEADER_BYTES + 296] - 1);
	CU_ASSERT_EQUAL(load_patched(m, img, 296, &byte, 1, path, &l, &err),
	    GACP_EINVAL);
	/* A scale without the section, and the section without a scale. */
	CU_ASSERT_EQUAL(load_patched(m, img, 156, &zero, 4, path, &l, &err),
	    GACP_EINVAL);
	/* Relabelled version 2 (the version is outside the checksum): it
	 * would load as MLPs of the wrong width.  And a truncated file. */
	check_relabelled_and_cut(m, img, 2, "version 3 metadata", 7, path);

	/* Without word vectors a model is what format version 2 wrote, so
	 * a version 2 file still loads and scores the same. */
	nlu_model_free(again);
	again = NULL;
	CU_ASSERT_FATAL(train_emb_conv_w(NULL, 1, 0, 0, &again, &err) == 0);
	CU_ASSERT_EQUAL(again->emb.in_dim, 0);
	img = realloc(img, again->image_bytes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	memcpy(img, again->image, again->image_bytes);
	img[8] = 2;
	fixture_write_file(path, img, again->image_bytes);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->format, 2);
	check_same_probs(again, l, q);
	nlu_model_free(l);
	l = NULL;

	/* A bad vector file fails training with the reader's error. */
	fixture_write_file(vec, "a 1 2\nb 1\n", 10);
	nlu_model_free(again);
	again = NULL;
	CU_ASSERT_EQUAL(train_emb(vec, 1, &again, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_embeddings_format");
	CU_ASSERT_PTR_NULL(again);

	free(img);
	unlink(vec);
	unlink(path);
	free(vec);
	free(path);
	nlu_model_free(m);
	nlu_model_free(again);
}

/* Neighbour-substituted copies: with every word of good_text in the table
 * and p = 1, each greeting ("hello", "hi": found in fewer than 5 rows,
 * each the other's neighbour) gets one copy; "buy" and "fee" are in 5
 * rows (frequent, left alone) and "the" has no neighbour at cosine 0.7.
 * Deterministic whatever the thread count; a model without them is
 * another model. */
static int
train_nb_aug_p(const char *vec_path, uint32_t threads, uint32_t copies,
    float p, int per_member, struct nlu_model **m,
    struct nlu_train_report *rep, struct gacp_err *err)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	int rc;

	small_training(vec_path, threads, &ds, &o);
	o.emb_top = 7;
	o.nb_augment = copies;
	o.nb_augment_p = p;
	o.nb_augment_cos = 0.7f;
	o.aug_members = per_member;
	gacp_err_clear(err);
	rc = nlu_model_train(&ds, NULL, &o, m, rep, err);
	nlu_dataset_cleanup(&ds);
	return rc;
}

static int
train_nb_aug(const char *vec_path, uint32_t threads, uint32_t copies,
    struct nlu_model **m, struct nlu_train_report *rep,
    struct gacp_err *err)
{
	return train_nb_aug_p(vec_path, threads, copies, 1.0f, 0, m, rep,
	    err);
}

static void
test_nb_augment(void)
{
	struct nlu_model *m = NULL, *again = NULL, *none = NULL;
	struct nlu_train_report rep;
	struct gacp_err err;
	char *vec = tmp_path("aug.vec");

	fixture_write_file(vec, good_text, strlen(good_text));
	CU_ASSERT_FATAL(train_nb_aug(vec, 2, 1, &m, &rep, &err) == 0);
	/* 15 rows and the 5 greetings' copies (final fit on all rows). */
	CU_ASSERT_EQUAL(rep.n_train, 20);
	CU_ASSERT_FATAL(train_nb_aug(vec, 1, 1, &again, NULL, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_FATAL(train_nb_aug(vec, 2, 0, &none, &rep, &err) == 0);
	CU_ASSERT_EQUAL(rep.n_train, 15);
	CU_ASSERT(memcmp(m->sha256, none->sha256, 32) != 0);
	/* Without word vectors there is nothing to substitute. */
	nlu_model_free(none);
	none = NULL;
	CU_ASSERT_FATAL(train_nb_aug(NULL, 2, 1, &none, &rep, &err) == 0);
	CU_ASSERT_EQUAL(rep.n_train, 15);
	/* Out of range: refused. */
	nlu_model_free(again);
	again = NULL;
	CU_ASSERT_EQUAL(train_nb_aug(vec, 1, 9, &again, NULL, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_bad_options");
	CU_ASSERT_PTR_NULL(again);

	/* Copies drawn per member (p 0.5, so seeds differ in what they
	 * replace): another model than one shared draw, and still the same
	 * bits whatever the thread count. */
	nlu_model_free(m);
	nlu_model_free(none);
	m = none = NULL;
	CU_ASSERT_FATAL(train_nb_aug_p(vec, 2, 1, 0.5f, 1, &m, &rep, &err) ==
	    0);
	CU_ASSERT(rep.n_train > 15);
	CU_ASSERT_FATAL(train_nb_aug_p(vec, 1, 1, 0.5f, 1, &again, NULL,
	    &err) == 0);
	CU_ASSERT_EQUAL_FATAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_FATAL(train_nb_aug_p(vec, 2, 1, 0.5f, 0, &none, NULL,
	    &err) == 0);
	CU_ASSERT(memcmp(m->sha256, none->sha256, 32) != 0);
	unlink(vec);
	free(vec);
	nlu_model_free(m);
	nlu_model_free(again);
	nlu_model_free(none);
}

/* The convolution against a plain reading of its definition: for every
 * width, every window start from -(w - 1) to n - 1, bias plus the sum of
 * the window's words through the (width, offset) column block, ReLU, the
 * maximum over the windows. */
static void
test_conv_forward(void)
{
	enum { D = 5, F = 8, N = 4 };
	float params[(D * NLU_CONV_BLOCKS + NLU_CONV_WIDTHS) * F];
	float x[N * D], pooled[NLU_CONV_WIDTHS * F], want[NLU_CONV_WIDTHS * F];
	float *z = malloc(nlu_conv_scratch(F) * sizeof(float));
	int32_t arg[NLU_CONV_WIDTHS * F];
	struct nlu_conv c;
	uint64_t rng = 42;
	uint32_t w, blk = 0, f, o, k, i, n;

	CU_ASSERT_EQUAL(nlu_conv_floats(D, F), sizeof(params) / sizeof(float));
	for (i = 0; i < sizeof(params) / sizeof(float); i++)
		params[i] = nlu_rng_float(&rng) - 0.5f;
	for (i = 0; i < N * D; i++)
		x[i] = nlu_rng_float(&rng) - 0.5f;
	/* The second word has no vector. */
	memset(x + D, 0, D * sizeof(float));
	nlu_conv_bind(&c, D, F, params);
	for (n = 1; n <= N; n++) {
		nlu_conv_forward(&c, x, n, pooled, arg, z);
		blk = 0;
		for (w = NLU_CONV_WIDTH_MIN; w <= NLU_CONV_WIDTH_MAX;
		    blk += w, w++) {
			for (f = 0; f < F; f++) {
				uint32_t out = (w - NLU_CONV_WIDTH_MIN) * F + f;
				int32_t t, best_t = INT32_MIN;
				double best = 0.0;

				for (t = -(int32_t)(w - 1); t < (int32_t)n;
				    t++) {
					double y = c.b[out];

					for (o = 0; o < w; o++) {
						int32_t p = t + (int32_t)o;

						if (p < 0 || p >= (int32_t)n)
							continue;
						for (k = 0; k < D; k++)
							y += (double)
							    x[p * D + k] *
							    c.w[k * c.cols +
							    (blk + o) * F +
							    f];
					}
					if (y > best + 1e-6) {
						best = y;
						best_t = t;
					}
				}
				want[out] = (float)best;
				CU_ASSERT_DOUBLE_EQUAL(pooled[out], want[out],
				    1e-5);
				if (best > 1e-5)
					CU_ASSERT_EQUAL(arg[out], best_t);
				if (pooled[out] == 0.0f)
					CU_ASSERT_EQUAL(arg[out], INT32_MIN);
			}
		}
	}
	/* No words: all zero. */
	nlu_conv_forward(&c, x, 0, pooled, arg, z);
	for (f = 0; f < NLU_CONV_WIDTHS * F; f++)
		CU_ASSERT_EQUAL(pooled[f], 0.0f);
	free(z);
}

/* Word order beyond bigrams: a model with the convolution is
 * deterministic, round-trips, and a damaged or relabelled section is
 * refused; one without still loads as format version 3. */
static void
test_model_with_conv(void)
{
	struct nlu_model *m = NULL, *again = NULL, *l = NULL;
	struct gacp_err err;
	char *vec = tmp_path("conv.vec"), *path = tmp_path("conv.model");
	const char *q[] = { "purchase it", "hi buy the fee", "", "1234",
	    "the the the the the the the the the the the the the the the "
	    "the the the the the the the the the the the the the the the "
	    "the the the the the the the the the the the the the the the "
	    "the the the the the the the the the the the the the the the "
	    "the the the the the fee" };
	unsigned char *img;
	uint64_t off, len;
	uint32_t c, i;

	fixture_write_file(vec, good_text, strlen(good_text));
	CU_ASSERT_FATAL(train_emb_conv(vec, 2, 8, &m, &err) == 0);
	CU_ASSERT_FATAL(train_emb_conv(vec, 1, 8, &again, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_EQUAL(m->format, NLU_MODEL_FORMAT_VERSION);
	CU_ASSERT_EQUAL(m->conv_filters, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->conv);
	CU_ASSERT_EQUAL(m->mlp[0].dim, (1u << 11) + m->emb.in_dim +
	    NLU_CONV_WIDTHS * 8);
	/* Filters must be a multiple of the SIMD width. */
	nlu_model_free(again);
	again = NULL;
	CU_ASSERT_EQUAL(train_emb_conv(vec, 1, 12, &again, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_bad_options");

	/* Round trip: the same probabilities, for texts with no word, no
	 * vector, and more words than the convolution reads. */
	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->conv_filters, 8);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		check_same_probs(m, l, q[i]);
	/* The stored products give the bits a product computed at parse
	 * time gives. */
	for (i = 0; i < l->members; i++)
		l->conv[i].n_map = 0;
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		check_same_probs(m, l, q[i]);
	nlu_model_free(l);
	l = NULL;

	img = malloc(m->image_bytes);
	memcpy(&off, m->image + NLU_MODEL_HEADER_BYTES + 304, 8);
	memcpy(&len, m->image + NLU_MODEL_HEADER_BYTES + 312, 8);
	CU_ASSERT_FATAL(off > 0 && off < m->image_bytes);
	{
		uint32_t n_pre, n_map;

		memcpy(&n_pre, m->image + NLU_MODEL_HEADER_BYTES + off, 4);
		memcpy(&n_map, m->image + NLU_MODEL_HEADER_BYTES + off + 4, 4);
		/* The training words found in the table are stored. */
		CU_ASSERT_EQUAL(n_map, m->emb.n);
		CU_ASSERT(n_pre > 0 && n_pre <= n_map);
		CU_ASSERT_EQUAL(len, 64 + (n_map * 4 + 63) / 64 * 64 +
		    (nlu_conv_floats(4, 8) + n_pre * NLU_CONV_BLOCKS * 8) *
		    m->members * sizeof(float));
		/* A map entry past the stored rows. */
		CU_ASSERT_EQUAL(load_patched(m, img, off + 64, &n_pre, 4, path,
		    &l, &err), GACP_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "word map"));
		/* A map of another size than the word table. */
		n_map--;
		CU_ASSERT_EQUAL(load_patched(m, img, off + 4, &n_map, 4, path,
		    &l, &err), GACP_EINVAL);
		CU_ASSERT_PTR_NULL(l);
	}
	/* The section one float short. */
	len -= 4;
	CU_ASSERT_EQUAL(load_patched(m, img, 312, &len, 8, path, &l, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_corrupt");
	/* Its offset past the payload. */
	off = m->image_bytes;
	CU_ASSERT_EQUAL(load_patched(m, img, 304, &off, 8, path, &l, &err),
	    GACP_EINVAL);
	/* A filter count that is not a multiple of the SIMD width, and
	 * none with the section there. */
	for (c = 0; c < 2; c++) {
		uint32_t bad = c == 0 ? 12 : 0;

		CU_ASSERT_EQUAL(load_patched(m, img, 160, &bad, 4, path, &l,
		    &err), GACP_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "convolution"));
	}
	/* Relabelled version 3 (outside the checksum): it would load as
	 * MLPs of the wrong width.  And truncated. */
	check_relabelled_and_cut(m, img, 3, "version 4 metadata", 5, path);
	free(img);

	/* Without the convolution a model is what format version 3 wrote:
	 * relabelled 3, it loads and scores the same. */
	CU_ASSERT_FATAL(train_emb_conv_w(vec, 1, 0, 0, &again, &err) == 0);
	CU_ASSERT_EQUAL(again->conv_filters, 0);
	img = malloc(again->image_bytes);
	memcpy(img, again->image, again->image_bytes);
	img[8] = 3;
	fixture_write_file(path, img, again->image_bytes);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->format, 3);
	check_same_probs(again, l, q[0]);
	nlu_model_free(l);

	free(img);
	unlink(vec);
	unlink(path);
	free(vec);
	free(path);
	nlu_model_free(m);
	nlu_model_free(again);
}

void
test_nlu_embed_register(void)
{
	static const struct test_case cases[] = {
		{ "text vector file", test_reader_text },
		{ "malformed vector files refused", test_reader_malformed },
		{ "wink JSON vector file", test_reader_json },
		{ "table section, damaged refused", test_table },
		{ "nearest neighbours by cosine", test_neighbours },
		{ "neighbour-substituted training copies", test_nb_augment },
		{ "model with word vectors", test_model_with_vectors },
		{ "convolution over word vectors", test_conv_forward },
		{ "model with the convolution", test_model_with_conv },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_embed", cases);
}
