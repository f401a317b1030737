/* test_nlu_text.c - NLU normalisation, language id, tokeniser, features. */
#include "tests.h"

#include <math.h>
#include <string.h>

#include "nlu/features.h"
#include "nlu/text.h"

static struct nlu_text *
text_new(void)
{
	static struct nlu_text t;
	struct gacp_err err;

	CU_ASSERT_FATAL(nlu_text_init(&t, &err) == 0);
	return &t;
}

static void
tok_equals(const struct nlu_text *t, size_t i, const char *want)
{
	char got[256];

	CU_ASSERT_FATAL(i < t->n_tok);
	nlu_text_tok_utf8(t, i, got, sizeof(got));
	CU_ASSERT_STRING_EQUAL(got, want);
}

static void
test_latin_normalise(void)
{
	struct nlu_text *t = text_new();
	const char *s = "  HeLLo,   Wörld!! what's\tUP  ";

	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	CU_ASSERT_EQUAL(t->n_tok, 4);
	tok_equals(t, 0, "hello");
	tok_equals(t, 1, "world");
	tok_equals(t, 2, "whats");
	tok_equals(t, 3, "up");
	CU_ASSERT_STRING_EQUAL(nlu_text_lang(t), "en");
	/* Repetitions: Latin keeps two, Thai one. */
	s = "helloooo ครับบบบ";
	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	tok_equals(t, 0, "helloo");
	tok_equals(t, 1, "ครับ");
	nlu_text_cleanup(t);
}

static void
test_thai_words(void)
{
	struct nlu_text *t = text_new();
	const char *s = "สวัสดีครับ", *mixed = "ขอ form สมัคร GACP หน่อย";
	char joined[256] = "";
	size_t i;

	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	/* libthai splits the unspaced text into words. */
	CU_ASSERT_EQUAL(t->n_tok, 2);
	tok_equals(t, 0, "สวัสดี");
	tok_equals(t, 1, "ครับ");
	CU_ASSERT_EQUAL(t->tok[0].kind, NLU_TOK_THAI);
	CU_ASSERT_EQUAL(t->tok[0].run_start, 1);
	CU_ASSERT_EQUAL(t->tok[1].run_start, 0);
	for (i = 0; i < t->n_tok; i++) {
		char w[64];
		nlu_text_tok_utf8(t, i, w, sizeof(w));
		strcat(joined, w);
	}
	CU_ASSERT_STRING_EQUAL(joined, s);
	CU_ASSERT_STRING_EQUAL(nlu_text_lang(t), "th");

	CU_ASSERT_EQUAL(nlu_text_process(t, mixed, strlen(mixed), NULL), 0);
	CU_ASSERT_STRING_EQUAL(nlu_text_lang(t), "th");
	tok_equals(t, 0, "ขอ");
	tok_equals(t, 1, "form");
	CU_ASSERT_EQUAL(t->tok[1].kind, NLU_TOK_LATIN);
	tok_equals(t, 3, "gacp");

	/* Thai digits become ASCII digits; "เเ" (two SARA E) becomes "แ". */
	s = "๑๒๓ เเม่";
	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	tok_equals(t, 0, "123");
	CU_ASSERT_EQUAL(t->tok[0].kind, NLU_TOK_DIGIT);
	tok_equals(t, 1, "แม่");
	nlu_text_cleanup(t);
}

