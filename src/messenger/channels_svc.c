/* channels_svc.c - channels: validation, sealed secrets, status rules and audit (see channels_svc.h). */
#include "messenger/channels_svc.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/util.h"
#include "messenger/channel.h"
#include "messenger/channel_store.h"
#include "messenger/fields.h"
#include "security/crypto.h"
#include "tenancy/audit.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL_NAME_MAX      200
#define APP_SECRET_MIN        8
#define PAGE_TOKEN_MIN        16
#define PAGE_TOKEN_MAX        2048
#define VERIFY_TOKEN_MIN      8
#define VERIFY_TOKEN_MAX      256

/* The secrets of a request, as given (borrowed from the body). */
struct secrets {
	const char *app_secret;
	const char *page_token;
	const char *verify_token;
};

static int
record(struct svc *s, const char *action, const char *channel_id,
    struct json_object *d, struct gacp_err *err)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tenant_id = s->tenant_id;
	ev.action = action;
	ev.resource_type = "channel";
	ev.resource_id = channel_id;
	ev.details = d;
	return audit_record(s, &ev, err);
}

static bool
page_id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A secret: visible ASCII (it travels in URLs and HMAC keys as bytes),
 * min..max bytes.  Never echoed in an error message. */
static const char *
secret_field(struct svc *s, struct json_object *body, const char *field,
    size_t min, size_t max, bool required)
{
	const char *v = svc_body_str(s, body, field, max,
	    SVC_RAW | (required ? SVC_REQUIRED : 0));
	size_t i, n;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e) {
			svc_field_error(s, field, "invalid_characters",
			    "must be printable ASCII without spaces");
			return NULL;
		}
	if (n < min) {
		svc_field_error(s, field, "too_short",
		    "must be at least %zu characters", min);
		return NULL;
	}
	return v;
}

static void
read_secrets(struct svc *s, struct json_object *body, bool required,
    struct secrets *sec)
{
	sec->app_secret = secret_field(s, body, "app_secret", APP_SECRET_MIN,
	    MX_SECRET_MAX, required);
	sec->page_token = secret_field(s, body, "page_access_token",
	    PAGE_TOKEN_MIN, PAGE_TOKEN_MAX, required);
	sec->verify_token = secret_field(s, body, "verify_token",
	    VERIFY_TOKEN_MIN, VERIFY_TOKEN_MAX, required);
}

