/* tiny-model.c - a small bilingual NLU model trained at fuzzer start-up, and the parse invariants (see tiny-model.h). */
#include "tiny-model.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/json.h"
#include "common/utf8.h"
#include "nlu/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const rows[][2] = {
	{ "hello", "greet" }, { "hi there", "greet" }, { "good morning", "greet" },
	{ "สวัสดีครับ", "greet" }, { "หวัดดีค่ะ", "greet" },
	{ "what is the fee", "fee" }, { "how much does it cost", "fee" },
	{ "ค่าธรรมเนียมเท่าไหร่", "fee" }, { "กี่บาทครับ", "fee" },
	{ "book an inspection", "inspect" }, { "schedule a farm visit", "inspect" },
	{ "นัดตรวจฟาร์ม", "inspect" }, { "ขอนัดตรวจประเมิน", "inspect" },
};

/* A fixture of tests/data (name): beside this source file (__FILE__ is
 * the path the build used), else under the working directory; NULL when
 * neither has it.  path holds the result. */
static const char *
fixture_data(const char *name, char *path, size_t cap)
{
	const char *slash = strrchr(__FILE__, '/');

	if (slash != NULL) {
		snprintf(path, cap, "%.*s/../data/%s",
		    (int)(slash - __FILE__), __FILE__, name);
		if (access(path, R_OK) == 0)
			return path;
	}
	snprintf(path, cap, "tests/data/%s", name);
	if (access(path, R_OK) == 0)
		return path;
	return NULL;
}

struct nlu_model *
tiny_model_train(void)
{
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct gacp_err err;
	static char wn_path[1024], vec_path[1024];
	size_t i;

	nlu_dataset_init(&ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (nlu_dataset_add(&ds, rows[i][0], rows[i][1], NULL, 0,
		    &err) != 0)
			goto fail;
	nlu_dataset_add_regex(&ds, "application_number", "GACP-\\d{4}-\\d{6}");
	nlu_dataset_add_lookup(&ds, "crop", "กัญชา");
	nlu_dataset_add_lookup(&ds, "crop", "hemp");
	nlu_dataset_add_lookup(&ds, "crop", "turmeric");
	nlu_dataset_add_synonym(&ds, "ขมิ้น", "turmeric");
	nlu_dataset_add_synonym(&ds, "cannabis", "กัญชา");
	nlu_train_opts_default(&o);
	o.seed = 7;
	o.threads = 1;
	o.members = 1;
	o.mlp.hidden = 8;
	o.mlp.epochs = 10;
	o.mlp.min_steps = 200;
	o.feat.dim_log2 = 10;
	o.holdout = 0.25;
	/* The tiny WordNet database and word vectors of the unit tests, so
	 * the model carries a lexicon, a word-vector section and a
	 * convolution section for the loader fuzzer to mutate. */
	o.wordnet_dir = fixture_data("wordnet", wn_path, sizeof(wn_path));
	o.embeddings = fixture_data("vectors.txt", vec_path,
	    sizeof(vec_path));
	/* And the word-order convolution over them (format version 4). */
	o.conv_filters = 8;
	if (nlu_model_train(&ds, NULL, &o, &m, NULL, &err) != 0)
		goto fail;
	nlu_dataset_cleanup(&ds);
	return m;
fail:
	fprintf(stderr, "tiny_model_train: %s: %s\n", err.code, err.msg);
	abort();
}

static void
check_entities(const struct nlu_entity_list *l, size_t ncp)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct nlu_entity *e = &l->v[i];

		if (e->start >= e->end || e->end > ncp ||
		    (i > 0 && l->v[i - 1].start > e->start) ||
		    e->entity == NULL || e->value == NULL ||
		    e->extractor == NULL ||
		    !utf8_valid(e->entity, strlen(e->entity)) ||
		    (e->value[0] != '\0' &&
		    !utf8_valid(e->value, strlen(e->value))) ||
		    !(e->confidence >= 0.0f && e->confidence <= 1.0f)) {
			fprintf(stderr, "bad entity %zu of %zu: %s=%s [%u, %u) "
			    "of %zu code points, confidence %g\n", i, l->n,
			    e->entity ? e->entity : "(null)",
			    e->value ? e->value : "(null)", e->start, e->end,
			    ncp, (double)e->confidence);
			abort();
		}
	}
}

void
tiny_model_check_parse(struct nlu_parser *p, const struct nlu_model *m,
    const char *text, size_t len, int check_confidence)
{
	struct nlu_parse_opts o;
	struct json_object *obj = NULL, *v;
	struct gacp_err err;
	struct buf js;
	const char *name;
	float conf;
	int rc;

	nlu_parse_opts_default(&o);
	o.now = TINY_MODEL_NOW;
	rc = nlu_parse(p, m, text, len, &o, &err);
	if (len > NLU_TEXT_MAX_BYTES) {
		if (rc != GACP_ETOOBIG)
			abort();
		return;
	}
	if (!utf8_valid(text, len)) {
		if (rc != GACP_EINVAL)
			abort();
		return;
	}
	if (rc != GACP_OK)
		abort();
	name = nlu_parse_intent(p, m, &conf);
	if (name == NULL || (strcmp(name, NLU_FALLBACK_INTENT) != 0 &&
	    nlu_model_label_index(m, name) < 0) ||
	    (check_confidence && !(conf >= 0.0f && conf <= 1.0f)))
		abort();
	check_entities(&p->ents, utf8_count(text, len));

	buf_init(&js);
	nlu_parse_json(p, m, text, len, &js);
	if (json_parse_strict(js.data, js.len, JSON_MAX_DEPTH, &obj, &err) !=
	    GACP_OK || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "intent", &v) ||
	    !json_object_object_get_ex(obj, "entities", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) != p->ents.n)
		abort();
	json_object_put(obj);
	buf_cleanup(&js);
}
