/* data.h - NLU training data: examples, entity annotations, synonyms,
 * regular expressions and lookup tables, with loaders for TSV
 * (text<TAB>intent), Rasa NLU YAML (libyaml) and Rasa JSON (json-c), and a
 * Rasa YAML writer for export.
 *
 * A struct nlu_dataset owns every string in it (heap copies).  Loaders
 * append to a dataset, so several files can be merged; on error the
 * dataset keeps what was added before the bad record and the caller
 * usually throws it away.  Input is hostile: every text is checked as
 * UTF-8, sizes are bounded, errors name the line.
 */
#ifndef GACP_NLU_DATA_H
#define GACP_NLU_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Largest training file we read, bytes. */
#define NLU_DATA_MAX_BYTES (256u * 1024 * 1024)

/* An entity annotated in a training example. */
struct nlu_ent_ann {
	uint32_t start;       /* code points into the example's text */
	uint32_t end;         /* exclusive */
	char    *entity;
	char    *value;       /* canonical value (synonym target or text) */
	char    *role;        /* may be NULL */
	char    *group;       /* may be NULL */
};

struct nlu_example {
	char               *text;    /* plain text, annotations removed */
	char               *intent;
	struct nlu_ent_ann *ents;
	size_t              n_ents;
};

/* One surface form mapped to its canonical value. */
struct nlu_synonym {
	char *text;
	char *canonical;
};

struct nlu_regex {
	char *name;           /* entity name (Rasa: regex name = entity) */
	char *pattern;        /* PCRE2 syntax */
};

struct nlu_lookup {
	char   *name;         /* entity name */
	char  **values;
	size_t  n_values;
	size_t  cap_values;
};

struct nlu_dataset {
	struct nlu_example *ex;
	size_t              n_ex, cap_ex;
	struct nlu_synonym *syn;
	size_t              n_syn, cap_syn;
	struct nlu_regex   *rx;
	size_t              n_rx, cap_rx;
	struct nlu_lookup  *lk;
	size_t              n_lk, cap_lk;
};

enum nlu_data_format {
	NLU_DATA_AUTO = 0,    /* by file extension, then by content */
	NLU_DATA_TSV,
	NLU_DATA_RASA_YAML,
	NLU_DATA_RASA_JSON,
};

/* Prototypes */

void nlu_dataset_init(struct nlu_dataset *ds);
/* Frees every string; ds may be NULL. */
void nlu_dataset_cleanup(struct nlu_dataset *ds);

/* Append one example (copies text, intent and annotations).  Returns
 * GACP_EINVAL when text or intent is empty or not UTF-8, or an annotation
 * lies outside the text. */
int  nlu_dataset_add(struct nlu_dataset *ds, const char *text,
         const char *intent, const struct nlu_ent_ann *ents, size_t n_ents,
         struct gacp_err *err);
/* Append a synonym (text -> canonical); duplicates of the same text keep
 * the first canonical value. */
void nlu_dataset_add_synonym(struct nlu_dataset *ds, const char *text,
         const char *canonical);
void nlu_dataset_add_regex(struct nlu_dataset *ds, const char *name,
         const char *pattern);
void nlu_dataset_add_lookup(struct nlu_dataset *ds, const char *name,
         const char *value);

/* Parse one Rasa-annotated example: "[value](entity)",
 * "[value](entity:canonical)" and '[value]{"entity": "e", "value": "v",
 * "role": "r", "group": "g"}'.  On success *plain is a heap string the
 * caller frees and *ents (heap, caller frees with nlu_ent_ann_free) has
 * *n_ents entries with code-point offsets into *plain; annotations with a
 * value different from their text also become synonyms of ds (may be
 * NULL).  GACP_EINVAL on malformed annotations. */
int  nlu_annotated_parse(const char *line, struct nlu_dataset *ds,
         char **plain, struct nlu_ent_ann **ents, size_t *n_ents,
         struct gacp_err *err);
void nlu_ent_ann_free(struct nlu_ent_ann *ents, size_t n_ents);

/* Loaders: append the records in buf (len bytes) to ds. */
int  nlu_dataset_load_tsv(struct nlu_dataset *ds, const char *buf,
         size_t len, struct gacp_err *err);
int  nlu_dataset_load_yaml(struct nlu_dataset *ds, const char *buf,
         size_t len, struct gacp_err *err);
int  nlu_dataset_load_json(struct nlu_dataset *ds, const char *buf,
         size_t len, struct gacp_err *err);
/* Detect the format of buf (file name hint may be NULL). */
enum nlu_data_format nlu_data_detect(const char *name, const char *buf,
         size_t len);
int  nlu_dataset_load_buf(struct nlu_dataset *ds, enum nlu_data_format fmt,
         const char *name, const char *buf, size_t len, struct gacp_err *err);
/* Read a whole file and load it; GACP_EIO when it cannot be read. */
int  nlu_dataset_load_file(struct nlu_dataset *ds, const char *path,
         enum nlu_data_format fmt, struct gacp_err *err);

/* Write ds as Rasa NLU YAML (version "3.1"), annotations inline. */
void nlu_dataset_to_yaml(const struct nlu_dataset *ds, struct buf *out);

/* Stratified split: about `fraction` of each intent's examples (at least
 * one when an intent has two or more) go to `held`, the rest to `kept`,
 * chosen by a seeded shuffle.  Synonyms, regexes and lookups are copied
 * to kept.  Both outputs must be initialised and empty. */
void nlu_dataset_split(const struct nlu_dataset *ds, double fraction,
         uint64_t seed, struct nlu_dataset *kept, struct nlu_dataset *held);

/* SHA-256 over the examples and entity data, order-sensitive: identifies
 * the training data a model came from. */
void nlu_dataset_digest(const struct nlu_dataset *ds, unsigned char out[32]);

#endif
