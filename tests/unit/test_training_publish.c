/* test_training_publish.c - publishing a model version as active.gnlu:
 * the published file is the version's (same inode, no copy), a file that
 * is corrupt, missing or not the recorded one is never published, and a
 * failed rename leaves the serving file alone. */
#include "tests.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "nlu/model.h"
#include "training/versions.h"

#define TENANT "0f0e0d0c-0b0a-4908-8706-050403020100"

static char model_dir[256];
static char checksum[65];

static void
path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s/%s", model_dir, TENANT, name);
}

/* A tiny model saved as version 1 in a fresh model directory. */
static void
setup(void)
{
	static const char *const rows[][2] = {
		{ "hello", "greet" }, { "hi there", "greet" },
		{ "good morning", "greet" }, { "สวัสดีครับ", "greet" },
		{ "bye", "goodbye" }, { "see you", "goodbye" },
		{ "good night", "goodbye" }, { "ลาก่อน", "goodbye" },
	};
	struct nlu_dataset ds;
	struct nlu_train_opts o;
	struct nlu_model *m = NULL;
	struct gacp_err err;
	char path[512], *dir = NULL;
	size_t i;

	snprintf(model_dir, sizeof(model_dir), "/tmp/gacp-unit-publish.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(model_dir));
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(versions_tenant_dir(model_dir, TENANT, &dir, &err),
	    GACP_OK);
	free(dir);
	nlu_dataset_init(&ds);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		nlu_dataset_add(&ds, rows[i][0], rows[i][1], NULL, 0, NULL);
	nlu_train_opts_default(&o);
	o.members = 1;
	o.threads = 1;
	o.mlp.hidden = 16;
	o.mlp.epochs = 5;
	o.mlp.min_steps = 50;
	o.feat.dim_log2 = 10;
	CU_ASSERT_EQUAL_FATAL(nlu_model_train(&ds, NULL, &o, &m, NULL, &err),
	    GACP_OK);
	path_of(path, sizeof(path), "1.gnlu");
	CU_ASSERT_EQUAL_FATAL(nlu_model_save(m, path, &err), GACP_OK);
	util_hex(m->sha256, sizeof(m->sha256), checksum);
	nlu_model_free(m);
	nlu_dataset_cleanup(&ds);
}

static void
teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", model_dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void
test_publish_links_the_version(void)
{
	struct gacp_err err;
	struct stat v, a;
	char vpath[512], apath[512];

	setup();
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/1.gnlu",
	    checksum, &err), GACP_OK);
	path_of(vpath, sizeof(vpath), "1.gnlu");
	path_of(apath, sizeof(apath), "active.gnlu");
	CU_ASSERT_EQUAL_FATAL(stat(vpath, &v), 0);
	CU_ASSERT_EQUAL_FATAL(stat(apath, &a), 0);
	CU_ASSERT_EQUAL(v.st_ino, a.st_ino);
	CU_ASSERT_EQUAL(v.st_nlink, 2);
	/* Again: still one published file, no temporary left behind. */
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/1.gnlu",
	    checksum, &err), GACP_OK);
	CU_ASSERT_EQUAL(stat(vpath, &v), 0);
	CU_ASSERT_EQUAL(v.st_nlink, 2);
	teardown();
}

static void
test_refuses_bad_files(void)
{
	struct gacp_err err;
	struct stat before, after;
	char vpath[512], apath[512], bad[65];
	unsigned char byte;
	int fd;

	setup();
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(versions_publish(model_dir, TENANT,
	    TENANT "/1.gnlu", checksum, &err), GACP_OK);
	path_of(apath, sizeof(apath), "active.gnlu");
	CU_ASSERT_EQUAL_FATAL(stat(apath, &before), 0);

	/* Not the checksum the version recorded. */
	memcpy(bad, checksum, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/1.gnlu",
	    bad, &err), GACP_ECONFLICT);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_file_invalid");

	/* Missing. */
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/7.gnlu",
	    checksum, &err), GACP_ECONFLICT);

	/* Corrupt: a copy of version 1 with one payload byte flipped. */
	path_of(vpath, sizeof(vpath), "1.gnlu");
	{
		char cmd[1200], cpath[512];
		path_of(cpath, sizeof(cpath), "2.gnlu");
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", vpath, cpath);
		CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
		fd = open(cpath, O_RDWR);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(pread(fd, &byte, 1, 200), 1);
		byte ^= 0xff;
		CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, 200), 1);
		close(fd);
	}
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/2.gnlu",
	    checksum, &err), GACP_ECONFLICT);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_model_file_invalid");

	/* None of it touched the published file. */
	CU_ASSERT_EQUAL(stat(apath, &after), 0);
	CU_ASSERT_EQUAL(before.st_ino, after.st_ino);
	teardown();
}

static void
test_failed_rename_keeps_nothing(void)
{
	struct gacp_err err;
	char apath[512], inner[600], tmp[600];

	setup();
	/* A directory in the way of active.gnlu: the rename fails (also for
	 * root, unlike permissions). */
	path_of(apath, sizeof(apath), "active.gnlu");
	CU_ASSERT_EQUAL_FATAL(mkdir(apath, 0755), 0);
	snprintf(inner, sizeof(inner), "%s/keep", apath);
	CU_ASSERT_EQUAL_FATAL(mkdir(inner, 0755), 0);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(versions_publish(model_dir, TENANT, TENANT "/1.gnlu",
	    checksum, &err), GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "nlu_publish_failed");
	snprintf(tmp, sizeof(tmp), "%s/%s/.active.%ld.tmp", model_dir, TENANT,
	    (long)getpid());
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	teardown();
}

void test_training_publish_register(void);

void
test_training_publish_register(void)
{
	static const struct test_case cases[] = {
		{ "publish links the version file", test_publish_links_the_version },
		{ "corrupt, missing, unrecorded files refused",
		    test_refuses_bad_files },
		{ "failed rename leaves no temporary",
		    test_failed_rename_keeps_nothing },
		{ NULL, NULL },
	};

	tests_add_suite("training_publish", cases);
}
