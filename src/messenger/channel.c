/* channel.c - channel lookups for webhooks, secret envelopes (channel.h). */
#include "messenger/channel.h"
#include "common/arena.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "security/crypto.h"
#include "store/db.h"

#include <stdio.h>
#include <string.h>

struct mx_channel_cache *
mx_channel_cache_new(int64_t ttl_us)
{
	struct mx_channel_cache *cc = xcalloc(1, sizeof(*cc));
	cc->ttl_us = ttl_us;
	return cc;
}

void
mx_channel_cache_free(struct mx_channel_cache *cc)
{
	if (cc == NULL)
		return;
	explicit_bzero(cc, sizeof(*cc));   /* decrypted secrets inside */
	free(cc);
}

static void
aad_parts(struct crypto_aad aad[4], const char *tenant_id,
    const char *channel_id, const char *field)
{
	aad[0].data = tenant_id;
	aad[0].len = strlen(tenant_id);
	aad[1].data = "channels";
	aad[1].len = 8;
	aad[2].data = channel_id;
	aad[2].len = strlen(channel_id);
	aad[3].data = field;
	aad[3].len = strlen(field);
}

int
mx_channel_seal(const struct keyring *kr, const char *tenant_id,
    const char *channel_id, const char *field, const char *plain, char **out,
    struct gacp_err *err)
{
	struct crypto_aad aad[4];

	if (kr == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "secret_unreadable",
		    "no master key configured (security.master_key_file)");
	aad_parts(aad, tenant_id, channel_id, field);
	return crypto_envelope_seal(kr, plain, strlen(plain), aad, 4, out, err);
}

int
mx_channel_open(const struct keyring *kr, struct arena *a,
    const char *tenant_id, const char *channel_id, const char *field,
    const char *token, char **out, struct gacp_err *err)
{
	struct crypto_aad aad[4];
	unsigned char *plain = NULL;
	size_t len = 0;
	int rc;

	if (kr == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "secret_unreadable",
		    "no master key configured (security.master_key_file)");
	aad_parts(aad, tenant_id, channel_id, field);
	rc = crypto_envelope_open(kr, token, aad, 4, &plain, &len, err);
	if (rc != GACP_OK)
		return rc;
	*out = arena_strndup(a, (const char *)plain, len);
	crypto_secret_free(plain, len);
	return GACP_OK;
}

static int
load(struct db *db, const struct keyring *kr, const char *page_id,
    struct mx_channel *out, struct gacp_err *err)
{
	struct arena a;
	PGresult *res;
	const char *params[1] = { page_id };
	unsigned char *plain = NULL;
	struct crypto_aad aad[4];
	size_t len = 0;
	int rc;

	arena_init(&a, 4096);
	rc = db_exec(db, &a, "SELECT tenant_id, id, app_secret_enc, status, "
	    "tenant_status FROM gacp_channel_by_page($1)", 1, params, &res, err);
	if (rc != GACP_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = gacp_err_set(err, GACP_ENOTFOUND, "unknown_page",
		    "no channel is connected for this page");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->page_id, sizeof(out->page_id), "%s", page_id);
	snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 1));
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 3));
	snprintf(out->tenant_status, sizeof(out->tenant_status), "%s",
	    PQgetvalue(res, 0, 4));
	if (kr == NULL) {
		rc = gacp_err_set(err, GACP_EINTERNAL, "secret_unreadable",
		    "no master key configured");
		goto out;
	}
	aad_parts(aad, out->tenant_id, out->id, "app_secret");
	rc = crypto_envelope_open(kr, PQgetvalue(res, 0, 2), aad, 4, &plain,
	    &len, err);
	if (rc != GACP_OK)
		goto out;
	if (len == 0 || len > sizeof(out->app_secret)) {
		rc = gacp_err_set(err, GACP_EINVAL, "secret_unreadable",
		    "channel app secret has an impossible length");
		goto out;
	}
	memcpy(out->app_secret, plain, len);
	out->app_secret_len = len;
out:
	crypto_secret_free(plain, len);
	arena_cleanup(&a);
	return rc;
}

int
mx_channel_by_page(struct mx_channel_cache *cc, struct db *db,
    const struct keyring *kr, const char *page_id, struct mx_channel *out,
    struct gacp_err *err)
{
	int64_t now = util_mono_us();
	size_t i, slot;
	int rc;

	for (i = 0; cc != NULL && i < MX_CHANNEL_CACHE_SIZE; i++) {
		if (cc->loaded_us[i] != 0 && now - cc->loaded_us[i] < cc->ttl_us &&
		    strcmp(cc->entries[i].page_id, page_id) == 0) {
			*out = cc->entries[i];
			return GACP_OK;
		}
	}
	if ((rc = load(db, kr, page_id, out, err)) != GACP_OK) {
		/* The database is down: what we knew an hour ago is still
		 * true (nobody can change a channel meanwhile), so keep
		 * accepting this page's webhooks rather than losing them
		 * to Facebook's retry budget. */
		for (i = 0; rc == GACP_EUNAVAIL && cc != NULL &&
		    i < MX_CHANNEL_CACHE_SIZE; i++) {
			if (cc->loaded_us[i] != 0 &&
			    now - cc->loaded_us[i] < MX_CHANNEL_STALE_MAX_US &&
			    strcmp(cc->entries[i].page_id, page_id) == 0) {
				*out = cc->entries[i];
				gacp_err_clear(err);
				return GACP_OK;
			}
		}
		return rc;
	}
	if (cc != NULL) {
		slot = cc->next;
		for (i = 0; i < MX_CHANNEL_CACHE_SIZE; i++) {
			if (cc->loaded_us[i] == 0 ||
			    strcmp(cc->entries[i].page_id, page_id) == 0) {
				slot = i;
				break;
			}
		}
		if (i == MX_CHANNEL_CACHE_SIZE)
			cc->next = (cc->next + 1) % MX_CHANNEL_CACHE_SIZE;
		cc->entries[slot] = *out;
		cc->loaded_us[slot] = now;
	}
	return GACP_OK;
}

int
mx_channel_by_verify_token(struct db *db, struct arena *a, const char *token,
    char tenant_id[37], char tenant_status[16], struct gacp_err *err)
{
	char hash[CRYPTO_SHA256_HEX_LEN + 1];
	const char *params[1] = { hash };
	PGresult *res;
	int rc;

	crypto_sha256_hex(token, strlen(token), hash);
	rc = db_exec(db, a, "SELECT tenant_id, tenant_status FROM "
	    "gacp_channel_by_verify_hash($1)", 1, params, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "verification_failed",
		    "verify token does not match any channel");
	snprintf(tenant_id, 37, "%s", PQgetvalue(res, 0, 0));
	snprintf(tenant_status, 16, "%s", PQgetvalue(res, 0, 1));
	return GACP_OK;
}
