/* model.h - NLU intent model: training, file format, load, scoring.
 *
 * A model is an ensemble of sparse-input MLPs (mlp.h) over hashed TF-IDF
 * features (features.h), with a softmax temperature fitted on held-out
 * data, a fallback threshold and an ambiguity threshold, the labels, and
 * the entity extractors' configuration (regexes, lookups, synonyms).
 *
 * File format (all integers and floats little-endian):
 *   header, 64 bytes: magic "GACPNLU\0", u32 format version, u32 header
 *   size, u64 payload size, SHA-256 of the payload (32 bytes), 8 zero bytes;
 *   payload: a fixed metadata block (sizes, hash parameters, thresholds,
 *   temperature, training metadata and validation metrics, section
 *   offsets), then sections aligned to 64 bytes: labels, entity
 *   configuration, IDF tables (float32, members x buckets), weights
 *   (float32, one block per member) and, from format version 2, the
 *   WordNet lexicon (wordnet.h; empty when trained without WordNet) and
 *   the optional linear member (its IDF table and weights, linear.h),
 *   and from version 3 the optional word-vector table (embed.h): with
 *   it, every MLP's first layer has e.dim rows after its hashed buckets,
 *   fed the text's sentence vector; from version 4 the optional
 *   convolution over the word vectors (mlp.h, float32, one block per
 *   member): with it, every MLP's first layer has 2 x filters more rows,
 *   fed the convolution's pooled outputs; from version 5 the confidence
 *   map (nlu_model_decide: which score the threshold acts on and its
 *   calibration, in the metadata block); from version 6 the first
 *   layers' storage (metadata: 0 float32, 1 int8 with a float32 scale
 *   per row, nlu_mlp_q8_bytes per member, the rest of each MLP float32).
 * Version 1 files (no lexicon), version 2 files (no word vectors),
 * version 3 files (no convolution), version 4 files (confidence the
 * best in-scope probability) and version 5 files (float32 weights only)
 * still load and score as before.
 * Files are written to a temporary name, fsynced and renamed, so readers
 * see the old file or the new one, never a mix.  nlu_model_load() maps the
 * file read-only (MAP_SHARED), so every pre-forked process shares one copy
 * of the weights in the page cache; it checks sizes, offsets and the
 * checksum before use and refuses anything else.
 *
 * Ownership: a struct nlu_model is immutable once returned and may be used
 * by any number of threads at once, each with its own struct nlu_scratch.
 */
#ifndef GACP_NLU_MODEL_H
#define GACP_NLU_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "nlu/data.h"
#include "nlu/embed.h"
#include "nlu/features.h"
#include "nlu/linear.h"
#include "nlu/mlp.h"
#include "nlu/text.h"
#include "nlu/wordnet.h"

#define NLU_MODEL_MAGIC          "GACPNLU"   /* + NUL: 8 bytes */
#define NLU_MODEL_FORMAT_VERSION 6u
#define NLU_MODEL_FORMAT_OLDEST  1u  /* oldest version still loaded */
#define NLU_MODEL_HEADER_BYTES   64u
#define NLU_MODEL_MAX_MEMBERS    16u
/* Hash salt (member number) of the linear member's features. */
#define NLU_MODEL_LINEAR_MEMBER  NLU_MODEL_MAX_MEMBERS
#define NLU_MODEL_MAX_LABELS     4096u
/* Range of the hash space chosen from the data (feat.dim_log2 = 0). */
#define NLU_MODEL_AUTO_DIM_LOG2_MIN 12u
#define NLU_MODEL_AUTO_DIM_LOG2_MAX 15u

/* Intent name of a fallback, as Rasa's FallbackClassifier. */
#define NLU_FALLBACK_INTENT "nlu_fallback"
/* Label of out-of-scope training rows. */
#define NLU_OOS_LABEL "oos"
/* Rasa FallbackClassifier defaults. */
#define NLU_DEFAULT_THRESHOLD 0.3f
#define NLU_DEFAULT_AMBIGUITY 0.1f

/* What a decision's confidence is (nlu_model_decide). */
enum nlu_conf_kind {
	/* The best in-scope probability (format versions 1 to 4). */
	NLU_CONF_MSP = 0,
	/* The best in-scope probability minus the out-of-scope label's,
	 * mapped by a logistic curve fitted on the calibration rows to the
	 * probability that the answer is right (Platt scaling). */
	NLU_CONF_OOS_MARGIN = 1,
};

