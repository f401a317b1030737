/* conversations.c - /v1/conversations: the inbox, transcripts, handoff/resume and agent replies. */
#include "api/api_svc.h"
#include "messenger/conversation_store.h"
#include "messenger/conversations_svc.h"

#include <string.h>

static const char *
id_param(struct request_ctx *rc)
{
	return http_request_path_param(&rc->req, "id");
}

static void
fail(struct request_ctx *rc, struct svc *s, const struct gacp_err *err)
{
	/* A well-formed request Messenger's policy forbids: 422, as a
	 * validation problem is, with its own code. */
	if (strcmp(err->code, "outside_window") == 0) {
		api_error(rc, 422, err->code, "%s", err->msg);
		return;
	}
	api_fail(rc, s, err);
}

void
api_conversations_list(struct request_ctx *rc)
{
	struct conversation_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	svc_page_parse(&s, http_request_query(&rc->req, "limit"),
	    http_request_query(&rc->req, "cursor"), false, &pg);
	if (conversations_list(&s, http_request_query(&rc->req, "status"),
	    http_request_query(&rc->req, "since"), &pg, &rows, &n, &next,
	    &err) != GACP_OK) {
		fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items, conversations_render(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

void
api_conversations_get(struct request_ctx *rc)
{
	struct conversation_row *c;
	struct gacp_err err;
	struct svc s;

	api_svc(rc, &s);
	if (conversations_get(&s, id_param(rc), &c, &err) != GACP_OK) {
		fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, conversations_render(c)));
}

void
api_conversations_messages(struct request_ctx *rc)
{
	struct message_row *rows;
	struct json_object *items;
	struct gacp_err err;
	struct page pg;
	struct svc s;
	char *next;
	size_t n, i;

	api_svc(rc, &s);
	svc_page_parse(&s, http_request_query(&rc->req, "limit"),
	    http_request_query(&rc->req, "cursor"), false, &pg);
	if (conversations_messages(&s, id_param(rc),
	    http_request_query(&rc->req, "order"), &pg, &rows, &n, &next,
	    &err) != GACP_OK) {
		fail(rc, &s, &err);
		return;
	}
	items = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(items,
		    conversations_render_message(&rows[i]));
	api_done(rc, &s, 200, api_list(rc, items, next));
}

/* handoff and resume: the same shape, another target status. */
static void
change_status(struct request_ctx *rc, int (*fn)(struct svc *, const char *,
    struct json_object *, struct conversation_row **, struct gacp_err *))
{
	struct json_object *body = api_body(rc, true);
	struct conversation_row *c;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (fn(&s, id_param(rc), body, &c, &err) != GACP_OK) {
		fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 200, api_own(rc, conversations_render(c)));
}

void
api_conversations_handoff(struct request_ctx *rc)
{
	change_status(rc, conversations_handoff);
}

void
api_conversations_resume(struct request_ctx *rc)
{
	change_status(rc, conversations_resume);
}

void
api_conversations_reply(struct request_ctx *rc)
{
	struct json_object *body = api_body(rc, false);
	struct message_row *m;
	struct gacp_err err;
	struct svc s;

	if (body == NULL)
		return;
	api_svc(rc, &s);
	if (conversations_reply(&s, id_param(rc), body, &m, &err) != GACP_OK) {
		fail(rc, &s, &err);
		return;
	}
	api_done(rc, &s, 201, api_own(rc, conversations_render_message(m)));
}
