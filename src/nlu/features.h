/* features.h - hashed word and character n-gram features, TF-IDF, L2.
 *
 * Two steps, so an ensemble pays for tokenising and hashing strings once:
 * nlu_features_raw() turns a processed text into a small list of 64-bit
 * feature hashes with counts (word unigrams, light English stems, word
 * bigrams with sentence boundaries, character n-grams of each Latin word
 * and of each unspaced Thai run); nlu_features_vector() maps them into the
 * buckets of one ensemble member (each member has its own hash salt, so
 * collisions differ between members and average out), applies sublinear
 * TF-IDF and L2-normalises the word and character groups separately before
 * mixing them, so long words cannot drown the word features.
 *
 * Everything here is a pure function of its inputs: no global state.
 */
#ifndef GACP_NLU_FEATURES_H
#define GACP_NLU_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "nlu/text.h"
#include "nlu/wordnet.h"

#define NLU_FEAT_DIM_LOG2_MIN 10
#define NLU_FEAT_DIM_LOG2_MAX 24

struct nlu_feat_params {
	uint32_t dim_log2;     /* buckets per member = 1 << dim_log2 */
	uint32_t hash_seed;    /* salt of every feature hash */
	uint32_t char_min;     /* shortest character n-gram (code points) */
	uint32_t char_max;     /* longest character n-gram */
	float    char_weight;  /* share of the character group, in [0, 1] */
	uint32_t flags;        /* NLU_FEAT_* options below */
	/* WordNet concept features (wordnet.h): for each Latin word, one
	 * feature per concept item the lexicon gives its lemmas, of weight
	 * wn_weight x wn_decay^(sense rank), x wn_hyper for a hypernym.
	 * They join the word group without taking a share of its norm: the
	 * word features keep their values and the concepts add to them, so
	 * a synonym never seen in training ("purchase") still meets the
	 * weights a training word ("buy") gave the shared concept. */
	const struct nlu_wn_lex *wn;  /* NULL: no concept features */
	float    wn_weight;    /* in [0, 4] */
	float    wn_decay;     /* in [0, 1] */
	float    wn_hyper;     /* in [0, 4] */
};

/* Character n-grams that span the space between two Latin words ("d b" of
 * "card blocked"): fuzzy word bigrams that survive a typo in either word. */
#define NLU_FEAT_XWORD 0x1u
/* Members look at different mixes of the word and character groups (see
 * nlu_features_char_weight): their errors are less correlated, which is
 * what an ensemble averages away. */
#define NLU_FEAT_VIEWS 0x2u
#define NLU_FEAT_FLAGS_ALL (NLU_FEAT_XWORD | NLU_FEAT_VIEWS)

enum nlu_feat_group {
	NLU_FEAT_GROUP_WORD = 0,
	NLU_FEAT_GROUP_CHAR = 1,
};

/* Raw features of one text: sorted by hash, each hash once. */
struct nlu_rawfeat {
	uint64_t *h;        /* feature hash; group in the lowest bit */
	float    *cnt;      /* occurrences; a negative value -w marks a
	                     * WordNet concept feature of weight w */
	size_t    n;
	size_t    cap;
	uint64_t *tab_key;  /* scratch: open-addressing table for counting */
	uint32_t *tab_slot;
	size_t    tab_size;
};

/* Sparse vector.  Indices in any order and may repeat (a repeated index
 * adds), which the linear first layer handles for free, so no sorting. */
struct nlu_sparse {
	uint32_t *idx;
	float    *val;
	size_t    n;
	size_t    cap;
};

/* Prototypes */

/* Defaults used by the trainer. */
void nlu_feat_params_default(struct nlu_feat_params *p);
/* 0 when the parameters are in range (dimension, n-gram orders, weight). */
int  nlu_feat_params_check(const struct nlu_feat_params *p);

void nlu_rawfeat_init(struct nlu_rawfeat *r);
void nlu_rawfeat_cleanup(struct nlu_rawfeat *r);
void nlu_sparse_init(struct nlu_sparse *v);
void nlu_sparse_cleanup(struct nlu_sparse *v);

/* Replace r with the raw features of the text last processed into t. */
void nlu_features_raw(const struct nlu_feat_params *p,
         const struct nlu_text *t, struct nlu_rawfeat *r);

/* Bucket of a raw hash in ensemble member `member`. */
uint32_t nlu_features_bucket(const struct nlu_feat_params *p, uint32_t member,
         uint64_t h);

/* Share of the character group in member `member`'s vector: char_weight,
 * or with NLU_FEAT_VIEWS a member-dependent mix around it. */
float nlu_features_char_weight(const struct nlu_feat_params *p,
         uint32_t member);

/* Replace out with the TF-IDF, L2-normalised vector of r for one member.
 * idf has 1 << dim_log2 entries, or is NULL for idf = 1 (used while
 * counting document frequencies).  An empty r gives an empty vector. */
void nlu_features_vector(const struct nlu_feat_params *p, uint32_t member,
         const float *idf, const struct nlu_rawfeat *r,
         struct nlu_sparse *out);

#endif
