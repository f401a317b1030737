/* test_nlu_model.c - NLU training determinism, model file round trip and
 * refusal of damaged files, parse JSON, and the demo bot's accuracy on
 * examples it never trained on. */
#include "tests.h"
#include "fixture.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nlu/eval.h"
#include "nlu/mlp.h"
#include "nlu/model.h"
#include "nlu/parse.h"
#include "security/crypto.h"

/* Small bilingual data: three intents, English and Thai. */
static const char *const rows[][2] = {
	{ "hello", "greet" }, { "hi there", "greet" }, { "good morning", "greet" },
	{ "hey", "greet" }, { "สวัสดีครับ", "greet" }, { "หวัดดีค่ะ", "greet" },
	{ "สวัสดีตอนเช้า", "greet" }, { "ดีจ้า", "greet" },
	{ "what is the fee", "fee" }, { "how much does it cost", "fee" },
	{ "price please", "fee" }, { "is it free", "fee" },
	{ "ค่าธรรมเนียมเท่าไหร่", "fee" }, { "ราคาเท่าไร", "fee" },
	{ "เสียเงินไหม", "fee" }, { "กี่บาทครับ", "fee" },
	{ "book an inspection", "inspect" }, { "schedule a farm visit", "inspect" },
	{ "when can the inspector come", "inspect" }, { "audit my farm", "inspect" },
	{ "นัดตรวจฟาร์ม", "inspect" }, { "ขอนัดตรวจประเมิน", "inspect" },
	{ "เจ้าหน้าที่มาตรวจวันไหน", "inspect" }, { "จองคิวตรวจ", "inspect" },
};

static void
small_data(struct nlu_dataset *ds)
{
	size_t i;

	nlu_dataset_init(ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_FATAL(nlu_dataset_add(ds, rows[i][0], rows[i][1], NULL,
		    0, NULL) == 0);
	nlu_dataset_add_regex(ds, "application_number", "GACP-\\d{4}-\\d{6}");
}

static void
small_opts(struct nlu_train_opts *o, uint64_t seed, uint32_t threads)
{
	nlu_train_opts_default(o);
	o->seed = seed;
	o->threads = threads;
	o->members = 2;
	o->mlp.hidden = 16;
	o->mlp.epochs = 20;
	o->feat.dim_log2 = 12;
	o->holdout = 0.25;
}

static struct nlu_model *
train_small(uint64_t seed, uint32_t threads)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct gacp_err err;

	small_data(&ds);
	small_opts(&o, seed, threads);
	gacp_err_clear(&err);
	CU_ASSERT(nlu_model_train(&ds, NULL, &o, &m, NULL, &err) == 0);
	nlu_dataset_cleanup(&ds);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

static void
test_determinism(void)
{
	struct nlu_model *a = train_small(42, 1), *b = train_small(42, 2);
	struct nlu_model *c = train_small(43, 2);

	/* Same seed: byte-identical, whatever the thread count. */
	CU_ASSERT_EQUAL_FATAL(a->image_bytes, b->image_bytes);
	CU_ASSERT(memcmp(a->image, b->image, a->image_bytes) == 0);
	/* Another seed: other weights. */
	CU_ASSERT_EQUAL(a->image_bytes, c->image_bytes);
	CU_ASSERT(memcmp(a->sha256, c->sha256, 32) != 0);
	CU_ASSERT_EQUAL(a->n_labels, 3);
	CU_ASSERT_EQUAL(a->oos_label, -1);
	/* Without an oos label the confidence is the best probability. */
	CU_ASSERT_EQUAL(a->conf_kind, NLU_CONF_MSP);
	nlu_model_free(a);
	nlu_model_free(b);
	nlu_model_free(c);
}

static void
test_too_few_intents(void)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct gacp_err err;

	nlu_dataset_init(&ds);
	nlu_dataset_add(&ds, "hello", "greet", NULL, 0, NULL);
	nlu_dataset_add(&ds, "hi", "greet", NULL, 0, NULL);
	small_opts(&o, 1, 1);
	CU_ASSERT_EQUAL(nlu_model_train(&ds, NULL, &o, &m, NULL, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_too_few_intents");
	CU_ASSERT_PTR_NULL(m);
	nlu_dataset_cleanup(&ds);
}

/* Hash space and hidden size 0: chosen from the data, small for small
 * data; feature flags travel in the file and change the features. */
static void
test_auto_size_and_flags(void)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *a = NULL, *b = NULL, *c = NULL;
	struct gacp_err err;

	small_data(&ds);
	small_opts(&o, 7, 2);
	o.feat.dim_log2 = 0;
	o.mlp.hidden = 0;
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &a, NULL, &err) == 0);
	CU_ASSERT_EQUAL(a->feat.dim_log2, NLU_MODEL_AUTO_DIM_LOG2_MIN);
	CU_ASSERT_EQUAL(a->hidden, 32);
	CU_ASSERT_EQUAL(a->feat.flags, 0);

	o.feat.flags = NLU_FEAT_XWORD | NLU_FEAT_VIEWS;
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &b, NULL, &err) == 0);
	CU_ASSERT_EQUAL(b->feat.flags, NLU_FEAT_XWORD | NLU_FEAT_VIEWS);
	CU_ASSERT(memcmp(a->sha256, b->sha256, 32) != 0);
	CU_ASSERT_FATAL(nlu_model_from_image(b->image, b->image_bytes, &c,
	    &err) == 0);
	CU_ASSERT_EQUAL(c->feat.flags, NLU_FEAT_XWORD | NLU_FEAT_VIEWS);
	CU_ASSERT(nlu_features_char_weight(&c->feat, 1) <
	    nlu_features_char_weight(&c->feat, 2));

	/* Unknown flags are refused. */
	nlu_model_free(c);
	c = NULL;
	o.feat.flags = 0x80u;
	CU_ASSERT_EQUAL(nlu_model_train(&ds, NULL, &o, &c, NULL, &err),
	    GACP_EINVAL);
	CU_ASSERT_PTR_NULL(c);
	nlu_model_free(a);
	nlu_model_free(b);
	nlu_dataset_cleanup(&ds);
}

