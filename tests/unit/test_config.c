/* test_config.c - unit tests of INI parsing, env overrides and secret files (common/config.c). */
#include "tests.h"
#include "common/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sections used here ("ut…") are not real ones, so a GACP_* variable of
 * the environment running the tests cannot change the results. */

static int
parse(struct config *cfg, const char *text, struct gacp_err *err)
{
	config_init(cfg);
	gacp_err_clear(err);
	return config_parse(cfg, text, strlen(text), err);
}

static void
test_sections_and_keys(void)
{
	struct config cfg;
	struct gacp_err err;
	const char *text =
	    "# leading comment\n"
	    "[utserver]\n"
	    "port = 8080\n"
	    "  host=127.0.0.1  \n"
	    "; another comment\n"
	    "\n"
	    "[utlog]\n"
	    "level\t=\tdebug\n"
	    "path = /var/log/x=y.log\n"
	    "empty =\n"
	    "dash-key = 1\n";

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, text, &err), GACP_OK);
	CU_ASSERT_EQUAL(cfg.n, 6);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utserver.port", NULL), "8080");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utserver.host", NULL),
	    "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utlog.level", NULL), "debug");
	/* Only the first '=' separates key and value. */
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utlog.path", NULL),
	    "/var/log/x=y.log");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utlog.empty", "def"), "");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utlog.dash-key", NULL), "1");
	/* Keys belong to their section only. */
	CU_ASSERT_PTR_NULL(config_get(&cfg, "utlog.port", NULL));
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utserver.missing", "dflt"),
	    "dflt");
	config_cleanup(&cfg);
	CU_ASSERT_EQUAL(cfg.n, 0);
	config_cleanup(NULL);
}

static void
test_crlf_and_no_final_newline(void)
{
	struct config cfg;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, "[uta]\r\nk = v\r\n[utb]\r\nk2=w",
	    &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "uta.k", NULL), "v");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utb.k2", NULL), "w");
	config_cleanup(&cfg);
}

static void
test_duplicate_key_last_wins(void)
{
	struct config cfg;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, "[uts]\nk=1\nk=2\n[uts]\nk=3\n", &err),
	    GACP_OK);
	CU_ASSERT_EQUAL(cfg.n, 1);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "uts.k", NULL), "3");
	config_cleanup(&cfg);
}

static void
test_empty_text(void)
{
	struct config cfg;
	struct gacp_err err;

	CU_ASSERT_EQUAL(parse(&cfg, "", &err), GACP_OK);
	CU_ASSERT_EQUAL(cfg.n, 0);
	config_cleanup(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "\n\n# only comments\n   \n", &err), GACP_OK);
	CU_ASSERT_EQUAL(cfg.n, 0);
	config_cleanup(&cfg);
}

/* text must fail with code config_invalid and a message starting with
 * "line <lineno>:". */
