/* test_security_keyring.c - unit tests of keyrings and their key files (security/keyring.c). */
#include "tests.h"
#include "security/crypto.h"
#include "security/keyring.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* base64 of 32 bytes 0x00..0x1f, and of 16 bytes. */
#define KEY32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY16 "AAECAwQFBgcICQoLDA0ODw=="

static char tmpdir[64];

/* Each file test works in its own fresh directory, removed afterwards. */
static void
tmp_enter(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gacp-keyring-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void
tmp_leave(void)
{
	CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
}

static int
parse(const char *text, struct keyring **kr, struct gacp_err *err)
{
	return keyring_parse(text, strlen(text), 32, 64, kr, err);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(chmod(path, mode), 0);
}

static void
test_parse_valid(void)
{
	struct keyring *kr = NULL;
	const struct keyring_key *k;
	struct gacp_err err;
	unsigned char expect[32];
	size_t i;

	for (i = 0; i < sizeof(expect); i++)
		expect[i] = (unsigned char)i;
	CU_ASSERT_EQUAL_FATAL(parse(
	    "# master keys\n"
	    "\n"
	    "old-1 " KEY32 " created=1700000000\n"
	    "   # indented comment\n"
	    "new_2\t" KEY32 "\tcurrent created=1710000000\r\n"
	    "\n", &kr, &err), 0);
	CU_ASSERT_EQUAL(kr->nkeys, 2);
	k = keyring_current(kr);
	CU_ASSERT_STRING_EQUAL(k->kid, "new_2");
	CU_ASSERT_EQUAL(k->created_s, 1710000000);
	CU_ASSERT(k->len == 32 && memcmp(k->bytes, expect, 32) == 0);
	k = keyring_find(kr, "old-1", 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->created_s, 1700000000);
	CU_ASSERT_PTR_NULL(keyring_find(kr, "old", 3));
	CU_ASSERT_PTR_NULL(keyring_find(kr, "old-12", 6));
	/* kid need not be NUL-terminated. */
	CU_ASSERT_PTR_NOT_NULL(keyring_find(kr, "old-1.rest", 5));
	keyring_free(kr);

	/* One key needs no marker; no final newline is fine. */
	CU_ASSERT_EQUAL_FATAL(parse("only " KEY32, &kr, &err), 0);
	CU_ASSERT_STRING_EQUAL(keyring_current(kr)->kid, "only");
	CU_ASSERT_EQUAL(keyring_current(kr)->created_s, 0);
	keyring_free(kr);
}

static void
test_parse_rejects(void)
{
	static const char *bad[] = {
		"",                                         /* no key */
		"# only a comment\n",
		"a " KEY32 "\nb " KEY32 "\n",               /* two keys, none current */
		"a " KEY32 " current\nb " KEY32 " current\n",
		"a " KEY32 "\na " KEY32 " current\n",       /* duplicate kid */
		"a.b " KEY32 "\n",                          /* '.' in kid */
		"abcdefghijklmnopqrstuvwxyz0123456 " KEY32 "\n",  /* 33 chars */
		"a " KEY16 "\n",                            /* too short */
		"a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", /* no padding */
		"a AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=!\n",
		"a " KEY32 " primary\n",                    /* unknown attribute */
		"a " KEY32 " current current\n",
		"a " KEY32 " created=abc\n",
		"a " KEY32 " created=1 created=2\n",
		"a " KEY32 " current created=1 x\n",       /* too many fields */
		"a\n",                                      /* no key */
	};
	struct keyring *kr = (struct keyring *)1;
	struct gacp_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse(bad[i], &kr, &err), GACP_EINVAL);
		CU_ASSERT_PTR_NULL(kr);
		CU_ASSERT_STRING_EQUAL(err.code, "invalid_keyring");
		/* Key material never reaches an error message. */
		CU_ASSERT_PTR_NULL(strstr(err.msg, "AAECAwQF"));
	}
	/* Line numbers help the operator. */
	CU_ASSERT_EQUAL(parse("# c\nok " KEY32 " current\nbad.kid " KEY32 "\n", &kr, &err), GACP_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 3"));
	/* NUL bytes and over-long lines. */
	CU_ASSERT_EQUAL(keyring_parse("a " KEY32 "\0x", strlen("a " KEY32) + 2, 32, 32, &kr, &err), GACP_EINVAL);
	{
		char line[1100];

		memset(line, ' ', sizeof(line));
		memcpy(line, "a " KEY32, strlen("a " KEY32));
		line[sizeof(line) - 1] = '\0';
		CU_ASSERT_EQUAL(parse(line, &kr, &err), GACP_EINVAL);
	}
}