static char *
tmp_path(const char *name)
{
	char *p = malloc(256);

	snprintf(p, 256, "/tmp/gacp-nlu-test-%ld-%s", (long)getpid(), name);
	return p;
}

static void
test_round_trip(void)
{
	struct nlu_model *m = train_small(7, 2), *l = NULL;
	struct nlu_scratch s1, s2;
	struct gacp_err err;
	char *path = tmp_path("rt.model");
	const char *q = "ราคาเท่าไหร่ครับ";
	uint32_t i;

	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT(l->mapped);
	CU_ASSERT(memcmp(m->sha256, l->sha256, 32) == 0);
	CU_ASSERT_EQUAL(l->n_labels, m->n_labels);
	for (i = 0; i < l->n_labels; i++)
		CU_ASSERT_STRING_EQUAL(l->labels[i], m->labels[i]);
	CU_ASSERT_EQUAL(l->threshold, m->threshold);
	CU_ASSERT_EQUAL(l->temperature, m->temperature);
	CU_ASSERT_EQUAL(l->entity_spec.n_rx, 1);
	CU_ASSERT_FATAL(nlu_scratch_init(&s1, NULL) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&s2, NULL) == 0);
	CU_ASSERT(nlu_model_score(m, &s1, q, strlen(q), NULL) == 0);
	CU_ASSERT(nlu_model_score(l, &s2, q, strlen(q), NULL) == 0);
	CU_ASSERT(memcmp(s1.probs, s2.probs, m->n_labels * sizeof(float)) == 0);
	nlu_scratch_cleanup(&s1);
	nlu_scratch_cleanup(&s2);
	nlu_model_free(l);
	nlu_model_free(m);
	unlink(path);
	free(path);
}

static void
expect_refused(const char *path, const void *img, size_t len,
    const char *code)
{
	struct nlu_model *l = NULL;
	struct gacp_err err;

	fixture_write_file(path, img, len);
	gacp_err_clear(&err);
	CU_ASSERT_NOT_EQUAL(nlu_model_load(path, &l, &err), 0);
	CU_ASSERT_PTR_NULL(l);
	CU_ASSERT_STRING_EQUAL(err.code, code);
	CU_ASSERT(err.msg[0] != '\0');
}

static void
test_damaged_refused(void)
{
	struct nlu_model *m = train_small(9, 1), *l = NULL;
	char *path = tmp_path("bad.model");
	unsigned char *img = malloc(m->image_bytes);
	struct gacp_err err;
	char *name;

	/* Truncated anywhere: header, metadata, weights. */
	expect_refused(path, m->image, 10, "nlu_model_corrupt");
	expect_refused(path, m->image, 100, "nlu_model_corrupt");
	expect_refused(path, m->image, m->image_bytes - 1, "nlu_model_corrupt");
	/* One flipped bit in the weights: checksum mismatch. */
	memcpy(img, m->image, m->image_bytes);
	img[m->image_bytes - 5] ^= 0x10;
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* Bad magic. */
	memcpy(img, m->image, m->image_bytes);
	img[0] = 'X';
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* Unknown format version. */
	memcpy(img, m->image, m->image_bytes);
	img[8] = 99;
	expect_refused(path, img, m->image_bytes, "nlu_model_version");
	/* Reserved header bytes (outside the checksum) must be zero
	 * (found by fuzz-model). */
	memcpy(img, m->image, m->image_bytes);
	img[63] = 'c';
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* An entity name that is not UTF-8, checksum made to match: refused
	 * before it can reach JSON output (found by fuzz-model). */
	memcpy(img, m->image, m->image_bytes);
	name = memmem(img, m->image_bytes, "application_number", 18);
	CU_ASSERT_PTR_NOT_NULL_FATAL(name);
	name[11] = (char)0x8f;
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* Missing file. */
	unlink(path);
	CU_ASSERT_EQUAL(nlu_model_load(path, &l, &err), GACP_EIO);
	/* A failed save leaves no file behind. */
	CU_ASSERT_EQUAL(nlu_model_save(m, "/nonexistent-dir/x.model", &err),
	    GACP_EIO);
	free(img);
	free(path);
	nlu_model_free(m);
}

