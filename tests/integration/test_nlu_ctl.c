/* test_nlu_ctl.c - gacpctl nlu import|export|train|eval|status against the
 * running stack: the in-tree binary with the stack's configuration
 * (GACP_CONFIG from var/demo.env), in a tenant of its own.  The tests
 * share the tenant and run in order. */
#include "itest.h"
#include "tenancy_util.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char yaml_data[] =
    "version: \"3.1\"\n"
    "nlu:\n"
    "- intent: greet\n"
    "  examples: |\n"
    "    - hello\n"
    "    - hi there\n"
    "    - good morning\n"
    "    - hey, how are you\n"
    "    - สวัสดีครับ\n"
    "    - สวัสดีค่ะ\n"
    "- intent: goodbye\n"
    "  examples: |\n"
    "    - bye\n"
    "    - goodbye\n"
    "    - see you later\n"
    "    - have a nice day\n"
    "    - ลาก่อนนะ\n"
    "    - บายจ้า\n"
    "- intent: order_food\n"
    "  examples: |\n"
    "    - I want a [pizza](food)\n"
    "    - can I get [two](number) [burgers](food:burger)\n"
    "    - order some [pizza](food) for me\n"
    "    - ขอ[ข้าวผัด](food)หน่อย\n"
    "    - I would like to order food\n"
    "    - bring me a [sandwich](food)\n"
    "- synonym: burger\n"
    "  examples: |\n"
    "    - burgers\n"
    "- lookup: food\n"
    "  examples: |\n"
    "    - pizza\n"
    "    - burger\n";

/* Rasa JSON with one new example, for --mode merge. */
static const char json_more[] =
    "{\"rasa_nlu_data\":{\"common_examples\":["
    "{\"text\":\"good evening\",\"intent\":\"greet\",\"entities\":[]}]}}";

/* An example without an intent: the whole import is refused. */
static const char yaml_bad[] =
    "version: \"3.1\"\n"
    "nlu:\n"
    "- intent: \"\"\n"
    "  examples: |\n"
    "    - orphan text\n";

static struct {
	int  ready;
	char slug[40];
	char dir[64];
} ct = { -1, "", "" };

/* gacpctl ARGS, stderr to the file "<dir>/stderr". */
static int
ctl(const char *args, char **out)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s/src/tools/gacpctl %s 2>%s/stderr",
	    itest_env("GACP_ROOT", "."), args, ct.dir);
	return tu_run(cmd, out);
}

