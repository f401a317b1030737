/* test_security_crypto.c - unit tests of codecs, hashes, HMAC check and the AES-GCM envelope (security/crypto.c). */
#include "tests.h"
#include "security/crypto.h"
#include "security/keyring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct keyring *
test_keyring(void)
{
	unsigned char k1[32], k2[32];
	struct keyring *kr = keyring_new(32, 32);

	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k1", k1, 32, true, 0, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k2", k2, 32, false, 0, NULL), 0);
	return kr;
}

static void
test_base64_vectors(void)
{
	/* RFC 4648 §10. */
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	unsigned char dec[16];
	char enc[16];
	size_t i, n;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_STD, plain[i],
		    strlen(plain[i]), enc, sizeof(enc)), 0);
		CU_ASSERT_STRING_EQUAL(enc, std[i]);
		CU_ASSERT_EQUAL(strlen(enc), crypto_base64_encoded_len(CRYPTO_B64_STD, strlen(plain[i])));
		CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_URL, plain[i],
		    strlen(plain[i]), enc, sizeof(enc)), 0);
		CU_ASSERT_STRING_EQUAL(enc, url[i]);
		CU_ASSERT_EQUAL(strlen(enc), crypto_base64_encoded_len(CRYPTO_B64_URL, strlen(plain[i])));

		CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_STD, std[i],
		    strlen(std[i]), dec, sizeof(dec), &n), 0);
		CU_ASSERT(n == strlen(plain[i]) && memcmp(dec, plain[i], n) == 0);
		CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_URL, url[i],
		    strlen(url[i]), dec, sizeof(dec), &n), 0);
		CU_ASSERT(n == strlen(plain[i]) && memcmp(dec, plain[i], n) == 0);
	}
}

static void
test_base64_alphabets(void)
{
	static const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
	unsigned char dec[8];
	char enc[8];
	size_t n;

	CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_STD, bytes, 2, enc, sizeof(enc)), 0);
	CU_ASSERT_STRING_EQUAL(enc, "+/8=");
	CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_URL, bytes, 2, enc, sizeof(enc)), 0);
	CU_ASSERT_STRING_EQUAL(enc, "-_8");
	CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_URL, bytes, 3, enc, sizeof(enc)), 0);
	CU_ASSERT_STRING_EQUAL(enc, "-_-_");
	/* Each alphabet refuses the other's characters. */
	CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_STD, "-_8=", 4, dec, sizeof(dec), &n), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_URL, "+/8", 3, dec, sizeof(dec), &n), GACP_EINVAL);
}

static void
test_base64_roundtrip(void)
{
	unsigned char in[100], dec[104];
	char enc[140];
	size_t len, n;
	int v;

	for (len = 0; len <= sizeof(in); len++) {
		CU_ASSERT_EQUAL_FATAL(crypto_random_bytes(in, len, NULL), 0);
		for (v = CRYPTO_B64_STD; v <= CRYPTO_B64_URL; v++) {
			CU_ASSERT_EQUAL(crypto_base64_encode((enum crypto_b64)v, in, len, enc, sizeof(enc)), 0);
			CU_ASSERT(crypto_base64_decoded_max(strlen(enc)) >= len);
			CU_ASSERT_EQUAL(crypto_base64_decode((enum crypto_b64)v, enc, strlen(enc),
			    dec, sizeof(dec), &n), 0);
			CU_ASSERT(n == len && memcmp(in, dec, len) == 0);
		}
	}
}

static void
test_base64_rejects(void)
{
	static const char *bad_std[] = {
		"Zg=",          /* length not a multiple of 4 */
		"Zg",           /* missing padding */
		"Zm9v!A==",     /* bad character */
		"Zm9v Yg==",    /* whitespace */
		"Zm9v\nYg==",
		"Zg==Zg==",     /* padding in the middle */
		"Z===",         /* too much padding */
		"====",
		"Zh==",         /* non-canonical: unused bits set */
		"Zm9=",
	};
	static const char *bad_url[] = {
		"Zg==",         /* padding is not allowed */
		"Z",            /* one character cannot encode a byte */
		"Zm9vY",
		"Zh",           /* non-canonical */
		"Zm9",
		"Zm.v",
		"Zm+v",
	};
	unsigned char dec[16];
	char enc[4];
	size_t i, n;

	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_STD, bad_std[i],
		    strlen(bad_std[i]), dec, sizeof(dec), &n), GACP_EINVAL);
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
		CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_URL, bad_url[i],
		    strlen(bad_url[i]), dec, sizeof(dec), &n), GACP_EINVAL);
	/* An embedded NUL is outside every alphabet. */
	CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_URL, "Zm\0v", 4, dec, sizeof(dec), &n), GACP_EINVAL);
	/* Bounded: the output buffer is never overrun. */
	CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_STD, "Zm9vYmFy", 8, dec, 5, &n), GACP_ETOOBIG);
	CU_ASSERT_EQUAL(crypto_base64_decode(CRYPTO_B64_STD, "Zm9vYmFy", 8, dec, 6, &n), 0);
	CU_ASSERT_EQUAL(crypto_base64_encode(CRYPTO_B64_STD, "foo", 3, enc, sizeof(enc)), GACP_ETOOBIG);
	CU_ASSERT_STRING_EQUAL(enc, "");
}