static void
test_parse_json(void)
{
	struct nlu_model *m = train_small(5, 2);
	struct nlu_parser p;
	struct nlu_parse_opts po;
	struct gacp_err err;
	struct buf out;
	const char *q = "ค่าธรรมเนียมเท่าไหร่ GACP-2026-000123";
	float conf;

	buf_init(&out);
	CU_ASSERT_FATAL(nlu_parser_init(&p, &err) == 0);
	nlu_parse_opts_default(&po);
	po.now = 1773118800;
	po.threshold = 0.0f;
	po.ambiguity = 0.0f;
	CU_ASSERT_FATAL(nlu_parse(&p, m, q, strlen(q), &po, &err) == 0);
	CU_ASSERT_STRING_EQUAL(nlu_parse_intent(&p, m, &conf), "fee");
	nlu_parse_json(&p, m, q, strlen(q), &out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"intent\":{\"name\":\"fee\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"entity\":\"application_number\""
	    ",\"start\":21,\"end\":37"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"intent_ranking\":[{\"name\":"
	    "\"fee\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"language\":\"th\""));
	/* Above any reachable confidence: nlu_fallback, ranking kept. */
	po.threshold = 1.01f;
	CU_ASSERT_FATAL(nlu_parse(&p, m, q, strlen(q), &po, &err) == 0);
	buf_reset(&out);
	nlu_parse_json(&p, m, q, strlen(q), &out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"intent\":{\"name\":"
	    "\"nlu_fallback\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "{\"name\":\"fee\""));
	/* Invalid UTF-8 is refused. */
	CU_ASSERT_EQUAL(nlu_parse(&p, m, "\xc3", 1, &po, &err), GACP_EINVAL);
	nlu_parser_cleanup(&p);
	buf_cleanup(&out);
	nlu_model_free(m);
}

static char *
data_path(const char *rel)
{
	const char *src = getenv("srcdir");
	char *p = malloc(1024);

	/* automake's test harness exports srcdir (the tests' directory). */
	snprintf(p, 1024, "%s/%s", src ? src : ".", rel);
	if (access(p, R_OK) != 0)
		snprintf(p, 1024, "%s/../../%s", src ? src : ".", rel);
	return p;
}

static void
test_demo_bot(void)
{
	struct nlu_dataset all, kept, held, para;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct nlu_eval ev;
	struct gacp_err err;
	char *yml = data_path("doc/examples/demo-bot/nlu.yml");
	char *tsv = data_path("tests/data/demo-bot-paraphrases.tsv");

	nlu_dataset_init(&all);
	nlu_dataset_init(&kept);
	nlu_dataset_init(&held);
	nlu_dataset_init(&para);
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_dataset_load_file(&all, yml, NLU_DATA_AUTO,
	    &err) == 0);
	CU_ASSERT_FATAL(nlu_dataset_load_file(&para, tsv, NLU_DATA_AUTO,
	    &err) == 0);
	CU_ASSERT(all.n_ex >= 9 * 50);

	/* >= 95 % on a split held back from the bot's own data (no fallback
	 * counted as right: threshold 0). */
	nlu_dataset_split(&all, 0.2, 11, &kept, &held);
	nlu_train_opts_default(&o);
	CU_ASSERT_FATAL(nlu_model_train(&kept, NULL, &o, &m, NULL, &err) == 0);
	CU_ASSERT_FATAL(nlu_eval_run(m, &held, 0.0f, 0.0f, &ev, &err) == 0);
	CU_ASSERT(ev.in_scope_accuracy >= 0.95);
	nlu_eval_cleanup(&ev);
	nlu_model_free(m);

	/* Paraphrases it never saw, with the model's own thresholds. */
	CU_ASSERT_FATAL(nlu_model_train(&all, NULL, &o, &m, NULL, &err) == 0);
	CU_ASSERT_FATAL(nlu_eval_run(m, &para, -1.0f, -1.0f, &ev, &err) == 0);
	CU_ASSERT(ev.examples >= 50);
	CU_ASSERT(ev.in_scope_accuracy >= 0.9);
	nlu_eval_cleanup(&ev);
	nlu_model_free(m);

	nlu_dataset_cleanup(&all);
	nlu_dataset_cleanup(&kept);
	nlu_dataset_cleanup(&held);
	nlu_dataset_cleanup(&para);
	free(yml);
	free(tsv);
}

