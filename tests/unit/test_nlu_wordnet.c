/* test_nlu_wordnet.c - WordNet reader, Morphy lemmatiser, model lexicon,
 * concept features for unseen synonyms, and the lexicon section of model
 * files, on the tiny database in tests/data/wordnet. */
#include "tests.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "nlu/features.h"
#include "nlu/model.h"
#include "nlu/wordnet.h"
#include "security/crypto.h"

/* Lexicon of the fixture for a vocabulary, opened into lx over out. */
static void
build(const char *const *words, size_t n, uint32_t flags, struct buf *out,
    struct nlu_wn_lex *lx)
{
	struct nlu_wn_db *db = NULL;
	struct gacp_err err;
	char *dir = fixture_wordnet_dir();

	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_wn_db_load(dir, 3, flags, &db, &err) == 0);
	nlu_wn_lexicon_build(db, words, n, out, NULL);
	CU_ASSERT_FATAL(nlu_wn_lex_open(lx, out->data, out->len, &err) == 0);
	nlu_wn_db_free(db);
	free(dir);
}

/* First lemma Morphy finds for word in pos, or "" */
static const char *
lemma(const struct nlu_wn_lex *lx, enum nlu_wn_pos pos, const char *word)
{
	static char out[256];

	out[0] = '\0';
	if (nlu_wn_lemmas(lx, pos, word, out, sizeof(out)) == 0)
		return "";
	return out;
}

static void
test_lemmatiser(void)
{
	static const char *const vocab[] = { "price", "buy", "going", "close",
	    "goose", "mouse", "big", "quickly", "charge" };
	struct nlu_wn_lex lx;
	struct buf b;
	char out[256];

	buf_init(&b);
	build(vocab, sizeof(vocab) / sizeof(vocab[0]),
	    NLU_WN_BUILD_HYPERNYMS, &b, &lx);
	/* Exception lists. */
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "geese"), "goose");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "mice"), "mouse");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "went"), "go");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "bought"), "buy");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_ADJ, "bigger"), "big");
	/* Rules of detachment, per part of speech. */
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "prices"), "price");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "charges"), "charge");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "buys"), "buy");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "closing"), "close");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "closed"), "close");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "goes"), "go");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "charged"), "");
	/* The word itself, and no rule for the wrong part of speech. */
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "price"), "price");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_ADV, "quickly"), "quickly");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_VERB, "prices"), "");
	CU_ASSERT_STRING_EQUAL(lemma(&lx, NLU_WN_NOUN, "buying"), "");
	/* Not plain lowercase ASCII: nothing. */
	CU_ASSERT_EQUAL(nlu_wn_lemmas(&lx, NLU_WN_NOUN, "Price", out,
	    sizeof(out)), 0);
	CU_ASSERT_EQUAL(nlu_wn_lemmas(&lx, NLU_WN_NOUN, "", out,
	    sizeof(out)), 0);
	buf_cleanup(&b);
}