static void
test_hex(void)
{
	static const unsigned char bytes[] = { 0x00, 0x7f, 0xab, 0xff };
	unsigned char dec[4];
	char enc[9];
	size_t n;

	crypto_hex_encode(bytes, sizeof(bytes), enc);
	CU_ASSERT_STRING_EQUAL(enc, "007fabff");
	CU_ASSERT_EQUAL(crypto_hex_decode("007FABff", 8, dec, sizeof(dec), &n), 0);
	CU_ASSERT(n == 4 && memcmp(dec, bytes, 4) == 0);
	CU_ASSERT_EQUAL(crypto_hex_decode("007", 3, dec, sizeof(dec), &n), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_hex_decode("0g", 2, dec, sizeof(dec), &n), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_hex_decode(" 0", 2, dec, sizeof(dec), &n), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_hex_decode("0011223344", 10, dec, sizeof(dec), &n), GACP_ETOOBIG);
}

static void
test_sha256_and_hmac_vectors(void)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char hex[CRYPTO_SHA256_HEX_LEN + 1];

	/* FIPS 180-2 examples. */
	crypto_sha256_hex("abc", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* RFC 4231 test case 2. */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	crypto_hex_encode(mac, sizeof(mac), hex);
	CU_ASSERT_STRING_EQUAL(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	{
		/* RFC 4231 test case 1 (20-byte key), test case 6 (a key
		 * longer than the block is hashed first) and case 7 (both
		 * long); and an empty key, which is padded as zeros. */
		static const char data7[] = "This is a test using a larger "
		    "than block-size key and a larger than block-size data. "
		    "The key needs to be hashed before being used by the HMAC "
		    "algorithm.";
		unsigned char key[131];

		memset(key, 0x0b, 20);
		crypto_hmac_sha256(key, 20, "Hi There", 8, mac);
		crypto_hex_encode(mac, sizeof(mac), hex);
		CU_ASSERT_STRING_EQUAL(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
		memset(key, 0xaa, sizeof(key));
		crypto_hmac_sha256(key, sizeof(key),
		    "Test Using Larger Than Block-Size Key - Hash Key First",
		    54, mac);
		crypto_hex_encode(mac, sizeof(mac), hex);
		CU_ASSERT_STRING_EQUAL(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
		crypto_hmac_sha256(key, sizeof(key), data7, strlen(data7), mac);
		crypto_hex_encode(mac, sizeof(mac), hex);
		CU_ASSERT_STRING_EQUAL(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
		crypto_hmac_sha256(NULL, 0, "", 0, mac);
		crypto_hex_encode(mac, sizeof(mac), hex);
		CU_ASSERT_STRING_EQUAL(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
		/* A key of exactly one block is used as it is. */
		crypto_hmac_sha256(key, 64, "x", 1, mac);
		crypto_hex_encode(mac, sizeof(mac), hex);
		CU_ASSERT_STRING_EQUAL(hex, "ce3c639dcb9d8baae5d44c3b8b5e233faab4d1860e07489af5c84f213998bd79");
	}
}

static void
test_hmac_header_verify(void)
{
	static const char secret[] = "app-secret-0123456789";
	static const char body[] = "{\"object\":\"page\",\"entry\":[]}";
	unsigned char mac[CRYPTO_SHA256_LEN];
	char header[7 + CRYPTO_SHA256_HEX_LEN + 2], upper[sizeof(header)];
	struct gacp_err err;
	size_t i;

	crypto_hmac_sha256(secret, strlen(secret), body, strlen(body), mac);
	strcpy(header, "sha256=");
	crypto_hex_encode(mac, sizeof(mac), header + 7);

	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), header, &err), 0);
	/* Hex digits of either case. */
	strcpy(upper, header);
	for (i = 7; upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), 0);

	/* Missing header: 401 material. */
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), NULL, &err), GACP_EAUTH);
	CU_ASSERT_STRING_EQUAL(err.code, "missing_signature");
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), "", &err), GACP_EAUTH);

	/* Wrong body, secret, prefix, length, characters, one flipped bit. */
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body) - 1, header, &err), GACP_EFORBIDDEN);
	CU_ASSERT_STRING_EQUAL(err.code, "bad_signature");
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify("other", 5, body,
	    strlen(body), header, &err), GACP_EFORBIDDEN);
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), header + 7, &err), GACP_EFORBIDDEN);
	memcpy(upper, "sha1=", 5);
	strcpy(upper + 5, header + 7);
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), GACP_EFORBIDDEN);
	strcpy(upper, header);
	upper[strlen(upper) - 1] = '\0';
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), GACP_EFORBIDDEN);
	strcpy(upper, header);
	strcat(upper, "0");
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), GACP_EFORBIDDEN);
	strcpy(upper, header);
	upper[10] = 'g';
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), GACP_EFORBIDDEN);
	strcpy(upper, header);
	upper[strlen(upper) - 1] ^= 0x01;
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify(secret, strlen(secret), body,
	    strlen(body), upper, &err), GACP_EFORBIDDEN);
	/* No secret configured is a server problem, not a match. */
	CU_ASSERT_EQUAL(crypto_hmac_sha256_hex_verify("", 0, body,
	    strlen(body), header, &err), GACP_EINVAL);
}

