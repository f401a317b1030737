/* domain.c - Rasa domain `responses:`/`forms:` import (see domain.h). */
#include "flow/domain.h"
#include "common/xmalloc.h"

#include <string.h>
#include <yaml.h>

#define DOMAIN_MAX_ROWS 4096

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *
scalar(yaml_node_t *n)
{
	return (n != NULL && n->type == YAML_SCALAR_NODE) ?
	    (const char *)n->data.scalar.value : NULL;
}

/* Language of a variation: its condition on slot "language". */
static const char *
variation_lang(yaml_document_t *doc, yaml_node_t *var)
{
	yaml_node_t *cond = map_get(doc, var, "condition");
	yaml_node_item_t *it;

	if (cond == NULL || cond->type != YAML_SEQUENCE_NODE)
		return "en";
	for (it = cond->data.sequence.items.start; it < cond->data.sequence.items.top; it++) {
		yaml_node_t *c = yaml_document_get_node(doc, *it);
		const char *name = scalar(map_get(doc, c, "name"));
		const char *value = scalar(map_get(doc, c, "value"));
		if (name != NULL && value != NULL && strcmp(name, "language") == 0)
			return value;
	}
	return "en";
}

static struct domain_row *
row_for(struct domain *d, const char *intent, const char *lang,
    struct gacp_err *err)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->rows[i].intent, intent) == 0 &&
		    strcmp(d->rows[i].language, lang) == 0)
			return &d->rows[i];
	if (d->n == DOMAIN_MAX_ROWS) {
		gacp_err_set(err, GACP_EINVAL, "invalid_domain",
		    "more than %d responses", DOMAIN_MAX_ROWS);
		return NULL;
	}
	d->rows = xrealloc(d->rows, (d->n + 1) * sizeof(*d->rows));
	memset(&d->rows[d->n], 0, sizeof(d->rows[0]));
	d->rows[d->n].intent = xstrdup(intent);
	d->rows[d->n].language = xstrdup(lang);
	d->rows[d->n].templates = json_object_new_array();
	d->rows[d->n].quick_replies = json_object_new_array();
	d->rows[d->n].required_slots = json_object_new_array();
	return &d->rows[d->n++];
}

static int
read_responses(yaml_document_t *doc, yaml_node_t *responses, struct domain *d,
    struct gacp_err *err)
{
	yaml_node_pair_t *p;

	if (responses->type != YAML_MAPPING_NODE)
		return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
		    "line %lu: responses must be a mapping",
		    (unsigned long)responses->start_mark.line + 1);
	for (p = responses->data.mapping.pairs.start; p < responses->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *vars = yaml_document_get_node(doc, p->value);
		yaml_node_item_t *it;

		if (name == NULL || strncmp(name, "utter_", 6) != 0 ||
		    strncmp(name, "utter_ask_", 10) == 0)
			continue;      /* prompts are read with the forms */
		if (vars == NULL || vars->type != YAML_SEQUENCE_NODE)
			return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
			    "line %lu: %s must be a list of variations",
			    (unsigned long)vars->start_mark.line + 1, name);
		for (it = vars->data.sequence.items.start; it < vars->data.sequence.items.top; it++) {
			yaml_node_t *var = yaml_document_get_node(doc, *it);
			const char *text = scalar(map_get(doc, var, "text"));
			yaml_node_t *buttons = map_get(doc, var, "buttons");
			struct domain_row *r;

			if (text == NULL || text[0] == '\0')
				return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
				    "line %lu: a variation of %s has no text",
				    (unsigned long)var->start_mark.line + 1, name);
			if ((r = row_for(d, name + 6, variation_lang(doc, var), err)) == NULL)
				return GACP_EINVAL;
			json_object_array_add(r->templates, json_object_new_string(text));
			if (buttons != NULL && buttons->type == YAML_SEQUENCE_NODE &&
			    json_object_array_length(r->quick_replies) == 0) {
				yaml_node_item_t *b;
				for (b = buttons->data.sequence.items.start;
				    b < buttons->data.sequence.items.top; b++) {
					yaml_node_t *bn = yaml_document_get_node(doc, *b);
					const char *title = scalar(map_get(doc, bn, "title"));
					const char *payload = scalar(map_get(doc, bn, "payload"));
					struct json_object *q;
					if (title == NULL || payload == NULL)
						continue;
					q = json_object_new_object();
					json_object_object_add(q, "title", json_object_new_string(title));
					json_object_object_add(q, "payload", json_object_new_string(payload));
					json_object_array_add(r->quick_replies, q);
				}
			}
		}
	}
	return GACP_OK;
}

