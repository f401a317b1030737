/* conversation_store.c - SQL for conversations and messages (see conversation_store.h). */
#include "messenger/conversation_store.h"
#include "common/arena.h"
#include "store/db.h"
#include "store/pgrow.h"
#include "store/store_util.h"

#include <stdio.h>
#include <string.h>

/* A conversation with its contact and channel (v, ct, ch). */
#define CONV_COLS \
	"v.id::text, v.channel_id::text, ch.type," \
	" CASE WHEN ch.is_deleted THEN 'removed' ELSE ch.status END," \
	" ch.page_id, v.contact_id::text, ct.psid, v.status, v.state::text," \
	" v.language, gacp_iso(v.last_inbound_at), gacp_iso(v.last_message_at)," \
	" gacp_iso(v.handoff_at)," \
	" gacp_iso(v.last_inbound_at + interval '24 hours')," \
	" gacp_iso(v.created_at), gacp_iso(v.updated_at)," \
	" coalesce(v.last_inbound_at > now() - interval '24 hours', false)," \
	" coalesce(gacp_epoch_us(v.last_inbound_at) / 1000, 0), v.version," \
	" gacp_epoch_us(v.last_message_at)"

#define CONV_FROM \
	" FROM conversations v" \
	" JOIN contacts ct ON ct.tenant_id = v.tenant_id AND ct.id = v.contact_id" \
	" JOIN channels ch ON ch.tenant_id = v.tenant_id AND ch.id = v.channel_id"

#define MSG_COLS \
	"m.id::text, m.conversation_id::text, m.direction, m.sender, m.kind," \
	" m.text, m.payload::text, m.intent, m.confidence::text," \
	" m.entities::text, m.language, m.status, m.error::text," \
	" m.external_id, m.reply_to::text, gacp_iso(m.event_at)," \
	" gacp_iso(m.sent_at), m.latency_ms::text, m.metadata::text," \
	" gacp_iso(m.created_at), gacp_epoch_us(m.created_at)"

static void
read_conv(struct arena *a, const PGresult *res, int r, void *row)
{
	struct conversation_row *c = row;

	c->id = pgrow_str(a, res, r, 0);
	c->channel_id = pgrow_str(a, res, r, 1);
	c->channel_type = pgrow_str(a, res, r, 2);
	c->channel_status = pgrow_str(a, res, r, 3);
	c->page_id = pgrow_str(a, res, r, 4);
	c->contact_id = pgrow_str(a, res, r, 5);
	c->psid = pgrow_str(a, res, r, 6);
	c->status = pgrow_str(a, res, r, 7);
	c->state = pgrow_str(a, res, r, 8);
	c->language = pgrow_str(a, res, r, 9);
	c->last_inbound_at = pgrow_str(a, res, r, 10);
	c->last_message_at = pgrow_str(a, res, r, 11);
	c->handoff_at = pgrow_str(a, res, r, 12);
	c->window_ends_at = pgrow_str(a, res, r, 13);
	c->created_at = pgrow_str(a, res, r, 14);
	c->updated_at = pgrow_str(a, res, r, 15);
	c->window_open = pgrow_bool(res, r, 16);
	c->last_inbound_ms = pgrow_int64(res, r, 17);
	c->version = pgrow_int64(res, r, 18);
	c->activity_us = pgrow_int64(res, r, 19);
}

static void
read_msg(struct arena *a, const PGresult *res, int r, void *row)
{
	struct message_row *m = row;

	m->id = pgrow_str(a, res, r, 0);
	m->conversation_id = pgrow_str(a, res, r, 1);
	m->direction = pgrow_str(a, res, r, 2);
	m->sender = pgrow_str(a, res, r, 3);
	m->kind = pgrow_str(a, res, r, 4);
	m->text = pgrow_str(a, res, r, 5);
	m->payload = pgrow_str(a, res, r, 6);
	m->intent = pgrow_str(a, res, r, 7);
	m->confidence = pgrow_str(a, res, r, 8);
	m->entities = pgrow_str(a, res, r, 9);
	m->language = pgrow_str(a, res, r, 10);
	m->status = pgrow_str(a, res, r, 11);
	m->error = pgrow_str(a, res, r, 12);
	m->external_id = pgrow_str(a, res, r, 13);
	m->reply_to = pgrow_str(a, res, r, 14);
	m->event_at = pgrow_str(a, res, r, 15);
	m->sent_at = pgrow_str(a, res, r, 16);
	m->latency_ms = pgrow_str(a, res, r, 17);
	m->metadata = pgrow_str(a, res, r, 18);
	m->created_at = pgrow_str(a, res, r, 19);
	m->created_us = pgrow_int64(res, r, 20);
}

