/* entities.h - entity extraction: regexes, lookup tables, synonyms and
 * built-ins (numbers incl. Thai digits, email, phone, URL, Thai and
 * English date phrases).
 *
 * struct nlu_entities holds the compiled PCRE2 patterns of one model; it is
 * immutable after nlu_entities_new() and shared by threads (PCRE2 code is
 * read-only during matching); each thread brings its own
 * struct nlu_ent_scratch (match data).  Offsets are code points into the
 * caller's original text, as Rasa reports them; the text is never
 * normalised before matching, so offsets need no mapping back.
 */
#ifndef GACP_NLU_ENTITIES_H
#define GACP_NLU_ENTITIES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "nlu/data.h"

#define NLU_EXTRACTOR_REGEX   "RegexEntityExtractor"
#define NLU_EXTRACTOR_LOOKUP  "RegexEntityExtractor"
#define NLU_EXTRACTOR_BUILTIN "GacpBuiltinEntityExtractor"

struct nlu_entity {
	char       *entity;      /* heap */
	char       *value;       /* heap; canonical after synonyms */
	uint32_t    start;       /* code points into the original text */
	uint32_t    end;         /* exclusive */
	const char *extractor;   /* static string */
	float       confidence;
	int         synonym;     /* value was mapped by a synonym */
	int         numeric;     /* value is a JSON number (built-in number) */
};

struct nlu_entity_list {
	struct nlu_entity *v;
	size_t             n;
	size_t             cap;
};

struct nlu_entities;

/* Per-thread match state. */
struct nlu_ent_scratch {
	void *match;             /* pcre2_match_data_8 */
};

/* Prototypes */

/* Compile the regexes and lookups of spec (examples are ignored) and the
 * built-in patterns.  GACP_EINVAL with code "nlu_bad_regex" naming the
 * pattern when one does not compile. */
int  nlu_entities_new(const struct nlu_dataset *spec,
         struct nlu_entities **out, struct gacp_err *err);
void nlu_entities_free(struct nlu_entities *e);

void nlu_ent_scratch_init(struct nlu_ent_scratch *s);
void nlu_ent_scratch_cleanup(struct nlu_ent_scratch *s);

void nlu_entity_list_init(struct nlu_entity_list *l);
/* Drop the entries, keep the capacity. */
void nlu_entity_list_reset(struct nlu_entity_list *l);
void nlu_entity_list_cleanup(struct nlu_entity_list *l);

/* Built-in entity names: "number", "email", "phone", "url", "date". */

/* Append to out every entity of text (len bytes of valid UTF-8), sorted by
 * start.  `now` anchors relative dates ("tomorrow", "พรุ่งนี้"), read in
 * `utc_offset_s` local time (Thailand: 7 * 3600).  Date values are ISO
 * 8601 dates ("2026-03-15"); Buddhist-era years (2500 and later) are
 * converted.  Returns 0; GACP_EINVAL when text is not valid UTF-8. */
int  nlu_entities_extract(const struct nlu_entities *e,
         struct nlu_ent_scratch *s, const char *text, size_t len,
         time_t now, long utc_offset_s, struct nlu_entity_list *out,
         struct gacp_err *err);

#endif
