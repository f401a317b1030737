/* channel.h - Messenger channels as the webhook and the worker need them.
 *
 * The webhook knows only a page id (or, for the subscription handshake, a
 * verify token) until the signature is checked, so the lookups go through
 * the narrow SECURITY DEFINER functions of sql/0005_messenger.sql.  App
 * secrets and page tokens are AES-256-GCM envelopes bound to tenant, table,
 * row and field (AAD), opened with the process's master keyring.
 *
 * struct mx_channel_cache keeps recent page lookups (decrypted secret
 * included) for a few seconds, so a burst of webhooks costs no database
 * round trip each; a suspension or secret change takes effect within the
 * TTL.  Owned by the per-process context; one process, no locking.
 *
 * While the database is unreachable, an entry past its TTL but younger
 * than MX_CHANNEL_STALE_MAX_US still answers (stale-if-error): webhooks
 * keep being verified and queued through a PostgreSQL outage (issue 9,
 * fault a), and nothing can change a channel meanwhile.
 */
#ifndef GACP_MESSENGER_CHANNEL_H
#define GACP_MESSENGER_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct arena;
struct db;
struct keyring;

#define MX_CHANNEL_CACHE_SIZE 64
#define MX_SECRET_MAX 256
#define MX_CHANNEL_STALE_MAX_US (3600LL * 1000000)

struct mx_channel {
	char    page_id[33];
	char    tenant_id[37];
	char    id[37];
	char    status[16];          /* active, needs_reauth, disabled */
	char    tenant_status[16];   /* active, suspended */
	unsigned char app_secret[MX_SECRET_MAX];
	size_t  app_secret_len;
};

struct mx_channel_cache {
	struct mx_channel entries[MX_CHANNEL_CACHE_SIZE];
	int64_t           loaded_us[MX_CHANNEL_CACHE_SIZE];  /* 0 = empty */
	int64_t           ttl_us;
	size_t            next;      /* round-robin replacement */
};

struct mx_channel_cache *mx_channel_cache_new(int64_t ttl_us);
void mx_channel_cache_free(struct mx_channel_cache *cc);

/* Channel serving page_id, from the cache or the database.  Errors:
 * GACP_ENOTFOUND ("unknown_page"), GACP_EUNAVAIL, or the envelope's
 * "secret_unreadable" (GACP_EINVAL / GACP_ENOTFOUND for an unknown key). */
int mx_channel_by_page(struct mx_channel_cache *cc, struct db *db,
    const struct keyring *kr, const char *page_id, struct mx_channel *out,
    struct gacp_err *err);
/* Tenant and status of the channel whose verify token is token. */
int mx_channel_by_verify_token(struct db *db, struct arena *a,
    const char *token, char tenant_id[37], char tenant_status[16],
    struct gacp_err *err);

/* Seal / open a channel secret (field: "app_secret", "page_access_token").
 * seal: *out is heap-allocated (free()).  open: *out is an arena string. */
int mx_channel_seal(const struct keyring *kr, const char *tenant_id,
    const char *channel_id, const char *field, const char *plain,
    char **out, struct gacp_err *err);
int mx_channel_open(const struct keyring *kr, struct arena *a,
    const char *tenant_id, const char *channel_id, const char *field,
    const char *token, char **out, struct gacp_err *err);

#endif