static const struct store_kind conv_kind = {
	.table = "conversations", .noun = "conversation",
	.stale_noun = "conversation",
	.row_size = sizeof(struct conversation_row), .read = read_conv,
};

static const struct store_kind msg_kind = {
	.table = "messages", .noun = "message", .stale_noun = "message",
	.row_size = sizeof(struct message_row), .read = read_msg,
};

static int
one_conv(struct arena *a, PGresult *res, struct conversation_row **out,
    struct gacp_err *err)
{
	*out = store_one_row(a, res, &conv_kind, err);
	return *out != NULL ? GACP_OK : GACP_ENOTFOUND;
}

int
conversation_store_list(struct db *db, struct arena *a, const char *status,
    const char *since, int64_t after_us, const char *after_id, int limit,
    struct conversation_row **rows, size_t *n, struct gacp_err *err)
{
	struct store_page pg;
	const char *p[5];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = status;
	p[1] = since;
	p[2] = pg.after_us;
	p[3] = pg.after_id;
	p[4] = pg.limit;
	/* Newest activity first, on conversations_recent_idx.  A
	 * conversation gets its first message in the transaction that
	 * creates it, so last_message_at is never NULL once visible. */
	rc = db_exec(db, a, "SELECT " CONV_COLS CONV_FROM
	    " WHERE NOT v.is_deleted AND v.last_message_at IS NOT NULL"
	    " AND ($1::text IS NULL OR v.status = $1)"
	    " AND ($2::timestamptz IS NULL OR v.last_message_at >= $2::timestamptz)"
	    " AND ($3::bigint < 0 OR (v.last_message_at, v.id) <"
	    "  (gacp_from_epoch_us($3::bigint), $4::uuid))"
	    " ORDER BY v.last_message_at DESC, v.id DESC LIMIT $5::int",
	    5, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &conv_kind, n);
	return GACP_OK;
}

int
conversation_store_get(struct db *db, struct arena *a, const char *id,
    bool lock, struct conversation_row **out, struct gacp_err *err)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, lock ?
	    "SELECT " CONV_COLS CONV_FROM " WHERE v.id = $1::uuid"
	    " AND NOT v.is_deleted FOR UPDATE OF v" :
	    "SELECT " CONV_COLS CONV_FROM " WHERE v.id = $1::uuid"
	    " AND NOT v.is_deleted", 1, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	return one_conv(a, res, out, err);
}

int
conversation_store_set_status(struct db *db, struct arena *a, const char *id,
    int64_t version, const char *status, const char *updated_by,
    struct conversation_row **out, struct gacp_err *err)
{
	char ver[24];
	const char *p[4];
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%lld", (long long)version);
	p[0] = id;
	p[1] = ver;
	p[2] = status;
	p[3] = updated_by;
	rc = db_exec(db, a, "UPDATE conversations SET status = $3,"
	    " handoff_at = CASE WHEN $3 = 'handoff' AND status <> 'handoff'"
	    "  THEN now() ELSE handoff_at END, updated_by = $4::uuid"
	    " WHERE id = $1::uuid AND NOT is_deleted"
	    " AND ($2::bigint < 0 OR version = $2::bigint) RETURNING id",
	    4, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) == 0) {
		rc = conversation_store_get(db, a, id, false, out, err);
		if (rc != GACP_OK)
			return rc;
		return gacp_err_set(err, GACP_ECONFLICT, "version_conflict",
		    "the conversation changed since you read it; reload it");
	}
	return conversation_store_get(db, a, id, false, out, err);
}

int
conversation_store_messages(struct db *db, struct arena *a,
    const char *conversation_id, bool newest_first, int64_t after_us,
    const char *after_id, int limit, struct message_row **rows, size_t *n,
    struct gacp_err *err)
{
	struct store_page pg;
	const char *p[4];
	PGresult *res;
	int rc;

