/* test_security_password.c - unit tests of bcrypt hashing, verification and the password policy (security/password.c). */
#include "tests.h"
#include "security/password.h"

#include <string.h>

/* bcrypt's floor keeps the suite fast; cost 12 is exercised once. */
#define TEST_COST 4

static void
test_hasher_init(void)
{
	struct password_hasher h;
	struct gacp_err err;

	CU_ASSERT_EQUAL(password_hasher_init(&h, 3, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_cost");
	CU_ASSERT_EQUAL(password_hasher_init(&h, 32, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, TEST_COST, &err), 0);
	CU_ASSERT_EQUAL(h.cost, TEST_COST);
	CU_ASSERT_EQUAL(strlen(h.dummy_hash), PASSWORD_HASH_LEN);
	CU_ASSERT_EQUAL(strncmp(h.dummy_hash, "$2b$04$", 7), 0);
	password_hasher_cleanup(&h);
	CU_ASSERT_EQUAL(h.dummy_hash[0], '\0');
	password_hasher_cleanup(NULL);
}

static void
test_hash_and_verify(void)
{
	static const char pw[] = "Correct-Horse-9-battery";
	char h1[PASSWORD_HASH_SIZE], h2[PASSWORD_HASH_SIZE];
	struct password_hasher h;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, TEST_COST, &err), 0);
	CU_ASSERT_EQUAL_FATAL(password_hash(&h, pw, h1, &err), 0);
	CU_ASSERT_EQUAL(strlen(h1), PASSWORD_HASH_LEN);
	CU_ASSERT_EQUAL(strncmp(h1, "$2b$04$", 7), 0);
	/* A fresh salt each time. */
	CU_ASSERT_EQUAL_FATAL(password_hash(&h, pw, h2, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(h1, h2);

	CU_ASSERT_EQUAL(password_verify(&h, pw, h1, &err), 0);
	CU_ASSERT_EQUAL(password_verify(&h, pw, h2, &err), 0);
	CU_ASSERT_EQUAL(password_verify(&h, "correct-Horse-9-battery", h1, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_credentials");
	CU_ASSERT_EQUAL(password_verify(&h, "Correct-Horse-9-batter", h1, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(password_verify(&h, "", h1, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(password_verify(&h, NULL, h1, &err), GACP_EAUTH);
	password_hasher_cleanup(&h);
}

static void
test_known_answer(void)
{
	/* OpenBSD / John the Ripper bcrypt vector ("$2a$" in the original;
	 * $2b$ computes the same for ASCII input): proves this is bcrypt. */
	static const char stored[] =
	    "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
	struct password_hasher h;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, TEST_COST, &err), 0);
	CU_ASSERT_EQUAL(password_verify(&h, "U*U", stored, &err), 0);
	CU_ASSERT_EQUAL(password_verify(&h, "U*V", stored, &err), GACP_EAUTH);
	password_hasher_cleanup(&h);
}

static void
test_dummy_and_bad_hashes(void)
{
	static const char *bad[] = {
		"",
		"abJnggxhB/yWI",                                  /* DES crypt */
		"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",             /* md5crypt */
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWX",
		"$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!",
		"$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.",
	};
	struct password_hasher h;
	struct gacp_err err;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, TEST_COST, &err), 0);
	/* Unknown user: same answer as a wrong password. */
	CU_ASSERT_EQUAL(password_verify_dummy(&h, "anything", &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_credentials");
	CU_ASSERT_EQUAL(password_verify_dummy(&h, NULL, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(password_verify_dummy(&h, "", &err), GACP_EAUTH);
	/* Nobody knows the dummy password, and the dummy hash is real bcrypt. */
	CU_ASSERT_EQUAL(password_verify(&h, "", h.dummy_hash, &err), GACP_EAUTH);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(password_verify(&h, "U*U", bad[i], &err), GACP_EINTERNAL);
		CU_ASSERT_STRING_EQUAL(err.code, "invalid_password_hash");
	}
	CU_ASSERT_EQUAL(password_verify(&h, "U*U", NULL, &err), GACP_EINTERNAL);
	password_hasher_cleanup(&h);
}

static void
test_length_limit(void)
{
	char pw72[73], pw73[74], stored[PASSWORD_HASH_SIZE];
	struct password_hasher h;
	struct gacp_err err;

	memset(pw72, 'a', 72);
	pw72[72] = '\0';
	memcpy(pw73, pw72, 72);
	pw73[72] = 'Z';
	pw73[73] = '\0';
	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, TEST_COST, &err), 0);
	CU_ASSERT_EQUAL(password_hash(&h, pw73, stored, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "password_too_long");
	CU_ASSERT_EQUAL_FATAL(password_hash(&h, pw72, stored, &err), 0);
	CU_ASSERT_EQUAL(password_verify(&h, pw72, stored, &err), 0);
	/* bcrypt would see only the first 72 bytes and match: refused. */
	CU_ASSERT_EQUAL(password_verify(&h, pw73, stored, &err), GACP_EAUTH);
	CU_ASSERT_EQUAL(password_verify_dummy(&h, pw73, &err), GACP_EAUTH);
	password_hasher_cleanup(&h);
}

static void
test_needs_rehash(void)
{
	struct password_hasher h4, h5;
	char stored[PASSWORD_HASH_SIZE];
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h4, 4, &err), 0);
	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h5, 5, &err), 0);
	CU_ASSERT_EQUAL_FATAL(password_hash(&h4, "pw", stored, &err), 0);
	CU_ASSERT_FALSE(password_needs_rehash(&h4, stored));
	CU_ASSERT_TRUE(password_needs_rehash(&h5, stored));
	CU_ASSERT_TRUE(password_needs_rehash(&h4, "abJnggxhB/yWI"));
	/* A hash of another cost still verifies (the rehash happens later). */
	CU_ASSERT_EQUAL(password_verify(&h5, "pw", stored, &err), 0);
	password_hasher_cleanup(&h4);
	password_hasher_cleanup(&h5);
}

static void
test_cost_12(void)
{
	char stored[PASSWORD_HASH_SIZE];
	struct password_hasher h;
	struct gacp_err err;

	CU_ASSERT_EQUAL_FATAL(password_hasher_init(&h, PASSWORD_DEFAULT_COST, &err), 0);
	CU_ASSERT_EQUAL(strncmp(h.dummy_hash, "$2b$12$", 7), 0);
	CU_ASSERT_EQUAL_FATAL(password_hash(&h, "Tr0ub4dor&3-xyz", stored, &err), 0);
	CU_ASSERT_EQUAL(strncmp(stored, "$2b$12$", 7), 0);
	CU_ASSERT_EQUAL(password_verify(&h, "Tr0ub4dor&3-xyz", stored, &err), 0);
	CU_ASSERT_FALSE(password_needs_rehash(&h, stored));
	password_hasher_cleanup(&h);
}

/* True when result lists exactly the given codes, in order. */
static int
codes_are(const struct password_policy_result *r, const char *const *codes,
    size_t n)
{
	size_t i;

	if (r->nerrors != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(r->errors[i].code, codes[i]) != 0 ||
		    r->errors[i].message[0] == '\0')
			return 0;
	return 1;
}

#define EXPECT(pw, ...) do {                                                \
	static const char *const want_[] = { __VA_ARGS__ };                 \
	CU_ASSERT_EQUAL(password_policy_check(pw, &p, &r), GACP_EINVAL);    \
	CU_ASSERT_TRUE(codes_are(&r, want_, sizeof(want_) / sizeof(want_[0]))); \
} while (0)

static void
test_policy_rules(void)
{
	struct password_policy_result r;
	struct password_policy p;
	char long_pw[80];

	password_policy_defaults(&p);
	CU_ASSERT_EQUAL(p.min_length, 12);
	CU_ASSERT_EQUAL(p.max_age_days, 90);
	CU_ASSERT_TRUE(p.require_upper && p.require_lower && p.require_digit && p.require_symbol);

	CU_ASSERT_EQUAL(password_policy_check("Abcdefghij1!", &p, &r), 0);
	CU_ASSERT_EQUAL(r.nerrors, 0);
	CU_ASSERT_EQUAL(password_policy_check("Correct horse 9", &p, &r), 0);

	EXPECT("Abcdefghi1!", "password_too_short");
	EXPECT("abcdefghijk1!", "password_missing_upper");
	EXPECT("ABCDEFGHIJK1!", "password_missing_lower");
	EXPECT("Abcdefghijkl!", "password_missing_digit");
	EXPECT("Abcdefghijk12", "password_missing_symbol");
	EXPECT("Abcdefghij1!\x01", "password_invalid_characters");
	EXPECT("Abcdefghij1!\x7f", "password_invalid_characters");
	EXPECT("Abcdefghij1!\xff", "password_invalid_characters");
	EXPECT("Abcdefghij1!\xc2\x85", "password_invalid_characters");   /* U+0085 */
	EXPECT("", "password_too_short", "password_missing_upper",
	    "password_missing_lower", "password_missing_digit",
	    "password_missing_symbol");
	EXPECT(NULL, "password_too_short", "password_missing_upper",
	    "password_missing_lower", "password_missing_digit",
	    "password_missing_symbol");
	EXPECT("aaaa", "password_too_short", "password_missing_upper",
	    "password_missing_digit", "password_missing_symbol");

	memset(long_pw, 'a', sizeof(long_pw));
	memcpy(long_pw, "A1!", 3);
	long_pw[73] = '\0';
	EXPECT(long_pw, "password_too_long");
	long_pw[72] = '\0';
	CU_ASSERT_EQUAL(password_policy_check(long_pw, &p, &r), 0);
}

static void
test_policy_characters_and_config(void)
{
	struct password_policy_result r;
	struct password_policy p;

	password_policy_defaults(&p);
	/* Length counts characters, not bytes: 11 code points, 27 bytes. */
	EXPECT("Aa1\xe0\xb8\x81\xe0\xb8\x82\xe0\xb8\x84\xe0\xb8\x86\xe0\xb8\x87"
	    "\xe0\xb8\x88\xe0\xb8\x89\xe0\xb8\x8a", "password_too_short");
	/* Non-ASCII characters count as symbols. */
	CU_ASSERT_EQUAL(password_policy_check("Aa1\xe0\xb8\x81\xe0\xb8\x82\xe0\xb8\x84"
	    "\xe0\xb8\x86\xe0\xb8\x87\xe0\xb8\x88\xe0\xb8\x89\xe0\xb8\x8a\xe0\xb8\x8b",
	    &p, &r), 0);

	/* A tenant's own policy. */
	p.min_length = 8;
	p.require_symbol = false;
	p.require_upper = false;
	CU_ASSERT_EQUAL(password_policy_check("abcdefg1", &p, &r), 0);
	EXPECT("abcdefgh", "password_missing_digit");
	p.max_bytes = 10;
	EXPECT("abcdefghij1", "password_too_long");
	/* max_bytes can lower the bcrypt ceiling, never raise it. */
	p.max_bytes = 1000;
	{
		char pw[80];

		memset(pw, 'a', sizeof(pw));
		pw[0] = '1';
		pw[79] = '\0';
		EXPECT(pw, "password_too_long");
	}
}

static void
test_password_expired(void)
{
	struct password_policy p;
	const int64_t day = 86400, t0 = 1700000000;

	password_policy_defaults(&p);
	CU_ASSERT_FALSE(password_expired(&p, t0, t0));
	CU_ASSERT_FALSE(password_expired(&p, t0, t0 + 90 * day - 1));
	CU_ASSERT_TRUE(password_expired(&p, t0, t0 + 90 * day));
	p.max_age_days = 0;
	CU_ASSERT_FALSE(password_expired(&p, t0, t0 + 9000 * day));
}

static const struct test_case cases[] = {
	{ "hasher init", test_hasher_init },
	{ "hash and verify", test_hash_and_verify },
	{ "bcrypt known answer", test_known_answer },
	{ "dummy verify and foreign hashes", test_dummy_and_bad_hashes },
	{ "72-byte limit", test_length_limit },
	{ "needs rehash", test_needs_rehash },
	{ "cost 12", test_cost_12 },
	{ "policy rules", test_policy_rules },
	{ "policy characters and configuration", test_policy_characters_and_config },
	{ "password expiry", test_password_expired },
	{ NULL, NULL }
};

void
test_security_password_register(void)
{
	tests_add_suite("security_password", cases);
}
