/* test_security_apikey.c - unit tests of API key generation, parsing and hash comparison (security/apikey.c). */
#include "tests.h"
#include "security/apikey.h"
#include "security/crypto.h"

#include <string.h>

static void
test_generate(void)
{
	struct apikey_generated a, b;
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct gacp_err err;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(apikey_generate(&a, &err), 0);
	CU_ASSERT_EQUAL(strlen(a.key), APIKEY_LEN);
	CU_ASSERT_EQUAL(strlen(a.key), 57);
	CU_ASSERT_EQUAL(strncmp(a.key, "gacp_", 5), 0);
	CU_ASSERT_EQUAL(strncmp(a.key + 5, a.prefix, APIKEY_PREFIX_LEN), 0);
	CU_ASSERT_EQUAL(a.key[13], '_');
	CU_ASSERT_EQUAL(strlen(a.prefix), 8);
	for (i = 0; i < 8; i++)
		CU_ASSERT(strchr("0123456789abcdef", a.prefix[i]) != NULL);
	/* The stored hash is SHA-256 of the whole displayed key. */
	crypto_sha256_hex(a.key, strlen(a.key), hash);
	CU_ASSERT_STRING_EQUAL(a.hash_hex, hash);
	/* The secret part is not derivable from what is stored. */
	CU_ASSERT_PTR_NULL(strstr(a.hash_hex, a.key + 14));

	CU_ASSERT_EQUAL_FATAL(apikey_generate(&b, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a.key, b.key);
	CU_ASSERT_STRING_NOT_EQUAL(a.hash_hex, b.hash_hex);
	apikey_generated_wipe(&a);
	CU_ASSERT_EQUAL(a.key[0], '\0');
	apikey_generated_wipe(&b);
	apikey_generated_wipe(NULL);
}

static void
test_parse_roundtrip(void)
{
	struct apikey_generated g;
	struct apikey_presented p;
	struct gacp_err err;
	int i;

	for (i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL_FATAL(apikey_generate(&g, &err), 0);
		CU_ASSERT_EQUAL_FATAL(apikey_parse(g.key, strlen(g.key), &p, &err), 0);
		CU_ASSERT_STRING_EQUAL(p.prefix, g.prefix);
		CU_ASSERT_STRING_EQUAL(p.hash_hex, g.hash_hex);
		CU_ASSERT_TRUE(apikey_hash_equal(p.hash_hex, g.hash_hex));
	}
}

static void
test_parse_rejects(void)
{
	struct apikey_generated g;
	struct apikey_presented p;
	struct gacp_err err;
	char key[APIKEY_LEN + 2];
	static const size_t pos_bad[] = { 14, 30, 56 };
	static const char bad_chars[] = "+/=.~ ";
	size_t i, j;

	CU_ASSERT_EQUAL_FATAL(apikey_generate(&g, &err), 0);
	/* Length: one short, one long, empty, NULL. */
	CU_ASSERT_EQUAL(apikey_parse(g.key, APIKEY_LEN - 1, &p, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_api_key");
	snprintf(key, sizeof(key), "%sA", g.key);
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN + 1, &p, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(apikey_parse("", 0, &p, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(apikey_parse(NULL, APIKEY_LEN, &p, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(p.prefix[0], '\0');

	/* Tag. */
	strcpy(key, g.key);
	key[0] = 'G';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	strcpy(key, g.key);
	key[4] = '-';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	/* Prefix: upper-case or non-hex, missing separator. */
	strcpy(key, g.key);
	key[5] = 'A';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	strcpy(key, g.key);
	key[7] = 'g';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	strcpy(key, g.key);
	key[13] = '-';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	/* Secret: characters outside base64url anywhere. */
	for (i = 0; i < sizeof(pos_bad) / sizeof(pos_bad[0]); i++) {
		for (j = 0; bad_chars[j] != '\0'; j++) {
			strcpy(key, g.key);
			key[pos_bad[i]] = bad_chars[j];
			CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
		}
	}
	/* An embedded NUL inside the claimed length. */
	strcpy(key, g.key);
	key[40] = '\0';
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	/* Non-canonical last character (spare bits set): one spelling only. */
	strcpy(key, g.key);
	{
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int v = (int)(strchr(alpha, key[APIKEY_LEN - 1]) - alpha);

		key[APIKEY_LEN - 1] = alpha[v | 1];
	}
	CU_ASSERT_EQUAL(apikey_parse(key, APIKEY_LEN, &p, &err), GACP_EAUTH);
	/* The key never appears in the error. */
	CU_ASSERT_PTR_NULL(strstr(err.msg, g.key + 14));
	apikey_generated_wipe(&g);
}

static void
test_changed_secret_changes_hash(void)
{
	struct apikey_generated g;
	struct apikey_presented p;
	struct gacp_err err;
	char key[APIKEY_LEN + 1];

	CU_ASSERT_EQUAL_FATAL(apikey_generate(&g, &err), 0);
	strcpy(key, g.key);
	key[20] = key[20] == 'A' ? 'B' : 'A';
	/* Well-formed but wrong: same prefix, different hash, so the lookup
	 * finds the row and the comparison fails. */
	CU_ASSERT_EQUAL_FATAL(apikey_parse(key, APIKEY_LEN, &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(p.prefix, g.prefix);
	CU_ASSERT_FALSE(apikey_hash_equal(p.hash_hex, g.hash_hex));
	apikey_generated_wipe(&g);
}

static void
test_hash_equal(void)
{
	static const char a[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char b[sizeof(a)];

	strcpy(b, a);
	CU_ASSERT_TRUE(apikey_hash_equal(a, b));
	b[0] = 'f';
	CU_ASSERT_FALSE(apikey_hash_equal(a, b));
	strcpy(b, a);
	b[63] = '4';
	CU_ASSERT_FALSE(apikey_hash_equal(a, b));
	strcpy(b, a);
	b[0] = 'E';
	CU_ASSERT_FALSE(apikey_hash_equal(b, b));
	strcpy(b, a);
	b[63] = '\0';
	CU_ASSERT_FALSE(apikey_hash_equal(b, b));
	CU_ASSERT_FALSE(apikey_hash_equal(a, NULL));
	CU_ASSERT_FALSE(apikey_hash_equal(NULL, a));
	CU_ASSERT_FALSE(apikey_hash_equal("", ""));
}

static const struct test_case cases[] = {
	{ "generate", test_generate },
	{ "parse round trip", test_parse_roundtrip },
	{ "parse rejects", test_parse_rejects },
	{ "changed secret changes hash", test_changed_secret_changes_hash },
	{ "constant-time hash equality", test_hash_equal },
	{ NULL, NULL }
};

void
test_security_apikey_register(void)
{
	tests_add_suite("security_apikey", cases);
}
