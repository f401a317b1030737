/* password.h - bcrypt password hashing (libxcrypt), constant-cost verification and the password policy.
 *
 * Hashes are bcrypt "$2b$" strings (60 characters) at a configurable cost,
 * 12 by default (ARCHITECTURE §5).  A struct password_hasher is an explicit
 * object (one per process): it holds the cost and a dummy hash made once at
 * start-up, so that a login for an unknown user spends the same bcrypt work
 * as one for a known user and response time does not reveal which usernames
 * exist (OWASP Authentication Cheat Sheet, "Authentication Responses").
 * After password_hasher_init() the hasher is read-only and thread-safe.
 *
 * bcrypt reads at most 72 bytes of a password; longer passwords are refused
 * (policy and hashing) instead of being silently truncated.
 */
#ifndef GACP_SECURITY_PASSWORD_H
#define GACP_SECURITY_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PASSWORD_DEFAULT_COST  12
#define PASSWORD_MIN_COST      4       /* tests only; bcrypt's floor */
#define PASSWORD_MAX_COST      31
#define PASSWORD_MAX_BYTES     72      /* bcrypt's input limit */
#define PASSWORD_HASH_LEN      60      /* "$2b$12$" + 22 salt + 31 hash */
#define PASSWORD_HASH_SIZE     (PASSWORD_HASH_LEN + 1)
#define PASSWORD_POLICY_MAX_ERRORS 8

struct password_hasher {
	int   cost;                           /* bcrypt log2(rounds) */
	char  dummy_hash[PASSWORD_HASH_SIZE]; /* of a random password nobody knows */
};

/* Policy (per tenant; defaults from ARCHITECTURE §5). */
struct password_policy {
	size_t min_length;     /* in characters (code points); default 12 */
	size_t max_bytes;      /* default and ceiling: PASSWORD_MAX_BYTES */
	bool   require_upper;  /* A-Z */
	bool   require_lower;  /* a-z */
	bool   require_digit;  /* 0-9 */
	bool   require_symbol; /* anything else printable, including space
	                        * and non-ASCII characters */
	int    max_age_days;   /* 0 = never expires; default 90 */
};

/* One failed rule.  code is static and stable for the API's 422 field errors:
 * "password_too_short", "password_too_long", "password_missing_upper",
 * "password_missing_lower", "password_missing_digit",
 * "password_missing_symbol", "password_invalid_characters" (invalid UTF-8
 * or control characters).  message is a short English sentence. */
struct password_policy_error {
	const char *code;
	char        message[96];
};

struct password_policy_result {
	size_t                       nerrors;
	struct password_policy_error errors[PASSWORD_POLICY_MAX_ERRORS];
};

/* Prototypes */

/* Set up a hasher of the given cost (PASSWORD_MIN_COST..PASSWORD_MAX_COST)
 * and compute its dummy hash (costs one bcrypt run).  Returns 0;
 * GACP_EINVAL ("invalid_cost"); GACP_EINTERNAL when libxcrypt or the
 * random source fails. */
int  password_hasher_init(struct password_hasher *h, int cost,
         struct gacp_err *err);
/* Wipe the hasher.  NULL is accepted. */
void password_hasher_cleanup(struct password_hasher *h);

/* Hash password with a fresh random 16-byte salt into out.  The policy is
 * not checked here (see password_policy_check); only the bcrypt limits are.
 * Returns 0; GACP_EINVAL ("password_too_long") past PASSWORD_MAX_BYTES;
 * GACP_EINTERNAL when libxcrypt or the random source fails. */
int  password_hash(const struct password_hasher *h, const char *password,
         char out[PASSWORD_HASH_SIZE], struct gacp_err *err);

/* Check password against a stored hash.  The computed and stored hashes
 * are compared with CRYPTO_memcmp.  Returns 0 on a match; GACP_EAUTH
 * ("invalid_credentials") on a mismatch or a password longer than
 * PASSWORD_MAX_BYTES; GACP_EINTERNAL ("invalid_password_hash") when stored
 * is not a bcrypt $2b$ hash (only bcrypt is accepted, so a corrupted or
 * planted row cannot select a weak scheme such as DES). */
int  password_verify(const struct password_hasher *h, const char *password,
         const char *stored, struct gacp_err *err);

/* Spend the same work as password_verify() against the dummy hash, for a
 * login whose user does not exist.  Always returns GACP_EAUTH
 * ("invalid_credentials"), the same answer a wrong password gets. */
int  password_verify_dummy(const struct password_hasher *h,
         const char *password, struct gacp_err *err);

/* True when stored should be recomputed at the next successful login:
 * its cost differs from the hasher's, or it is not a valid $2b$ hash. */
bool password_needs_rehash(const struct password_hasher *h,
         const char *stored);

/* Fill p with the ARCHITECTURE §5 defaults. */
void password_policy_defaults(struct password_policy *p);

/* Check password against every rule of policy, listing each failed rule
 * in out (in the order of the code list above).  Returns 0 when all pass,
 * GACP_EINVAL when any fails. */
int  password_policy_check(const char *password,
         const struct password_policy *policy,
         struct password_policy_result *out);

/* True when a password changed at changed_at_s (unix seconds) is older than
 * the policy's max_age_days at now_s. */
bool password_expired(const struct password_policy *policy,
         int64_t changed_at_s, int64_t now_s);

#endif