/* A linear softmax member averaged into the ensemble: deterministic,
 * stored, loaded and scored the same, refused when its section lies. */
static void
test_linear_member(void)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL, *again = NULL, *l = NULL;
	struct nlu_scratch s1, s2;
	struct gacp_err err;
	char *path = tmp_path("lin.model");
	unsigned char *img;
	uint32_t c;
	float w;

	small_data(&ds);
	small_opts(&o, 21, 2);
	o.linear_weight = 0.3f;
	o.linear_dim_log2 = 11;
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &m, NULL, &err) == 0);
	o.threads = 1;
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &again, NULL, &err) ==
	    0);
	CU_ASSERT_EQUAL(m->image_bytes, again->image_bytes);
	CU_ASSERT(memcmp(m->image, again->image, m->image_bytes) == 0);
	CU_ASSERT_DOUBLE_EQUAL(m->lin_weight, 0.3, 1e-6);
	CU_ASSERT_EQUAL(m->lin_feat.dim_log2, 11);

	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&s1, &err) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&s2, &err) == 0);
	CU_ASSERT(nlu_model_score(m, &s1, "how much is the fee", 19, &err) ==
	    0);
	CU_ASSERT(nlu_model_score(l, &s2, "how much is the fee", 19, &err) ==
	    0);
	for (c = 0; c < m->n_labels; c++)
		CU_ASSERT_DOUBLE_EQUAL(s1.probs[c], s2.probs[c], 0.0);
	CU_ASSERT_EQUAL(nlu_model_label_index(m, "fee"),
	    (int)(s1.probs[0] > s1.probs[1] ? (s1.probs[0] > s1.probs[2] ?
	    0 : 2) : (s1.probs[1] > s1.probs[2] ? 1 : 2)));
	nlu_scratch_cleanup(&s1);
	nlu_scratch_cleanup(&s2);

	/* A weight of 1 (no MLP share left) with a matching checksum. */
	img = malloc(m->image_bytes);
	memcpy(img, m->image, m->image_bytes);
	w = 1.0f;
	memcpy(img + NLU_MODEL_HEADER_BYTES + 148, &w, 4);
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* A hash space that does not match the section size. */
	memcpy(img, m->image, m->image_bytes);
	img[NLU_MODEL_HEADER_BYTES + 152] = 12;
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	free(img);
	unlink(path);
	free(path);
	nlu_model_free(l);
	nlu_model_free(m);
	nlu_model_free(again);
	nlu_dataset_cleanup(&ds);
}

/* The threshold rule on synthetic calibration rows: 100 in scope with
 * confidences 0.50..0.99 (all right), out of scope with confidences
 * spread below them. */
