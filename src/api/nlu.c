/* nlu.c - NLU parse endpoints: ours and Rasa's drop-in shapes.
 *
 * POST /v1/nlu/parse and POST /model/parse {"text", "language"?} answer
 * with Rasa's /model/parse JSON for the caller's tenant model; GET /status
 * reports the active model like Rasa's GET /status.  The model is the
 * tenant's active file, mapped once per process and swapped without a
 * restart when a new one is published (app/models.h).
 */
#include "api/api.h"
#include "app/models.h"
#include "common/json.h"
#include "common/utf8.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "http/metrics.h"
#include "nlu/model.h"
#include "nlu/parse.h"
#include "training/jobs.h"

#include <string.h>
#include <sys/stat.h>

#define NLU_MAX_TEXT_CHARS 2000

struct nlu_parser *
api_nlu_parser(struct request_ctx *rc, struct gacp_err *err)
{
	struct gacp_ctx *app = rc->app;

	if (app->parser == NULL) {
		struct nlu_parser *p = xcalloc(1, sizeof(*p));
		if (nlu_parser_init(p, err) != GACP_OK) {
			free(p);
			return NULL;
		}
		app->parser = p;
	}
	return app->parser;
}

/* POST /v1/nlu/parse, POST /model/parse */
void
api_nlu_parse(struct request_ctx *rc)
{
	struct json_object *body = api_body_object(rc);
	const struct nlu_model *model = NULL;
	struct nlu_parser *parser;
	struct gacp_err err;
	const char *text;
	size_t len;
	int64_t t0 = 0;

	if (body == NULL)
		return;
	gacp_err_clear(&err);
	text = json_get_str(body, "text");
	if (text == NULL) {
		api_error(rc, 400, "validation_failed", "\"text\" (a string) is required");
		return;
	}
	len = strlen(text);
	if (!utf8_valid(text, len)) {
		api_error(rc, 400, "invalid_text", "text is not valid UTF-8");
		return;
	}
	if (utf8_count(text, len) > NLU_MAX_TEXT_CHARS) {
		api_error(rc, 400, "text_too_long",
		    "text is longer than %d characters", NLU_MAX_TEXT_CHARS);
		return;
	}
	if (models_get(rc->app->models, rc->tenant_id, &model, &err) != GACP_OK) {
		if (err.result == GACP_ENOTFOUND)
			api_error(rc, 409, "nlu_model_missing",
			    "no NLU model is active for this tenant; train one first");
		else
			api_error(rc, 503, "nlu_model_unavailable",
			    "the NLU model could not be loaded");
		return;
	}
	/* The clock starts with parser and model in hand: the first call's
	 * one-time parser setup is not parse time. */
	if ((parser = api_nlu_parser(rc, &err)) == NULL ||
	    (t0 = util_mono_us(), nlu_parse(parser, model, text, len, NULL,
	    &err)) != GACP_OK) {
		api_error(rc, err.result == GACP_EINVAL || err.result == GACP_ETOOBIG ?
		    400 : 500, err.code[0] ? err.code : "internal", "%s", err.msg);
		return;
	}
	buf_reset(rc->resp.body);
	nlu_parse_json(parser, model, text, len, rc->resp.body);
	metrics_observe(rc->app->metrics, MH_NLU_PARSE_API, util_mono_us() - t0);
	rc->resp.status = 200;
	rc->resp.content_type = "application/json";
}

/* GET /status: Rasa's shape, for the caller's tenant. */
void
api_nlu_status(struct request_ctx *rc)
{
	const struct nlu_model *model = NULL;
	struct gacp_err err;
	struct buf *b = rc->resp.body;
	char *path = models_active_path(rc->app->models, rc->tenant_id);
	struct stat st;
	long long jobs = 0;

	gacp_err_clear(&err);
	/* The tenant's trainers register while they run (training/jobs.h);
	 * a count we cannot read is an outage, not zero. */
	if (jobs_count(&rc->app->cache, rc->arena, rc->tenant_id, &jobs,
	    &err) != GACP_OK) {
		free(path);
		api_error(rc, 503, "dependency_unavailable",
		    "training jobs cannot be counted: %s", err.msg);
		return;
	}
	gacp_err_clear(&err);
	buf_reset(b);
	buf_puts(b, "{\"model_file\":");
	if (models_get(rc->app->models, rc->tenant_id, &model, &err) == GACP_OK &&
	    stat(path, &st) == 0) {
		buf_json_str(b, path);
		/* The file's identity and age: changes whenever a model is
		 * published (Rasa's fingerprint changes with the model). */
		buf_printf(b, ",\"fingerprint\":{\"inode\":%llu,\"mtime\":%lld,"
		    "\"size\":%lld}", (unsigned long long)st.st_ino,
		    (long long)st.st_mtime, (long long)st.st_size);
	} else {
		buf_puts(b, "null,\"fingerprint\":{}");
	}
	buf_printf(b, ",\"num_active_training_jobs\":%lld}", jobs);
	free(path);
	rc->resp.status = 200;
	rc->resp.content_type = "application/json";
}
