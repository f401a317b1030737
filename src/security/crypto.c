/* crypto.c - random bytes, SHA-256, HMAC, strict hex/base64 and the AES-256-GCM secret envelope. */
#include "security/crypto.h"
#include "common/util.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/xmalloc.h"

static void	openssl_fatal(const char *what) __attribute__((noreturn));
static int	b64_value(enum crypto_b64 variant, unsigned char c);
static void	aad_build(struct buf *b, const char *kid,
		    const struct crypto_aad *aad, size_t naad);
static void	aad_put(struct buf *b, const void *data, size_t len);
static int	envelope_split(const char *token, const char **kid,
		    size_t *kid_len, const char **body, size_t *body_len);

static const char b64_std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * OpenSSL's digest and HMAC one-shots fail only when they cannot allocate;
 * like xmalloc we treat that as fatal instead of threading an error through
 * every hash of a request.
 */
static void
openssl_fatal(const char *what)
{
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"openssl %s failed\"}\n",
	    what);
	abort();
}

int
crypto_random_bytes(void *buf, size_t n, struct gacp_err *err)
{
	unsigned char *p = buf;

	/* RAND_bytes takes an int; large requests are split. */
	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return gacp_err_set(err, GACP_EINTERNAL, "random_failed",
			    "the random number generator failed");
		p += chunk;
		n -= (size_t)chunk;
	}
	return GACP_OK;
}

/*
 * SHA-256, fetched from the default provider once per process.  Naming
 * EVP_sha256() (or calling HMAC()) makes OpenSSL 3 look the algorithm up
 * again on every call, under a lock and through its name tables; on the
 * webhook path that lookup cost more than hashing the 1 KB body.  The
 * handle is never changed after the first fetch, so it is not mutable
 * state in the sense of STYLE.md.
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256_algorithm(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL)
		openssl_fatal("EVP_MD_fetch(SHA256)");
	return sha256_md;
}

static void
digest_run(EVP_MD_CTX *ctx, const void *a, size_t alen, const void *b,
    size_t blen, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int outl = 0;

	if (EVP_DigestInit_ex2(ctx, sha256_algorithm(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &outl) != 1 ||
	    outl != CRYPTO_SHA256_LEN)
		openssl_fatal("SHA-256");
}

void
crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		openssl_fatal("EVP_MD_CTX_new");
	digest_run(ctx, data, len, NULL, 0, out);
	EVP_MD_CTX_free(ctx);
}

void
crypto_sha256_hex(const void *data, size_t len,
    char hex_out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char md[CRYPTO_SHA256_LEN];

	crypto_sha256(data, len, md);
	crypto_hex_encode(md, sizeof(md), hex_out);
}

/* HMAC-SHA256 as RFC 2104 defines it, on the SHA-256 fetched once
 * (see sha256_algorithm; OpenSSL's HMAC() fetches two algorithms per
 * call).  Checked against RFC 4231 in tests/unit/test_security_crypto.c. */
