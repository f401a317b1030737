/* test_nlu_data.c - Rasa YAML / JSON and TSV training-data import, export. */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/data.h"

static const char yaml_all[] =
    "version: \"3.1\"\n"
    "nlu:\n"
    "- intent: greet\n"
    "  examples: |\n"
    "    - hello\n"
    "    - สวัสดีครับ\n"
    "- intent: book\n"
    "  examples: |\n"
    "    - fly to [Bangkok](city) tomorrow\n"
    "    - ไป[เชียงใหม่]{\"entity\": \"city\", \"value\": \"Chiang Mai\"}ครับ\n"
    "    - from [BKK]{\"entity\": \"city\", \"role\": \"departure\"} please\n"
    "    - see [NYC](city:New York City)\n"
    "- intent: listed\n"
    "  examples:\n"
    "    - text: a listed example\n"
    "    - plain scalar example\n"
    "- synonym: Bangkok\n"
    "  examples: |\n"
    "    - BKK\n"
    "    - กรุงเทพ\n"
    "- regex: account\n"
    "  examples: |\n"
    "    - \\d{10,12}\n"
    "- lookup: city\n"
    "  examples: |\n"
    "    - Bangkok\n"
    "    - Phuket\n"
    "responses:\n"
    "  utter_greet:\n"
    "  - text: ignored here\n";

static const struct nlu_synonym *
find_syn(const struct nlu_dataset *ds, const char *text)
{
	size_t i;

	for (i = 0; i < ds->n_syn; i++)
		if (strcmp(ds->syn[i].text, text) == 0)
			return &ds->syn[i];
	return NULL;
}

static void
test_yaml_every_construct(void)
{
	struct nlu_dataset ds;
	struct gacp_err err;
	const struct nlu_example *e;
	const struct nlu_synonym *s;

	nlu_dataset_init(&ds);
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_dataset_load_yaml(&ds, yaml_all,
	    strlen(yaml_all), &err) == 0);
	CU_ASSERT_EQUAL_FATAL(ds.n_ex, 8);
	CU_ASSERT_STRING_EQUAL(ds.ex[0].text, "hello");
	CU_ASSERT_STRING_EQUAL(ds.ex[0].intent, "greet");
	CU_ASSERT_STRING_EQUAL(ds.ex[1].text, "สวัสดีครับ");

	/* [value](entity) */
	e = &ds.ex[2];
	CU_ASSERT_STRING_EQUAL(e->text, "fly to Bangkok tomorrow");
	CU_ASSERT_STRING_EQUAL(e->intent, "book");
	CU_ASSERT_EQUAL_FATAL(e->n_ents, 1);
	CU_ASSERT_STRING_EQUAL(e->ents[0].entity, "city");
	CU_ASSERT_STRING_EQUAL(e->ents[0].value, "Bangkok");
	CU_ASSERT_EQUAL(e->ents[0].start, 7);
	CU_ASSERT_EQUAL(e->ents[0].end, 14);

	/* [value]{"entity":..,"value":..}: code-point offsets, synonym. */
	e = &ds.ex[3];
	CU_ASSERT_STRING_EQUAL(e->text, "ไปเชียงใหม่ครับ");
	CU_ASSERT_EQUAL_FATAL(e->n_ents, 1);
	CU_ASSERT_EQUAL(e->ents[0].start, 2);
	CU_ASSERT_EQUAL(e->ents[0].end, 11);
	CU_ASSERT_STRING_EQUAL(e->ents[0].value, "Chiang Mai");
	s = find_syn(&ds, "เชียงใหม่");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->canonical, "Chiang Mai");

	/* role */
	e = &ds.ex[4];
	CU_ASSERT_STRING_EQUAL(e->text, "from BKK please");
	CU_ASSERT_STRING_EQUAL(e->ents[0].role, "departure");
	CU_ASSERT_STRING_EQUAL(e->ents[0].value, "BKK");

	/* [value](entity:canonical) */
	e = &ds.ex[5];
	CU_ASSERT_STRING_EQUAL(e->text, "see NYC");
	CU_ASSERT_STRING_EQUAL(e->ents[0].value, "New York City");
	CU_ASSERT_PTR_NOT_NULL(find_syn(&ds, "NYC"));

	/* examples as a list of {text:} and scalars */
	CU_ASSERT_STRING_EQUAL(ds.ex[6].text, "a listed example");
	CU_ASSERT_STRING_EQUAL(ds.ex[7].text, "plain scalar example");

	/* synonym, regex, lookup */
	s = find_syn(&ds, "กรุงเทพ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->canonical, "Bangkok");
	CU_ASSERT_STRING_EQUAL(find_syn(&ds, "BKK")->canonical, "Bangkok");
	CU_ASSERT_EQUAL_FATAL(ds.n_rx, 1);
	CU_ASSERT_STRING_EQUAL(ds.rx[0].name, "account");
	CU_ASSERT_STRING_EQUAL(ds.rx[0].pattern, "\\d{10,12}");
	CU_ASSERT_EQUAL_FATAL(ds.n_lk, 1);
	CU_ASSERT_STRING_EQUAL(ds.lk[0].name, "city");
	CU_ASSERT_EQUAL(ds.lk[0].n_values, 2);
	CU_ASSERT_STRING_EQUAL(ds.lk[0].values[1], "Phuket");
	nlu_dataset_cleanup(&ds);
}

