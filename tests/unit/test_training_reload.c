/* test_training_reload.c - the settings gacp-nlu reload and gacpctl nlu
 * train share (reload_opts_configure): numbers are checked, nlu.wordnet
 * picks the WordNet database tenant models are trained with, and
 * nlu.embeddings their word vectors. */
#include "tests.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "nlu/wordnet.h"
#include "training/reload.h"

/* cfg from text, then reload_opts_configure into o; cfg stays loaded (the
 * options point into it) until the caller's config_cleanup. */
static int
configure(struct config *cfg, const char *text, struct reload_opts *o,
    struct gacp_err *err)
{
	config_init(cfg);
	gacp_err_clear(err);
	CU_ASSERT_EQUAL_FATAL(config_parse(cfg, text, strlen(text), err),
	    GACP_OK);
	reload_opts_default(o);
	return reload_opts_configure(o, cfg, err);
}

static void
test_settings_read(void)
{
	struct reload_opts o;
	struct gacp_err err;
	struct config cfg;

	CU_ASSERT_EQUAL(configure(&cfg, "[nlu]\nholdout = 0.3\nmax_regression = 0.05\n"
	    "refit = false\nkeep_versions = 3\nwordnet = none\n", &o, &err),
	    GACP_OK);
	CU_ASSERT_DOUBLE_EQUAL(o.holdout, 0.3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(o.max_regression, 0.05, 1e-9);
	CU_ASSERT_EQUAL(o.refit, 0);
	CU_ASSERT_EQUAL(o.keep_versions, 3);
	CU_ASSERT_PTR_NULL(o.train.wordnet_dir);
	config_cleanup(&cfg);
}

static void
test_defaults(void)
{
	struct reload_opts o;
	struct gacp_err err;
	struct config cfg;

	CU_ASSERT_EQUAL(configure(&cfg, "", &o, &err), GACP_OK);
	CU_ASSERT_DOUBLE_EQUAL(o.holdout, 0.2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(o.max_regression, 0.02, 1e-9);
	CU_ASSERT_EQUAL(o.refit, 1);
	CU_ASSERT_EQUAL(o.keep_versions, 10);
	CU_ASSERT_PTR_NULL(o.train.embeddings);
	/* auto: the installed database, or none without one. */
	if (nlu_wn_default_dir() != NULL) {
		CU_ASSERT_STRING_EQUAL(o.train.wordnet_dir, NLU_WN_DEFAULT_DIR);
	} else {
		CU_ASSERT_PTR_NULL(o.train.wordnet_dir);
	}
	config_cleanup(&cfg);
}

static void
test_wordnet_directory(void)
{
	struct reload_opts o;
	struct gacp_err err;
	struct config cfg;
	char *dir = fixture_wordnet_dir(), text[1200];

	snprintf(text, sizeof(text), "[nlu]\nwordnet = %s\n", dir);
	CU_ASSERT_EQUAL(configure(&cfg, text, &o, &err), GACP_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o.train.wordnet_dir);
	CU_ASSERT_STRING_EQUAL(o.train.wordnet_dir, dir);
	config_cleanup(&cfg);

	snprintf(text, sizeof(text), "[nlu]\nwordnet = %s/no-such-dir\n", dir);
	CU_ASSERT_EQUAL(configure(&cfg, text, &o, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "config");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nlu.wordnet"));
	config_cleanup(&cfg);
	free(dir);
}

static void
test_embeddings_file(void)
{
	struct reload_opts o;
	struct gacp_err err;
	struct config cfg;
	char path[128], text[300];

	snprintf(path, sizeof(path), "/tmp/gacp-reload-test-%ld.vec",
	    (long)getpid());
	fixture_write_file(path, "word 1 2 3 4\n", 13);
	snprintf(text, sizeof(text), "[nlu]\nembeddings = %s\n", path);
	CU_ASSERT_EQUAL(configure(&cfg, text, &o, &err), GACP_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o.train.embeddings);
	CU_ASSERT_STRING_EQUAL(o.train.embeddings, path);
	config_cleanup(&cfg);
	CU_ASSERT_EQUAL(configure(&cfg, "[nlu]\nembeddings = none\n", &o,
	    &err), GACP_OK);
	CU_ASSERT_PTR_NULL(o.train.embeddings);
	config_cleanup(&cfg);
	unlink(path);
	CU_ASSERT_EQUAL(configure(&cfg, text, &o, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "config");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nlu.embeddings"));
	config_cleanup(&cfg);
}

static void
test_bad_numbers_refused(void)
{
	struct reload_opts o;
	struct gacp_err err;
	struct config cfg;

	CU_ASSERT_EQUAL(configure(&cfg, "[nlu]\nholdout = a fifth\n", &o,
	    &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "config");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nlu.holdout"));
	config_cleanup(&cfg);
	CU_ASSERT_EQUAL(configure(&cfg, "[nlu]\nmax_regression = 0.02x\n", &o,
	    &err), GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nlu.max_regression"));
	config_cleanup(&cfg);
}

void test_training_reload_register(void);

void
test_training_reload_register(void)
{
	static const struct test_case cases[] = {
		{ "settings are read", test_settings_read },
		{ "defaults, WordNet auto", test_defaults },
		{ "nlu.wordnet directory checked", test_wordnet_directory },
		{ "nlu.embeddings file checked", test_embeddings_file },
		{ "settings that are not numbers refused", test_bad_numbers_refused },
		{ NULL, NULL },
	};

	tests_add_suite("training_reload", cases);
}