void
crypto_hmac_sha256(const void *key, size_t key_len, const void *data,
    size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	enum { BLOCK = 64 };
	unsigned char k[BLOCK], pad[BLOCK], inner[CRYPTO_SHA256_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;

	if (ctx == NULL)
		openssl_fatal("EVP_MD_CTX_new");
	memset(k, 0, sizeof(k));
	if (key_len > BLOCK)
		digest_run(ctx, key, key_len, NULL, 0, k);
	else if (key_len > 0)
		memcpy(k, key, key_len);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	digest_run(ctx, pad, BLOCK, data, len, inner);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	digest_run(ctx, pad, BLOCK, inner, sizeof(inner), out);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

int
crypto_hmac_sha256_hex_verify(const void *secret, size_t secret_len,
    const void *body, size_t body_len, const char *header,
    struct gacp_err *err)
{
	static const char prefix[] = "sha256=";
	unsigned char expected[CRYPTO_SHA256_LEN], given[CRYPTO_SHA256_LEN];
	size_t hex_len, given_len;
	int rc;

	if (header == NULL || header[0] == '\0')
		return gacp_err_set(err, GACP_EAUTH, "missing_signature",
		    "the request is not signed");
	if (secret == NULL || secret_len == 0)
		return gacp_err_set(err, GACP_EINVAL, "invalid_secret",
		    "no secret to verify the signature with");
	if (strncmp(header, prefix, sizeof(prefix) - 1) != 0)
		goto bad;
	header += sizeof(prefix) - 1;
	hex_len = strnlen(header, 2 * CRYPTO_SHA256_LEN + 1);
	if (hex_len != 2 * CRYPTO_SHA256_LEN)
		goto bad;
	if (crypto_hex_decode(header, hex_len, given, sizeof(given),
	    &given_len) != GACP_OK || given_len != sizeof(given))
		goto bad;

	crypto_hmac_sha256(secret, secret_len, body, body_len, expected);
	/* Constant time: an attacker must not learn how many leading bytes
	 * of a forged MAC were right (the classic HMAC timing oracle). */
	rc = crypto_ct_equal(expected, given, sizeof(expected));
	OPENSSL_cleanse(expected, sizeof(expected));
	if (rc)
		return GACP_OK;
bad:
	return gacp_err_set(err, GACP_EFORBIDDEN, "bad_signature",
	    "the request signature does not match");
}

bool
crypto_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
crypto_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
crypto_hex_decode(const char *in, size_t in_len, unsigned char *out,
    size_t out_cap, size_t *out_len)
{
	size_t i;

	if (in_len % 2 != 0)
		return GACP_EINVAL;
	if (in_len / 2 > out_cap)
		return GACP_ETOOBIG;
	for (i = 0; i < in_len; i += 2) {
		int hi = util_hex_value(in[i]);
		int lo = util_hex_value(in[i + 1]);

		if (hi < 0 || lo < 0)
			return GACP_EINVAL;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*out_len = in_len / 2;
	return GACP_OK;
}

size_t
crypto_base64_encoded_len(enum crypto_b64 variant, size_t n)
{
	if (variant == CRYPTO_B64_STD)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t
crypto_base64_decoded_max(size_t in_len)
{
	return in_len / 4 * 3 + 3;
}

int
crypto_base64_encode(enum crypto_b64 variant, const void *in, size_t n,
    char *out, size_t out_cap)
{
	const char *alphabet = variant == CRYPTO_B64_STD ?
	    b64_std_alphabet : b64_url_alphabet;
	const unsigned char *p = in;
	size_t i, o = 0;

	if (n > SIZE_MAX / 2 ||
	    out_cap < crypto_base64_encoded_len(variant, n) + 1) {
		if (out_cap > 0)
			out[0] = '\0';
		return GACP_ETOOBIG;
	}
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = alphabet[v >> 6 & 0x3f];
		out[o++] = alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		if (variant == CRYPTO_B64_STD) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		out[o++] = alphabet[v >> 18 & 0x3f];
		out[o++] = alphabet[v >> 12 & 0x3f];
		out[o++] = alphabet[v >> 6 & 0x3f];
		if (variant == CRYPTO_B64_STD)
			out[o++] = '=';
	}
	out[o] = '\0';
	return GACP_OK;
}

char *
crypto_base64_encode_alloc(enum crypto_b64 variant, const void *in, size_t n)
{
	size_t cap;
	char *out;

	if (n > SIZE_MAX / 2)
		abort();
	cap = crypto_base64_encoded_len(variant, n) + 1;
	out = xmalloc(cap);
	if (crypto_base64_encode(variant, in, n, out, cap) != GACP_OK)
		abort();
	return out;
}

static int
b64_value(enum crypto_b64 variant, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (variant == CRYPTO_B64_STD) {
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
	} else {
		if (c == '-')
			return 62;
		if (c == '_')
			return 63;
	}
	return -1;
}

int
crypto_base64_decode(enum crypto_b64 variant, const char *in, size_t in_len,
    unsigned char *out, size_t out_cap, size_t *out_len)
{
	size_t data_len = in_len, rem, need, i, o = 0;
	int v[4];

	if (variant == CRYPTO_B64_STD) {
		/* Padded form only: the length is a multiple of 4 and at
		 * most two '=' end it. */
		if (in_len % 4 != 0)
			return GACP_EINVAL;
		if (in_len > 0 && in[in_len - 1] == '=')
			data_len--;
		if (in_len > 1 && in[in_len - 2] == '=')
			data_len--;
	}
	rem = data_len % 4;
	if (rem == 1)
		return GACP_EINVAL;
	need = data_len / 4 * 3 + (rem ? rem - 1 : 0);
	if (need > out_cap)
		return GACP_ETOOBIG;

	for (i = 0; i + 4 <= data_len; i += 4) {
		v[0] = b64_value(variant, (unsigned char)in[i]);
		v[1] = b64_value(variant, (unsigned char)in[i + 1]);
		v[2] = b64_value(variant, (unsigned char)in[i + 2]);
		v[3] = b64_value(variant, (unsigned char)in[i + 3]);
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return GACP_EINVAL;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		out[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
		out[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	}
	if (rem >= 2) {
		v[0] = b64_value(variant, (unsigned char)in[i]);
		v[1] = b64_value(variant, (unsigned char)in[i + 1]);
		v[2] = rem == 3 ? b64_value(variant, (unsigned char)in[i + 2]) : 0;
		if (v[0] < 0 || v[1] < 0 || v[2] < 0)
			return GACP_EINVAL;
		/* Non-canonical encodings (unused bits set) are refused so a
		 * MAC or key has one spelling only (RFC 4648 §3.5). */
		if (rem == 2 && (v[1] & 0x0f) != 0)
			return GACP_EINVAL;
		if (rem == 3 && (v[2] & 0x03) != 0)
			return GACP_EINVAL;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (rem == 3)
			out[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
	}
	*out_len = o;
	return GACP_OK;
}

int
crypto_keyring_load(const char *path, struct keyring **out,
    struct gacp_err *err)
{
	return keyring_load(path, CRYPTO_AES_KEY_LEN, CRYPTO_AES_KEY_LEN, out,
	    err);
}

int
crypto_keyfile_generate(const char *path, struct gacp_err *err)
{
	return keyring_file_create(path, NULL, CRYPTO_AES_KEY_LEN, err);
}

static void
aad_put(struct buf *b, const void *data, size_t len)
{
	unsigned char be[4];

	be[0] = (unsigned char)(len >> 24);
	be[1] = (unsigned char)(len >> 16);
	be[2] = (unsigned char)(len >> 8);
	be[3] = (unsigned char)len;
	buf_append(b, be, sizeof(be));
	if (len > 0)
		buf_append(b, data, len);
}

/*
 * The AAD is length-prefixed parts: the envelope version and kid (so a
 * token relabelled with another kid or version cannot verify) followed by
 * the caller's parts (tenant id, record identity).
 */
static void
aad_build(struct buf *b, const char *kid, const struct crypto_aad *aad,
    size_t naad)
{
	size_t i;

	aad_put(b, CRYPTO_ENVELOPE_VERSION, strlen(CRYPTO_ENVELOPE_VERSION));
	aad_put(b, kid, strlen(kid));
	for (i = 0; i < naad; i++)
		aad_put(b, aad[i].data, aad[i].len);
}

int
crypto_envelope_seal(const struct keyring *kr, const void *plain,
    size_t plain_len, const struct crypto_aad *aad, size_t naad,
    char **token_out, struct gacp_err *err)
{
	const struct keyring_key *key = keyring_current(kr);
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *blob = NULL, *ct;
	size_t blob_len = 0, i;
	char *b64 = NULL;
	struct buf a;
	int outl = 0, finl = 0, rc;

	buf_init(&a);
	*token_out = NULL;
	if (key == NULL || key->len != CRYPTO_AES_KEY_LEN) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_key",
		    "the current key is not an AES-256 key");
		goto out;
	}
	if (naad > CRYPTO_AAD_MAX_PARTS) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_aad",
		    "too many associated data parts");
		goto out;
	}
	for (i = 0; i < naad; i++) {
		if (aad[i].len > UINT32_MAX || (aad[i].len > 0 && aad[i].data == NULL)) {
			rc = gacp_err_set(err, GACP_EINVAL, "invalid_aad",
			    "associated data part %zu is invalid", i);
			goto out;
		}
	}
	if (plain_len > CRYPTO_ENVELOPE_MAX_PLAIN) {
		rc = gacp_err_set(err, GACP_ETOOBIG, "secret_too_large",
		    "the secret is larger than %d bytes",
		    CRYPTO_ENVELOPE_MAX_PLAIN);
		goto out;
	}

	blob_len = CRYPTO_GCM_NONCE_LEN + plain_len + CRYPTO_GCM_TAG_LEN;
	blob = xmalloc(blob_len);
	ct = blob + CRYPTO_GCM_NONCE_LEN;
	if ((rc = crypto_random_bytes(blob, CRYPTO_GCM_NONCE_LEN, err)) != GACP_OK)
		goto out;
	aad_build(&a, key->kid, aad, naad);

	rc = gacp_err_set(err, GACP_EINTERNAL, "encrypt_failed",
	    "encryption failed");
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    CRYPTO_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key->bytes, blob) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)a.data,
	    (int)a.len) != 1)
		goto out;
	outl = 0;
	if (plain_len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, plain,
	    (int)plain_len) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + outl, &finl) != 1 ||
	    (size_t)outl + (size_t)finl != plain_len)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN,
	    ct + plain_len) != 1)
		goto out;

	b64 = crypto_base64_encode_alloc(CRYPTO_B64_URL, blob, blob_len);
	*token_out = xasprintf("%s.%s.%s", CRYPTO_ENVELOPE_VERSION, key->kid, b64);
	gacp_err_clear(err);
	rc = GACP_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(b64);
	buf_cleanup(&a);
	if (blob != NULL)
		OPENSSL_cleanse(blob, blob_len);
	free(blob);
	return rc;
}