	store_page_params(&pg, after_us, after_id, limit);
	p[0] = conversation_id;
	p[1] = pg.after_us;
	p[2] = pg.after_id;
	p[3] = pg.limit;
	/* A reply is stored in the transaction of the message it answers,
	 * so both carry that transaction's now(): direction ('in' < 'out')
	 * breaks the tie the right way.  The cursor names the last row
	 * seen (created_at, id); its direction is read back from it. */
	rc = db_exec(db, a, newest_first ?
	    "SELECT " MSG_COLS " FROM messages m"
	    " WHERE m.conversation_id = $1::uuid AND ($2::bigint < 0 OR"
	    "  (m.created_at, m.direction, m.id) < (SELECT c.created_at,"
	    "  c.direction, c.id FROM messages c WHERE c.id = $3::uuid AND"
	    "  c.created_at = gacp_from_epoch_us($2::bigint)))"
	    " ORDER BY m.created_at DESC, m.direction DESC, m.id DESC"
	    " LIMIT $4::int" :
	    "SELECT " MSG_COLS " FROM messages m"
	    " WHERE m.conversation_id = $1::uuid AND ($2::bigint < 0 OR"
	    "  (m.created_at, m.direction, m.id) > (SELECT c.created_at,"
	    "  c.direction, c.id FROM messages c WHERE c.id = $3::uuid AND"
	    "  c.created_at = gacp_from_epoch_us($2::bigint)))"
	    " ORDER BY m.created_at, m.direction, m.id LIMIT $4::int", 4, p,
	    &res, err);
	if (rc != GACP_OK)
		return rc;
	*rows = store_read_rows(a, res, &msg_kind, n);
	return GACP_OK;
}

int
conversation_store_agent_message(struct db *db, struct arena *a,
    const char *tenant_id, const struct conversation_row *conv,
    const char *text, const char *metadata, struct message_row **out,
    struct gacp_err *err)
{
	const char *p[6] = { tenant_id, conv->id, conv->channel_id,
	    conv->contact_id, text, metadata ? metadata : "{}" };
	PGresult *res;
	int rc;

	rc = db_exec(db, a, "INSERT INTO messages AS m (tenant_id,"
	    " conversation_id, channel_id, contact_id, direction, sender, kind,"
	    " text, status, metadata) VALUES ($1::uuid, $2::uuid, $3::uuid,"
	    " $4::uuid, 'out', 'agent', 'text', $5, 'pending', $6::jsonb)"
	    " RETURNING " MSG_COLS, 6, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_EINTERNAL, "internal",
		    "message insert returned no row");
	*out = arena_calloc(a, 1, sizeof(**out));
	read_msg(a, res, 0, *out);
	{
		const char *q[1] = { conv->id };
		return db_exec(db, a, "UPDATE conversations SET"
		    " last_message_at = now() WHERE id = $1::uuid", 1, q, &res,
		    err);
	}
}

int
conversation_store_message_fail(struct db *db, struct arena *a,
    const struct message_row *m, const char *error_json,
    struct gacp_err *err)
{
	char us[24];
	const char *p[3];
	PGresult *res;

	snprintf(us, sizeof(us), "%lld", (long long)m->created_us);
	p[0] = m->id;
	p[1] = us;
	p[2] = error_json;
	return db_exec(db, a, "UPDATE messages SET status = 'failed',"
	    " error = $3::jsonb WHERE id = $1::uuid"
	    " AND created_at = gacp_from_epoch_us($2::bigint)"
	    " AND status = 'pending'", 3, p, &res, err);
}

int
conversation_store_outbound(struct db *db, struct arena *a,
    const char *tenant_id, const char *message_id, int64_t created_us,
    struct mxs_message *out, struct gacp_err *err)
{
	char us[24];
	const char *p[3];
	PGresult *res;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(us, sizeof(us), "%lld", (long long)created_us);
	p[0] = tenant_id;
	p[1] = message_id;
	p[2] = us;
	/* created_at::text is the form mxs_reply_finish() matches on. */
	rc = db_exec(db, a, "SELECT id::text, created_at::text, status, text,"
	    " payload::text FROM messages WHERE tenant_id = $1::uuid"
	    " AND id = $2::uuid AND created_at = gacp_from_epoch_us($3::bigint)"
	    " AND direction = 'out' AND sender = 'agent'", 3, p, &res, err);
	if (rc != GACP_OK)
		return rc;
	if (PQntuples(res) != 1)
		return gacp_err_set(err, GACP_ENOTFOUND, "not_found",
		    "no such agent message");
	out->id = pgrow_str(a, res, 0, 0);
	out->created_at = pgrow_str(a, res, 0, 1);
	out->status = pgrow_str(a, res, 0, 2);
	out->text = pgrow_str(a, res, 0, 3);
	out->payload_json = pgrow_str(a, res, 0, 4);
	out->created = false;
	return GACP_OK;
}