struct nlu_entities;

struct nlu_train_opts {
	uint64_t                  seed;
	char                      lang[8];     /* declared language or "multi" */
	uint32_t                  members;     /* ensemble size */
	uint32_t                  threads;     /* worker threads (1 or more) */
	struct nlu_feat_params    feat;        /* dim_log2 0: from the data */
	struct nlu_mlp_train_opts mlp;         /* mlp.seed is derived per member;
	                                        * hidden 0: from the data */
	double                    holdout;     /* share held back to calibrate
	                                        * when no validation set */
	int                       refit;       /* retrain on all data after
	                                        * calibrating on a holdout */
	float                     ambiguity;   /* ambiguity threshold stored */
	float                     threshold;   /* < 0: choose on validation */
	float                     oos_recall_target; /* > 0: threshold rule
	                                        * "recall floor" with this
	                                        * target (nlu_threshold_pick);
	                                        * 0: the balanced rule */
	float                     in_scope_budget; /* > 0 (and no recall
	                                        * target): threshold rule
	                                        * "in-scope budget" giving up
	                                        * at most this share of
	                                        * in-scope accuracy; 0: the
	                                        * balanced rule */
	int                       conf_oos_margin; /* with an oos label:
	                                        * confidence NLU_CONF_OOS_
	                                        * MARGIN (else NLU_CONF_MSP) */
	int                       weights_int8; /* store every MLP's first
	                                        * layer in int8 with a scale
	                                        * per row (mlp.h; format 6),
	                                        * else float32 */
	uint32_t                  synth_oos;   /* synthetic out-of-scope rows
	                                        * per in-scope intent */
	const char               *wordnet_dir; /* WordNet database for concept
	                                        * features (feat.wn_*), or
	                                        * NULL for none */
	uint32_t                  wn_senses;   /* first senses kept per lemma */
	uint32_t                  wn_build;    /* NLU_WN_BUILD_* */
	uint32_t                  wn_augment;  /* synonym-substituted copies
	                                        * of each training example */
	float                     wn_augment_p; /* per-word substitution
	                                        * probability in a copy */
	float                     linear_weight; /* share of a linear softmax
	                                        * member in the ensemble
	                                        * average, [0, 1); 0: none */
	uint32_t                  linear_dim_log2; /* its hash space */
	uint32_t                  linear_epochs;
	float                     linear_lr;
	const char               *embeddings;  /* word-vector file (embed.h)
	                                        * for dense sentence inputs,
	                                        * or NULL for none */
	uint32_t                  emb_top;     /* the file's most frequent
	                                        * words kept besides the
	                                        * training vocabulary */
	float                     emb_scale;   /* norm of the sentence vector
	                                        * beside the unit-norm hashed
	                                        * input, (0, 8] */
	int                       emb_idf;     /* weight words by their IDF
	                                        * in the mean (else 1) */
	int                       emb_max;     /* their maximum too
	                                        * (NLU_EMB_MAX) */
	uint32_t                  conv_filters; /* word-order convolution
	                                        * over the word vectors
	                                        * (mlp.h), filters per width
	                                        * in every member, used when
	                                        * embeddings are given; 0:
	                                        * none */
	/* Neighbour-substituted copies of each training example (with
	 * embeddings): each not frequent word replaced with probability
	 * nb_augment_p by one of its nearest table words (cosine >=
	 * nb_augment_cos).  0 copies: none. */
	uint32_t                  nb_augment;
	float                     nb_augment_p;
	float                     nb_augment_cos;
	int                       aug_members; /* members after the first
	                                        * draw their own synonym and
	                                        * neighbour copies */
};

