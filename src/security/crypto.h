/* crypto.h - cryptographic primitives: random, hashing, HMAC, strict codecs, AES-256-GCM envelope.
 *
 * Everything here is a pure function of its arguments except the random
 * source (OpenSSL's RAND_bytes, seeded by the kernel).  The envelope takes an
 * explicit struct keyring (see keyring.h): no key lives in global state.
 *
 * Envelope token format (text, safe in JSON, SQL text columns and URLs):
 *
 *     v1.<kid>.<base64url(nonce[12] || ciphertext || tag[16])>
 *
 * AES-256-GCM with a fresh random 96-bit nonce per seal (NIST SP 800-38D
 * §8.2.2: random nonces are safe up to 2^32 seals per key, far beyond the
 * 90-day rotation policy).  The authenticated data is the version, the kid and
 * every caller part, each length-prefixed so ("ab","c") and ("a","bc") differ;
 * callers pass the tenant id and the record's identity, so a ciphertext
 * copied to another row or tenant fails to open.
 *
 * Thread safety: all functions are re-entrant; a keyring may be shared
 * read-only between threads.
 */
#ifndef GACP_SECURITY_CRYPTO_H
#define GACP_SECURITY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "security/keyring.h"

#define CRYPTO_SHA256_LEN        32
#define CRYPTO_SHA256_HEX_LEN    64
#define CRYPTO_AES_KEY_LEN       32      /* AES-256 */
#define CRYPTO_GCM_NONCE_LEN     12
#define CRYPTO_GCM_TAG_LEN       16
#define CRYPTO_ENVELOPE_VERSION  "v1"
#define CRYPTO_ENVELOPE_MAX_PLAIN (1024 * 1024)  /* secrets, not files */
#define CRYPTO_AAD_MAX_PARTS     8

/* Error codes (struct gacp_err.code) returned by crypto_envelope_open(). */
#define CRYPTO_ERR_UNREADABLE    "secret_unreadable"   /* tampered, moved, malformed */
#define CRYPTO_ERR_KEY_UNKNOWN   "secret_key_unknown"  /* kid not in the keyring */

/* Base64 alphabets of RFC 4648: standard (§4, with '=' padding) and
 * URL-safe (§5, without padding, as JWT and our tokens use it). */
enum crypto_b64 {
	CRYPTO_B64_STD,
	CRYPTO_B64_URL,
};

/* One part of the associated data of an envelope. */
struct crypto_aad {
	const void *data;
	size_t      len;
};

/* Prototypes */

/* Fill buf with n bytes from the CSPRNG.  Returns 0, or GACP_EINTERNAL
 * ("random_failed") if OpenSSL cannot produce them (never partial data). */
int    crypto_random_bytes(void *buf, size_t n, struct gacp_err *err);

/* SHA-256 of len bytes.  hex_out receives 64 lower-case hex digits + NUL.
 * Aborts only if OpenSSL cannot allocate (the xmalloc policy). */
void   crypto_sha256(const void *data, size_t len,
           unsigned char out[CRYPTO_SHA256_LEN]);
void   crypto_sha256_hex(const void *data, size_t len,
           char hex_out[CRYPTO_SHA256_HEX_LEN + 1]);

/* HMAC-SHA256 of data under key (key_len may be 0).  Aborts as above. */
void   crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
           size_t len, unsigned char out[CRYPTO_SHA256_LEN]);

/* Verify a Messenger `X-Hub-Signature-256` header value ("sha256=" followed
 * by 64 hex digits, either case) against HMAC-SHA256(secret, body), where
 * body is the raw request body exactly as received.  The comparison is
 * constant-time over the 32 MAC bytes.  Returns 0 on a match;
 * GACP_EAUTH ("missing_signature") when header is NULL or empty;
 * GACP_EFORBIDDEN ("bad_signature") when malformed or different;
 * GACP_EINVAL ("invalid_secret") when secret_len is 0. */
int    crypto_hmac_sha256_hex_verify(const void *secret, size_t secret_len,
           const void *body, size_t body_len, const char *header,
           struct gacp_err *err);

/* Constant-time equality of two n-byte buffers (CRYPTO_memcmp): the time
 * depends on n only, never on where the first difference is. */
bool   crypto_ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of n bytes into out (2n + 1 bytes of room). */
void   crypto_hex_encode(const void *in, size_t n, char *out);
/* Strict hex decode: even length, [0-9a-fA-F] only.  Returns 0, GACP_EINVAL
 * on a bad character or odd length, GACP_ETOOBIG if out_cap < in_len / 2. */
