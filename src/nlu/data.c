/* data.c - NLU training data: containers, Rasa annotations, TSV, export. */
#include "nlu/data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "common/utf8.h"
#include "common/xmalloc.h"
#include "nlu/mlp.h"

static char	*dup_or_null(const char *);
static int	 ann_braces(const char *, size_t, struct nlu_ent_ann *,
		    struct gacp_err *);
static int	 ann_parens(const char *, size_t, struct nlu_ent_ann *,
		    struct gacp_err *);
static size_t	 match_close(const char *, size_t, size_t, char, char);
static void	 yaml_block_line(struct buf *, const char *);
static void	 example_annotated(struct buf *, const struct nlu_example *);
static void	 digest_str(EVP_MD_CTX *, const char *);
static int	 ends_with(const char *, const char *);

void
nlu_dataset_init(struct nlu_dataset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void
nlu_ent_ann_free(struct nlu_ent_ann *ents, size_t n_ents)
{
	size_t i;

	if (ents == NULL)
		return;
	for (i = 0; i < n_ents; i++) {
		free(ents[i].entity);
		free(ents[i].value);
		free(ents[i].role);
		free(ents[i].group);
	}
	free(ents);
}

void
nlu_dataset_cleanup(struct nlu_dataset *ds)
{
	size_t i, j;

	if (ds == NULL)
		return;
	for (i = 0; i < ds->n_ex; i++) {
		free(ds->ex[i].text);
		free(ds->ex[i].intent);
		nlu_ent_ann_free(ds->ex[i].ents, ds->ex[i].n_ents);
	}
	for (i = 0; i < ds->n_syn; i++) {
		free(ds->syn[i].text);
		free(ds->syn[i].canonical);
	}
	for (i = 0; i < ds->n_rx; i++) {
		free(ds->rx[i].name);
		free(ds->rx[i].pattern);
	}
	for (i = 0; i < ds->n_lk; i++) {
		for (j = 0; j < ds->lk[i].n_values; j++)
			free(ds->lk[i].values[j]);
		free(ds->lk[i].values);
		free(ds->lk[i].name);
	}
	free(ds->ex);
	free(ds->syn);
	free(ds->rx);
	free(ds->lk);
	memset(ds, 0, sizeof(*ds));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
nlu_dataset_add(struct nlu_dataset *ds, const char *text, const char *intent,
    const struct nlu_ent_ann *ents, size_t n_ents, struct gacp_err *err)
{
	struct nlu_example *e;
	size_t i, n_cp;

	if (text == NULL || intent == NULL || *text == '\0' || *intent == '\0')
		return gacp_err_set(err, GACP_EINVAL, "nlu_empty_example",
		    "example text and intent must not be empty");
	if (!utf8_valid(text, strlen(text)) ||
	    !utf8_valid(intent, strlen(intent)))
		return gacp_err_set(err, GACP_EINVAL, "invalid_utf8",
		    "example is not valid UTF-8");
	n_cp = utf8_count(text, strlen(text));
	for (i = 0; i < n_ents; i++) {
		if (ents[i].start >= ents[i].end || ents[i].end > n_cp ||
		    ents[i].entity == NULL || *ents[i].entity == '\0')
			return gacp_err_set(err, GACP_EINVAL, "nlu_bad_entity",
			    "entity annotation outside its example: %.80s",
			    text);
	}
	if (ds->n_ex == ds->cap_ex) {
		ds->cap_ex = ds->cap_ex ? ds->cap_ex * 2 : 256;
		ds->ex = xrealloc(ds->ex, ds->cap_ex * sizeof(*ds->ex));
	}
	e = &ds->ex[ds->n_ex++];
	e->text = xstrdup(text);
	e->intent = xstrdup(intent);
	e->n_ents = n_ents;
	e->ents = n_ents ? xcalloc(n_ents, sizeof(*e->ents)) : NULL;
	for (i = 0; i < n_ents; i++) {
		e->ents[i].start = ents[i].start;
		e->ents[i].end = ents[i].end;
		e->ents[i].entity = xstrdup(ents[i].entity);
		e->ents[i].value = dup_or_null(ents[i].value);
		e->ents[i].role = dup_or_null(ents[i].role);
		e->ents[i].group = dup_or_null(ents[i].group);
	}
	return 0;
}

void
nlu_dataset_add_synonym(struct nlu_dataset *ds, const char *text,
    const char *canonical)
{
	size_t i;

	for (i = 0; i < ds->n_syn; i++)
		if (strcmp(ds->syn[i].text, text) == 0)
			return;
	if (ds->n_syn == ds->cap_syn) {
		ds->cap_syn = ds->cap_syn ? ds->cap_syn * 2 : 32;
		ds->syn = xrealloc(ds->syn, ds->cap_syn * sizeof(*ds->syn));
	}
	ds->syn[ds->n_syn].text = xstrdup(text);
	ds->syn[ds->n_syn].canonical = xstrdup(canonical);
	ds->n_syn++;
}

void
nlu_dataset_add_regex(struct nlu_dataset *ds, const char *name,
    const char *pattern)
{
	if (ds->n_rx == ds->cap_rx) {
		ds->cap_rx = ds->cap_rx ? ds->cap_rx * 2 : 8;
		ds->rx = xrealloc(ds->rx, ds->cap_rx * sizeof(*ds->rx));
	}
	ds->rx[ds->n_rx].name = xstrdup(name);
	ds->rx[ds->n_rx].pattern = xstrdup(pattern);
	ds->n_rx++;
}

void
nlu_dataset_add_lookup(struct nlu_dataset *ds, const char *name,
    const char *value)
{
	struct nlu_lookup *l = NULL;
	size_t i;

	for (i = 0; i < ds->n_lk; i++)
		if (strcmp(ds->lk[i].name, name) == 0)
			l = &ds->lk[i];
	if (l == NULL) {
		if (ds->n_lk == ds->cap_lk) {
			ds->cap_lk = ds->cap_lk ? ds->cap_lk * 2 : 8;
			ds->lk = xrealloc(ds->lk, ds->cap_lk * sizeof(*ds->lk));
		}
		l = &ds->lk[ds->n_lk++];
		memset(l, 0, sizeof(*l));
		l->name = xstrdup(name);
	}
	for (i = 0; i < l->n_values; i++)
		if (strcmp(l->values[i], value) == 0)
			return;
	if (l->n_values == l->cap_values) {
		l->cap_values = l->cap_values ? l->cap_values * 2 : 16;
		l->values = xrealloc(l->values,
		    l->cap_values * sizeof(*l->values));
	}
	l->values[l->n_values++] = xstrdup(value);
}

/* Index of the byte closing the bracket opened at s[open] (nesting and
 * JSON strings respected for braces), or 0 when there is none. */
static size_t
match_close(const char *s, size_t len, size_t open, char oc, char cc)
{
	size_t i, depth = 0;
	int in_str = 0;

	for (i = open; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"' && oc == '{')
			in_str = 1;
		else if (c == oc)
			depth++;
		else if (c == cc && --depth == 0)
			return i;
	}
	return 0;
}

/* "(entity)" or "(entity:canonical)"; s excludes the parentheses. */
static int
ann_parens(const char *s, size_t len, struct nlu_ent_ann *a,
    struct gacp_err *err)
{
	const char *colon = memchr(s, ':', len);
	size_t elen = colon ? (size_t)(colon - s) : len;

	if (elen == 0)
		return gacp_err_set(err, GACP_EINVAL, "nlu_bad_annotation",
		    "entity annotation without an entity name");
	a->entity = xstrndup(s, elen);
	if (colon != NULL && (size_t)(colon - s) + 1 < len)
		a->value = xstrndup(colon + 1, len - elen - 1);
	return 0;
}

/* A JSON string of the braces form as a C string: refused when it holds
 * a control character (from an escape such as \f or \u0000), which no
 * YAML export could write back (found by fuzz-rasa).  A tab is allowed:
 * the "(entity:value)" form takes a raw one from the YAML line, and the
 * export writes it back in either form. */
static char *
ann_json_text(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t i, n = (size_t)json_object_get_string_len(v);

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return NULL;
	return xstrdup(s);
}

/* '{"entity": ..., "value": ..., "role": ..., "group": ...}' as JSON. */
static int
ann_braces(const char *s, size_t len, struct nlu_ent_ann *a,
    struct gacp_err *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *v;
	int rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_annotation",
	    "entity annotation is not a JSON object with \"entity\"");

	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	if (!json_object_object_get_ex(o, "entity", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		goto out;
	if ((a->entity = ann_json_text(v)) == NULL)
		goto control;
	if (json_object_object_get_ex(o, "value", &v) &&
	    !json_object_is_type(v, json_type_null) &&
	    (a->value = ann_json_text(v)) == NULL)
		goto control;
	if (json_object_object_get_ex(o, "role", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    (a->role = ann_json_text(v)) == NULL)
		goto control;
	if (json_object_object_get_ex(o, "group", &v) &&
	    !json_object_is_type(v, json_type_null) &&
	    (a->group = ann_json_text(v)) == NULL)
		goto control;
	rc = 0;
	gacp_err_clear(err);
	goto out;
control:
	rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_annotation",
	    "entity annotation holds a control character");
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

int
nlu_annotated_parse(const char *line, struct nlu_dataset *ds, char **plain,
    struct nlu_ent_ann **ents, size_t *n_ents, struct gacp_err *err)
{
	struct buf out;
	struct nlu_ent_ann *list = NULL;
	size_t n = 0, cap = 0, i = 0, len = strlen(line), n_cp = 0;
	int rc = GACP_EINVAL;

	buf_init(&out);
	*plain = NULL;
	*ents = NULL;
	*n_ents = 0;
	if (!utf8_valid(line, len)) {
		rc = gacp_err_set(err, GACP_EINVAL, "invalid_utf8",
		    "example is not valid UTF-8");
		goto out;
	}
	while (i < len) {
		size_t close, meta_close, vlen;
		struct nlu_ent_ann a;
		char next;

		close = line[i] == '[' ? match_close(line, len, i, '[', ']') : 0;
		next = close && close + 1 < len ? line[close + 1] : '\0';
		meta_close = next == '(' ?
		    match_close(line, len, close + 1, '(', ')') :
		    next == '{' ? match_close(line, len, close + 1, '{', '}') : 0;
		if (meta_close == 0) {
			/* Not an annotation: copy one code point. */
			size_t k = utf8_valid_prefix(line + i, len - i);
			buf_append(&out, line + i, k);
			n_cp++;
			i += k;
			continue;
		}
		memset(&a, 0, sizeof(a));
		vlen = close - i - 1;
		rc = next == '(' ?
		    ann_parens(line + close + 2, meta_close - close - 2, &a, err) :
		    ann_braces(line + close + 1, meta_close - close, &a, err);
		if (rc != 0 || vlen == 0) {
			free(a.entity);
			free(a.value);
			free(a.role);
			free(a.group);
			if (rc == 0)
				rc = gacp_err_set(err, GACP_EINVAL,
				    "nlu_bad_annotation",
				    "empty entity value in: %.80s", line);
			goto out;
		}
		a.start = (uint32_t)n_cp;
		buf_append(&out, line + i + 1, vlen);
		n_cp += utf8_count(line + i + 1, vlen);
		a.end = (uint32_t)n_cp;
		if (a.value == NULL) {
			a.value = xstrndup(line + i + 1, vlen);
		} else if (ds != NULL && strlen(a.value) > 0) {
			char *surface = xstrndup(line + i + 1, vlen);
			if (strcmp(surface, a.value) != 0)
				nlu_dataset_add_synonym(ds, surface, a.value);
			free(surface);
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[n++] = a;
		i = meta_close + 1;
	}
	*plain = buf_steal(&out);
	*ents = list;
	*n_ents = n;
	list = NULL;
	n = 0;
	rc = 0;
out:
	nlu_ent_ann_free(list, n);
	buf_cleanup(&out);
	return rc;
}

int
nlu_dataset_load_tsv(struct nlu_dataset *ds, const char *buf, size_t len,
    struct gacp_err *err)
{
	size_t pos = 0, lineno = 0;
	int rc = 0;

	while (pos < len && rc == 0) {
		const char *line = buf + pos, *nl, *tab;
		size_t llen;
		char *text, *intent;

		nl = memchr(line, '\n', len - pos);
		llen = nl ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl ? 1 : 0);
		lineno++;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen == 0 || line[0] == '#')
			continue;
		tab = memchr(line, '\t', llen);
		if (tab == NULL)
			return gacp_err_set(err, GACP_EINVAL, "nlu_bad_tsv",
			    "line %zu: expected text<TAB>intent", lineno);
		text = xstrndup(line, (size_t)(tab - line));
		intent = xstrndup(tab + 1, llen - (size_t)(tab - line) - 1);
		rc = nlu_dataset_add(ds, text, intent, NULL, 0, err);
		if (rc != 0 && err != NULL) {
			char msg[sizeof(err->msg)], code[sizeof(err->code)];

			memcpy(msg, err->msg, sizeof(msg));
			memcpy(code, err->code, sizeof(code));
			gacp_err_set(err, rc, code, "line %zu: %s", lineno, msg);
		}
		free(text);
		free(intent);
	}
	return rc;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

enum nlu_data_format
nlu_data_detect(const char *name, const char *buf, size_t len)
{
	size_t i = 0;

	if (name != NULL) {
		if (ends_with(name, ".yml") || ends_with(name, ".yaml"))
			return NLU_DATA_RASA_YAML;
		if (ends_with(name, ".json"))
			return NLU_DATA_RASA_JSON;
		if (ends_with(name, ".tsv"))
			return NLU_DATA_TSV;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' ||
	    buf[i] == '\t'))
		i++;
	if (i < len && buf[i] == '{')
		return NLU_DATA_RASA_JSON;
	if (memchr(buf, '\t', len < 4096 ? len : 4096) != NULL)
		return NLU_DATA_TSV;
	return NLU_DATA_RASA_YAML;
}

int
nlu_dataset_load_buf(struct nlu_dataset *ds, enum nlu_data_format fmt,
    const char *name, const char *buf, size_t len, struct gacp_err *err)
{
	if (len > NLU_DATA_MAX_BYTES)
		return gacp_err_set(err, GACP_ETOOBIG, "nlu_data_too_big",
		    "training data is larger than %u bytes",
		    NLU_DATA_MAX_BYTES);
	if (fmt == NLU_DATA_AUTO)
		fmt = nlu_data_detect(name, buf, len);
	switch (fmt) {
	case NLU_DATA_TSV:
		return nlu_dataset_load_tsv(ds, buf, len, err);
	case NLU_DATA_RASA_JSON:
		return nlu_dataset_load_json(ds, buf, len, err);
	default:
		return nlu_dataset_load_yaml(ds, buf, len, err);
	}
}

int
nlu_dataset_load_file(struct nlu_dataset *ds, const char *path,
    enum nlu_data_format fmt, struct gacp_err *err)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gacp_err_set(err, GACP_EIO, "nlu_data_unreadable",
		    "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = gacp_err_set(err, GACP_EIO, "nlu_data_unreadable",
		    "%s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > NLU_DATA_MAX_BYTES) {
		rc = gacp_err_set(err, GACP_ETOOBIG, "nlu_data_too_big",
		    "%s is larger than %u bytes", path, NLU_DATA_MAX_BYTES);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = gacp_err_set(err, GACP_EIO, "nlu_data_unreadable",
			    "cannot read %s", path);
			goto out;
		}
		got += (size_t)r;
	}
	data[got] = '\0';
	rc = nlu_dataset_load_buf(ds, fmt, path, data, got, err);
out:
	free(data);
	close(fd);
	return rc;
}

/* One line of a YAML literal block; newlines inside would end it. */
static void
yaml_block_line(struct buf *out, const char *s)
{
	buf_puts(out, "    - ");
	for (; *s; s++)
		buf_putc(out, (*s == '\n' || *s == '\r') ? ' ' : *s);
	buf_putc(out, '\n');
}

/* The example with its annotations re-inserted in Rasa's syntax. */
static void
example_annotated(struct buf *line, const struct nlu_example *e)
{
	const char *s = e->text;
	size_t len = strlen(s), i = 0, cp = 0, k;

	buf_reset(line);
	while (i < len) {
		const struct nlu_ent_ann *a = NULL;

		for (k = 0; k < e->n_ents; k++)
			if (e->ents[k].start == cp)
				a = &e->ents[k];
		if (a != NULL) {
			size_t start = i, n;
			const char *surface;

			for (n = cp; n < a->end && i < len; n++)
				i += utf8_valid_prefix(s + i, len - i);
			surface = s + start;
			buf_putc(line, '[');
			buf_append(line, surface, i - start);
			buf_putc(line, ']');
			/* The short form "(entity)" only when the name
			 * cannot end it early or read as "entity:value"
			 * (found by fuzz-rasa: an entity named "cr](x"). */
			if (a->role == NULL && a->group == NULL &&
			    strpbrk(a->entity, "()[]{}:\"") == NULL &&
			    (a->value == NULL ||
			    (strlen(a->value) == i - start &&
			    memcmp(a->value, surface, i - start) == 0))) {
				buf_printf(line, "(%s)", a->entity);
			} else {
				buf_puts(line, "{\"entity\": ");
				buf_json_str(line, a->entity);
				if (a->value != NULL) {
					buf_puts(line, ", \"value\": ");
					buf_json_str(line, a->value);
				}
				if (a->role != NULL) {
					buf_puts(line, ", \"role\": ");
					buf_json_str(line, a->role);
				}
				if (a->group != NULL) {
					buf_puts(line, ", \"group\": ");
					buf_json_str(line, a->group);
				}
				buf_putc(line, '}');
			}
			cp = a->end;
			continue;
		}
		k = utf8_valid_prefix(s + i, len - i);
		if (k == 0)
			k = 1;
		buf_append(line, s + i, k);
		i += k;
		cp++;
	}
}

void
nlu_dataset_to_yaml(const struct nlu_dataset *ds, struct buf *out)
{
	struct buf line;
	char *done;
	size_t i, j, k;

	buf_puts(out, "version: \"3.1\"\n");
	/* An empty "nlu:" is null, which the loader refuses as "not a
	 * list" (found by fuzz-rasa): write an empty list instead. */
	if (ds->n_ex + ds->n_syn + ds->n_rx + ds->n_lk == 0) {
		buf_puts(out, "nlu: []\n");
		return;
	}
	buf_puts(out, "nlu:\n");
	buf_init(&line);
	done = xcalloc(ds->n_ex + 1, 1);
	for (i = 0; i < ds->n_ex; i++) {
		if (done[i])
			continue;
		buf_puts(out, "- intent: ");
		buf_json_str(out, ds->ex[i].intent);
		buf_puts(out, "\n  examples: |\n");
		for (j = i; j < ds->n_ex; j++) {
			if (done[j] || strcmp(ds->ex[j].intent,
			    ds->ex[i].intent) != 0)
				continue;
			done[j] = 1;
			example_annotated(&line, &ds->ex[j]);
			yaml_block_line(out, line.data);
		}
	}
	free(done);
	done = xcalloc(ds->n_syn + 1, 1);
	for (i = 0; i < ds->n_syn; i++) {
		if (done[i])
			continue;
		buf_puts(out, "- synonym: ");
		buf_json_str(out, ds->syn[i].canonical);
		buf_puts(out, "\n  examples: |\n");
		for (j = i; j < ds->n_syn; j++) {
			if (done[j] || strcmp(ds->syn[j].canonical,
			    ds->syn[i].canonical) != 0)
				continue;
			done[j] = 1;
			yaml_block_line(out, ds->syn[j].text);
		}
	}
	free(done);
	for (i = 0; i < ds->n_rx; i++) {
		buf_puts(out, "- regex: ");
		buf_json_str(out, ds->rx[i].name);
		buf_puts(out, "\n  examples: |\n");
		yaml_block_line(out, ds->rx[i].pattern);
	}
	for (i = 0; i < ds->n_lk; i++) {
		buf_puts(out, "- lookup: ");
		buf_json_str(out, ds->lk[i].name);
		buf_puts(out, "\n  examples: |\n");
		for (k = 0; k < ds->lk[i].n_values; k++)
			yaml_block_line(out, ds->lk[i].values[k]);
	}
	buf_cleanup(&line);
}

void
nlu_dataset_split(const struct nlu_dataset *ds, double fraction, uint64_t seed,
    struct nlu_dataset *kept, struct nlu_dataset *held)
{
	size_t *idx = xmalloc((ds->n_ex + 1) * sizeof(*idx));
	char *seen = xcalloc(ds->n_ex + 1, 1), *to_held;
	uint64_t rng = seed ^ 0x243f6a8885a308d3ull;
	size_t i, j, k;

	to_held = xcalloc(ds->n_ex + 1, 1);
	for (i = 0; i < ds->n_ex; i++) {
		size_t n = 0, take;

		if (seen[i])
			continue;
		for (j = i; j < ds->n_ex; j++) {
			if (!seen[j] && strcmp(ds->ex[j].intent,
			    ds->ex[i].intent) == 0) {
				seen[j] = 1;
				idx[n++] = j;
			}
		}
		for (k = n; k > 1; k--) {
			size_t r = (size_t)(nlu_rng_next(&rng) % k), t = idx[k - 1];
			idx[k - 1] = idx[r];
			idx[r] = t;
		}
		take = (size_t)(fraction * (double)n + 0.5);
		if (take == 0 && n >= 2 && fraction > 0.0)
			take = 1;
		if (take >= n && n > 0)
			take = n - 1;
		for (k = 0; k < take; k++)
			to_held[idx[k]] = 1;
	}
	for (i = 0; i < ds->n_ex; i++) {
		const struct nlu_example *e = &ds->ex[i];
		nlu_dataset_add(to_held[i] ? held : kept, e->text, e->intent,
		    e->ents, e->n_ents, NULL);
	}
	for (i = 0; i < ds->n_syn; i++)
		nlu_dataset_add_synonym(kept, ds->syn[i].text,
		    ds->syn[i].canonical);
	for (i = 0; i < ds->n_rx; i++)
		nlu_dataset_add_regex(kept, ds->rx[i].name, ds->rx[i].pattern);
	for (i = 0; i < ds->n_lk; i++)
		for (k = 0; k < ds->lk[i].n_values; k++)
			nlu_dataset_add_lookup(kept, ds->lk[i].name,
			    ds->lk[i].values[k]);
	free(idx);
	free(seen);
	free(to_held);
}

static void
digest_str(EVP_MD_CTX *ctx, const char *s)
{
	/* Length-prefixed, so ("ab","c") and ("a","bc") differ. */
	uint64_t n = s ? strlen(s) + 1 : 0;

	EVP_DigestUpdate(ctx, &n, sizeof(n));
	if (s != NULL)
		EVP_DigestUpdate(ctx, s, n - 1);
}

void
nlu_dataset_digest(const struct nlu_dataset *ds, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 32;
	size_t i, k;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < ds->n_ex; i++) {
		digest_str(ctx, ds->ex[i].text);
		digest_str(ctx, ds->ex[i].intent);
		for (k = 0; k < ds->ex[i].n_ents; k++) {
			const struct nlu_ent_ann *a = &ds->ex[i].ents[k];
			uint32_t span[2] = { a->start, a->end };
			EVP_DigestUpdate(ctx, span, sizeof(span));
			digest_str(ctx, a->entity);
			digest_str(ctx, a->value);
			digest_str(ctx, a->role);
			digest_str(ctx, a->group);
		}
	}
	for (i = 0; i < ds->n_syn; i++) {
		digest_str(ctx, ds->syn[i].text);
		digest_str(ctx, ds->syn[i].canonical);
	}
	for (i = 0; i < ds->n_rx; i++) {
		digest_str(ctx, ds->rx[i].name);
		digest_str(ctx, ds->rx[i].pattern);
	}
	for (i = 0; i < ds->n_lk; i++) {
		digest_str(ctx, ds->lk[i].name);
		for (k = 0; k < ds->lk[i].n_values; k++)
			digest_str(ctx, ds->lk[i].values[k]);
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}