static void
test_yaml_errors(void)
{
	static const char *bad[] = {
		"nlu: [\n",                                   /* syntax */
		"version: \"3.1\"\n",                          /* no nlu */
		"nlu:\n- intent: x\n",                         /* no examples */
		"nlu:\n- intent: x\n  examples: |\n    hello\n", /* no dash */
		"nlu:\n- intent: \"\"\n  examples: |\n    - a\n",
		"nlu:\n- intent: x\n  examples: |\n    - []{\"entity\": \"e\"}\n",
		"nlu:\n- intent: x\n  examples: |\n    - [a]{\"value\": 1}\n",
		"nlu:\n- foo: x\n  examples: |\n    - a\n",
		"nlu:\n- intent: x\n  examples: |\n    - \xff\xfe\n",
		/* Control characters through JSON escapes (fuzz-rasa): no
		 * export could write them back. */
		"nlu:\n- intent: x\n  examples: |\n    - [a]{\"entity\": \"e\\f\"}\n",
		"nlu:\n- intent: x\n  examples: |\n    - [a]{\"entity\": \"e\", \"value\": \"v\\u0000w\"}\n",
		"nlu:\n- intent: x\n  examples: |\n    - [a]{\"entity\": \"e\", \"role\": \"\\b\"}\n",
		"nlu:\n- intent: x\n  examples: |\n    - [a]{\"entity\": \"e\", \"group\": \"g\\u007f\"}\n",
	};
	static const char unclosed[] =
	    "nlu:\n- intent: x\n  examples: |\n    - [a](\n";
	struct nlu_dataset ds;
	struct gacp_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlu_dataset_init(&ds);
		gacp_err_clear(&err);
		CU_ASSERT_NOT_EQUAL(nlu_dataset_load_yaml(&ds, bad[i],
		    strlen(bad[i]), &err), 0);
		CU_ASSERT(err.code[0] != '\0');
		nlu_dataset_cleanup(&ds);
	}
	/* "[a](" is not an annotation at all: kept as text. */
	nlu_dataset_init(&ds);
	CU_ASSERT_EQUAL(nlu_dataset_load_yaml(&ds, unclosed, strlen(unclosed),
	    NULL), 0);
	CU_ASSERT_EQUAL_FATAL(ds.n_ex, 1);
	CU_ASSERT_STRING_EQUAL(ds.ex[0].text, "[a](");
	nlu_dataset_cleanup(&ds);
}