/* The REST channel has no page, app or verify token. */
static void
refuse_secrets(struct svc *s, struct secrets *sec)
{
	const char *given[3] = { sec->app_secret, sec->page_token,
	    sec->verify_token };
	static const char *const names[3] = { "app_secret",
	    "page_access_token", "verify_token" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (given[i] != NULL)
			svc_field_error(s, names[i], "not_applicable",
			    "the REST channel has no Messenger secrets");
	memset(sec, 0, sizeof(*sec));
}

/* Seal the given secrets for channel_id; *_enc are heap strings (free). */
static int
seal_secrets(struct svc *s, const char *channel_id, const struct secrets *sec,
    char **secret_enc, char **token_enc, struct gacp_err *err)
{
	int rc;

	*secret_enc = NULL;
	*token_enc = NULL;
	if (sec->app_secret != NULL && (rc = mx_channel_seal(s->app->master_keys,
	    s->tenant_id, channel_id, "app_secret", sec->app_secret,
	    secret_enc, err)) != GACP_OK)
		return rc;
	if (sec->page_token != NULL && (rc = mx_channel_seal(s->app->master_keys,
	    s->tenant_id, channel_id, "page_access_token", sec->page_token,
	    token_enc, err)) != GACP_OK)
		return rc;
	return GACP_OK;
}

/* The platform-wide unique keys, checked before writing so the answer
 * can say which one clashed (the unique indexes stay the real guard). */
static int
check_unique(struct svc *s, const char *page_id, const char *verify_hash,
    const char *except_id, struct gacp_err *err)
{
	bool taken = false;
	int rc;

	if (page_id != NULL) {
		if ((rc = channel_store_page_taken(&s->app->db, s->a, page_id,
		    &taken, err)) != GACP_OK)
			return rc;
		if (taken)
			return gacp_err_set(err, GACP_ECONFLICT, "page_id_taken",
			    "this page is already connected to a channel");
	}
	if (verify_hash != NULL) {
		if ((rc = channel_store_verify_taken(&s->app->db, s->a,
		    verify_hash, except_id, &taken, err)) != GACP_OK)
			return rc;
		if (taken)
			return gacp_err_set(err, GACP_ECONFLICT,
			    "verify_token_taken",
			    "another channel uses this verify token; choose "
			    "another");
	}
	return GACP_OK;
}

static int
get_valid(struct svc *s, const char *id, struct channel_row **out,
    struct gacp_err *err)
{
	char cid[TENANCY_UUID_LEN + 1];

	if (id == NULL || !tenancy_uuid_norm(id, cid))
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such channel");
	return channel_store_get(&s->app->db, s->a, cid, out, err);
}

int
channels_create(struct svc *s, struct json_object *body,
    struct channel_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "type", "name", "page_id",
	    "app_secret", "page_access_token", "verify_token", "metadata",
	    NULL };
	struct channel_new in;
	struct secrets sec;
	struct json_object *d;
	char id[37], hash[65];
	char *secret_enc = NULL, *token_enc = NULL;
	const char *type;
	int rc;

	memset(&in, 0, sizeof(in));
	svc_body_only(s, body, allowed);
	type = svc_body_str(s, body, "type", 16, 0);
	if (type != NULL && strcmp(type, "messenger") != 0)
		svc_field_error(s, "type", "invalid_value", "only messenger "
		    "channels are created here (the REST channel is made by "
		    "its first message)");
	in.name = svc_body_str(s, body, "name", CHANNEL_NAME_MAX, SVC_REQUIRED);
	in.page_id = svc_body_str(s, body, "page_id", 32, SVC_REQUIRED | SVC_RAW);
	if (in.page_id != NULL && !page_id_ok(in.page_id))
		svc_field_error(s, "page_id", "invalid_format",
		    "must be the page's numeric id (1 to 32 digits)");
	read_secrets(s, body, true, &sec);
	in.metadata = mx_field_metadata(s, body, "metadata");
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	crypto_sha256_hex(sec.verify_token, strlen(sec.verify_token), hash);
	if ((rc = check_unique(s, in.page_id, hash, NULL, err)) != GACP_OK)
		return rc;
	util_uuid_v4(id);
	if ((rc = seal_secrets(s, id, &sec, &secret_enc, &token_enc, err)) !=
	    GACP_OK)
		goto out;
	in.id = id;
	in.app_secret_enc = secret_enc;
	in.page_token_enc = token_enc;
	in.verify_token_hash = hash;
	if ((rc = channel_store_insert(&s->app->db, s->a, s->tenant_id, &in,
	    svc_actor_uuid(s), out, err)) != GACP_OK)
		goto out;
	d = svc_details(s);
	json_object_object_add(d, "name", json_object_new_string(in.name));
	json_object_object_add(d, "page_id", json_object_new_string(in.page_id));
	rc = record(s, "channel.create", (*out)->id, d, err);
out:
	free(secret_enc);
	free(token_enc);
	return rc;
}

int
channels_list(struct svc *s, const char *status, const struct page *pg,
    struct channel_row **rows, size_t *n, char **next_cursor,
    struct gacp_err *err)
{
	static const char *const statuses[] = { "active", "needs_reauth",
	    "disabled", NULL };
	int rc;

	*next_cursor = NULL;
	mx_field_one_of(s, "status", status, statuses);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	rc = channel_store_list(&s->app->db, s->a, status, pg->after_us,
	    pg->after_us < 0 ? NULL : pg->after_id, pg->limit, rows, n, err);
	if (rc == GACP_OK && *n == (size_t)pg->limit)
		*next_cursor = svc_cursor_key(s, (*rows)[*n - 1].created_us,
		    (*rows)[*n - 1].id);
	return rc;
}

int
channels_get(struct svc *s, const char *id, struct channel_row **out,
    struct gacp_err *err)
{
	return get_valid(s, id, out, err);
}

/* The status the update leaves, or NULL (unchanged); records field
 * errors for transitions a client may not make. */
static const char *
next_status(struct svc *s, const struct channel_row *cur, const char *asked,
    const struct secrets *sec)
{
	static const char *const settable[] = { "active", "disabled", NULL };

	if (asked != NULL && strcmp(asked, "needs_reauth") == 0) {
		svc_field_error(s, "status", "not_settable", "needs_reauth is "
		    "set when Facebook refuses the page token");
		return NULL;
	}
	if (!mx_field_one_of(s, "status", asked, settable))
		return NULL;
	if (strcmp(cur->status, "needs_reauth") == 0 && sec->page_token == NULL &&
	    asked != NULL && strcmp(asked, "active") == 0) {
		svc_field_error(s, "status", "reauth_required", "give a new "
		    "page_access_token to re-activate this channel");
		return NULL;
	}
	/* A new page token is the re-authorisation itself. */
	if (asked == NULL && sec->page_token != NULL &&
	    strcmp(cur->status, "needs_reauth") == 0)
		return "active";
	return asked;
}