static void
test_threshold_pick(void)
{
	enum { N_IN = 100, N_OOS = 100 };
	float conf[N_IN + N_OOS], in_acc, rec;
	int ok[N_IN + N_OOS], oos[N_IN + N_OOS];
	size_t i;
	float t;

	for (i = 0; i < N_IN; i++) {
		conf[i] = 0.50f + 0.0049f * (float)i;
		ok[i] = 1;
		oos[i] = 0;
	}
	/* Out of scope 0.005..0.70: 0.50 and under catches about 71 %. */
	for (i = 0; i < N_OOS; i++) {
		conf[N_IN + i] = 0.005f + 0.007f * (float)i;
		ok[N_IN + i] = 0;
		oos[N_IN + i] = 1;
	}
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.6f, 0.0f,
	    &in_acc, &rec);
	/* Every in-scope row kept, and recall is as high as that allows. */
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 1.0, 1e-6);
	CU_ASSERT_TRUE(rec >= 0.70f);
	CU_ASSERT_TRUE(t > 0.49f && t <= 0.50f);

	/* The balanced rule on the same rows: giving up 1 in-scope row
	 * (0.50) buys the out-of-scope rows from 0.50 to 0.505, none here,
	 * so it also keeps every in-scope row; recall cannot drop. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 1.0, 1e-6);
	CU_ASSERT_TRUE(rec >= 0.70f);
	/* One right answer at 0.30, the others from 0.60; out-of-scope rows
	 * 0.005..0.594.  Balanced: losing that one answer (1 %) buys every
	 * out-of-scope row.  Floor: 100 % in scope catches only half of
	 * them (bound under 60 %), so it too gives up that row, and takes
	 * the middle of the plateau, which still meets the floor. */
	conf[0] = 0.30f;
	for (i = 1; i < N_IN; i++)
		conf[i] = 0.60f + 0.0039f * (float)i;
	for (i = 0; i < N_OOS; i++)
		conf[N_IN + i] = 0.005f + 0.00595f * (float)i;
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 0.99, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(rec, 1.0, 1e-6);
	CU_ASSERT_TRUE(t > 0.594f && t <= 0.604f);
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.6f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 0.99, 1e-6);
	CU_ASSERT_TRUE(rec >= 0.60f);
	for (i = 0; i < N_IN; i++)
		conf[i] = 0.50f + 0.0049f * (float)i;

	/* Out-of-scope rows that look like the intents (0.60..0.99): no
	 * threshold within the in-scope budget reaches the recall bound;
	 * the fallback rule keeps in-scope accuracy within 1 %. */
	for (i = 0; i < N_OOS; i++)
		conf[N_IN + i] = 0.60f + 0.0039f * (float)i;
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.6f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_TRUE(in_acc >= 0.99f);
	CU_ASSERT_TRUE(rec < 0.60f);

	/* A handful of out-of-scope rows: 3 of 3 is not 60 % with 95 %
	 * confidence (Wilson bound 0.53), so the fallback rule decides. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN + 3, 400, 0.6f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_TRUE(in_acc >= 0.99f);

	/* No out-of-scope rows: at most 1 % of right answers lost. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN, 400, 0.6f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_TRUE(in_acc >= 0.99f && in_acc < 1.0f);
	CU_ASSERT_DOUBLE_EQUAL(rec, -1.0, 1e-6);
	CU_ASSERT_TRUE(t > 0.50f);
	/* ... whatever the in-scope budget. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN, 400, 0.0f, 0.02f,
	    &in_acc, &rec);
	CU_ASSERT_TRUE(in_acc >= 0.99f && in_acc < 1.0f);
	CU_ASSERT_DOUBLE_EQUAL(rec, -1.0, 1e-6);
}

/* The in-scope budget rule: in scope 0.50..0.99 (all right), out of scope
 * 0.005..0.698. */
static void
test_threshold_budget(void)
{
	enum { N_IN = 100, N_OOS = 100 };
	float conf[N_IN + N_OOS], in_acc, rec, t, t2;
	int ok[N_IN + N_OOS], oos[N_IN + N_OOS];
	size_t i;

	for (i = 0; i < N_IN; i++) {
		conf[i] = 0.50f + 0.0049f * (float)i;
		ok[i] = 1;
		oos[i] = 0;
	}
	for (i = 0; i < N_OOS; i++) {
		conf[N_IN + i] = 0.005f + 0.007f * (float)i;
		ok[N_IN + i] = 0;
		oos[N_IN + i] = 1;
	}
	/* 2 % may go: the two lowest right answers (0.50, 0.5049) do, the
	 * threshold sits between the second and the third (0.5098), and
	 * the out-of-scope rows under it (72) fall back. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.02f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 0.98, 1e-6);
	CU_ASSERT_TRUE(t > 0.5049f && t <= 0.5098f);
	CU_ASSERT_DOUBLE_EQUAL(rec, 0.72, 1e-6);
	/* The choice rests on the in-scope rows alone: out-of-scope rows
	 * anywhere else give the same threshold (the balanced rule would
	 * move: nothing to catch, nothing worth an in-scope row). */
	for (i = 0; i < N_OOS; i++)
		conf[N_IN + i] = 0.90f + 0.0009f * (float)i;
	t2 = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.02f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(t2, t, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 0.98, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(rec, 0.0, 1e-6);
	t2 = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.0f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 1.0, 1e-6);
	CU_ASSERT_TRUE(t2 < t);
	/* A budget under one row: nothing right is given up. */
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.0f, 0.005f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 1.0, 1e-6);
	CU_ASSERT_TRUE(t > 0.0f && t <= 0.50f);
	/* A recall target takes precedence over the budget. */
	for (i = 0; i < N_OOS; i++)
		conf[N_IN + i] = 0.005f + 0.007f * (float)i;
	t = nlu_threshold_pick(conf, ok, oos, N_IN + N_OOS, 400, 0.6f, 0.02f,
	    &in_acc, &rec);
	CU_ASSERT_DOUBLE_EQUAL(in_acc, 1.0, 1e-6);
	CU_ASSERT_TRUE(t > 0.49f && t <= 0.50f);
}

/* Rows labelled oos beside the small data: the confidence becomes the
 * fitted map of the best in-scope probability minus the oos label's. */
static const char *const oos_rows[] = {
	"what is the weather tomorrow", "tell me a joke", "play some music",
	"who won the football game", "how tall is mount everest",
	"translate hello into french", "set an alarm for six",
	"what is the capital of peru", "order me a pizza",
	"how do i bake bread", "recommend a good movie",
	"what time is it in london",
};