/* What training measured; also stored in the model. */
struct nlu_train_report {
	uint32_t n_train;            /* examples trained on (final fit) */
	uint32_t n_valid;            /* examples used to calibrate */
	float    temperature;
	float    threshold;
	float    valid_in_scope_acc; /* at the chosen threshold */
	float    valid_oos_recall;   /* -1 when validation had no oos rows */
	uint32_t conf_kind;          /* enum nlu_conf_kind */
	float    conf_a, conf_b;     /* its logistic map (OOS_MARGIN) */
	double   train_seconds;      /* wall clock, not stored in the file */
	uint32_t wn_concepts;        /* WordNet concepts reachable from the
	                              * training words (0 without WordNet) */
	uint32_t wn_entries;         /* lexicon entries kept */
	size_t   wn_bytes;           /* lexicon section size */
	uint32_t emb_words;          /* word vectors kept (0: none) */
	uint32_t emb_vocab;          /* training words among them */
	uint32_t emb_vocab_all;      /* training words */
	size_t   emb_bytes;          /* their section size */
};

struct nlu_model {
	const unsigned char *image;       /* header + payload */
	size_t               image_bytes;
	int                  mapped;      /* image is an mmap (else heap) */
	unsigned char        sha256[32];  /* payload checksum (fingerprint) */
	uint32_t             n_labels;
	const char         **labels;      /* into image */
	int32_t              oos_label;   /* index of "oos", or -1 */
	uint32_t             members;
	uint32_t             hidden;
	struct nlu_feat_params feat;      /* feat.wn points at wn or is NULL */
	struct nlu_wn_lex    wn;          /* view into image */
	uint32_t             format;      /* file format version */
	const float         *idf;         /* members x (1 << dim_log2) */
	struct nlu_mlp      *mlp;         /* members views into image */
	float                lin_weight;  /* linear member's share, 0: none */
	struct nlu_feat_params lin_feat;  /* its hash space (else as feat) */
	const float         *lin_idf;     /* 1 << lin_feat.dim_log2 */
	struct nlu_linear    lin;         /* view into image */
	struct nlu_emb       emb;         /* view into image; emb.dim 0:
	                                   * no word vectors */
	float                emb_scale;   /* sentence vector norm */
	uint32_t             conv_filters; /* per width, 0: no convolution */
	int                  weights_int8; /* first layers in int8 */
	struct nlu_conv     *conv;        /* members views into image */
	float                temperature;
	float                threshold;   /* fallback below this confidence */
	uint32_t             conf_kind;   /* enum nlu_conf_kind */
	float                conf_a;      /* NLU_CONF_OOS_MARGIN: confidence */
	float                conf_b;      /* 1 / (1 + exp(-(a s + b))) */
	float                ambiguity;   /* fallback when top1 - top2 < this */
	char                 lang[8];
	uint64_t             seed;
	uint32_t             n_train;
	unsigned char        data_sha256[32];
	float                valid_in_scope_acc;
	float                valid_oos_recall;
	uint32_t             n_valid;
	struct nlu_dataset   entity_spec; /* regexes, lookups, synonyms */
	struct nlu_entities *entities;    /* compiled extractors */
};

/* Per-thread scratch for scoring; reused call after call. */
struct nlu_scratch {
	struct nlu_text    text;
	struct nlu_rawfeat raw;
	struct nlu_sparse  vec;
	float             *hid;
	float             *dense;         /* sentence vector (emb.dim) */
	float             *seq;           /* word vectors for the convolution
	                                   * (NLU_CONV_MAX_POS x emb.dim) */
	int32_t           *seq_ids;       /* their table indices */
	float             *pool;          /* its outputs, and scratch */
	float             *conv_y;
	float             *logits;        /* members x stride */
	float             *probs;         /* n_labels */
	size_t             cap_hid, cap_logits, cap_probs, cap_dense;
	size_t             cap_seq, cap_pool;
};

/* A classification decision. */
struct nlu_decision {
	int32_t label;        /* index into labels, or -1 for nlu_fallback */
	int32_t top;          /* best label (even when falling back) */
	float   confidence;   /* probability-like confidence in top, in
	                       * [0, 1] (m->conf_kind): what the threshold
	                       * acts on */
	float   margin;       /* top minus second-best probability */
};

/* Prototypes */

/* Defaults: 4 members on 2 threads, seed 1, language "multi", hash space
 * and hidden size chosen from the training data (2^12 buckets x 32 hidden
 * for a few hundred examples up to 2^15 x 128 for tens of thousands). */
void nlu_train_opts_default(struct nlu_train_opts *o);