/* First variation of utter_ask_<slot> in lang (or any). */
static const char *
prompt_for(yaml_document_t *doc, yaml_node_t *responses, const char *slot,
    const char *lang)
{
	char name[128];
	yaml_node_t *vars;
	yaml_node_item_t *it;
	const char *any = NULL;

	snprintf(name, sizeof(name), "utter_ask_%s", slot);
	vars = map_get(doc, responses, name);
	if (vars == NULL || vars->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = vars->data.sequence.items.start; it < vars->data.sequence.items.top; it++) {
		yaml_node_t *var = yaml_document_get_node(doc, *it);
		const char *text = scalar(map_get(doc, var, "text"));
		if (text == NULL)
			continue;
		if (strcmp(variation_lang(doc, var), lang) == 0)
			return text;
		if (any == NULL)
			any = text;
	}
	return any;
}

static int
read_forms(yaml_document_t *doc, yaml_node_t *forms, yaml_node_t *responses,
    struct domain *d, struct gacp_err *err)
{
	yaml_node_pair_t *p;
	size_t i;

	if (forms->type != YAML_MAPPING_NODE)
		return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
		    "forms must be a mapping");
	for (p = forms->data.mapping.pairs.start; p < forms->data.mapping.pairs.top; p++) {
		const char *name = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *req = map_get(doc, yaml_document_get_node(doc, p->value),
		    "required_slots");
		size_t nlen;
		char intent[128];
		yaml_node_item_t *it;

		if (name == NULL || (nlen = strlen(name)) <= 5 ||
		    strcmp(name + nlen - 5, "_form") != 0 || nlen - 5 >= sizeof(intent))
			continue;
		memcpy(intent, name, nlen - 5);
		intent[nlen - 5] = '\0';
		if (req == NULL || req->type != YAML_SEQUENCE_NODE)
			return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
			    "form %s needs a required_slots list", name);
		for (i = 0; i < d->n; i++) {
			if (strcmp(d->rows[i].intent, intent) != 0)
				continue;
			for (it = req->data.sequence.items.start; it < req->data.sequence.items.top; it++) {
				const char *slot = scalar(yaml_document_get_node(doc, *it));
				const char *prompt;
				struct json_object *s;
				if (slot == NULL)
					continue;
				prompt = prompt_for(doc, responses, slot, d->rows[i].language);
				if (prompt == NULL)
					return gacp_err_set(err, GACP_EINVAL, "invalid_domain",
					    "form %s: no utter_ask_%s prompt", name, slot);
				s = json_object_new_object();
				json_object_object_add(s, "slot", json_object_new_string(slot));
				json_object_object_add(s, "entity", json_object_new_string(slot));
				json_object_object_add(s, "prompt", json_object_new_string(prompt));
				json_object_array_add(d->rows[i].required_slots, s);
			}
		}
	}
	return GACP_OK;
}

int
domain_parse(const char *text, size_t len, struct domain *out,
    struct gacp_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *responses, *forms;
	int rc = GACP_OK, have_doc = 0;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return gacp_err_set(err, GACP_EINTERNAL, "internal", "yaml init");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_domain",
		    "line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	responses = map_get(&doc, root, "responses");
	if (responses == NULL) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_domain",
		    "no responses: section");
		goto out;
	}
	if ((rc = read_responses(&doc, responses, out, err)) != GACP_OK)
		goto out;
	forms = map_get(&doc, root, "forms");
	if (forms != NULL)
		rc = read_forms(&doc, forms, responses, out, err);
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc != GACP_OK)
		domain_cleanup(out);
	return rc;
}

void
domain_cleanup(struct domain *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->rows[i].intent);
		free(d->rows[i].language);
		json_object_put(d->rows[i].templates);
		json_object_put(d->rows[i].quick_replies);
		json_object_put(d->rows[i].required_slots);
	}
	free(d->rows);
	memset(d, 0, sizeof(*d));
}
