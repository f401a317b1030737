/* test_nlu_entities.c - each entity extractor, values and code-point offsets. */
#include "tests.h"

#include <string.h>

#include "nlu/entities.h"

/* 2026-03-10 12:00 in Bangkok (UTC+7), a Tuesday. */
#define NOW ((time_t)1773118800)
#define BKK (7 * 3600)

static struct nlu_entities *ents;
static struct nlu_ent_scratch scratch;
static struct nlu_entity_list list;

static void
setup(void)
{
	struct nlu_dataset spec;
	struct gacp_err err;

	nlu_dataset_init(&spec);
	nlu_dataset_add_regex(&spec, "application_number", "GACP-\\d{4}-\\d{6}");
	nlu_dataset_add_lookup(&spec, "plant", "กัญชา");
	nlu_dataset_add_lookup(&spec, "plant", "hemp");
	nlu_dataset_add_lookup(&spec, "plant", "black ginger");
	nlu_dataset_add_synonym(&spec, "กัญชา", "cannabis");
	nlu_dataset_add_synonym(&spec, "Black Ginger", "kaempferia");
	gacp_err_clear(&err);
	CU_ASSERT_FATAL(nlu_entities_new(&spec, &ents, &err) == 0);
	nlu_dataset_cleanup(&spec);
	nlu_ent_scratch_init(&scratch);
	nlu_entity_list_init(&list);
}

static void
teardown(void)
{
	nlu_entity_list_cleanup(&list);
	nlu_ent_scratch_cleanup(&scratch);
	nlu_entities_free(ents);
	ents = NULL;
}

static void
run(const char *text)
{
	nlu_entity_list_reset(&list);
	CU_ASSERT_FATAL(nlu_entities_extract(ents, &scratch, text, strlen(text),
	    NOW, BKK, &list, NULL) == 0);
}

/* The only entity named `name`; fails the test when not exactly one. */
static const struct nlu_entity *
only(const char *name)
{
	const struct nlu_entity *hit = NULL;
	size_t i, n = 0;

	for (i = 0; i < list.n; i++) {
		if (strcmp(list.v[i].entity, name) == 0) {
			hit = &list.v[i];
			n++;
		}
	}
	CU_ASSERT_EQUAL_FATAL(n, 1);
	return hit;
}

static void
expect(const char *text, const char *name, const char *value,
    uint32_t start, uint32_t end)
{
	const struct nlu_entity *e;

	run(text);
	e = only(name);
	CU_ASSERT_STRING_EQUAL(e->value, value);
	CU_ASSERT_EQUAL(e->start, start);
	CU_ASSERT_EQUAL(e->end, end);
}

static void
test_regex(void)
{
	const struct nlu_entity *e;

	setup();
	/* "เช็ค " is 5 code points (15 bytes): offsets are code points. */
	run("เช็ค GACP-2026-000123 หน่อย");
	e = only("application_number");
	CU_ASSERT_STRING_EQUAL(e->value, "GACP-2026-000123");
	CU_ASSERT_EQUAL(e->start, 5);
	CU_ASSERT_EQUAL(e->end, 21);
	CU_ASSERT_STRING_EQUAL(e->extractor, NLU_EXTRACTOR_REGEX);
	/* No built-in number inside the regex match. */
	CU_ASSERT_EQUAL(list.n, 1);
	/* Case-insensitive, bounded: no match inside a longer token. */
	expect("status gacp-2025-004512?", "application_number",
	    "gacp-2025-004512", 7, 23);
	run("XGACP-2026-0001234");
	CU_ASSERT_EQUAL(list.n == 0 || strcmp(list.v[0].entity,
	    "application_number") != 0, 1);
	teardown();
}

static void
test_lookup_and_synonym(void)
{
	const struct nlu_entity *e;

	setup();
	/* Thai: no word boundaries needed inside unspaced text. */
	run("ปลูกกัญชาครับ");
	e = only("plant");
	CU_ASSERT_STRING_EQUAL(e->value, "cannabis");
	CU_ASSERT_EQUAL(e->synonym, 1);
	CU_ASSERT_EQUAL(e->start, 4);
	CU_ASSERT_EQUAL(e->end, 9);
	/* English: whole words only, any case, synonyms folded. */
	expect("I grow HEMP", "plant", "HEMP", 7, 11);
	run("hempseed oil");
	CU_ASSERT_EQUAL(list.n, 0);
	expect("some black  ginger please", "plant", "kaempferia", 5, 18);
	teardown();
}