static void
oos_data(struct nlu_dataset *ds)
{
	size_t i;

	small_data(ds);
	for (i = 0; i < sizeof(oos_rows) / sizeof(oos_rows[0]); i++)
		CU_ASSERT_FATAL(nlu_dataset_add(ds, oos_rows[i],
		    NLU_OOS_LABEL, NULL, 0, NULL) == 0);
}

static float
expect_map(const struct nlu_model *m, const float *probs, float best)
{
	float z = m->conf_a * (best - probs[m->oos_label]) + m->conf_b;

	return 1.0f / (1.0f + expf(-z));
}

static void
test_confidence_map(void)
{
	static const char *const q[] = { "hello", "how much is the fee",
	    "นัดตรวจฟาร์ม", "tell me a joke about cats", "weather in paris",
	    "book an inspection please" };
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL, *m2 = NULL, *l = NULL;
	struct nlu_train_report rep;
	struct nlu_scratch sc;
	struct nlu_decision d, d2;
	struct gacp_err err;
	char *path = tmp_path("conf.model");
	unsigned char *img;
	uint32_t c;
	size_t i;
	float f;

	oos_data(&ds);
	small_opts(&o, 3, 2);
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &m, &rep, &err) == 0);
	CU_ASSERT_TRUE_FATAL(m->oos_label >= 0);
	CU_ASSERT_EQUAL_FATAL(m->conf_kind, NLU_CONF_OOS_MARGIN);
	CU_ASSERT_EQUAL(rep.conf_kind, NLU_CONF_OOS_MARGIN);
	CU_ASSERT_TRUE(m->conf_a > 0.0f);
	CU_ASSERT_DOUBLE_EQUAL(m->conf_a, rep.conf_a, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(m->conf_b, rep.conf_b, 0.0);
	CU_ASSERT_TRUE(m->threshold >= 0.0f && m->threshold <= 1.0f);
	CU_ASSERT_FATAL(nlu_scratch_init(&sc, &err) == 0);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		float best = -1.0f;

		CU_ASSERT_FATAL(nlu_model_score(m, &sc, q[i], strlen(q[i]),
		    &err) == 0);
		for (c = 0; c < m->n_labels; c++)
			if ((int32_t)c != m->oos_label && sc.probs[c] > best)
				best = sc.probs[c];
		nlu_model_decide(m, sc.probs, 0.0f, 0.0f, &d);
		CU_ASSERT_TRUE(d.confidence >= 0.0f && d.confidence <= 1.0f);
		CU_ASSERT_DOUBLE_EQUAL(d.confidence, expect_map(m, sc.probs,
		    best), 1e-6);
		/* The margin stays between probabilities. */
		CU_ASSERT_TRUE(d.margin <= best);
		/* A threshold just above the confidence falls back, one at
		 * it does not (unless oos is on top). */
		nlu_model_decide(m, sc.probs, d.confidence + 1e-4f, 0.0f, &d2);
		CU_ASSERT_EQUAL(d2.label, -1);
		nlu_model_decide(m, sc.probs, d.confidence, 0.0f, &d2);
		CU_ASSERT_EQUAL(d2.label, sc.probs[m->oos_label] > best ? -1 :
		    d.top);
	}
	/* Monotone: more margin over the oos label, more confidence. */
	{
		float p[2][64];

		CU_ASSERT_FATAL(m->n_labels <= 64);
		for (i = 0; i < 2; i++) {
			for (c = 0; c < m->n_labels; c++)
				p[i][c] = 0.0f;
			p[i][m->oos_label == 0 ? 1 : 0] = 0.6f;
			p[i][m->oos_label] = i == 0 ? 0.3f : 0.1f;
		}
		nlu_model_decide(m, p[0], 0.0f, 0.0f, &d);
		nlu_model_decide(m, p[1], 0.0f, 0.0f, &d2);
		CU_ASSERT_TRUE(d2.confidence > d.confidence);
	}

	/* The map travels in the file. */
	CU_ASSERT_FATAL(nlu_model_save(m, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->format, NLU_MODEL_FORMAT_VERSION);
	CU_ASSERT_EQUAL(l->conf_kind, NLU_CONF_OOS_MARGIN);
	CU_ASSERT_DOUBLE_EQUAL(l->conf_a, m->conf_a, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(l->conf_b, m->conf_b, 0.0);
	/* Relabelled format 4 (version outside the checksum): refused, not
	 * scored with the best probability against this threshold. */
	img = malloc(m->image_bytes);
	memcpy(img, m->image, m->image_bytes);
	img[8] = 4;
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* A decreasing map, checksum made to match: refused. */
	memcpy(img, m->image, m->image_bytes);
	f = -1.0f;
	memcpy(img + NLU_MODEL_HEADER_BYTES + 168, &f, 4);
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	/* An unknown kind: refused. */
	memcpy(img, m->image, m->image_bytes);
	img[NLU_MODEL_HEADER_BYTES + 164] = 7;
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    m->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, m->image_bytes, "nlu_model_corrupt");
	free(img);

	/* Deterministic. */
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &m2, NULL, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(m2->image_bytes, m->image_bytes);
	CU_ASSERT(memcmp(m2->image, m->image, m->image_bytes) == 0);
	nlu_model_free(m2);
	m2 = NULL;

	/* Asked for the old confidence: the best in-scope probability
	 * (and float32 weights, as format version 4 wrote). */
	o.conf_oos_margin = 0;
	o.weights_int8 = 0;
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &m2, NULL, &err) == 0);
	CU_ASSERT_EQUAL(m2->conf_kind, NLU_CONF_MSP);
	CU_ASSERT_FATAL(nlu_model_score(m2, &sc, q[0], strlen(q[0]),
	    &err) == 0);
	nlu_model_decide(m2, sc.probs, 0.0f, 0.0f, &d);
	CU_ASSERT_DOUBLE_EQUAL(d.confidence, sc.probs[d.top], 0.0);
	/* Such a file relabelled format 4 (no map) loads as it scores. */
	img = malloc(m2->image_bytes);
	memcpy(img, m2->image, m2->image_bytes);
	img[8] = 4;
	fixture_write_file(path, img, m2->image_bytes);
	free(img);
	nlu_model_free(l);
	l = NULL;
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->format, 4);
	CU_ASSERT_EQUAL(l->conf_kind, NLU_CONF_MSP);
	nlu_model_free(m2);
	nlu_scratch_cleanup(&sc);
	unlink(path);
	free(path);
	nlu_model_free(l);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
}

