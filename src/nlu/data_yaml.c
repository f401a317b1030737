/* data_yaml.c - Rasa NLU YAML training data (libyaml document API).
 *
 * Format (Rasa 3): a top-level mapping whose "nlu" key holds a sequence of
 * mappings, each with one of "intent", "synonym", "regex", "lookup" and an
 * "examples" literal block of "- item" lines (or, for intents, a sequence
 * of {text: ...} mappings).  Other top-level keys (version, responses, ...)
 * are ignored, so a combined domain file loads too.
 */
#include "nlu/data.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/xmalloc.h"

/* Hostile input bound: yaml aliases can make a small file name the same
 * large node many times; we stop adding past this many records. */
#define MAX_RECORDS 2000000u

enum item_kind { ITEM_INTENT, ITEM_SYNONYM, ITEM_REGEX, ITEM_LOOKUP };

struct yctx {
	yaml_document_t    *doc;
	struct nlu_dataset *ds;
	size_t              records;
};

static const char *scalar(yaml_document_t *, yaml_node_t *);
static yaml_node_t *map_get(yaml_document_t *, yaml_node_t *, const char *);
static int	add_item(struct yctx *, enum item_kind, const char *,
		    const char *, size_t, struct gacp_err *);
static int	load_block(struct yctx *, enum item_kind, const char *,
		    yaml_node_t *, struct gacp_err *);
static int	load_entry(struct yctx *, yaml_node_t *, struct gacp_err *);

static const char *
scalar(yaml_document_t *doc, yaml_node_t *n)
{
	(void)doc;
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static int
add_item(struct yctx *c, enum item_kind kind, const char *name,
    const char *text, size_t line, struct gacp_err *err)
{
	struct nlu_ent_ann *ents = NULL;
	size_t n_ents = 0;
	char *plain = NULL, *one_line, *q;
	int rc = 0;

	if (++c->records > MAX_RECORDS)
		return gacp_err_set(err, GACP_ETOOBIG, "nlu_data_too_big",
		    "training data has more than %u records", MAX_RECORDS);
	/* An item is one line: a multi-line YAML scalar ("- a\n\n  - b"
	 * folds to "a\n- b") has its line breaks made blanks, as the
	 * exporter writes them, so an export loads back to the same data.
	 * Same length, so annotation offsets do not move. */
	one_line = xstrdup(text);
	for (q = one_line; *q; q++)
		if (*q == '\n' || *q == '\r')
			*q = ' ';
	/* And trimmed as a "- " block line is: blanks around an item do
	 * not survive an export (annotations are parsed after this). */
	while (q > one_line && (q[-1] == ' ' || q[-1] == '\t'))
		*--q = '\0';
	text = one_line + strspn(one_line, " \t");
	switch (kind) {
	case ITEM_INTENT:
		rc = nlu_annotated_parse(text, c->ds, &plain, &ents, &n_ents,
		    err);
		if (rc == 0)
			rc = nlu_dataset_add(c->ds, plain, name, ents, n_ents,
			    err);
		break;
	case ITEM_SYNONYM:
		nlu_dataset_add_synonym(c->ds, text, name);
		break;
	case ITEM_REGEX:
		nlu_dataset_add_regex(c->ds, name, text);
		break;
	case ITEM_LOOKUP:
		nlu_dataset_add_lookup(c->ds, name, text);
		break;
	}
	if (rc != 0 && err != NULL) {
		char msg[sizeof(err->msg)], code[sizeof(err->code)];

		/* Copies: gacp_err_set writes the buffers it would read. */
		memcpy(msg, err->msg, sizeof(msg));
		memcpy(code, err->code, sizeof(code));
		gacp_err_set(err, rc, code, "line %zu: %s", line, msg);
	}
	free(plain);
	free(one_line);
	nlu_ent_ann_free(ents, n_ents);
	return rc;
}

/* The examples of one entry: a "- item" literal block or a sequence. */
static int
load_block(struct yctx *c, enum item_kind kind, const char *name,
    yaml_node_t *ex, struct gacp_err *err)
{
	yaml_node_item_t *it;
	const char *s;
	size_t line;
	int rc;

	if (ex->type == YAML_SEQUENCE_NODE) {
		for (it = ex->data.sequence.items.start;
		    it < ex->data.sequence.items.top; it++) {
			yaml_node_t *n = yaml_document_get_node(c->doc, *it);
			const char *t = scalar(c->doc, n);

			if (t == NULL)
				t = scalar(c->doc, map_get(c->doc, n, "text"));
			if (t == NULL)
				return gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_yaml", "line %zu: example is not "
				    "text", (size_t)n->start_mark.line + 1);
			rc = add_item(c, kind, name, t,
			    (size_t)n->start_mark.line + 1, err);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	s = scalar(c->doc, ex);
	if (s == NULL)
		return gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
		    "line %zu: examples must be a block of \"- \" lines",
		    (size_t)ex->start_mark.line + 1);
	line = (size_t)ex->start_mark.line + 1;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *item;

		if (ex->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		    ex->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
			line++;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		    s[len - 1] == '\r'))
			len--;
		if (len > 0 && s[0] != '#') {
			if (s[0] != '-')
				return gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_yaml", "line %zu: example lines "
				    "start with \"- \"", line);
			item = xstrndup(s + 1, len - 1);
			/* Skip the blank after the dash. */
			rc = add_item(c, kind, name, item + strspn(item, " \t"),
			    line, err);
			free(item);
			if (rc != 0)
				return rc;
		}
		s += len;
		s += strspn(s, " \t\r");
		if (*s == '\n')
			s++;
	}
	return 0;
}