static void
test_json_and_tsv(void)
{
	static const char json[] =
	    "{\"rasa_nlu_data\": {\"common_examples\": ["
	    "{\"text\": \"fly to Bangkok\", \"intent\": \"book\", \"entities\":"
	    " [{\"start\": 7, \"end\": 14, \"value\": \"Bangkok\","
	    " \"entity\": \"city\"}]},"
	    "{\"text\": \"hi\", \"intent\": \"greet\"}],"
	    "\"regex_features\": [{\"name\": \"zip\", \"pattern\": \"\\\\d{5}\"}],"
	    "\"lookup_tables\": [{\"name\": \"city\", \"elements\": [\"Bangkok\"]}],"
	    "\"entity_synonyms\": [{\"value\": \"Bangkok\", \"synonyms\": [\"BKK\"]}]"
	    "}}";
	static const char tsv[] = "# comment\nhello there\tgreet\r\n\nbye\tgoodbye";
	struct nlu_dataset ds;
	struct gacp_err err;

	nlu_dataset_init(&ds);
	CU_ASSERT_FATAL(nlu_dataset_load_json(&ds, json, strlen(json), &err) == 0);
	CU_ASSERT_EQUAL_FATAL(ds.n_ex, 2);
	CU_ASSERT_EQUAL(ds.ex[0].ents[0].start, 7);
	CU_ASSERT_STRING_EQUAL(ds.rx[0].pattern, "\\d{5}");
	CU_ASSERT_STRING_EQUAL(ds.lk[0].values[0], "Bangkok");
	CU_ASSERT_STRING_EQUAL(ds.syn[0].text, "BKK");
	CU_ASSERT_EQUAL(nlu_data_detect(NULL, json, strlen(json)),
	    NLU_DATA_RASA_JSON);
	nlu_dataset_cleanup(&ds);

	nlu_dataset_init(&ds);
	CU_ASSERT_FATAL(nlu_dataset_load_tsv(&ds, tsv, strlen(tsv), &err) == 0);
	CU_ASSERT_EQUAL_FATAL(ds.n_ex, 2);
	CU_ASSERT_STRING_EQUAL(ds.ex[0].intent, "greet");
	CU_ASSERT_STRING_EQUAL(ds.ex[1].text, "bye");
	CU_ASSERT_NOT_EQUAL(nlu_dataset_load_tsv(&ds, "no tab here\n", 12, &err),
	    0);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_bad_tsv");
	nlu_dataset_cleanup(&ds);
	nlu_dataset_init(&ds);
	CU_ASSERT_NOT_EQUAL(nlu_dataset_load_json(&ds, "[1,2", 4, &err), 0);
	nlu_dataset_cleanup(&ds);
}

static void
test_yaml_round_trip(void)
{
	struct nlu_dataset a, b;
	struct buf out;
	unsigned char da[32], db[32];

	nlu_dataset_init(&a);
	nlu_dataset_init(&b);
	buf_init(&out);
	CU_ASSERT_FATAL(nlu_dataset_load_yaml(&a, yaml_all, strlen(yaml_all),
	    NULL) == 0);
	nlu_dataset_to_yaml(&a, &out);
	CU_ASSERT_FATAL(nlu_dataset_load_yaml(&b, out.data, out.len, NULL) == 0);
	nlu_dataset_digest(&a, da);
	nlu_dataset_digest(&b, db);
	CU_ASSERT(memcmp(da, db, 32) == 0);
	nlu_dataset_cleanup(&a);
	nlu_dataset_cleanup(&b);
	buf_cleanup(&out);
}

/* Found by fuzz-rasa: JSON strings that are not UTF-8 (json-c lets them
 * through) were stored; an empty dataset, and an entity name holding
 * "](", exported to YAML that did not load again as it was. */