/* The int8 first layer against float32 weights holding the same values
 * (nlu_mlp_dequantise): the forward passes agree to rounding, for each
 * path of the gather: 96 (one pass per row), 128 (two passes of 64
 * columns), 160 (two of 64, then 8 at a time) and 16 (8 at a time). */
static void
check_q8_forward(uint32_t dim, uint32_t hidden, uint32_t n_out)
{
	size_t n = nlu_mlp_floats(dim, hidden, n_out), i;
	float *params = malloc(n * sizeof(float));
	unsigned char *block = aligned_alloc(64, nlu_mlp_q8_bytes(dim, hidden,
	    n_out));
	float *hid = malloc(hidden * sizeof(float));
	float *l1 = malloc(nlu_mlp_stride(n_out) * sizeof(float));
	float *l2 = malloc(nlu_mlp_stride(n_out) * sizeof(float));
	uint32_t idx[40];
	float val[40];
	struct nlu_sparse x;
	struct nlu_mlp mf, mq;
	uint64_t rng = 42;
	uint32_t c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(block);
	for (i = 0; i < n; i++)
		params[i] = nlu_rng_float(&rng) - 0.5f;
	/* One row all zero: scale 0, no division by it. */
	memset(params + 3 * hidden, 0, hidden * sizeof(float));
	nlu_mlp_q8_write(params, dim, hidden, n_out, block);
	nlu_mlp_dequantise(params, dim, hidden);
	nlu_mlp_bind(&mf, dim, hidden, n_out, params);
	nlu_mlp_bind_q8(&mq, dim, hidden, n_out, block);
	CU_ASSERT_PTR_NULL(mq.w1);
	CU_ASSERT_PTR_NOT_NULL(mq.w1q);
	for (i = 0; i < 40; i++) {
		idx[i] = (uint32_t)(nlu_rng_next(&rng) % dim);
		val[i] = nlu_rng_float(&rng);
	}
	idx[0] = 3;
	x.idx = idx;
	x.val = val;
	x.n = 40;
	x.cap = 40;
	nlu_mlp_forward(&mf, &x, hid, l1);
	nlu_mlp_forward(&mq, &x, hid, l2);
	for (c = 0; c < n_out; c++)
		CU_ASSERT_DOUBLE_EQUAL(l1[c], l2[c], 1e-3 * (1.0 +
		    fabs(l1[c])));
	/* The rows hold hidden int8 and their scale. */
	CU_ASSERT_EQUAL(nlu_mlp_q8_stride(96), 128);
	CU_ASSERT_TRUE(nlu_mlp_q8_stride(hidden) >= hidden + 4);
	free(params);
	free(block);
	free(hid);
	free(l1);
	free(l2);
}

