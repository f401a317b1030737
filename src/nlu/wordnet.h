/* wordnet.h - WordNet lexicon: our reader of the WordNet 3.0 database files,
 * Morphy-style lemmatisation and the compact lexicon a model carries.
 *
 * Training reads the database (index.*, data.*, *.exc of the Debian package
 * wordnet-base, format in wndb(5WN)) once and turns it into a lexicon: a
 * hash table keyed by (part of speech, lemma) whose entries list concept
 * items (a synset of one of the lemma's first senses, or a direct hypernym
 * of one, with the sense rank), plus the irregular inflections (*.exc)
 * keyed by (part of speech, inflected form).  nlu_wn_lexicon_build() keeps
 * only the concepts reachable from the training vocabulary and every
 * WordNet lemma that shares at least one of them: an unseen word at parse
 * time ("purchase") then lights the same concept features as a training
 * word ("buy") without the model ever reading /usr/share/wordnet again.
 *
 * The lexicon bytes are one section of the model file (model.h) and are
 * used in place (mmap'd, read-only, shared); nlu_wn_lex_open() validates
 * every offset and length once, so lookups need no further checks beyond
 * the probe bound.  Everything here is deterministic: the same database
 * and vocabulary give byte-identical lexicon bytes.
 *
 * Section layout (little-endian u32s): magic "GWN1", n_slots (a power of
 * two), n_entries (< n_slots), pool_bytes, max_senses, flags, then n_slots
 * slot words (0 empty, else entry offset + 1 into the pool), then the pool
 * of 4-byte-aligned entries: u8 kind (1 lemma, 2 exception), u8 pos
 * (0 noun, 1 verb, 2 adjective, 3 adverb), u8 key length, u8 item count,
 * the key bytes, padding to 4, then the items: lemma entries hold u32
 * concept items (NLU_WN_ITEM_*), exception entries hold base forms, each a
 * u8 length and its bytes.
 */
#ifndef GACP_NLU_WORDNET_H
#define GACP_NLU_WORDNET_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define NLU_WN_DEFAULT_DIR   "/usr/share/wordnet"
#define NLU_WN_MAX_SENSES    8u     /* first senses kept per lemma and pos */
#define NLU_WN_MAX_WORD      40u    /* longest word looked up, in bytes */
#define NLU_WN_MAX_ITEMS     64u    /* items of one lemma entry */

enum nlu_wn_pos {
	NLU_WN_NOUN = 0,
	NLU_WN_VERB = 1,
	NLU_WN_ADJ = 2,
	NLU_WN_ADV = 3,
	NLU_WN_N_POS = 4,
};

/* A concept item: synset offset in its data file (25 bits), pos (2 bits),
 * sense rank of the lemma (3 bits, 0 = most frequent), hypernym flag. */
#define NLU_WN_ITEM_OFFSET_MASK 0x01ffffffu
#define NLU_WN_ITEM_CONCEPT_MASK 0x07ffffffu   /* offset + pos */
#define NLU_WN_ITEM_POS_SHIFT   25
#define NLU_WN_ITEM_RANK_SHIFT  27
#define NLU_WN_ITEM_RANK_MASK   0x7u
#define NLU_WN_ITEM_HYPER       0x40000000u

/* Build options. */
#define NLU_WN_BUILD_HYPERNYMS 0x1u   /* store direct hypernyms too */

/* Whole database, loaded for training only. */
struct nlu_wn_db;

/* Read-only view over lexicon bytes (a model section or a build buffer). */
struct nlu_wn_lex {
	const unsigned char *pool;
	size_t               pool_bytes;
	const unsigned char *slots;     /* n_slots little-endian u32 */
	uint32_t             n_slots;
	uint32_t             n_entries;
	uint32_t             max_senses;
	uint32_t             flags;     /* NLU_WN_BUILD_* it was built with */
};

/* Prototypes */

/* The default database directory when it holds a WordNet database, else
 * NULL (training then goes without). */
const char *nlu_wn_default_dir(void);

/* Read index.{noun,verb,adj,adv}, the hypernym pointers of data.{noun,verb}
 * and the four exception lists from dir.  senses (1..NLU_WN_MAX_SENSES)
 * is how many of each lemma's first senses are kept; flags NLU_WN_BUILD_*.
 * GACP_EIO ("nlu_wordnet_unreadable") when a file is missing,
 * GACP_EINVAL ("nlu_wordnet_corrupt") when one is malformed. */
int  nlu_wn_db_load(const char *dir, uint32_t senses, uint32_t flags,
         struct nlu_wn_db **out, struct gacp_err *err);
void nlu_wn_db_free(struct nlu_wn_db *db);

/* Lexicon for a vocabulary (n words, lowercase UTF-8; non-ASCII words are
 * ignored): the concepts reachable from the words' lemmas, every lemma of
 * the database with at least one of them (its items cut to those), and
 * the exceptions whose base forms are kept.  Replaces out's contents;
 * *n_concepts (may be NULL) gets the number of concepts kept. */
void nlu_wn_lexicon_build(const struct nlu_wn_db *db,
         const char *const *words, size_t n, struct buf *out,
         uint32_t *n_concepts);

/* Validate len bytes at p as a lexicon section and point lx at them (not
 * copied).  GACP_EINVAL ("nlu_model_corrupt") with the reason. */
int  nlu_wn_lex_open(struct nlu_wn_lex *lx, const void *p, size_t len,
         struct gacp_err *err);

/* Concept items of a word (lowercase code points) through the lexicon:
 * for each part of speech, the word's lemmas (the exception list, else the
 * word itself and Morphy's rules of detachment, each kept only when the
 * lexicon has it) and their items.  Returns how many were stored in items
 * (at most cap); 0 for words that are not plain ASCII letters or shorter
 * than three letters. */
size_t nlu_wn_lookup(const struct nlu_wn_lex *lx, const uint32_t *cp,
         size_t n, uint32_t *items, size_t cap);

/* Synonym substitution for training-time augmentation.  A table of
 * (concept, lemma) pairs for the concepts lemmas have among their first
 * two senses (not through a hypernym), sorted by concept. */
struct nlu_wn_syn {
	uint32_t    *concept;
	const char **lemma;     /* into the lexicon's bytes (not owned) */
	uint8_t     *len;
	size_t       n;
};

void nlu_wn_syn_init(struct nlu_wn_syn *s, const struct nlu_wn_lex *lx);
void nlu_wn_syn_cleanup(struct nlu_wn_syn *s);
/* A synonym for a word (lowercase code points): a lemma other than the
 * word's own that shares the word's most frequent sense (rank 0, the
 * first part of speech that has one), picked with pick (any number; the
 * same value gives the same choice).  Writes it NUL-terminated into out
 * (NLU_WN_MAX_WORD + 1 bytes) and returns its length, or 0 when the word
 * has none. */
size_t nlu_wn_synonym(const struct nlu_wn_lex *lx, const struct nlu_wn_syn *s,
         const uint32_t *cp, size_t n, uint64_t pick, char *out);

/* Lemmas of word for pos as Morphy finds them in lx, written as
 * NUL-separated strings into out (cap bytes); returns how many.  For
 * tests and diagnostics. */
size_t nlu_wn_lemmas(const struct nlu_wn_lex *lx, enum nlu_wn_pos pos,
         const char *word, char *out, size_t cap);

/* Items of (pos, lemma) exactly as stored; NULL when absent. */
const unsigned char *nlu_wn_lex_entry(const struct nlu_wn_lex *lx,
         enum nlu_wn_pos pos, const char *lemma, size_t len,
         uint32_t *n_items);

#endif
