/* apikey.h - API keys: generation, format validation and hashing for storage.
 *
 * Format (57 characters, shown to the user once):
 *
 *     gacp_<8 lower-case hex: public lookup prefix>_<43 base64url: 32 random bytes>
 *
 * The prefix is stored in clear and indexed, so a presented key finds its
 * row without scanning; the whole key string is stored as its SHA-256 (hex).
 * A fast hash is enough here — unlike a password the secret has 256 bits of
 * entropy, so there is nothing to brute-force (OWASP Password Storage Cheat
 * Sheet keeps slow hashes for low-entropy secrets).  The stored hash is
 * compared with apikey_hash_equal() (constant-time) after the prefix lookup.
 * The "gacp_" tag lets secret scanners recognise leaked keys.
 */
#ifndef GACP_SECURITY_APIKEY_H
#define GACP_SECURITY_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "security/crypto.h"

#define APIKEY_TAG           "gacp_"
#define APIKEY_TAG_LEN       5
#define APIKEY_PREFIX_LEN    8                  /* hex characters */
#define APIKEY_SECRET_BYTES  32
#define APIKEY_SECRET_LEN    43                 /* base64url, no padding */
#define APIKEY_LEN           (APIKEY_TAG_LEN + APIKEY_PREFIX_LEN + 1 + APIKEY_SECRET_LEN)
#define APIKEY_HASH_HEX_LEN  CRYPTO_SHA256_HEX_LEN

/* A freshly generated key.  key is shown once and must then be wiped
 * (apikey_generated_wipe); prefix and hash_hex are what is stored. */
struct apikey_generated {
	char key[APIKEY_LEN + 1];
	char prefix[APIKEY_PREFIX_LEN + 1];
	char hash_hex[APIKEY_HASH_HEX_LEN + 1];
};

/* A presented key, validated: what to look up and what to compare. */
struct apikey_presented {
	char prefix[APIKEY_PREFIX_LEN + 1];
	char hash_hex[APIKEY_HASH_HEX_LEN + 1];
};

/* Prototypes */

/* Generate a key.  Returns 0, or GACP_EINTERNAL when the random source
 * fails (out is then zeroed). */
int  apikey_generate(struct apikey_generated *out, struct gacp_err *err);
/* Wipe a generated key (all fields). */
void apikey_generated_wipe(struct apikey_generated *g);

/* Validate a presented key of len bytes (need not be NUL-terminated):
 * exact length, tag, lower-case hex prefix, '_', canonical base64url of 32
 * bytes; then hash it.  Returns 0, or GACP_EAUTH ("invalid_api_key") for
 * anything else; the key text is never copied into err. */
int  apikey_parse(const char *key, size_t len, struct apikey_presented *out,
         struct gacp_err *err);

/* Constant-time equality of two SHA-256 hex strings (the stored and the
 * presented hash).  False unless both are exactly 64 hex characters; case
 * matters (both sides come from crypto_sha256_hex, lower-case). */
bool apikey_hash_equal(const char *a_hex, const char *b_hex);

#endif