static void
test_ct_equal_and_random(void)
{
	unsigned char a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CU_ASSERT_TRUE(crypto_ct_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	CU_ASSERT_FALSE(crypto_ct_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	b[31] ^= 0x80;
	CU_ASSERT_FALSE(crypto_ct_equal(a, b, sizeof(a)));
	CU_ASSERT_TRUE(crypto_ct_equal(a, b, 31));
	CU_ASSERT_TRUE(crypto_ct_equal(a, b, 0));

	CU_ASSERT_EQUAL(crypto_random_bytes(a, sizeof(a), NULL), 0);
	CU_ASSERT_EQUAL(crypto_random_bytes(b, sizeof(b), NULL), 0);
	CU_ASSERT_FALSE(crypto_ct_equal(a, b, sizeof(a)));
	CU_ASSERT_EQUAL(crypto_random_bytes(a, 0, NULL), 0);
}

static const struct crypto_aad aad_a[] = {
	{ "tenant-a", 8 }, { "config:smtp_password", 20 },
};

static void
test_envelope_roundtrip(void)
{
	struct keyring *kr = test_keyring();
	static const unsigned char binary[] = { 0, 1, 2, 0, 255 };
	unsigned char *plain = NULL;
	char *t1 = NULL, *t2 = NULL;
	struct gacp_err err;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "hunter2", 7, aad_a, 2, &t1, &err), 0);
	CU_ASSERT_EQUAL(strncmp(t1, "v1.k1.", 6), 0);
	CU_ASSERT_PTR_NULL(strstr(t1, "hunter2"));
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t1, aad_a, 2, &plain, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_STRING_EQUAL((char *)plain, "hunter2");
	crypto_secret_free(plain, n);

	/* Random nonce: the same secret seals differently every time. */
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "hunter2", 7, aad_a, 2, &t2, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(t1, t2);
	free(t1);
	free(t2);

	/* Empty and binary plaintexts, no AAD. */
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, NULL, 0, NULL, 0, &t1, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t1, NULL, 0, &plain, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_STRING_EQUAL((char *)plain, "");
	crypto_secret_free(plain, n);
	free(t1);
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, binary, sizeof(binary), aad_a, 2, &t1, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t1, aad_a, 2, &plain, &n, &err), 0);
	CU_ASSERT(n == sizeof(binary) && memcmp(plain, binary, n) == 0);
	crypto_secret_free(plain, n);
	free(t1);
	keyring_free(kr);
}

/* Flip one bit at byte offset off of the decoded blob and re-encode. */
static char *
tamper(const char *token, size_t off)
{
	const char *body = strchr(token + 3, '.') + 1;
	unsigned char blob[256];
	size_t n;
	char *b64, *out;

	CU_ASSERT_EQUAL_FATAL(crypto_base64_decode(CRYPTO_B64_URL, body, strlen(body),
	    blob, sizeof(blob), &n), 0);
	CU_ASSERT_FATAL(off < n);
	blob[off] ^= 0x01;
	b64 = crypto_base64_encode_alloc(CRYPTO_B64_URL, blob, n);
	out = malloc((size_t)(body - token) + strlen(b64) + 1);
	memcpy(out, token, (size_t)(body - token));
	strcpy(out + (body - token), b64);
	free(b64);
	return out;
}