static void
test_add_and_bounds(void)
{
	struct keyring *kr = keyring_new(32, 32);
	unsigned char key[33] = { 0 };
	struct gacp_err err;
	char kid[16];
	int i;

	CU_ASSERT_PTR_NULL(keyring_current(kr));
	CU_ASSERT_EQUAL(keyring_add(kr, "a", key, 31, false, 0, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_key_length");
	CU_ASSERT_EQUAL(keyring_add(kr, "a", key, 33, false, 0, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(keyring_add(kr, "", key, 32, false, 0, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_kid");
	CU_ASSERT_EQUAL(keyring_add(kr, NULL, key, 32, false, 0, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(keyring_add(kr, "a b", key, 32, false, 0, &err), GACP_EINVAL);
	/* The first key becomes current even when not asked. */
	CU_ASSERT_EQUAL(keyring_add(kr, "a", key, 32, false, 0, &err), 0);
	CU_ASSERT_STRING_EQUAL(keyring_current(kr)->kid, "a");
	CU_ASSERT_EQUAL(keyring_add(kr, "b", key, 32, false, 0, &err), 0);
	CU_ASSERT_STRING_EQUAL(keyring_current(kr)->kid, "a");
	CU_ASSERT_EQUAL(keyring_add(kr, "c", key, 32, true, 0, &err), 0);
	CU_ASSERT_STRING_EQUAL(keyring_current(kr)->kid, "c");
	CU_ASSERT_EQUAL(keyring_add(kr, "c", key, 32, true, 0, &err), GACP_ECONFLICT);
	for (i = 3; i < KEYRING_MAX_KEYS; i++) {
		snprintf(kid, sizeof(kid), "k%d", i);
		CU_ASSERT_EQUAL(keyring_add(kr, kid, key, 32, false, 0, &err), 0);
	}
	CU_ASSERT_EQUAL(keyring_add(kr, "full", key, 32, false, 0, &err), GACP_ELIMIT);
	keyring_free(kr);
	keyring_free(NULL);

	CU_ASSERT_TRUE(keyring_kid_valid("Az09_-", 6));
	CU_ASSERT_FALSE(keyring_kid_valid("a/b", 3));
	CU_ASSERT_FALSE(keyring_kid_valid("a", 0));
}

static void
test_load_permissions(void)
{
	struct keyring *kr = NULL;
	struct gacp_err err;
	char path[128];

	tmp_enter();
	snprintf(path, sizeof(path), "%s/perm.key", tmpdir);
	write_file(path, "a " KEY32 "\n", 0600);
	CU_ASSERT_EQUAL(keyring_load(path, 32, 32, &kr, &err), 0);
	keyring_free(kr);
	/* Group access is a deployment choice (root:gacp 0640). */
	write_file(path, "a " KEY32 "\n", 0640);
	CU_ASSERT_EQUAL(keyring_load(path, 32, 32, &kr, &err), 0);
	keyring_free(kr);
	/* Anyone else: refused like ssh refuses a readable private key. */
	write_file(path, "a " KEY32 "\n", 0644);
	CU_ASSERT_EQUAL(keyring_load(path, 32, 32, &kr, &err), GACP_EFORBIDDEN);
	CU_ASSERT_STRING_EQUAL(err.code, "keyring_permissions");
	CU_ASSERT_PTR_NULL(kr);
	write_file(path, "a " KEY32 "\n", 0602);
	CU_ASSERT_EQUAL(keyring_load(path, 32, 32, &kr, &err), GACP_EFORBIDDEN);
	unlink(path);
	CU_ASSERT_EQUAL(keyring_load(path, 32, 32, &kr, &err), GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "keyring_unreadable");
	CU_ASSERT_EQUAL(keyring_load(tmpdir, 32, 32, &kr, &err) < 0, 1);
	CU_ASSERT_PTR_NULL(kr);
	tmp_leave();
}

static void
test_file_create(void)
{
	struct keyring *kr = NULL;
	const struct keyring_key *k;
	struct gacp_err err;
	struct stat st;
	char path[128];

	tmp_enter();
	snprintf(path, sizeof(path), "%s/jwt.key", tmpdir);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(keyring_file_create(path, NULL, 48, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 64, &kr, &err), 0);
	k = keyring_current(kr);
	CU_ASSERT_EQUAL(k->len, 48);
	/* kYYYYMMDD-xxxxxxxx */
	CU_ASSERT_EQUAL(strlen(k->kid), 18);
	CU_ASSERT_EQUAL(k->kid[0], 'k');
	CU_ASSERT_EQUAL(k->kid[9], '-');
	CU_ASSERT(k->created_s > 1700000000);
	keyring_free(kr);
	CU_ASSERT_EQUAL(keyring_file_create(path, "x", 32, &err), GACP_ECONFLICT);
	CU_ASSERT_STRING_EQUAL(err.code, "keyring_exists");
	unlink(path);
	CU_ASSERT_EQUAL(keyring_file_create(path, "bad.kid", 32, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(keyring_file_create(path, "x", 16, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(keyring_file_create(path, "mine", 32, &err), 0);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 32, &kr, &err), 0);
	CU_ASSERT_STRING_EQUAL(keyring_current(kr)->kid, "mine");
	keyring_free(kr);
	unlink(path);
	tmp_leave();
}

static void
test_file_rotate(void)
{
	struct keyring *before = NULL, *after = NULL;
	const struct keyring_key *old, *k;
	char kid[KEYRING_KID_MAX + 1];
	struct gacp_err err;
	struct stat st;
	char path[128];

	tmp_enter();
	snprintf(path, sizeof(path), "%s/rotate.key", tmpdir);
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(keyring_file_create(path, "first", 32, &err), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0640), 0);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 32, &before, &err), 0);

	CU_ASSERT_EQUAL_FATAL(keyring_file_rotate(path, NULL, 32, kid, &err), 0);
	CU_ASSERT_EQUAL(strlen(kid), 18);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 32, &after, &err), 0);
	CU_ASSERT_EQUAL(after->nkeys, 2);
	CU_ASSERT_STRING_EQUAL(keyring_current(after)->kid, kid);
	/* The old key is kept, byte for byte, for reading. */
	old = keyring_current(before);
	k = keyring_find(after, "first", 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT(k->len == old->len && memcmp(k->bytes, old->bytes, k->len) == 0);
	CU_ASSERT(k->created_s == old->created_s);
	keyring_free(after);

	/* A clashing kid changes nothing. */
	CU_ASSERT_EQUAL(keyring_file_rotate(path, "first", 32, kid, &err), GACP_ECONFLICT);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 32, &after, &err), 0);
	CU_ASSERT_EQUAL(after->nkeys, 2);
	keyring_free(after);
	CU_ASSERT_EQUAL(keyring_file_rotate(path, "third", 32, NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(keyring_load(path, 32, 32, &after, &err), 0);
	CU_ASSERT_EQUAL(after->nkeys, 3);
	CU_ASSERT_STRING_EQUAL(keyring_current(after)->kid, "third");
	keyring_free(after);
	keyring_free(before);
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	CU_ASSERT_EQUAL(keyring_file_rotate(path, NULL, 32, NULL, &err), GACP_EIO);
	tmp_leave();
}

static const struct test_case cases[] = {
	{ "parse valid files", test_parse_valid },
	{ "parse rejects", test_parse_rejects },
	{ "add and bounds", test_add_and_bounds },
	{ "load refuses loose permissions", test_load_permissions },
	{ "file create", test_file_create },
	{ "file rotate", test_file_rotate },
	{ NULL, NULL }
};

void
test_security_keyring_register(void)
{
	tests_add_suite("security_keyring", cases);
}
