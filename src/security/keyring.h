/* keyring.h - named secret keys (kid -> bytes) with one current key, and their file format.
 *
 * Used for the JWT signing secrets (token.h) and the master keys of the
 * secret envelope (crypto.h).  A keyring is an explicit object owned by the
 * per-process context; after loading it is read-only and may be shared by
 * threads.  Key bytes are wiped when the keyring is freed.
 *
 * File format (text, one key per line; UTF-8 is not needed, ASCII is):
 *
 *     # comment lines and blank lines are ignored
 *     <kid> <base64 key> [current] [created=<unix seconds>]
 *
 *   - kid: 1..32 characters of [A-Za-z0-9_-] (no '.', which separates the
 *     parts of JWTs and envelope tokens), unique in the file;
 *   - key: standard base64 with padding (RFC 4648 §4), strictly decoded;
 *     its length must fit the keyring's bounds (32 bytes for AES-256,
 *     32..512 bytes for HS256);
 *   - current: marks the key that signs / encrypts.  Exactly one line may
 *     carry it; a file with a single key may omit it.  The other keys only
 *     verify / decrypt, which is what rotation needs: a new current key is
 *     added, old values stay readable until re-sealed;
 *   - created: when the key was made, for `gacpctl rotate-key --status`
 *     (0 / absent = unknown);
 *   - fields are separated by spaces or tabs; at most KEYRING_MAX_KEYS keys,
 *     lines of at most 1024 bytes, files of at most 64 KiB.
 *
 * The loader refuses a file that is not a regular file or that any user
 * other than its owner and group may read or write (mode & 007): like ssh
 * with private keys, a leaked master key is not something to warn about.
 */
#ifndef GACP_SECURITY_KEYRING_H
#define GACP_SECURITY_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define KEYRING_KID_MAX   32
#define KEYRING_MAX_KEYS  64
#define KEYRING_MAX_KEY_BYTES 512

struct keyring_key {
	char           kid[KEYRING_KID_MAX + 1];
	unsigned char *bytes;       /* len secret bytes, wiped on free */
	size_t         len;
	int64_t        created_s;   /* unix seconds, 0 when unknown */
};

struct keyring {
	struct keyring_key *keys;       /* in file order */
	size_t              nkeys;
	size_t              current;    /* index of the signing/encrypting key */
	size_t              min_bytes;  /* bounds every key must respect */
	size_t              max_bytes;
};

/* Prototypes */

/* New empty keyring whose keys must be min_bytes..max_bytes long
 * (1 <= min <= max <= KEYRING_MAX_KEY_BYTES, else abort: a programming
 * error).  Never NULL; free with keyring_free(). */
struct keyring *keyring_new(size_t min_bytes, size_t max_bytes);
/* Wipe every key and free.  NULL is accepted. */
void  keyring_free(struct keyring *kr);

/* Add a copy of len key bytes under kid, making it current if make_current
 * (or if it is the first key).  Returns 0; GACP_EINVAL ("invalid_kid",
 * "invalid_key_length") or GACP_ECONFLICT ("duplicate_kid") otherwise. */
int   keyring_add(struct keyring *kr, const char *kid, const void *key,
          size_t len, bool make_current, int64_t created_s,
          struct gacp_err *err);

/* Parse the file format above from len bytes of text into a new keyring.
 * Returns 0 with *out set, or GACP_EINVAL ("invalid_keyring") with the line
 * number in the message; *out is then NULL.  Key text is never echoed. */
int   keyring_parse(const char *text, size_t len, size_t min_bytes,
          size_t max_bytes, struct keyring **out, struct gacp_err *err);

/* Read and parse a key file.  Errors: GACP_EIO ("keyring_unreadable") when
 * it cannot be opened or read; GACP_EFORBIDDEN ("keyring_permissions") when
 * not a regular file or other users may access it; GACP_ETOOBIG; and the
 * keyring_parse() errors.  *out is NULL on any error. */
int   keyring_load(const char *path, size_t min_bytes, size_t max_bytes,
          struct keyring **out, struct gacp_err *err);

/* The key named kid (kid_len bytes, need not be NUL-terminated), or NULL. */
const struct keyring_key *keyring_find(const struct keyring *kr,
          const char *kid, size_t kid_len);
/* The current key, or NULL for an empty keyring. */
const struct keyring_key *keyring_current(const struct keyring *kr);

/* True when s is a valid kid (see the format above). */
bool  keyring_kid_valid(const char *s, size_t len);

/* Create a key file at path (it must not exist: O_EXCL) with one random
 * key_bytes-long key, marked current, named kid or, when kid is NULL, a
 * generated "kYYYYMMDD-xxxxxxxx" (UTC date + random hex).  Mode 0600,
 * fsync'd.  Returns 0; GACP_EINVAL for a bad kid or length; GACP_ECONFLICT
 * ("keyring_exists") when path exists; GACP_EIO on a write error. */
int   keyring_file_create(const char *path, const char *kid,
          size_t key_bytes, struct gacp_err *err);

/* Rotation: add a new random key_bytes-long key (named as above) to the
 * file at path and make it current; the previous keys stay for reading.
 * The file is rewritten atomically (temporary file 0600 + fsync + rename),
 * so a crash leaves either the old or the new file.  If kid_out is not
 * NULL it receives the new kid.  Errors as keyring_load() and
 * keyring_file_create(); GACP_ELIMIT when the file is full. */
int   keyring_file_rotate(const char *path, const char *kid,
          size_t key_bytes, char kid_out[KEYRING_KID_MAX + 1],
          struct gacp_err *err);

#endif