static int
load_entry(struct yctx *c, yaml_node_t *e, struct gacp_err *err)
{
	static const struct {
		const char     *key;
		enum item_kind  kind;
	} kinds[] = {
		{ "intent", ITEM_INTENT }, { "synonym", ITEM_SYNONYM },
		{ "regex", ITEM_REGEX }, { "lookup", ITEM_LOOKUP },
	};
	yaml_node_t *ex;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *name = scalar(c->doc, map_get(c->doc, e,
		    kinds[i].key));

		if (name == NULL)
			continue;
		if (*name == '\0')
			return gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
			    "line %zu: empty %s name",
			    (size_t)e->start_mark.line + 1, kinds[i].key);
		ex = map_get(c->doc, e, "examples");
		if (ex == NULL)
			return gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
			    "line %zu: %s \"%s\" has no examples",
			    (size_t)e->start_mark.line + 1, kinds[i].key,
			    name);
		return load_block(c, kinds[i].kind, name, ex, err);
	}
	return gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
	    "line %zu: nlu entry needs intent, synonym, regex or lookup",
	    (size_t)e->start_mark.line + 1);
}

int
nlu_dataset_load_yaml(struct nlu_dataset *ds, const char *buf, size_t len,
    struct gacp_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *nlu;
	yaml_node_item_t *it;
	struct yctx c;
	int rc = GACP_EINVAL, have_doc = 0;

	if (!yaml_parser_initialize(&parser))
		return gacp_err_set(err, GACP_EINTERNAL, "nlu_yaml",
		    "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
		    "line %zu: %s", (size_t)parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	nlu = map_get(&doc, root, "nlu");
	if (nlu == NULL) {
		rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
		    "no \"nlu:\" section");
		goto out;
	}
	if (nlu->type != YAML_SEQUENCE_NODE) {
		rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_yaml",
		    "line %zu: \"nlu:\" must be a list",
		    (size_t)nlu->start_mark.line + 1);
		goto out;
	}
	c.doc = &doc;
	c.ds = ds;
	c.records = 0;
	for (it = nlu->data.sequence.items.start;
	    it < nlu->data.sequence.items.top; it++) {
		rc = load_entry(&c, yaml_document_get_node(&doc, *it), err);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}