static void
test_lexicon_lookup(void)
{
	static const char *const vocab[] = { "price" };
	struct nlu_wn_lex lx;
	struct buf b, again;
	uint32_t n, items[64], cp[8] = { 'p', 'r', 'i', 'c', 'e', 's' };
	const unsigned char *it;
	size_t ni;

	buf_init(&b);
	buf_init(&again);
	build(vocab, 1, NLU_WN_BUILD_HYPERNYMS, &b, &lx);
	/* "price" reaches its two synsets and the hypernym "value"; every
	 * lemma sharing one of them is kept, the others are not. */
	CU_ASSERT_PTR_NOT_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "price", 5,
	    &n));
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_PTR_NOT_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "cost", 4,
	    &n));
	CU_ASSERT_PTR_NOT_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "value", 5,
	    &n));
	/* "fee" only through its hypernym (the second "cost" synset): its
	 * items are cut to that one. */
	it = nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "fee", 3, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_PTR_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "goose", 5, &n));
	CU_ASSERT_PTR_NULL(nlu_wn_lex_entry(&lx, NLU_WN_VERB, "buy", 3, &n));
	CU_ASSERT_PTR_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "credit_card",
	    11, &n));
	/* Lookup from code points goes through the lemmatiser. */
	ni = nlu_wn_lookup(&lx, cp, 6, items, 64);
	CU_ASSERT_EQUAL(ni, 3);
	CU_ASSERT_EQUAL(items[0] & NLU_WN_ITEM_OFFSET_MASK, 100);
	CU_ASSERT_EQUAL(items[0] >> NLU_WN_ITEM_RANK_SHIFT, 0);
	CU_ASSERT_EQUAL(items[1] & NLU_WN_ITEM_OFFSET_MASK, 500);
	CU_ASSERT_TRUE(items[1] & NLU_WN_ITEM_HYPER);
	CU_ASSERT_EQUAL((items[2] >> NLU_WN_ITEM_RANK_SHIFT) &
	    NLU_WN_ITEM_RANK_MASK, 1);
	/* Short and non-ASCII words are not looked up. */
	cp[0] = 0xe9;
	CU_ASSERT_EQUAL(nlu_wn_lookup(&lx, cp, 6, items, 64), 0);
	CU_ASSERT_EQUAL(nlu_wn_lookup(&lx, cp + 4, 2, items, 64), 0);
	/* Deterministic bytes. */
	build(vocab, 1, NLU_WN_BUILD_HYPERNYMS, &again, &lx);
	CU_ASSERT_EQUAL(b.len, again.len);
	CU_ASSERT(memcmp(b.data, again.data, b.len) == 0);
	/* Without hypernyms "value" and "fee" are unreachable. */
	build(vocab, 1, 0, &again, &lx);
	CU_ASSERT_PTR_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "value", 5,
	    &n));
	CU_ASSERT_PTR_NULL(nlu_wn_lex_entry(&lx, NLU_WN_NOUN, "fee", 3, &n));
	buf_cleanup(&b);
	buf_cleanup(&again);
}

/* Concept hashes (negative counts) of a text. */
static size_t
concepts(const struct nlu_feat_params *p, struct nlu_text *t,
    const char *s, uint64_t *out, size_t cap)
{
	struct nlu_rawfeat r;
	struct gacp_err err;
	size_t i, n = 0;

	nlu_rawfeat_init(&r);
	CU_ASSERT_FATAL(nlu_text_process(t, s, strlen(s), &err) == 0);
	nlu_features_raw(p, t, &r);
	for (i = 0; i < r.n && n < cap; i++)
		if (r.cnt[i] < 0.0f)
			out[n++] = r.h[i];
	nlu_rawfeat_cleanup(&r);
	return n;
}

static void
test_unseen_synonym(void)
{
	static const char *const vocab[] = { "i", "want", "to", "buy", "it" };
	struct nlu_wn_lex lx;
	struct nlu_feat_params p;
	struct nlu_text t;
	struct gacp_err err;
	struct buf b;
	uint64_t a[64], c[64];
	size_t na, nc, i, k, shared = 0;

	buf_init(&b);
	build(vocab, 5, NLU_WN_BUILD_HYPERNYMS, &b, &lx);
	CU_ASSERT_FATAL(nlu_text_init(&t, &err) == 0);
	nlu_feat_params_default(&p);
	p.wn = &lx;
	/* "purchase" never occurred in training, yet it lights the concept
	 * "buy" does (the synset and its hypernym "get"). */
	na = concepts(&p, &t, "I want to buy it", a, 64);
	nc = concepts(&p, &t, "I want to purchase it", c, 64);
	CU_ASSERT_EQUAL(na, 2);
	CU_ASSERT_EQUAL(nc, 2);
	for (i = 0; i < na; i++)
		for (k = 0; k < nc; k++)
			shared += a[i] == c[k];
	CU_ASSERT_EQUAL(shared, 2);
	/* Inflected and irregular forms too. */
	CU_ASSERT_EQUAL(concepts(&p, &t, "she bought it", c, 64), 2);
	CU_ASSERT_EQUAL(concepts(&p, &t, "purchasing", c, 64), 2);
	/* Thai text and unknown words: no concept features. */
	CU_ASSERT_EQUAL(concepts(&p, &t, "ซื้อ goose", c, 64), 0);
	/* Without a lexicon, none at all. */
	p.wn = NULL;
	CU_ASSERT_EQUAL(concepts(&p, &t, "I want to buy it", c, 64), 0);
	nlu_text_cleanup(&t);
	buf_cleanup(&b);
}