static void
test_invalid_and_empty(void)
{
	struct nlu_text *t = text_new();
	struct gacp_err err;
	const char bad[] = "ok \xff\xfe", overlong[] = "\xc0\xaf",
	    surrogate[] = "\xed\xa0\x80", withnul[] = "a\0b";

	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(nlu_text_process(t, bad, sizeof(bad) - 1, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_utf8");
	CU_ASSERT_EQUAL(nlu_text_process(t, overlong, 2, NULL), GACP_EINVAL);
	CU_ASSERT_EQUAL(nlu_text_process(t, surrogate, 3, NULL), GACP_EINVAL);
	CU_ASSERT_EQUAL(nlu_text_process(t, withnul, 3, NULL), GACP_EINVAL);

	CU_ASSERT_EQUAL(nlu_text_process(t, "", 0, NULL), 0);
	CU_ASSERT_EQUAL(t->n_tok, 0);
	CU_ASSERT_STRING_EQUAL(nlu_text_lang(t), "und");
	CU_ASSERT_EQUAL(nlu_text_process(t, " ?! ... ", 8, NULL), 0);
	CU_ASSERT_EQUAL(t->n_tok, 0);
	/* Zero-width space between Thai words is dropped, not a token. */
	CU_ASSERT_EQUAL(nlu_text_process(t, "\xe2\x80\x8b", 3, NULL), 0);
	CU_ASSERT_EQUAL(t->n_tok, 0);
	nlu_text_cleanup(t);
}

static double
norm(const struct nlu_sparse *v)
{
	double s = 0.0;
	size_t i;

	for (i = 0; i < v->n; i++)
		s += (double)v->val[i] * v->val[i];
	return sqrt(s);
}

static void
test_feature_hashing(void)
{
	struct nlu_text *t = text_new();
	struct nlu_feat_params p;
	struct nlu_rawfeat a, b;
	struct nlu_sparse v0, v1;
	const char *s = "book a flight to bangkok";
	size_t i, same = 0;

	nlu_feat_params_default(&p);
	CU_ASSERT_EQUAL(nlu_feat_params_check(&p), 0);
	nlu_rawfeat_init(&a);
	nlu_rawfeat_init(&b);
	nlu_sparse_init(&v0);
	nlu_sparse_init(&v1);
	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	nlu_features_raw(&p, t, &a);
	CU_ASSERT_EQUAL(nlu_text_process(t, s, strlen(s), NULL), 0);
	nlu_features_raw(&p, t, &b);
	/* Deterministic, deduplicated: words + bigrams + char n-grams. */
	CU_ASSERT_EQUAL(a.n, b.n);
	CU_ASSERT(memcmp(a.h, b.h, a.n * sizeof(*a.h)) == 0);
	CU_ASSERT(a.n > 5 + 6);
	for (i = 0; i + 1 < a.n; i++)
		CU_ASSERT(a.h[i] != a.h[i + 1]);

	nlu_features_vector(&p, 0, NULL, &a, &v0);
	nlu_features_vector(&p, 1, NULL, &a, &v1);
	CU_ASSERT_EQUAL(v0.n, a.n);
	CU_ASSERT(fabs(norm(&v0) - 1.0) < 0.05);
	for (i = 0; i < v0.n; i++) {
		CU_ASSERT(v0.idx[i] < (1u << p.dim_log2));
		same += v0.idx[i] == v1.idx[i];
	}
	/* Members hash into different buckets. */
	CU_ASSERT(same < v0.n / 4);
	CU_ASSERT_EQUAL(nlu_features_bucket(&p, 3, 12345),
	    nlu_features_bucket(&p, 3, 12345));

	/* A misspelling shares most character n-grams. */
	CU_ASSERT_EQUAL(nlu_text_process(t, "bangkok", 7, NULL), 0);
	nlu_features_raw(&p, t, &a);
	CU_ASSERT_EQUAL(nlu_text_process(t, "bangkk", 6, NULL), 0);
	nlu_features_raw(&p, t, &b);
	same = 0;
	for (i = 0; i < a.n; i++) {
		size_t k;
		for (k = 0; k < b.n; k++)
			same += a.h[i] == b.h[k];
	}
	CU_ASSERT(same >= 6);

	CU_ASSERT_EQUAL(nlu_text_process(t, "", 0, NULL), 0);
	nlu_features_raw(&p, t, &a);
	CU_ASSERT_EQUAL(a.n, 0);
	nlu_features_vector(&p, 0, NULL, &a, &v0);
	CU_ASSERT_EQUAL(v0.n, 0);

	nlu_rawfeat_cleanup(&a);
	nlu_rawfeat_cleanup(&b);
	nlu_sparse_cleanup(&v0);
	nlu_sparse_cleanup(&v1);
	nlu_text_cleanup(t);
}

void
test_nlu_text_register(void)
{
	static const struct test_case cases[] = {
		{ "latin normalisation", test_latin_normalise },
		{ "thai word breaking", test_thai_words },
		{ "invalid utf-8 and empty text", test_invalid_and_empty },
		{ "feature hashing", test_feature_hashing },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_text", cases);
}