static void
test_fuzz_findings(void)
{
	static const char js[] = "{\"rasa_nlu_data\": {\"common_examples\": "
	    "[{\"text\": \"hemp please\", \"intent\": \"apply\", "
	    "\"entities\": [{\"start\": 0, \"end\": 4, \"entity\": "
	    "\"crop\", \"value\": \"\xb8\x81\"}]}], \"entity_synonyms\": "
	    "[{\"value\": \"turmeric\", \"synonyms\": [\"\xe0\xb8\", "
	    "\"ok\"]}], \"lookup_tables\": [{\"name\": \"crop\", "
	    "\"elements\": [\"\xff\"]}]}}";
	struct nlu_dataset a, b;
	struct nlu_ent_ann ann;
	struct buf out;
	size_t i;

	nlu_dataset_init(&a);
	CU_ASSERT_FATAL(nlu_dataset_load_json(&a, js, strlen(js), NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(a.n_ex, 1);
	CU_ASSERT_EQUAL_FATAL(a.ex[0].n_ents, 1);
	/* The bad value counts as missing: the surface text is the value. */
	CU_ASSERT(a.ex[0].ents[0].value == NULL ||
	    strcmp(a.ex[0].ents[0].value, "hemp") == 0);
	for (i = 0; i < a.n_syn; i++)
		CU_ASSERT_STRING_EQUAL(a.syn[i].text, "ok");
	CU_ASSERT(a.n_lk == 0 || a.lk[0].n_values == 0);
	nlu_dataset_cleanup(&a);

	nlu_dataset_init(&a);
	nlu_dataset_init(&b);
	buf_init(&out);
	nlu_dataset_to_yaml(&a, &out);
	CU_ASSERT(nlu_dataset_load_yaml(&b, out.data, out.len, NULL) == 0);
	CU_ASSERT_EQUAL(b.n_ex, 0);
	nlu_dataset_cleanup(&a);
	nlu_dataset_cleanup(&b);
	buf_cleanup(&out);

	/* An entity name holding "](" exported in the short form
	 * "[hemp](cr](x)" read back as another entity. */
	nlu_dataset_init(&a);
	nlu_dataset_init(&b);
	buf_init(&out);
	ann.start = 0;
	ann.end = 4;
	ann.entity = (char *)(uintptr_t)"cr](x";
	ann.value = NULL;
	ann.role = ann.group = NULL;
	CU_ASSERT_FATAL(nlu_dataset_add(&a, "hemp please", "apply", &ann, 1,
	    NULL) == 0);
	nlu_dataset_to_yaml(&a, &out);
	CU_ASSERT_FATAL(nlu_dataset_load_yaml(&b, out.data, out.len, NULL) == 0);
	CU_ASSERT_EQUAL_FATAL(b.n_ex, 1);
	CU_ASSERT_STRING_EQUAL(b.ex[0].text, "hemp please");
	CU_ASSERT_EQUAL_FATAL(b.ex[0].n_ents, 1);
	CU_ASSERT_STRING_EQUAL(b.ex[0].ents[0].entity, "cr](x");
	CU_ASSERT_EQUAL(b.ex[0].ents[0].end, 4);
	nlu_dataset_cleanup(&a);
	nlu_dataset_cleanup(&b);
	buf_cleanup(&out);
}

static void
test_split(void)
{
	struct nlu_dataset ds, kept, held;
	char text[32];
	size_t i;

	nlu_dataset_init(&ds);
	nlu_dataset_init(&kept);
	nlu_dataset_init(&held);
	for (i = 0; i < 40; i++) {
		snprintf(text, sizeof(text), "example %zu", i);
		nlu_dataset_add(&ds, text, i % 2 ? "odd" : "even", NULL, 0,
		    NULL);
	}
	nlu_dataset_split(&ds, 0.25, 7, &kept, &held);
	CU_ASSERT_EQUAL(held.n_ex, 10);
	CU_ASSERT_EQUAL(kept.n_ex, 30);
	for (i = 0, text[0] = 0; i < held.n_ex; i++)
		text[0] += strcmp(held.ex[i].intent, "odd") == 0;
	CU_ASSERT_EQUAL(text[0], 5);   /* stratified */
	nlu_dataset_cleanup(&ds);
	nlu_dataset_cleanup(&kept);
	nlu_dataset_cleanup(&held);
}

void
test_nlu_data_register(void)
{
	static const struct test_case cases[] = {
		{ "rasa yaml: every construct", test_yaml_every_construct },
		{ "rasa yaml: errors", test_yaml_errors },
		{ "rasa json and tsv", test_json_and_tsv },
		{ "yaml export round trip", test_yaml_round_trip },
		{ "stratified split", test_split },
		{ "fuzz findings: non-UTF-8 json, empty export",
		    test_fuzz_findings },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_data", cases);
}