/* Split "v1.<kid>.<body>"; 0 or GACP_EINVAL. */
static int
envelope_split(const char *token, const char **kid, size_t *kid_len,
    const char **body, size_t *body_len)
{
	static const char version[] = CRYPTO_ENVELOPE_VERSION ".";
	const char *dot;
	size_t max_body;

	if (token == NULL ||
	    strncmp(token, version, sizeof(version) - 1) != 0)
		return GACP_EINVAL;
	*kid = token + sizeof(version) - 1;
	dot = memchr(*kid, '.', strnlen(*kid, KEYRING_KID_MAX + 1));
	if (dot == NULL)
		return GACP_EINVAL;
	*kid_len = (size_t)(dot - *kid);
	if (!keyring_kid_valid(*kid, *kid_len))
		return GACP_EINVAL;
	*body = dot + 1;
	max_body = crypto_base64_encoded_len(CRYPTO_B64_URL,
	    CRYPTO_GCM_NONCE_LEN + CRYPTO_ENVELOPE_MAX_PLAIN + CRYPTO_GCM_TAG_LEN);
	*body_len = strnlen(*body, max_body + 1);
	if (*body_len > max_body)
		return GACP_EINVAL;
	return GACP_OK;
}

int
crypto_envelope_open(const struct keyring *kr, const char *token,
    const struct crypto_aad *aad, size_t naad, unsigned char **plain_out,
    size_t *plain_len, struct gacp_err *err)
{
	const struct keyring_key *key;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *blob = NULL, *plain = NULL, *ct, *tag;
	const char *kid, *body;
	size_t kid_len, body_len, blob_len = 0, ct_len = 0, i;
	struct buf a;
	int outl = 0, finl = 0, rc;

	buf_init(&a);
	*plain_out = NULL;
	*plain_len = 0;
	rc = gacp_err_set(err, GACP_EINVAL, CRYPTO_ERR_UNREADABLE,
	    "the stored secret cannot be read");
	if (envelope_split(token, &kid, &kid_len, &body, &body_len) != GACP_OK)
		goto out;
	if (naad > CRYPTO_AAD_MAX_PARTS)
		goto out;
	for (i = 0; i < naad; i++)
		if (aad[i].len > UINT32_MAX || (aad[i].len > 0 && aad[i].data == NULL))
			goto out;
	if ((key = keyring_find(kr, kid, kid_len)) == NULL) {
		rc = gacp_err_set(err, GACP_ENOTFOUND, CRYPTO_ERR_KEY_UNKNOWN,
		    "the key that sealed this secret is not loaded");
		goto out;
	}
	if (key->len != CRYPTO_AES_KEY_LEN) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "invalid_key",
		    "the key is not an AES-256 key");
		goto out;
	}

	blob = xmalloc(crypto_base64_decoded_max(body_len));
	if (crypto_base64_decode(CRYPTO_B64_URL, body, body_len, blob,
	    crypto_base64_decoded_max(body_len), &blob_len) != GACP_OK)
		goto out;
	if (blob_len < CRYPTO_GCM_NONCE_LEN + CRYPTO_GCM_TAG_LEN)
		goto out;
	ct = blob + CRYPTO_GCM_NONCE_LEN;
	ct_len = blob_len - CRYPTO_GCM_NONCE_LEN - CRYPTO_GCM_TAG_LEN;
	tag = ct + ct_len;
	plain = xmalloc(ct_len + 1);
	aad_build(&a, key->kid, aad, naad);

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN,
	    CRYPTO_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key->bytes, blob) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)a.data,
	    (int)a.len) != 1) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "decrypt_failed",
		    "decryption failed");
		goto out;
	}
	outl = 0;
	if (ct_len > 0 &&
	    EVP_DecryptUpdate(ctx, plain, &outl, ct, (int)ct_len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN,
	    tag) != 1)
		goto out;
	/* The tag is checked here; any change to nonce, ciphertext, tag, kid
	 * or AAD lands in this branch, and the plaintext is discarded. */
	if (EVP_DecryptFinal_ex(ctx, plain + outl, &finl) != 1 ||
	    (size_t)outl + (size_t)finl != ct_len)
		goto out;

	plain[ct_len] = '\0';
	*plain_out = plain;
	*plain_len = ct_len;
	plain = NULL;
	gacp_err_clear(err);
	rc = GACP_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	buf_cleanup(&a);
	if (plain != NULL)
		crypto_secret_free(plain, ct_len + 1);
	if (blob != NULL)
		OPENSSL_cleanse(blob, blob_len);
	free(blob);
	return rc;
}

int
crypto_envelope_kid(const char *token, char kid_out[KEYRING_KID_MAX + 1])
{
	const char *kid, *body;
	size_t kid_len, body_len;

	kid_out[0] = '\0';
	if (envelope_split(token, &kid, &kid_len, &body, &body_len) != GACP_OK)
		return GACP_EINVAL;
	memcpy(kid_out, kid, kid_len);
	kid_out[kid_len] = '\0';
	return GACP_OK;
}

bool
crypto_envelope_needs_reseal(const struct keyring *kr, const char *token)
{
	const struct keyring_key *cur = keyring_current(kr);
	char kid[KEYRING_KID_MAX + 1];

	if (cur == NULL || crypto_envelope_kid(token, kid) != GACP_OK)
		return false;
	return strcmp(kid, cur->kid) != 0;
}

void
crypto_secret_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