int    crypto_hex_decode(const char *in, size_t in_len, unsigned char *out,
           size_t out_cap, size_t *out_len);

/* Length of the base64 text for n bytes, without the NUL. */
size_t crypto_base64_encoded_len(enum crypto_b64 variant, size_t n);
/* Upper bound of decoded bytes for in_len characters. */
size_t crypto_base64_decoded_max(size_t in_len);
/* Encode n bytes into out (room for crypto_base64_encoded_len + 1, NUL
 * written).  Returns 0, or GACP_ETOOBIG when out_cap is too small (out is
 * then left empty). */
int    crypto_base64_encode(enum crypto_b64 variant, const void *in, size_t n,
           char *out, size_t out_cap);
/* Same, into a new heap string the caller frees.  Never NULL. */
char  *crypto_base64_encode_alloc(enum crypto_b64 variant, const void *in,
           size_t n);
/* Strict, bounded decode of in_len characters: only the variant's alphabet,
 * no whitespace, STD needs correct '=' padding and URL forbids it, and the
 * unused low bits of the last character must be zero (so every byte string
 * has exactly one accepted encoding — no signature malleability).
 * Returns 0 with *out_len set; GACP_EINVAL when malformed; GACP_ETOOBIG when
 * out_cap is too small.  On error out's content is unspecified. */
int    crypto_base64_decode(enum crypto_b64 variant, const char *in,
           size_t in_len, unsigned char *out, size_t out_cap,
           size_t *out_len);

/* Load an envelope keyring: the keyring.h file format with keys of exactly
 * 32 bytes.  Errors as keyring_load(). */
int    crypto_keyring_load(const char *path, struct keyring **out,
           struct gacp_err *err);

/* Create a new master-key file at path (which must not exist) holding one
 * random 32-byte key, marked current, with a generated kid; mode 0600.
 * For `gacpctl` and the dev stack.  Errors as keyring_file_create(). */
int    crypto_keyfile_generate(const char *path, struct gacp_err *err);

/* Encrypt plain_len bytes under the keyring's current key (which must be
 * 32 bytes) with the given associated data parts (0..CRYPTO_AAD_MAX_PARTS).
 * *token_out receives a new NUL-terminated envelope token the caller frees.
 * Returns 0; GACP_EINVAL ("invalid_key") when the current key is not 32
 * bytes or there are too many AAD parts; GACP_ETOOBIG ("secret_too_large")
 * past CRYPTO_ENVELOPE_MAX_PLAIN; GACP_EINTERNAL on an OpenSSL failure. */
int    crypto_envelope_seal(const struct keyring *kr, const void *plain,
           size_t plain_len, const struct crypto_aad *aad, size_t naad,
           char **token_out, struct gacp_err *err);

/* Decrypt and authenticate an envelope token with the same AAD parts it
 * was sealed with.  On success *plain_out is a new buffer of *plain_len
 * bytes plus a NUL (so text secrets are C strings); release it with
 * crypto_secret_free().  Errors (nothing is returned on any of them):
 *   GACP_EINVAL  CRYPTO_ERR_UNREADABLE  bad version/format/base64, wrong
 *                AAD, tampered nonce/ciphertext/tag, or wrong key bytes;
 *   GACP_ENOTFOUND CRYPTO_ERR_KEY_UNKNOWN  the kid is not in the keyring
 *                (an operator removed a key still in use);
 *   GACP_EINTERNAL  OpenSSL failure. */
int    crypto_envelope_open(const struct keyring *kr, const char *token,
           const struct crypto_aad *aad, size_t naad,
           unsigned char **plain_out, size_t *plain_len,
           struct gacp_err *err);

/* Copy the kid of an envelope token into kid_out (KEYRING_KID_MAX + 1).
 * Returns 0 or GACP_EINVAL when the token is not a v1 envelope.  Used by
 * key rotation to find values not yet under the current key. */
int    crypto_envelope_kid(const char *token,
           char kid_out[KEYRING_KID_MAX + 1]);

/* True when token is a v1 envelope under a key other than kr's current one
 * (rotation should re-seal it).  False for malformed tokens. */
bool   crypto_envelope_needs_reseal(const struct keyring *kr,
           const char *token);

/* Wipe len bytes at p and free p.  NULL is accepted. */
void   crypto_secret_free(void *p, size_t len);

#endif
