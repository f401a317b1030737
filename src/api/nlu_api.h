/* nlu_api.h - handlers of the NLU training-data and model-version endpoints (nlu_data.c, nlu_models.c).
 *
 * The parse endpoints (POST /v1/nlu/parse, /model/parse, GET /status) are
 * in nlu.c, declared in api.h.
 */
#ifndef GACP_API_NLU_API_H
#define GACP_API_NLU_API_H

struct request_ctx;

/* Prototypes */

/* nlu_data.c: /v1/nlu/examples, /v1/nlu/entities, import, export */
void api_nlu_examples_create(struct request_ctx *rc);
void api_nlu_examples_list(struct request_ctx *rc);
void api_nlu_examples_get(struct request_ctx *rc);
void api_nlu_examples_delete(struct request_ctx *rc);
void api_nlu_examples_delete_many(struct request_ctx *rc);
void api_nlu_entities_create(struct request_ctx *rc);
void api_nlu_entities_list(struct request_ctx *rc);
void api_nlu_entities_get(struct request_ctx *rc);
void api_nlu_entities_update(struct request_ctx *rc);
void api_nlu_entities_delete(struct request_ctx *rc);
void api_nlu_import(struct request_ctx *rc);
void api_nlu_export(struct request_ctx *rc);

/* nlu_models.c: /v1/nlu/models */
void api_nlu_models_list(struct request_ctx *rc);
void api_nlu_models_get(struct request_ctx *rc);
void api_nlu_models_activate(struct request_ctx *rc);

#endif