static char *
last_stderr(void)
{
	char path[256], *buf = calloc(1, 8192);
	FILE *f;

	snprintf(path, sizeof(path), "%s/stderr", ct.dir);
	if ((f = fopen(path, "r")) != NULL) {
		size_t n = fread(buf, 1, 8191, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static bool
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", ct.dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

static int64_t
jint(struct json_object *o, const char *path)
{
	struct json_object *v = tu_jget(o, path);
	return v && !json_object_is_type(v, json_type_null) ?
	    json_object_get_int64(v) : -1;
}

static bool
setup(void)
{
	char args[512], *out = NULL;
	unsigned int salt = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	int rc;

	if (ct.ready >= 0)
		return ct.ready == 1;
	ct.ready = 0;
	snprintf(ct.dir, sizeof(ct.dir), "/tmp/gacp-nlu-ctl-XXXXXX");
	if (mkdtemp(ct.dir) == NULL)
		return false;
	snprintf(ct.slug, sizeof(ct.slug), "nluctl-%08x", salt);
	snprintf(args, sizeof(args), "--json tenant create --slug %s --name "
	    "'gacpctl nlu'", ct.slug);
	rc = ctl(args, &out);
	free(out);
	ct.ready = rc == 0 && write_file("a.yml", yaml_data) &&
	    write_file("more.json", json_more) && write_file("bad.yml", yaml_bad);
	return ct.ready == 1;
}

/* The status object of the test tenant, or NULL. */
static struct json_object *
status(void)
{
	char args[512], *out = NULL;
	struct json_object *o, *item = NULL;

	snprintf(args, sizeof(args), "--json nlu status --tenant %s", ct.slug);
	if (ctl(args, &out) == 0 && (o = json_tokener_parse(out)) != NULL) {
		struct json_object *items = tu_jget(o, "items");
		if (items && json_object_array_length(items) == 1)
			item = json_object_get(json_object_array_get_idx(items, 0));
		json_object_put(o);
	}
	free(out);
	return item;
}

static void
test_help_and_usage(void)
{
	static const char *verbs[] = { "import", "export", "train", "eval",
	    "status", NULL };
	char args[512], *out;
	int i;

	for (i = 0; verbs[i]; i++) {
		snprintf(args, sizeof(args), "nlu %s --help", verbs[i]);
		CU_ASSERT_EQUAL(ctl(args, &out), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: gacpctl nlu"));
		free(out);
	}
	CU_ASSERT_EQUAL(ctl("--help", &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "nlu status"));
	free(out);
	CU_ASSERT_EQUAL_FATAL(setup(), true);
	/* No FILE, no --tenant, an unknown tenant, an unknown format. */
	snprintf(args, sizeof(args), "nlu import --tenant %s", ct.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 2);
	free(out);
	snprintf(args, sizeof(args), "nlu export");
	CU_ASSERT_EQUAL(ctl(args, &out), 2);
	free(out);
	CU_ASSERT_EQUAL(ctl("nlu export --tenant no-such-tenant-x", &out), 4);
	free(out);
	CU_ASSERT_EQUAL(ctl("nlu status --tenant no-such-tenant-x", &out), 4);
	free(out);
	CU_ASSERT_EQUAL(ctl("nlu train", &out), 2);
	free(out);
	snprintf(args, sizeof(args), "nlu import --tenant %s --format xml %s/a.yml",
	    ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 2);
	free(out);
	snprintf(args, sizeof(args), "nlu import --tenant %s %s/missing.yml",
	    ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 1);
	free(out);
}

static void
test_import_export(void)
{
	char args[512], *out, *err, *exported;
	struct json_object *o, *st;

	CU_ASSERT_EQUAL_FATAL(setup(), true);
	/* Before any import: no model, nothing to train. */
	st = status();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(jint(st, "active_version"), -1);
	CU_ASSERT_EQUAL(jint(st, "examples"), 0);
	json_object_put(st);

	snprintf(args, sizeof(args), "--json nlu import --tenant %s %s/a.yml",
	    ct.slug, ct.dir);
	CU_ASSERT_EQUAL_FATAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(tu_jstr(o, "mode"), "replace");
	CU_ASSERT_EQUAL(jint(o, "examples.in_file"), 18);
	CU_ASSERT_EQUAL(jint(o, "examples.inserted"), 18);
	CU_ASSERT_EQUAL(jint(o, "entities.inserted"), 2);
	json_object_put(o);
	free(out);

	/* A refused file: exit 2, details on stderr, nothing written. */
	snprintf(args, sizeof(args), "nlu import --tenant %s %s/bad.yml",
	    ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 2);
	free(out);
	err = last_stderr();
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gacpctl: "));
	free(err);
	st = status();
	CU_ASSERT_EQUAL(jint(st, "examples"), 18);
	CU_ASSERT_EQUAL(jint(st, "examples_changed_since"), 18);
	json_object_put(st);

	/* Export: Rasa YAML with every intent; importing it again changes
	 * nothing (the round trip of the API's export). */
	snprintf(args, sizeof(args), "nlu export --tenant %s", ct.slug);
	CU_ASSERT_EQUAL_FATAL(ctl(args, &exported), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(exported, "version: \"3.1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(exported, "- intent: \"order_food\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(exported, "[pizza](food)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(exported, "- lookup: \"food\""));
	CU_ASSERT_EQUAL(write_file("exported.yml", exported), true);
	snprintf(args, sizeof(args), "--json nlu import --tenant %s "
	    "%s/exported.yml", ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_EQUAL(jint(o, "examples.unchanged"), 18);
	CU_ASSERT_EQUAL(jint(o, "examples.inserted"), 0);
	CU_ASSERT_EQUAL(jint(o, "examples.deleted"), 0);
	json_object_put(o);
	free(out);
	/* --json export wraps the same YAML. */
	snprintf(args, sizeof(args), "--json nlu export --tenant %s", ct.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_STRING_EQUAL(tu_jstr(o, "format"), "rasa_yaml");
	CU_ASSERT(tu_jstr(o, "data") && strcmp(tu_jstr(o, "data"), exported) == 0);
	json_object_put(o);
	free(out);
	free(exported);
}

static void
test_train_status_eval(void)
{
	char args[512], *out;
	struct json_object *o, *st;

	CU_ASSERT_EQUAL_FATAL(setup(), true);
	/* No model yet: eval has nothing to score. */
	snprintf(args, sizeof(args), "nlu eval --tenant %s", ct.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 4);
	free(out);

	snprintf(args, sizeof(args), "--json nlu train --tenant %s", ct.slug);
	CU_ASSERT_EQUAL_FATAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(tu_jstr(o, "outcome"), "activated");
	CU_ASSERT_EQUAL(jint(o, "version"), 1);
	CU_ASSERT_EQUAL(jint(o, "intents"), 3);
	CU_ASSERT_PTR_NOT_NULL(tu_jget(o, "metrics.accuracy"));
	json_object_put(o);
	free(out);

	st = status();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(jint(st, "active_version"), 1);
	CU_ASSERT_PTR_NOT_NULL(tu_jstr(st, "trained_at"));
	CU_ASSERT_PTR_NOT_NULL(tu_jget(st, "metrics.accuracy"));
	CU_ASSERT_EQUAL(jint(st, "examples_changed_since"), 0);
	CU_ASSERT_EQUAL(jint(st, "entities_changed_since"), 0);
	json_object_put(st);

	/* One example merged in (Rasa JSON): one changed since. */
	snprintf(args, sizeof(args), "--json nlu import --tenant %s --mode merge "
	    "%s/more.json", ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_STRING_EQUAL(tu_jstr(o, "mode"), "merge");
	CU_ASSERT_EQUAL(jint(o, "examples.inserted"), 1);
	CU_ASSERT_EQUAL(jint(o, "examples.deleted"), 0);
	json_object_put(o);
	free(out);
	st = status();
	CU_ASSERT_EQUAL(jint(st, "examples"), 19);
	CU_ASSERT_EQUAL(jint(st, "examples_changed_since"), 1);
	json_object_put(st);

	/* eval on the training data, then on a file. */
	snprintf(args, sizeof(args), "--json nlu eval --tenant %s", ct.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_EQUAL(jint(o, "version"), 1);
	CU_ASSERT_STRING_EQUAL(tu_jstr(o, "data"), "training_data");
	CU_ASSERT_EQUAL(jint(o, "metrics.examples"), 19);
	CU_ASSERT_PTR_NOT_NULL(tu_jget(o, "metrics.accuracy"));
	json_object_put(o);
	free(out);
	snprintf(args, sizeof(args), "--json nlu eval --tenant %s --data "
	    "%s/a.yml", ct.slug, ct.dir);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	o = json_tokener_parse(out);
	CU_ASSERT_EQUAL(jint(o, "metrics.examples"), 18);
	json_object_put(o);
	free(out);
	snprintf(args, sizeof(args), "nlu eval --tenant %s --data %s/missing.yml",
	    ct.slug, ct.dir);
	CU_ASSERT_NOT_EQUAL(ctl(args, &out), 0);
	free(out);

	/* Human text of status lists the tenant with its version. */
	snprintf(args, sizeof(args), "nlu status --tenant %s", ct.slug);
	CU_ASSERT_EQUAL(ctl(args, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "version 1 trained"));
	free(out);
	/* The files of this suite. */
	snprintf(args, sizeof(args), "rm -rf '%s'", ct.dir);
	CU_ASSERT_EQUAL(system(args), 0);
}

void itest_nlu_ctl_register(void);

void
itest_nlu_ctl_register(void)
{
	static const struct test_case cases[] = {
		{ "gacpctl nlu --help, usage and lookup errors", test_help_and_usage },
		{ "gacpctl nlu import (YAML, refused file), export round trip",
		    test_import_export },
		{ "gacpctl nlu train, status, merge, eval", test_train_status_eval },
		{ NULL, NULL }
	};
	tests_add_suite("nlu_ctl", cases);
}