static void
test_numbers(void)
{
	setup();
	run("ขอ ๑๒ ชุด and 1,500.5 baht");
	CU_ASSERT_EQUAL_FATAL(list.n, 2);
	CU_ASSERT_STRING_EQUAL(list.v[0].value, "12");
	CU_ASSERT_EQUAL(list.v[0].start, 3);
	CU_ASSERT_EQUAL(list.v[0].end, 5);
	CU_ASSERT_EQUAL(list.v[0].numeric, 1);
	CU_ASSERT_STRING_EQUAL(list.v[1].value, "1500.5");
	CU_ASSERT_EQUAL(list.v[1].start, 14);
	CU_ASSERT_EQUAL(list.v[1].end, 21);
	CU_ASSERT_STRING_EQUAL(list.v[1].extractor, NLU_EXTRACTOR_BUILTIN);
	teardown();
}

static void
test_email_phone_url(void)
{
	setup();
	expect("mail me at somchai@farm.co.th now", "email",
	    "somchai@farm.co.th", 11, 29);
	expect("โทร 081-234-5678 ครับ", "phone", "0812345678", 4, 16);
	expect("call +66 81 234 5678", "phone", "+66812345678", 5, 20);
	expect("see https://gacp.example.org/apply.", "url",
	    "https://gacp.example.org/apply", 4, 34);
	run("see https://gacp.example.org/apply.");
	CU_ASSERT_EQUAL(list.n, 1);   /* no number or email inside */
	teardown();
}

static void
test_dates(void)
{
	setup();
	expect("book it for tomorrow", "date", "2026-03-11", 12, 20);
	expect("นัดตรวจพรุ่งนี้ครับ", "date", "2026-03-11", 7, 15);
	expect("มะรืนนี้ได้ไหม", "date", "2026-03-12", 0, 8);
	expect("the day after tomorrow", "date", "2026-03-12", 0, 22);
	expect("today please", "date", "2026-03-10", 0, 5);
	expect("next monday", "date", "2026-03-16", 0, 11);
	expect("on friday", "date", "2026-03-13", 0, 9);
	expect("next friday", "date", "2026-03-20", 0, 11);
	expect("วันศุกร์หน้า", "date", "2026-03-20", 0, 12);
	expect("วันจันทร์", "date", "2026-03-16", 0, 9);
	expect("ขอนัดวันที่ 15 มีนาคม 2569", "date", "2026-03-15", 5, 26);
	expect("3 มิ.ย. 69", "date", "2026-06-03", 0, 10);
	expect("audit on 20/05/2026", "date", "2026-05-20", 9, 19);
	expect("on 2026-04-02?", "date", "2026-04-02", 3, 13);
	expect("March 15th please", "date", "2026-03-15", 0, 10);
	expect("15 March 2026", "date", "2026-03-15", 0, 13);
	/* A past day-month without a year means next year. */
	expect("2 January", "date", "2027-01-02", 0, 9);
	expect("in 3 days", "date", "2026-03-13", 0, 9);
	expect("อีก 2 สัปดาห์", "date", "2026-03-24", 0, 13);
	/* Not a date: 31 April. */
	run("31/04/2026");
	CU_ASSERT_EQUAL(list.n == 0 || strcmp(list.v[0].entity, "date") != 0,
	    1);
	teardown();
}

static void
test_invalid_text(void)
{
	setup();
	CU_ASSERT_EQUAL(nlu_entities_extract(ents, &scratch, "\xff", 1, NOW,
	    BKK, &list, NULL), GACP_EINVAL);
	run("");
	CU_ASSERT_EQUAL(list.n, 0);
	teardown();
}

void
test_nlu_entities_register(void)
{
	static const struct test_case cases[] = {
		{ "regex", test_regex },
		{ "lookup and synonym", test_lookup_and_synonym },
		{ "numbers incl. thai digits", test_numbers },
		{ "email, phone, url", test_email_phone_url },
		{ "dates thai and english", test_dates },
		{ "invalid text", test_invalid_text },
		{ NULL, NULL },
	};

	tests_add_suite("nlu_entities", cases);
}