static void
check_error_line(const char *text, int lineno)
{
	struct config cfg;
	struct gacp_err err;
	char want[32];

	snprintf(want, sizeof(want), "line %d:", lineno);
	CU_ASSERT_EQUAL(parse(&cfg, text, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(err.result, GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "config_invalid");
	CU_ASSERT_EQUAL(strncmp(err.msg, want, strlen(want)), 0);
	config_cleanup(&cfg);
}

static void
test_errors_with_line_numbers(void)
{
	check_error_line("key = value\n", 1);                /* no section */
	check_error_line("\n# c\n\n[uts]\nnot a pair\n", 5);  /* blank lines count */
	check_error_line("[uts\nk=v\n", 1);                  /* unclosed */
	check_error_line("[uts] trailing\n", 1);
	check_error_line("[]\n", 1);
	check_error_line("[bad name]\n", 1);
	check_error_line("[uts]\nk=v\n[a.b]\n", 3);
	check_error_line("[uts]\n= value\n", 2);             /* empty key */
	check_error_line("[uts]\nbad key = v\n", 2);
	check_error_line("[uts]\nk\xc3\xa9=v\n", 2);          /* non-ASCII key */
	check_error_line("[uts]\r\nk=v\r\nnoeq\r\n", 3);
}

static void
test_overlong_names_refused(void)
{
	struct config cfg;
	struct gacp_err err;
	char text[400];

	/* Section names must fit the 64-byte buffer with their NUL. */
	snprintf(text, sizeof(text), "[%064d]\n", 0);
	CU_ASSERT_EQUAL(parse(&cfg, text, &err), GACP_EINVAL);
	config_cleanup(&cfg);
	snprintf(text, sizeof(text), "[%063d]\nk=v\n", 0);
	CU_ASSERT_EQUAL(parse(&cfg, text, &err), GACP_OK);
	config_cleanup(&cfg);
	/* section + '.' + key must fit 192 bytes. */
	snprintf(text, sizeof(text), "[uts]\n%0200d=v\n", 0);
	CU_ASSERT_EQUAL(parse(&cfg, text, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(strncmp(err.msg, "line 2:", 7), 0);
	config_cleanup(&cfg);
}

static void
test_nul_refused(void)
{
	struct config cfg;
	struct gacp_err err;

	config_init(&cfg);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL(config_parse(&cfg, "[uts]\nk=v\0x\n", 11, &err),
	    GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "config_invalid");
	CU_ASSERT_EQUAL(cfg.n, 0);
	config_cleanup(&cfg);
}

static void
test_parse_respects_length(void)
{
	struct config cfg;
	struct gacp_err err;
	const char *text = "[uts]\nk=short\nbroken line";

	/* Only the first len bytes are text; the rest is never read. */
	config_init(&cfg);
	CU_ASSERT_EQUAL(config_parse(&cfg, text, 13, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "uts.k", NULL), "short");
	config_cleanup(&cfg);
}

static void
test_env_override(void)
{
	struct config cfg;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(&cfg, "[utenv]\nport = 1\nmax-body = 2\n",
	    &err), GACP_OK);
	unsetenv("GACP_UTENV_PORT");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utenv.port", NULL), "1");
	setenv("GACP_UTENV_PORT", "9090", 1);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utenv.port", NULL), "9090");
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utenv.port", 0), 9090);
	/* '-' becomes '_' and names are upper-cased. */
	setenv("GACP_UTENV_MAX_BODY", "77", 1);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utenv.max-body", 0), 77);
	/* A key absent from the file is still reachable. */
	setenv("GACP_UTENV_ONLY_ENV", "yes", 1);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utenv.only_env", NULL), "yes");
	CU_ASSERT_STRING_EQUAL(config_get(NULL, "utenv.only_env", NULL), "yes");
	/* An empty variable is still an override (set on purpose). */
	setenv("GACP_UTENV_PORT", "", 1);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utenv.port", NULL), "");
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utenv.port", 5), 5);
	unsetenv("GACP_UTENV_PORT");
	unsetenv("GACP_UTENV_MAX_BODY");
	unsetenv("GACP_UTENV_ONLY_ENV");
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utenv.port", NULL), "1");
	CU_ASSERT_PTR_NULL(config_get(&cfg, "utenv.only_env", NULL));
	config_cleanup(&cfg);
}

static void
test_get_int(void)
{
	struct config cfg;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(parse(&cfg,
	    "[utint]\na = 42\nb = -17\nc = 12abc\nd =\ne = 99999999999999999999\n"
	    "f = 0x10\ng = 9223372036854775807\nh = 1.5\n", &err), GACP_OK);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.a", 0), 42);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.b", 0), -17);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.c", -1), -1);   /* junk */
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.d", 5), 5);     /* empty */
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.e", 6), 6);     /* range */
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.f", 7), 7);     /* no hex */
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.g", 0), 9223372036854775807LL);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.h", 8), 8);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utint.none", 9), 9);
	config_cleanup(&cfg);
}

static void
test_get_bool(void)
{
	struct config cfg;
	struct gacp_err err;
	const char *yes[] = { "t1", "t2", "t3", "t4", "t5" };
	const char *no[] = { "f1", "f2", "f3", "f4", "f5" };
	char key[32];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(parse(&cfg,
	    "[utb]\nt1=true\nt2=YES\nt3=On\nt4=1\nt5=TRUE\n"
	    "f1=false\nf2=no\nf3=OFF\nf4=0\nf5=False\n"
	    "x1=maybe\nx2=\nx3=2\n", &err), GACP_OK);
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "utb.%s", yes[i]);
		CU_ASSERT_TRUE(config_get_bool(&cfg, key, false));
		snprintf(key, sizeof(key), "utb.%s", no[i]);
		CU_ASSERT_FALSE(config_get_bool(&cfg, key, true));
	}
	/* Anything else is not a boolean: the default wins. */
	CU_ASSERT_TRUE(config_get_bool(&cfg, "utb.x1", true));
	CU_ASSERT_FALSE(config_get_bool(&cfg, "utb.x1", false));
	CU_ASSERT_TRUE(config_get_bool(&cfg, "utb.x2", true));
	CU_ASSERT_FALSE(config_get_bool(&cfg, "utb.x3", false));
	CU_ASSERT_TRUE(config_get_bool(&cfg, "utb.missing", true));
	config_cleanup(&cfg);
}

static void
test_set(void)
{
	struct config cfg;
	int i;

	config_init(&cfg);
	for (i = 0; i < 100; i++) {
		char k[32], v[32];
		snprintf(k, sizeof(k), "utset.k%d", i);
		snprintf(v, sizeof(v), "%d", i * 2);
		config_set(&cfg, k, v);
	}
	CU_ASSERT_EQUAL(cfg.n, 100);
	CU_ASSERT_EQUAL(config_get_int(&cfg, "utset.k99", -1), 198);
	config_set(&cfg, "utset.k0", "replaced");
	CU_ASSERT_EQUAL(cfg.n, 100);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utset.k0", NULL), "replaced");
	config_cleanup(&cfg);
}

/* A private directory for the file tests; removed by cleanup_dir. */
static char tmpdir[64];

static void
make_dir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gacp-ut-config-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