static void
test_envelope_tampered(void)
{
	struct keyring *kr = test_keyring();
	size_t offsets[] = { 0, 11, 12, 20, 12 + 10 + 0, 12 + 10 + 15 };
	unsigned char *plain = NULL;
	struct gacp_err err;
	char *t, *bad;
	size_t i, n;

	/* 12 nonce + 10 ciphertext + 16 tag bytes. */
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "0123456789", 10, aad_a, 2, &t, &err), 0);
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		bad = tamper(t, offsets[i]);
		CU_ASSERT_EQUAL(crypto_envelope_open(kr, bad, aad_a, 2, &plain, &n, &err), GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
		CU_ASSERT_PTR_NULL(plain);
		CU_ASSERT_EQUAL(n, 0);
		free(bad);
	}
	/* Truncated (tag cut off) and extended tokens. */
	bad = strdup(t);
	bad[strlen(bad) - 4] = '\0';
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, bad, aad_a, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
	free(bad);
	bad = malloc(strlen(t) + 5);
	sprintf(bad, "%sAAAA", t);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, bad, aad_a, 2, &plain, &n, &err), GACP_EINVAL);
	free(bad);
	/* Relabelled to the other key of the ring: the kid is authenticated. */
	bad = strdup(t);
	bad[4] = '2';
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, bad, aad_a, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
	free(bad);
	free(t);
	keyring_free(kr);
}

static void
test_envelope_moved_aad(void)
{
	static const struct crypto_aad other_tenant[] = {
		{ "tenant-b", 8 }, { "config:smtp_password", 20 },
	};
	static const struct crypto_aad other_row[] = {
		{ "tenant-a", 8 }, { "config:api_password", 19 },
	};
	/* Same bytes, split differently: the length prefixes tell them apart. */
	static const struct crypto_aad resplit[] = {
		{ "tenant-ac", 9 }, { "onfig:smtp_password", 19 },
	};
	static const struct crypto_aad swapped[] = {
		{ "config:smtp_password", 20 }, { "tenant-a", 8 },
	};
	struct keyring *kr = test_keyring();
	unsigned char *plain = NULL;
	struct gacp_err err;
	size_t n;
	char *t;

	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "s3cret", 6, aad_a, 2, &t, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, other_tenant, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, other_row, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, resplit, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, swapped, 2, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, aad_a, 1, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, NULL, 0, &plain, &n, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
	CU_ASSERT_PTR_NULL(plain);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, aad_a, 2, &plain, &n, &err), 0);
	crypto_secret_free(plain, n);
	free(t);
	keyring_free(kr);
}

static void
test_envelope_malformed_and_unknown_kid(void)
{
	static const char *bad[] = {
		"", "v1", "v1.", "v1.k1", "v1.k1.", "v2.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"v1.k!1.AAAA", "v1.k1.AAAA", "v1.k1.!!!!", "V1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
		"v1.abcdefghijklmnopqrstuvwxyz0123456.AAAA",
	};
	struct keyring *kr = test_keyring();
	unsigned char *plain = NULL;
	struct gacp_err err;
	size_t i, n;
	char *t, *moved;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(crypto_envelope_open(kr, bad[i], NULL, 0, &plain, &n, &err), GACP_EINVAL);
		CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_UNREADABLE);
	}
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, NULL, NULL, 0, &plain, &n, &err), GACP_EINVAL);

	/* A kid the keyring does not hold: a distinct, operator-facing code. */
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "x", 1, NULL, 0, &t, &err), 0);
	moved = strdup(t);
	moved[4] = '9';
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, moved, NULL, 0, &plain, &n, &err), GACP_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(err.code, CRYPTO_ERR_KEY_UNKNOWN);
	free(moved);
	free(t);
	keyring_free(kr);
}