int
channels_update(struct svc *s, const char *id, struct json_object *body,
    struct channel_row **out, struct gacp_err *err)
{
	static const char *const allowed[] = { "version", "name", "status",
	    "app_secret", "page_access_token", "verify_token", "metadata",
	    NULL };
	struct channel_row *cur;
	struct channel_patch patch;
	struct secrets sec;
	struct json_object *d, *changed;
	char hash[65];
	char *secret_enc = NULL, *token_enc = NULL;
	const char *asked;
	int64_t version = 0;
	int rc;

	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	memset(&patch, 0, sizeof(patch));
	svc_body_only(s, body, allowed);
	svc_body_version(s, body, &version);
	patch.name = svc_body_str(s, body, "name", CHANNEL_NAME_MAX, 0);
	asked = svc_body_str(s, body, "status", 16, 0);
	read_secrets(s, body, false, &sec);
	if (strcmp(cur->type, "messenger") != 0)
		refuse_secrets(s, &sec);
	patch.metadata = mx_field_metadata(s, body, "metadata");
	patch.status = next_status(s, cur, asked, &sec);
	if ((rc = svc_check_fields(s, err)) != GACP_OK)
		return rc;
	if (sec.verify_token != NULL) {
		crypto_sha256_hex(sec.verify_token, strlen(sec.verify_token),
		    hash);
		patch.verify_token_hash = hash;
		if ((rc = check_unique(s, NULL, hash, cur->id, err)) != GACP_OK)
			return rc;
	}
	if ((rc = seal_secrets(s, cur->id, &sec, &secret_enc, &token_enc,
	    err)) != GACP_OK)
		goto out;
	patch.app_secret_enc = secret_enc;
	patch.page_token_enc = token_enc;
	patch.clear_last_error = sec.page_token != NULL;
	if ((rc = channel_store_update(&s->app->db, s->a, cur->id, version,
	    &patch, svc_actor_uuid(s), out, err)) != GACP_OK)
		goto out;
	d = svc_details(s);
	changed = json_object_new_array();
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "version") != 0)
			json_object_array_add(changed, json_object_new_string(key));
	}
	json_object_object_add(d, "changed", changed);
	if (strcmp(cur->status, (*out)->status) != 0) {
		json_object_object_add(d, "status_from",
		    json_object_new_string(cur->status));
		json_object_object_add(d, "status",
		    json_object_new_string((*out)->status));
	}
	rc = record(s, "channel.update", cur->id, d, err);
out:
	free(secret_enc);
	free(token_enc);
	return rc;
}

int
channels_delete(struct svc *s, const char *id, const char *version,
    struct gacp_err *err)
{
	struct channel_row *cur;
	struct json_object *d;
	int64_t ver;
	int rc;

	if ((rc = get_valid(s, id, &cur, err)) != GACP_OK)
		return rc;
	if ((rc = svc_version_param(s, version, &ver, err)) != GACP_OK)
		return rc;
	if ((rc = channel_store_delete(&s->app->db, s->a, cur->id, ver,
	    svc_actor_uuid(s), err)) != GACP_OK)
		return rc;
	d = svc_details(s);
	json_object_object_add(d, "name", json_object_new_string(cur->name));
	json_object_object_add(d, "type", json_object_new_string(cur->type));
	if (cur->page_id != NULL)
		json_object_object_add(d, "page_id",
		    json_object_new_string(cur->page_id));
	return record(s, "channel.delete", cur->id, d, err);
}

static struct json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *
stored_json(const char *text, bool null_if_absent)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	if (o == NULL && !null_if_absent)
		o = json_object_new_object();
	return o;
}

struct json_object *
channels_render(const struct channel_row *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", str_or_null(c->id));
	json_object_object_add(o, "type", str_or_null(c->type));
	json_object_object_add(o, "name", str_or_null(c->name));
	json_object_object_add(o, "page_id", str_or_null(c->page_id));
	json_object_object_add(o, "status", str_or_null(c->status));
	json_object_object_add(o, "last_error", stored_json(c->last_error, true));
	json_object_object_add(o, "metadata", stored_json(c->metadata, false));
	json_object_object_add(o, "created_at", str_or_null(c->created_at));
	json_object_object_add(o, "updated_at", str_or_null(c->updated_at));
	json_object_object_add(o, "version", json_object_new_int64(c->version));
	return o;
}