static const char *const rows[][2] = {
	{ "i want to buy a ticket", "buy" }, { "buy me a coffee", "buy" },
	{ "can i buy this", "buy" }, { "buying shoes online", "buy" },
	{ "what is the price", "price" }, { "how much is the price", "price" },
	{ "price of a ticket", "price" }, { "tell me the price", "price" },
	{ "close the door", "close" }, { "please close it", "close" },
	{ "close my account", "close" }, { "can you close the window", "close" },
};

static struct nlu_model *
train_wn(const char *dir)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct gacp_err err;
	size_t i;

	nlu_dataset_init(&ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_FATAL(nlu_dataset_add(&ds, rows[i][0], rows[i][1],
		    NULL, 0, NULL) == 0);
	nlu_train_opts_default(&o);
	o.seed = 3;
	o.threads = 2;
	o.members = 2;
	o.mlp.hidden = 16;
	o.mlp.epochs = 20;
	o.feat.dim_log2 = 12;
	o.holdout = 0.25;
	o.wordnet_dir = dir;
	gacp_err_clear(&err);
	CU_ASSERT(nlu_model_train(&ds, NULL, &o, &m, NULL, &err) == 0);
	nlu_dataset_cleanup(&ds);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

static void
test_model_round_trip(void)
{
	char *dir = fixture_wordnet_dir(), path[256];
	struct nlu_model *m = train_wn(dir), *again = train_wn(dir), *l = NULL;
	struct nlu_scratch s1, s2;
	struct gacp_err err;
	uint32_t n1, n2, c;

	/* Deterministic with the lexicon too. */
	CU_ASSERT_EQUAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_EQUAL(m->format, NLU_MODEL_FORMAT_VERSION);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->feat.wn);
	CU_ASSERT_TRUE(m->wn.n_entries > 0);

	snprintf(path, sizeof(path), "/tmp/gacp-wn-test-%ld.model",
	    (long)getpid());
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->feat.wn);
	CU_ASSERT_EQUAL(l->wn.n_entries, m->wn.n_entries);
	CU_ASSERT_DOUBLE_EQUAL(l->feat.wn_weight, m->feat.wn_weight, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(l->feat.wn_decay, m->feat.wn_decay, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(l->feat.wn_hyper, m->feat.wn_hyper, 0.0);
	/* "purchase" was never trained on; the loaded model's lexicon still
	 * knows it, and both score it identically. */
	CU_ASSERT_PTR_NOT_NULL(nlu_wn_lex_entry(&l->wn, NLU_WN_VERB,
	    "purchase", 8, &n1));
	CU_ASSERT_PTR_NOT_NULL(nlu_wn_lex_entry(&m->wn, NLU_WN_VERB,
	    "purchase", 8, &n2));
	CU_ASSERT_EQUAL(n1, n2);
	CU_ASSERT_FATAL(nlu_scratch_init(&s1, &err) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&s2, &err) == 0);
	CU_ASSERT(nlu_model_score(m, &s1, "purchase a ticket", 17, &err) == 0);
	CU_ASSERT(nlu_model_score(l, &s2, "purchase a ticket", 17, &err) == 0);
	for (c = 0; c < m->n_labels; c++)
		CU_ASSERT_DOUBLE_EQUAL(s1.probs[c], s2.probs[c], 0.0);
	nlu_scratch_cleanup(&s1);
	nlu_scratch_cleanup(&s2);
	nlu_model_free(l);
	nlu_model_free(m);
	nlu_model_free(again);
	unlink(path);
	free(dir);
}

/* Load img after making its checksum match: only the structure checks can
 * refuse it. */
static void
expect_corrupt(const char *path, unsigned char *img, size_t len)
{
	struct nlu_model *l = NULL;
	struct gacp_err err;

	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    len - NLU_MODEL_HEADER_BYTES, img + 24);
	fixture_write_file(path, img, len);
	gacp_err_clear(&err);
	CU_ASSERT_NOT_EQUAL(nlu_model_load(path, &l, &err), 0);
	CU_ASSERT_PTR_NULL(l);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_corrupt");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lexicon"));
}