/* Train a model on `train`; `valid` (may be NULL) calibrates the
 * temperature and chooses the threshold, else a stratified holdout of
 * train does.  On success *out is a new model the caller frees with
 * nlu_model_free(); rep (may be NULL) gets the measurements.  Returns
 * GACP_EINVAL when train has fewer than two intents or options are out of
 * range.  Deterministic: the same data, options and seed give a
 * byte-identical model image whatever the thread count. */
int  nlu_model_train(const struct nlu_dataset *train,
         const struct nlu_dataset *valid, const struct nlu_train_opts *o,
         struct nlu_model **out, struct nlu_train_report *rep,
         struct gacp_err *err);

/* Write the model atomically: PATH.tmp.PID, fsync, rename, fsync of the
 * directory.  GACP_EIO on any failure (the old file is left untouched). */
int  nlu_model_save(const struct nlu_model *m, const char *path,
         struct gacp_err *err);

/* Map and verify a model file.  GACP_EINVAL with code "nlu_model_corrupt"
 * (bad magic, truncated, checksum mismatch, bad offsets) or
 * "nlu_model_version" (unsupported format); GACP_EIO when unreadable. */
int  nlu_model_load(const char *path, struct nlu_model **out,
         struct gacp_err *err);
/* Same checks on an image in memory, which is copied. */
int  nlu_model_from_image(const void *image, size_t len,
         struct nlu_model **out, struct gacp_err *err);
/* Unmap / free; m may be NULL. */
void nlu_model_free(struct nlu_model *m);

/* Index of a label, or -1. */
int  nlu_model_label_index(const struct nlu_model *m, const char *name);

int  nlu_scratch_init(struct nlu_scratch *s, struct gacp_err *err);
void nlu_scratch_cleanup(struct nlu_scratch *s);

/* Calibrated probabilities of every label for text (len bytes) into
 * s->probs (n_labels floats, valid until the next call with s).
 * GACP_EINVAL for invalid UTF-8, GACP_ETOOBIG for oversized text. */
int  nlu_model_score(const struct nlu_model *m, struct nlu_scratch *s,
         const char *text, size_t len, struct gacp_err *err);

/* The fallback threshold from calibration rows: conf[i] is row i's top
 * confidence (-1 when it falls back anyway), ok[i] whether that answer is
 * right, is_oos[i] whether the row is out of scope; thresholds k / n_steps
 * are tried.  With out-of-scope rows, recall_target 0 and in_scope_budget
 * > 0 (the trainer's default, "in-scope budget"): the highest thresholds
 * that cost at most in_scope_budget of in-scope accuracy (they all cost
 * the same: the middle of that plateau is taken, halfway between two
 * rows), whatever out-of-scope recall they give; the choice rests on the
 * in-scope rows, which are many, not on a few out-of-scope ones.  With
 * out-of-scope rows, recall_target 0 and in_scope_budget 0 ("balanced"):
 * the highest in-scope accuracy + out-of-scope recall (the two metrics of
 * Larson et al. 2019) among thresholds that cost at most 1 % of in-scope
 * accuracy.  With recall_target > 0 ("recall floor"): the
 * highest in-scope accuracy among thresholds whose out-of-scope recall
 * reaches recall_target with 95 % confidence (Wilson lower bound: 100
 * rows need about 69 % for 0.6, a handful need nearly all) at a cost of
 * at most 2 %, else the balanced rule.  Without out-of-scope rows: the
 * highest threshold that loses at most 1 % of the right answers.  The
 * middle of the best plateau is taken, so the choice does not sit on one
 * row's edge.  *in_acc_out and *oos_rec_out (may be NULL) get the two
 * rates at the result (recall -1 without out-of-scope rows). */
float nlu_threshold_pick(const float *conf, const int *ok, const int *is_oos,
         size_t n, uint32_t n_steps, float recall_target,
         float in_scope_budget, float *in_acc_out, float *oos_rec_out);

/* Decide from probabilities: out-of-scope label on top, confidence under
 * threshold or margin under ambiguity -> label -1 (nlu_fallback).  The
 * confidence is the best in-scope probability (NLU_CONF_MSP) or, for
 * models trained with out-of-scope rows (NLU_CONF_OOS_MARGIN), that
 * probability minus the out-of-scope label's, through the model's fitted
 * logistic map; the margin is always between probabilities. */
void nlu_model_decide(const struct nlu_model *m, const float *probs,
         float threshold, float ambiguity, struct nlu_decision *d);

#endif