static void
test_load_file(void)
{
	struct config cfg;
	struct gacp_err err;
	char path[128];

	make_dir();
	snprintf(path, sizeof(path), "%s/gacp.conf", tmpdir);
	write_file(path, "[utload]\nname = from-file\n", 0644);
	gacp_err_clear(&err);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, path, true, &err), GACP_OK);
	CU_ASSERT_STRING_EQUAL(config_get(&cfg, "utload.name", NULL),
	    "from-file");
	CU_ASSERT_STRING_EQUAL(cfg.path, path);
	config_cleanup(&cfg);

	/* A broken file reports the line. */
	write_file(path, "[utload]\nok=1\nbroken\n", 0644);
	CU_ASSERT_EQUAL(config_load(&cfg, path, true, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(strncmp(err.msg, "line 3:", 7), 0);
	config_cleanup(&cfg);
	unlink(path);

	/* Missing: fine unless it must exist. */
	CU_ASSERT_EQUAL(config_load(&cfg, path, false, &err), GACP_OK);
	CU_ASSERT_EQUAL(cfg.n, 0);
	config_cleanup(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, path, true, &err), GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "config_unreadable");
	config_cleanup(&cfg);
	rmdir(tmpdir);
}

static void
test_default_path(void)
{
	const char *saved = getenv("GACP_CONFIG");
	char *copy = saved ? strdup(saved) : NULL;

	setenv("GACP_CONFIG", "/somewhere/else.conf", 1);
	CU_ASSERT_STRING_EQUAL(config_default_path(), "/somewhere/else.conf");
	setenv("GACP_CONFIG", "", 1);
	CU_ASSERT_STRING_EQUAL(config_default_path(),
	    GACP_SYSCONFDIR "/gacp/gacp.conf");
	unsetenv("GACP_CONFIG");
	CU_ASSERT_STRING_EQUAL(config_default_path(),
	    GACP_SYSCONFDIR "/gacp/gacp.conf");
	if (copy != NULL) {
		setenv("GACP_CONFIG", copy, 1);
		free(copy);
	}
}

static void
test_read_secret_file(void)
{
	struct config cfg;
	struct gacp_err err;
	char path[128];
	size_t len = 0;
	char *secret;

	make_dir();
	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	write_file(path, "s3cret-value\r\n\n", 0600);
	config_init(&cfg);
	config_set(&cfg, "utsec.key_file", path);

	gacp_err_clear(&err);
	secret = config_read_file(&cfg, "utsec.key_file", &len, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(secret);
	CU_ASSERT_STRING_EQUAL(secret, "s3cret-value");   /* newlines cut */
	CU_ASSERT_EQUAL(len, strlen("s3cret-value"));
	free(secret);

	/* Group-readable is allowed (the service group reads it). */
	CU_ASSERT_EQUAL(chmod(path, 0640), 0);
	secret = config_read_file(&cfg, "utsec.key_file", NULL, &err);
	CU_ASSERT_PTR_NOT_NULL(secret);
	free(secret);

	/* World-readable: refused, it is already leaked. */
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	secret = config_read_file(&cfg, "utsec.key_file", &len, &err);
	CU_ASSERT_PTR_NULL(secret);
	CU_ASSERT_EQUAL(err.result, GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "secret_unsafe");
	CU_ASSERT_EQUAL(chmod(path, 0604), 0);
	CU_ASSERT_PTR_NULL(config_read_file(&cfg, "utsec.key_file", NULL, &err));
	unlink(path);

	/* Empty secret file: an empty string, not an error. */
	write_file(path, "", 0600);
	secret = config_read_file(&cfg, "utsec.key_file", &len, &err);
	CU_ASSERT_PTR_NOT_NULL(secret);
	CU_ASSERT_EQUAL(len, 0);
	free(secret);
	unlink(path);

	/* Missing file and missing key. */
	secret = config_read_file(&cfg, "utsec.key_file", NULL, &err);
	CU_ASSERT_PTR_NULL(secret);
	CU_ASSERT_EQUAL(err.result, GACP_EIO);
	CU_ASSERT_STRING_EQUAL(err.code, "secret_unreadable");
	secret = config_read_file(&cfg, "utsec.other_file", NULL, &err);
	CU_ASSERT_PTR_NULL(secret);
	CU_ASSERT_STRING_EQUAL(err.code, "config_missing");
	config_cleanup(&cfg);
	rmdir(tmpdir);
}

static const struct test_case cases[] = {
	{ "sections and keys", test_sections_and_keys },
	{ "CRLF and no final newline", test_crlf_and_no_final_newline },
	{ "duplicate key: last wins", test_duplicate_key_last_wins },
	{ "empty text", test_empty_text },
	{ "errors with line numbers", test_errors_with_line_numbers },
	{ "overlong names refused", test_overlong_names_refused },
	{ "NUL refused", test_nul_refused },
	{ "parse respects length", test_parse_respects_length },
	{ "env override", test_env_override },
	{ "get_int", test_get_int },
	{ "get_bool", test_get_bool },
	{ "set", test_set },
	{ "load file", test_load_file },
	{ "default path", test_default_path },
	{ "read secret file", test_read_secret_file },
	{ NULL, NULL }
};

void
test_config_register(void)
{
	tests_add_suite("config", cases);
}