static void
test_corrupt_lexicon(void)
{
	char *dir = fixture_wordnet_dir(), path[256];
	struct nlu_model *m = train_wn(dir), *l = NULL;
	unsigned char *img = malloc(m->image_bytes), *lex;
	uint32_t n_slots, i, v;
	struct gacp_err err;
	size_t off;

	snprintf(path, sizeof(path), "/tmp/gacp-wn-bad-%ld.model",
	    (long)getpid());
	lex = memmem(m->image, m->image_bytes, "GWN1", 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lex);
	off = (size_t)(lex - m->image);
	memcpy(&n_slots, lex + 4, 4);

	/* Bad magic. */
	memcpy(img, m->image, m->image_bytes);
	img[off] = 'X';
	expect_corrupt(path, img, m->image_bytes);
	/* A table with no empty slot (a lookup could never end). */
	memcpy(img, m->image, m->image_bytes);
	memcpy(img + off + 8, &n_slots, 4);
	expect_corrupt(path, img, m->image_bytes);
	/* An entry offset past the pool. */
	memcpy(img, m->image, m->image_bytes);
	for (i = 0; i < n_slots; i++) {
		memcpy(&v, img + off + 24 + 4 * i, 4);
		if (v != 0)
			break;
	}
	CU_ASSERT_FATAL(i < n_slots);
	v = 0x7ffffff1u;
	memcpy(img + off + 24 + 4 * i, &v, 4);
	expect_corrupt(path, img, m->image_bytes);
	/* An entry whose key is not a plain word. */
	memcpy(img, m->image, m->image_bytes);
	img[off + 24 + 4 * n_slots + 4] = 0x8f;
	expect_corrupt(path, img, m->image_bytes);
	/* Unchanged, it loads. */
	gacp_err_clear(&err);
	fixture_write_file(path, m->image, m->image_bytes);
	CU_ASSERT(nlu_model_load(path, &l, &err) == 0);
	nlu_model_free(l);
	unlink(path);
	free(img);
	free(dir);
	nlu_model_free(m);
}