static void
test_int8_weights(void)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *q = NULL, *f = NULL, *l = NULL;
	struct nlu_scratch s1, s2;
	struct gacp_err err;
	char *path = tmp_path("q8.model");
	unsigned char *img;
	unsigned char v;
	const char *text = "how much is the fee";
	uint32_t c;

	check_q8_forward(300, 96, 5);
	check_q8_forward(300, 128, 5);
	check_q8_forward(300, 160, 7);
	check_q8_forward(64, 16, 3);

	/* The default is int8; float32 on request.  The same members, so
	 * nearly the same predictions, in a smaller file (rows of 16
	 * take 32 bytes instead of 64 here; 128 instead of 384 at 96). */
	small_data(&ds);
	small_opts(&o, 11, 2);
	o.feat.dim_log2 = 14;
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &q, NULL, &err) == 0);
	o.weights_int8 = 0;
	CU_ASSERT_FATAL(nlu_model_train(&ds, NULL, &o, &f, NULL, &err) == 0);
	CU_ASSERT_TRUE(q->weights_int8);
	CU_ASSERT_FALSE(f->weights_int8);
	CU_ASSERT_EQUAL(q->format, NLU_MODEL_FORMAT_VERSION);
	CU_ASSERT_TRUE(q->image_bytes * 4 < f->image_bytes * 3);
	CU_ASSERT_FATAL(nlu_scratch_init(&s1, NULL) == 0);
	CU_ASSERT_FATAL(nlu_scratch_init(&s2, NULL) == 0);
	CU_ASSERT(nlu_model_score(q, &s1, text, strlen(text), NULL) == 0);
	CU_ASSERT(nlu_model_score(f, &s2, text, strlen(text), NULL) == 0);
	for (c = 0; c < q->n_labels; c++)
		CU_ASSERT_DOUBLE_EQUAL(s1.probs[c], s2.probs[c], 0.05);

	/* Saved and loaded: the same bits. */
	CU_ASSERT_FATAL(nlu_model_save(q, path, &err) == 0);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_TRUE(l->weights_int8);
	CU_ASSERT(nlu_model_score(l, &s2, text, strlen(text), NULL) == 0);
	CU_ASSERT(memcmp(s1.probs, s2.probs, q->n_labels * sizeof(float)) ==
	    0);
	nlu_model_free(l);
	l = NULL;

	img = malloc(q->image_bytes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	/* Relabelled 5 (the version is outside the checksum), an int8 file
	 * would load its bytes as float32: refused. */
	memcpy(img, q->image, q->image_bytes);
	img[8] = 5;
	fixture_write_file(path, img, q->image_bytes);
	CU_ASSERT_EQUAL(nlu_model_load(path, &l, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "version 6 metadata"));
	/* An unknown storage kind, and float32 claimed for int8 bytes
	 * (the section's size gives it away), checksums made to match. */
	v = 2;
	memcpy(img, q->image, q->image_bytes);
	memcpy(img + NLU_MODEL_HEADER_BYTES + 176, &v, 1);
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    q->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, q->image_bytes, "nlu_model_corrupt");
	v = 0;
	memcpy(img + NLU_MODEL_HEADER_BYTES + 176, &v, 1);
	crypto_sha256(img + NLU_MODEL_HEADER_BYTES,
	    q->image_bytes - NLU_MODEL_HEADER_BYTES, img + 24);
	expect_refused(path, img, q->image_bytes, "nlu_model_corrupt");
	/* A float32 file relabelled 5 still loads and scores the same. */
	img = realloc(img, f->image_bytes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	memcpy(img, f->image, f->image_bytes);
	img[8] = 5;
	fixture_write_file(path, img, f->image_bytes);
	CU_ASSERT_FATAL(nlu_model_load(path, &l, &err) == 0);
	CU_ASSERT_EQUAL(l->format, 5);
	CU_ASSERT(nlu_model_score(f, &s1, text, strlen(text), NULL) == 0);
	CU_ASSERT(nlu_model_score(l, &s2, text, strlen(text), NULL) == 0);
	CU_ASSERT(memcmp(s1.probs, s2.probs, f->n_labels * sizeof(float)) ==
	    0);
	nlu_model_free(l);
	free(img);
	nlu_scratch_cleanup(&s1);
	nlu_scratch_cleanup(&s2);
	nlu_model_free(q);
	nlu_model_free(f);
	nlu_dataset_cleanup(&ds);
	unlink(path);
	free(path);
}

void
test_nlu_model_register(void)
{
	static const struct test_case cases[] = {
		{ "training is deterministic", test_determinism },
		{ "too few intents refused", test_too_few_intents },
		{ "size from data, feature flags", test_auto_size_and_flags },
		{ "model file round trip", test_round_trip },
		{ "corrupt and truncated files refused", test_damaged_refused },
		{ "parse json shape and fallback", test_parse_json },
		{ "demo bot held-out and paraphrases", test_demo_bot },
		{ "threshold rule", test_threshold_pick },
		{ "threshold rule: in-scope budget", test_threshold_budget },
		{ "confidence map with oos rows", test_confidence_map },
		{ "linear member", test_linear_member },
		{ "int8 first layers", test_int8_weights },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_model", cases);
}