static void
test_envelope_rotation(void)
{
	struct keyring *kr = test_keyring();
	unsigned char k3[32], *plain = NULL;
	char kid[KEYRING_KID_MAX + 1], *old = NULL, *fresh = NULL;
	struct gacp_err err;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "v", 1, aad_a, 2, &old, &err), 0);
	CU_ASSERT_FALSE(crypto_envelope_needs_reseal(kr, old));
	memset(k3, 0x33, sizeof(k3));
	CU_ASSERT_EQUAL_FATAL(keyring_add(kr, "k3", k3, 32, true, 0, &err), 0);
	/* Old values stay readable under the old key until re-sealed. */
	CU_ASSERT_TRUE(crypto_envelope_needs_reseal(kr, old));
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, old, aad_a, 2, &plain, &n, &err), 0);
	crypto_secret_free(plain, n);
	CU_ASSERT_EQUAL_FATAL(crypto_envelope_seal(kr, "v", 1, aad_a, 2, &fresh, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_kid(fresh, kid), 0);
	CU_ASSERT_STRING_EQUAL(kid, "k3");
	CU_ASSERT_FALSE(crypto_envelope_needs_reseal(kr, fresh));
	CU_ASSERT_EQUAL(crypto_envelope_kid(old, kid), 0);
	CU_ASSERT_STRING_EQUAL(kid, "k1");
	CU_ASSERT_EQUAL(crypto_envelope_kid("garbage", kid), GACP_EINVAL);
	CU_ASSERT_FALSE(crypto_envelope_needs_reseal(kr, "garbage"));
	free(old);
	free(fresh);
	keyring_free(kr);
}

static void
test_envelope_limits(void)
{
	struct keyring *kr = test_keyring(), *wide = keyring_new(32, 64);
	static const struct crypto_aad many[CRYPTO_AAD_MAX_PARTS + 1];
	unsigned char key[64] = { 1 };
	struct gacp_err err;
	char *big, *t = NULL;

	big = calloc(1, CRYPTO_ENVELOPE_MAX_PLAIN + 1);
	CU_ASSERT_EQUAL(crypto_envelope_seal(kr, big, CRYPTO_ENVELOPE_MAX_PLAIN + 1,
	    NULL, 0, &t, &err), GACP_ETOOBIG);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(crypto_envelope_seal(kr, "x", 1, many,
	    CRYPTO_AAD_MAX_PARTS + 1, &t, &err), GACP_EINVAL);
	free(big);
	/* A key that is not 256 bits never encrypts. */
	CU_ASSERT_EQUAL_FATAL(keyring_add(wide, "w", key, 64, true, 0, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_seal(wide, "x", 1, NULL, 0, &t, &err), GACP_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.code, "invalid_key");
	keyring_free(wide);
	keyring_free(kr);
}

static void
test_keyfile_generate(void)
{
	char dir[] = "/tmp/gacp-crypto-XXXXXX", path[64];
	struct keyring *kr = NULL;
	unsigned char *plain = NULL;
	struct gacp_err err;
	struct stat st;
	char *t = NULL;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	CU_ASSERT_EQUAL_FATAL(crypto_keyfile_generate(path, &err), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(crypto_keyring_load(path, &kr, &err), 0);
	CU_ASSERT_EQUAL(kr->nkeys, 1);
	CU_ASSERT_EQUAL(keyring_current(kr)->len, 32);
	CU_ASSERT_EQUAL(crypto_envelope_seal(kr, "abc", 3, aad_a, 2, &t, &err), 0);
	CU_ASSERT_EQUAL(crypto_envelope_open(kr, t, aad_a, 2, &plain, &n, &err), 0);
	crypto_secret_free(plain, n);
	free(t);
	/* Never overwrites an existing key file. */
	CU_ASSERT_EQUAL(crypto_keyfile_generate(path, &err), GACP_ECONFLICT);
	keyring_free(kr);
	unlink(path);
	rmdir(dir);
}

static const struct test_case cases[] = {
	{ "base64 RFC 4648 vectors", test_base64_vectors },
	{ "base64 alphabets", test_base64_alphabets },
	{ "base64 round trip 0..100 bytes", test_base64_roundtrip },
	{ "base64 strict rejects", test_base64_rejects },
	{ "hex", test_hex },
	{ "sha256 and hmac vectors", test_sha256_and_hmac_vectors },
	{ "X-Hub-Signature-256 verify", test_hmac_header_verify },
	{ "constant-time equal and random", test_ct_equal_and_random },
	{ "envelope round trip", test_envelope_roundtrip },
	{ "envelope tampered ciphertext", test_envelope_tampered },
	{ "envelope moved AAD", test_envelope_moved_aad },
	{ "envelope malformed and unknown kid", test_envelope_malformed_and_unknown_kid },
	{ "envelope key rotation", test_envelope_rotation },
	{ "envelope limits", test_envelope_limits },
	{ "key file generate", test_keyfile_generate },
	{ NULL, NULL }
};

void
test_security_crypto_register(void)
{
	tests_add_suite("security_crypto", cases);
}
