/* fuzz-rasa.c - libFuzzer target: Rasa training-data and domain import (nlu/data*.c, flow/domain.c).
 *
 * The first input byte picks the reader (modulo 4): Rasa NLU YAML, Rasa
 * JSON, detection by content (nlu_dataset_load_buf with NLU_DATA_AUTO),
 * or a Rasa domain file (domain_parse).  Checked beyond "no crash":
 *   - every example loaded has a non-empty UTF-8 text and intent, and
 *     every annotation an entity name and a span 0 <= start < end <= the
 *     text's code points; synonyms, regexes and lookups are UTF-8;
 *   - YAML that loads exports (nlu_dataset_to_yaml) to YAML that loads
 *     again to the same examples, intents and annotation spans (when no
 *     text holds brackets, which the format cannot escape);
 *   - an accepted domain has one row per (intent, language), with arrays
 *     of string templates, {title, payload} quick replies and
 *     {slot, ...} required slots.
 */
#include "common/buf.h"
#include "common/err.h"
#include "common/utf8.h"
#include "flow/domain.h"
#include "nlu/data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, int may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			abort();
		return;
	}
	if (!utf8_valid(s, strlen(s)))
		abort();
}

static void
check_dataset(const struct nlu_dataset *ds)
{
	size_t i, j, ncp;

	for (i = 0; i < ds->n_ex; i++) {
		const struct nlu_example *e = &ds->ex[i];

		check_str(e->text, 0);
		check_str(e->intent, 0);
		if (e->text[0] == '\0' || e->intent[0] == '\0')
			abort();
		ncp = utf8_count(e->text, strlen(e->text));
		for (j = 0; j < e->n_ents; j++) {
			const struct nlu_ent_ann *a = &e->ents[j];

			if (a->start >= a->end || a->end > ncp)
				abort();
			check_str(a->entity, 0);
			check_str(a->value, 1);
			check_str(a->role, 1);
			check_str(a->group, 1);
		}
	}
	for (i = 0; i < ds->n_syn; i++) {
		check_str(ds->syn[i].text, 0);
		check_str(ds->syn[i].canonical, 0);
	}
	for (i = 0; i < ds->n_rx; i++) {
		check_str(ds->rx[i].name, 0);
		check_str(ds->rx[i].pattern, 0);
	}
	for (i = 0; i < ds->n_lk; i++) {
		check_str(ds->lk[i].name, 0);
		for (j = 0; j < ds->lk[i].n_values; j++)
			check_str(ds->lk[i].values[j], 0);
	}
}

/* Export ds as YAML, load it back: the same examples must come out
 * (the writer groups examples by intent, so compare as multisets by
 * looking each one up). */
static void
check_round_trip(const struct nlu_dataset *ds)
{
	struct nlu_dataset again;
	struct gacp_err err;
	struct buf y;
	size_t i, j, k;
	char *used;

	/* Rasa's format has no escape for brackets in plain text: a text
	 * holding "]{" or "](" next to an annotation reads back differently
	 * (a known limit of the format, not checked). */
	for (i = 0; i < ds->n_ex; i++)
		if (strpbrk(ds->ex[i].text, "[](){}") != NULL)
			return;
	buf_init(&y);
	nlu_dataset_to_yaml(ds, &y);
	nlu_dataset_init(&again);
	gacp_err_clear(&err);
	if (nlu_dataset_load_yaml(&again, y.data, y.len, &err) != GACP_OK ||
	    again.n_ex != ds->n_ex) {
		fprintf(stderr, "export does not load again (%zu of %zu "
		    "examples; %s: %s):\n%s\n", again.n_ex, ds->n_ex, err.code,
		    err.msg, y.data);
		abort();
	}
	used = calloc(ds->n_ex + 1, 1);
	for (i = 0; i < ds->n_ex; i++) {
		const struct nlu_example *e = &ds->ex[i];

		for (j = 0; j < again.n_ex; j++) {
			const struct nlu_example *f = &again.ex[j];

			if (used[j] || strcmp(e->text, f->text) != 0 ||
			    strcmp(e->intent, f->intent) != 0 ||
			    e->n_ents != f->n_ents)
				continue;
			for (k = 0; k < e->n_ents; k++)
				if (e->ents[k].start != f->ents[k].start ||
				    e->ents[k].end != f->ents[k].end ||
				    strcmp(e->ents[k].entity, f->ents[k].entity) != 0)
					break;
			if (k == e->n_ents)
				break;
		}
		if (j == again.n_ex) {
			fprintf(stderr, "example \"%s\" (%s, %zu entities) is "
			    "not in the reloaded export:\n%s\n", e->text,
			    e->intent, e->n_ents, y.data);
			abort();
		}
		used[j] = 1;
	}
	free(used);
	nlu_dataset_cleanup(&again);
	buf_cleanup(&y);
}

static void
check_domain(const struct domain *d)
{
	size_t i, j, k;

	for (i = 0; i < d->n; i++) {
		const struct domain_row *r = &d->rows[i];

		check_str(r->intent, 0);
		check_str(r->language, 0);
		for (j = 0; j < i; j++)
			if (strcmp(d->rows[j].intent, r->intent) == 0 &&
			    strcmp(d->rows[j].language, r->language) == 0)
				abort();
		if (!json_object_is_type(r->templates, json_type_array))
			abort();
		for (k = 0; k < json_object_array_length(r->templates); k++)
			if (!json_object_is_type(json_object_array_get_idx(
			    r->templates, k), json_type_string))
				abort();
		if (r->quick_replies != NULL) {
			if (!json_object_is_type(r->quick_replies, json_type_array))
				abort();
			for (k = 0; k < json_object_array_length(r->quick_replies); k++) {
				struct json_object *q = json_object_array_get_idx(
				    r->quick_replies, k), *v;

				if (!json_object_object_get_ex(q, "title", &v) ||
				    !json_object_is_type(v, json_type_string) ||
				    !json_object_object_get_ex(q, "payload", &v) ||
				    !json_object_is_type(v, json_type_string))
					abort();
			}
		}
		if (r->required_slots != NULL) {
			if (!json_object_is_type(r->required_slots, json_type_array))
				abort();
			for (k = 0; k < json_object_array_length(r->required_slots); k++) {
				struct json_object *s = json_object_array_get_idx(
				    r->required_slots, k), *v;

				if (!json_object_object_get_ex(s, "slot", &v) ||
				    !json_object_is_type(v, json_type_string))
					abort();
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlu_dataset ds;
	struct domain d;
	struct gacp_err err;
	const char *text = (const char *)data + 1;
	size_t len;
	int rc;

	if (size == 0)
		return 0;
	len = size - 1;
	if (data[0] % 4 == 3) {
		memset(&d, 0, sizeof(d));
		if (domain_parse(text, len, &d, &err) == GACP_OK)
			check_domain(&d);
		else if (strcmp(err.code, "invalid_domain") != 0)
			abort();
		domain_cleanup(&d);
		return 0;
	}
	nlu_dataset_init(&ds);
	switch (data[0] % 4) {
	case 0:
		rc = nlu_dataset_load_yaml(&ds, text, len, &err);
		break;
	case 1:
		rc = nlu_dataset_load_json(&ds, text, len, &err);
		break;
	default:
		rc = nlu_dataset_load_buf(&ds, NLU_DATA_AUTO, NULL, text, len,
		    &err);
		break;
	}
	/* On error the dataset keeps what came before the bad record. */
	check_dataset(&ds);
	if (rc == GACP_OK && data[0] % 4 == 0)
		check_round_trip(&ds);
	nlu_dataset_cleanup(&ds);
	return 0;
}
