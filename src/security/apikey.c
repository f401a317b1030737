/* apikey.c - generating, validating and hashing API keys. */
#include "security/apikey.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static bool	is_lower_hex(const char *s, size_t len);

static bool
is_lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
apikey_generate(struct apikey_generated *out, struct gacp_err *err)
{
	unsigned char prefix_raw[APIKEY_PREFIX_LEN / 2];
	unsigned char secret[APIKEY_SECRET_BYTES];
	char secret_b64[APIKEY_SECRET_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	/* Prefix and secret are independent draws: the public prefix says
	 * nothing about the secret. */
	if ((rc = crypto_random_bytes(prefix_raw, sizeof(prefix_raw), err)) !=
	    GACP_OK ||
	    (rc = crypto_random_bytes(secret, sizeof(secret), err)) != GACP_OK)
		goto out;
	crypto_hex_encode(prefix_raw, sizeof(prefix_raw), out->prefix);
	if (crypto_base64_encode(CRYPTO_B64_URL, secret, sizeof(secret),
	    secret_b64, sizeof(secret_b64)) != GACP_OK) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "apikey_failed",
		    "cannot encode the key");
		goto out;
	}
	snprintf(out->key, sizeof(out->key), "%s%s_%s", APIKEY_TAG, out->prefix,
	    secret_b64);
	crypto_sha256_hex(out->key, APIKEY_LEN, out->hash_hex);
	rc = GACP_OK;
out:
	if (rc != GACP_OK)
		apikey_generated_wipe(out);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(secret_b64, sizeof(secret_b64));
	return rc;
}

void
apikey_generated_wipe(struct apikey_generated *g)
{
	if (g != NULL)
		OPENSSL_cleanse(g, sizeof(*g));
}

int
apikey_parse(const char *key, size_t len, struct apikey_presented *out,
    struct gacp_err *err)
{
	unsigned char secret[APIKEY_SECRET_BYTES];
	const char *prefix, *b64;
	size_t secret_len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gacp_err_set(err, GACP_EAUTH, "invalid_api_key",
	    "the API key is not valid");
	if (key == NULL || len != APIKEY_LEN ||
	    memcmp(key, APIKEY_TAG, APIKEY_TAG_LEN) != 0)
		goto out;
	prefix = key + APIKEY_TAG_LEN;
	if (!is_lower_hex(prefix, APIKEY_PREFIX_LEN) ||
	    prefix[APIKEY_PREFIX_LEN] != '_')
		goto out;
	b64 = prefix + APIKEY_PREFIX_LEN + 1;
	/* The strict decoder rejects other characters, padding and
	 * non-canonical last characters: a key has one spelling. */
	if (crypto_base64_decode(CRYPTO_B64_URL, b64, APIKEY_SECRET_LEN, secret,
	    sizeof(secret), &secret_len) != GACP_OK ||
	    secret_len != APIKEY_SECRET_BYTES)
		goto out;

	memcpy(out->prefix, prefix, APIKEY_PREFIX_LEN);
	out->prefix[APIKEY_PREFIX_LEN] = '\0';
	crypto_sha256_hex(key, APIKEY_LEN, out->hash_hex);
	gacp_err_clear(err);
	rc = GACP_OK;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

bool
apikey_hash_equal(const char *a_hex, const char *b_hex)
{
	if (a_hex == NULL || b_hex == NULL ||
	    strnlen(a_hex, APIKEY_HASH_HEX_LEN + 1) != APIKEY_HASH_HEX_LEN ||
	    strnlen(b_hex, APIKEY_HASH_HEX_LEN + 1) != APIKEY_HASH_HEX_LEN ||
	    !is_lower_hex(a_hex, APIKEY_HASH_HEX_LEN) ||
	    !is_lower_hex(b_hex, APIKEY_HASH_HEX_LEN))
		return false;
	return crypto_ct_equal(a_hex, b_hex, APIKEY_HASH_HEX_LEN);
}