/* Format 1 (no lexicon) still loads; a future format is refused. */
static void
test_old_format(void)
{
	struct nlu_model *m = NULL, *l = NULL;
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct gacp_err err;
	unsigned char *img;
	size_t i;

	nlu_dataset_init(&ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_FATAL(nlu_dataset_add(&ds, rows[i][0], rows[i][1],
		    NULL, 0, NULL) == 0);
	nlu_train_opts_default(&o);
	o.members = 1;
	o.mlp.hidden = 8;
	o.feat.dim_log2 = 10;
	o.weights_int8 = 0;     /* as format version 1 wrote */
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &m, NULL, &err) == 0);
	CU_ASSERT_PTR_NULL(m->feat.wn);
	img = malloc(m->image_bytes);
	memcpy(img, m->image, m->image_bytes);
	/* Relabelled 1, a version 2 file is refused: the version is outside
	 * the checksum, and it would load without its lexicon. */
	img[8] = 1;
	CU_ASSERT_EQUAL(nlu_model_from_image(img, m->image_bytes, &l, &err),
	    GACP_EINVAL);
	CU_ASSERT_PTR_NULL(l);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_corrupt");
	{
		/* A genuine version 1 file: no version 2 metadata (payload
		 * offsets 136-155 and 248-287), the payload ending where
		 * the lexicon section began. */
		unsigned char *meta = img + NLU_MODEL_HEADER_BYTES;
		uint64_t wn_off = 0, payload;

		for (i = 0; i < 8; i++)
			wn_off |= (uint64_t)meta[248 + i] << (8 * i);
		CU_ASSERT_FATAL(wn_off > 0 &&
		    wn_off <= m->image_bytes - NLU_MODEL_HEADER_BYTES);
		memset(meta + 136, 0, 20);
		memset(meta + 248, 0, 40);
		payload = wn_off;
		for (i = 0; i < 8; i++)
			img[16 + i] = (unsigned char)(payload >> (8 * i));
		crypto_sha256(meta, (size_t)payload, img + 24);
		CU_ASSERT(nlu_model_from_image(img,
		    NLU_MODEL_HEADER_BYTES + (size_t)payload, &l, &err) == 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		CU_ASSERT_EQUAL(l->format, 1);
		CU_ASSERT_PTR_NULL(l->feat.wn);
		nlu_model_free(l);
		l = NULL;
	}
	img[8] = (unsigned char)(NLU_MODEL_FORMAT_VERSION + 1);
	CU_ASSERT_EQUAL(nlu_model_from_image(img, m->image_bytes, &l, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_version");
	free(img);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
}

/* Synonyms for augmentation: another lemma of the word's first sense,
 * never the word's own lemma; nothing for words without one. */
static void
test_synonym(void)
{
	static const char *const vocab[] = { "buy", "price", "goose" };
	struct nlu_wn_lex lx;
	struct nlu_wn_syn syn;
	struct buf b;
	char out[NLU_WN_MAX_WORD + 1];
	uint32_t cp[16];
	uint64_t pick;
	size_t i;

	buf_init(&b);
	build(vocab, 3, NLU_WN_BUILD_HYPERNYMS, &b, &lx);
	nlu_wn_syn_init(&syn, &lx);
	for (pick = 0; pick < 4; pick++) {
		const char *w = "bought";

		for (i = 0; w[i]; i++)
			cp[i] = (unsigned char)w[i];
		CU_ASSERT_EQUAL(nlu_wn_synonym(&lx, &syn, cp, i, pick, out), 8);
		CU_ASSERT_STRING_EQUAL(out, "purchase");
	}
	/* "price" (first sense shared with "cost" as its second sense). */
	for (i = 0; i < 5; i++)
		cp[i] = (unsigned char)"price"[i];
	CU_ASSERT_EQUAL(nlu_wn_synonym(&lx, &syn, cp, 5, 7, out), 4);
	CU_ASSERT_STRING_EQUAL(out, "cost");
	/* "goose" has no other lemma in its synset. */
	for (i = 0; i < 5; i++)
		cp[i] = (unsigned char)"goose"[i];
	CU_ASSERT_EQUAL(nlu_wn_synonym(&lx, &syn, cp, 5, 0, out), 0);
	nlu_wn_syn_cleanup(&syn);
	buf_cleanup(&b);
}

/* Augmented training stays deterministic and learns the synonym's own
 * words: "purchase" is classified as "buy" with the copies. */
static void
test_augment(void)
{
	char *dir = fixture_wordnet_dir();
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *a = NULL, *b = NULL;
	struct nlu_train_report ra, rb;
	struct gacp_err err;
	size_t i;

	nlu_dataset_init(&ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_FATAL(nlu_dataset_add(&ds, rows[i][0], rows[i][1],
		    NULL, 0, NULL) == 0);
	nlu_train_opts_default(&o);
	o.seed = 5;
	o.members = 2;
	o.mlp.hidden = 16;
	o.feat.dim_log2 = 12;
	o.holdout = 0.25;
	o.refit = 0;
	o.wordnet_dir = dir;
	o.wn_augment = 2;
	o.wn_augment_p = 1.0f;
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &a, &ra, &err) == 0);
	o.threads = 1;
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &b, &rb, &err) == 0);
	CU_ASSERT(memcmp(a->image, b->image, a->image_bytes) == 0);
	/* The copies are in the training rows: more than the plain 75 %. */
	CU_ASSERT_TRUE(ra.n_train > (uint32_t)(sizeof(rows) /
	    sizeof(rows[0])));
	nlu_model_free(a);
	nlu_model_free(b);
	nlu_dataset_cleanup(&ds);
	free(dir);
}

static void
test_missing_database(void)
{
	struct nlu_wn_db *db = NULL;
	struct gacp_err err;

	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(nlu_wn_db_load("/nonexistent-wordnet", 3,
	    NLU_WN_BUILD_HYPERNYMS, &db, &err), GACP_EIO);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_wordnet_unreadable");
	CU_ASSERT_EQUAL(nlu_wn_db_load("/nonexistent-wordnet", 0, 0, &db,
	    &err), GACP_EINVAL);
}

void
test_nlu_wordnet_register(void)
{
	static const struct test_case cases[] = {
		{ "lemmatiser: exceptions and rules", test_lemmatiser },
		{ "lexicon lookup and reachability", test_lexicon_lookup },
		{ "concept features of an unseen synonym", test_unseen_synonym },
		{ "model round trip with the lexicon", test_model_round_trip },
		{ "corrupted lexicon section refused", test_corrupt_lexicon },
		{ "format 1 loads, a newer one is refused", test_old_format },
		{ "synonyms for augmentation", test_synonym },
		{ "synonym augmentation", test_augment },
		{ "missing database", test_missing_database },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_wordnet", cases);
}
