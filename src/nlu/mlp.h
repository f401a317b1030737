/* mlp.h - one-hidden-layer perceptron over sparse hashed features.
 *
 * logits = W2 relu(W1 x + b1) + b2, with x sparse.  The first layer is a
 * table of one row of `hidden` floats per feature bucket, so a forward pass
 * costs nnz(x) * hidden + (active hidden units) * classes multiply-adds.
 *
 * Parameters live in one float array (w1, b1, w2, b2 back to back, see
 * nlu_mlp_floats) so a model file can hold them as one mmap'd section;
 * struct nlu_mlp is only a view and owns nothing.
 *
 * Training (nlu_mlp_train) is mini-batch Adam with lazy updates of the rows
 * of W1 a batch touched, input and hidden dropout, label smoothing and a
 * linearly decaying learning rate.  It is single-threaded and a pure
 * function of its inputs and seed: the ensemble trainer runs members on
 * separate threads and still gets byte-identical weights.
 */
#ifndef GACP_NLU_MLP_H
#define GACP_NLU_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "nlu/features.h"

/* Hidden sizes and class strides are multiples of this many floats so the
 * inner loops have a fixed-width body the compiler turns into SIMD. */
#define NLU_MLP_LANES 8

/* Word order beyond bigrams: a convolution over the sentence's word
 * vectors (embed.h), one bank of `filters` filters of each width
 * NLU_CONV_WIDTH_MIN .. NLU_CONV_WIDTH_MAX, ReLU and the maximum over the
 * positions.  The 2 x filters pooled values are extra inputs of an MLP's
 * hidden layer (the last rows of its W1) and are trained jointly with it
 * (nlu_mlp_train).  Windows reach past both ends of the sentence, which
 * count as zero vectors, so a one-word text still fills every width; a
 * word without a vector is a zero vector in its place.  Only the first
 * NLU_CONV_MAX_POS words are read, which bounds a parse's cost.
 * Parameters: a dim x cols matrix, cols = filters x (the sum of the
 * widths), whose column block (width w, offset o) maps a word to its
 * share of the filters of width w at the window that holds it at offset
 * o, so each word goes through one matrix product whatever the widths;
 * then NLU_CONV_WIDTHS x filters biases.  nlu_conv is a view. */
#define NLU_CONV_WIDTH_MIN 2u
#define NLU_CONV_WIDTH_MAX 3u
#define NLU_CONV_WIDTHS    (NLU_CONV_WIDTH_MAX - NLU_CONV_WIDTH_MIN + 1u)
#define NLU_CONV_MAX_POS   64u
#define NLU_CONV_MAX_FILTERS 256u
/* Column blocks: the sum of the widths. */
#define NLU_CONV_BLOCKS \
	((NLU_CONV_WIDTH_MIN + NLU_CONV_WIDTH_MAX) * NLU_CONV_WIDTHS / 2u)

struct nlu_conv {
	uint32_t     dim;         /* word vector size */
	uint32_t     filters;     /* per width, multiple of NLU_MLP_LANES */
	uint32_t     cols;        /* NLU_CONV_BLOCKS x filters */
	const float *w;           /* dim x cols */
	const float *b;           /* NLU_CONV_WIDTHS x filters */
	/* Optional: the products of words already computed (a model keeps
	 * those of its training words), the same bits as nlu_conv_word
	 * gives: pre_map[word id] is a row of pre (cols floats) or
	 * UINT32_MAX.  n_map 0: none. */
	const uint32_t *pre_map;
	uint32_t     n_map;
	const float *pre;
};

struct nlu_mlp {
	uint32_t     dim;         /* input buckets */
	uint32_t     hidden;      /* hidden units, multiple of NLU_MLP_LANES */
	uint32_t     n_out;       /* classes */
	uint32_t     out_stride;  /* n_out rounded up to NLU_MLP_LANES */
	const float *w1;          /* dim x hidden */
	const float *b1;          /* hidden */
	const float *w2;          /* hidden x out_stride */
	const float *b2;          /* out_stride */
	/* Optional: the first layer in int8 (nlu_mlp_bind_q8).  Row r is
	 * hidden int8 at w1q + r * w1q_stride, then its float32 scale:
	 * w1[r][j] ~ q[j] * scale.  When set, w1 is NULL and the forward
	 * pass reads these: a third of the bytes, in one or two cache lines
	 * per row, and the rows of a large hash space are cache misses. */
	const unsigned char *w1q;
	size_t       w1q_stride;
};

/* Training examples in compressed sparse rows. */
struct nlu_mlp_data {
	const uint32_t *row_off;  /* n + 1 offsets into idx/val */
	const uint32_t *idx;
	const float    *val;
	const uint32_t *label;    /* class of each row, < n_out */
	const float    *weight;   /* per-row loss weight, or NULL for 1 */
	size_t          n;
	/* Word vectors of each row for the convolution (opts conv_filters
	 * > 0): row i's words are seq[seq_off[i] .. seq_off[i + 1]),
	 * seq_dim floats each (at most NLU_CONV_MAX_POS words). */
	const uint32_t *seq_off;
	const float    *seq;
	uint32_t        seq_dim;
};

struct nlu_mlp_train_opts {
	uint32_t hidden;          /* hidden units, multiple of NLU_MLP_LANES */
	uint32_t epochs;
	uint32_t min_steps;       /* at least this many Adam steps: small data
	                           * sets get more epochs */
	uint32_t batch;           /* examples per Adam step */
	float    lr;              /* peak learning rate */
	float    dropout_in;      /* probability of dropping an input feature */
	float    dropout_hidden;  /* probability of dropping a hidden unit */
	float    label_smoothing; /* mass spread over the other classes */
	uint32_t conv_filters;    /* convolution filters per width (0: none),
	                           * multiple of NLU_MLP_LANES; its 2 x
	                           * conv_filters outputs are the last inputs */
	uint64_t seed;
};

/* y += a * x over n floats, n a multiple of NLU_MLP_LANES.  The fixed inner
 * width lets GCC's SLP vectoriser emit SIMD at -O2 without -ffast-math
 * (each lane is independent, so no reassociation is needed, and the
 * result is deterministic).  Shared by the MLP and the linear member. */
static inline void
nlu_axpy(float a, const float *restrict x, float *restrict y, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += NLU_MLP_LANES)
		for (k = 0; k < NLU_MLP_LANES; k++)
			y[i + k] += a * x[i + k];
}

/* Prototypes */

/* Number of floats of a parameter block. */
size_t nlu_mlp_floats(uint32_t dim, uint32_t hidden, uint32_t n_out);
uint32_t nlu_mlp_stride(uint32_t n_out);
/* Point m at a parameter block of nlu_mlp_floats() floats (not copied). */
void   nlu_mlp_bind(struct nlu_mlp *m, uint32_t dim, uint32_t hidden,
           uint32_t n_out, const float *params);

/* The int8 form of one MLP's parameters (model format 6): the first
 * layer's dim rows, each hidden int8 and a float32 scale at a stride of
 * nlu_mlp_q8_stride(hidden) bytes (the scale is the row's largest
 * magnitude / 127, the values rounded to nearest), padded to 64 bytes;
 * then b1, w2 and b2 as float32 as in nlu_mlp_floats, padded to 64.
 * nlu_mlp_q8_bytes is its size, nlu_mlp_q8_write fills it from float
 * parameters, nlu_mlp_dequantise replaces the first layer of float
 * parameters by what the int8 form holds (the trainer calibrates on
 * that), and nlu_mlp_bind_q8 binds m to a block (64-byte aligned). */
size_t nlu_mlp_q8_stride(uint32_t hidden);
size_t nlu_mlp_q8_bytes(uint32_t dim, uint32_t hidden, uint32_t n_out);
void   nlu_mlp_q8_write(const float *params, uint32_t dim, uint32_t hidden,
           uint32_t n_out, unsigned char *out);
void   nlu_mlp_dequantise(float *params, uint32_t dim, uint32_t hidden);
void   nlu_mlp_bind_q8(struct nlu_mlp *m, uint32_t dim, uint32_t hidden,
           uint32_t n_out, const unsigned char *block);
/* logits (out_stride floats) = forward(x); hid is scratch of `hidden`
 * floats.  Indices of x must be < dim. */
void   nlu_mlp_forward(const struct nlu_mlp *m, const struct nlu_sparse *x,
           float *hid, float *logits);

/* Train from scratch into params (nlu_mlp_floats(dim, hidden, n_out)
 * floats, caller-owned) and, with o->conv_filters > 0, conv_params
 * (nlu_conv_floats(d->seq_dim, o->conv_filters)), whose pooled outputs
 * are inputs dim - NLU_CONV_WIDTHS * conv_filters .. dim - 1.
 * Deterministic for a given seed and inputs. */
void   nlu_mlp_train(const struct nlu_mlp_train_opts *o,
           const struct nlu_mlp_data *d, uint32_t dim, uint32_t n_out,
           float *params, float *conv_params);

/* Number of floats of a convolution's parameters. */
size_t nlu_conv_floats(uint32_t dim, uint32_t filters);
/* Point c at a parameter block of nlu_conv_floats() floats. */
void   nlu_conv_bind(struct nlu_conv *c, uint32_t dim, uint32_t filters,
           const float *params);
/* Floats of scratch nlu_conv_forward needs. */
size_t nlu_conv_scratch(uint32_t filters);
/* z[0 .. c->cols) = one word vector x (c->dim floats) through the whole
 * matrix. */
void   nlu_conv_word(const struct nlu_conv *c, const float *x, float *z);
/* pooled[0 .. NLU_CONV_WIDTHS x filters) = max over the positions of
 * ReLU(conv) of the n_pos word vectors at x (n_pos x dim floats, n_pos <=
 * NLU_CONV_MAX_POS); all zero when n_pos is 0.  argmax (may be NULL) gets
 * each output's window start (-(width - 1) .. n_pos - 1), or INT32_MIN
 * where the output is zero.  z is scratch (nlu_conv_scratch floats). */
void   nlu_conv_forward(const struct nlu_conv *c, const float *x,
           uint32_t n_pos, float *pooled, int32_t *argmax, float *z);
/* The same, taking a word's product from c->pre where ids[p] (the word's
 * id, or -1) has one. */
void   nlu_conv_forward_ids(const struct nlu_conv *c, const float *x,
           const int32_t *ids, uint32_t n_pos, float *pooled,
           int32_t *argmax, float *z);

/* Deterministic PRNG (splitmix64) shared by the trainers. */
uint64_t nlu_rng_next(uint64_t *state);
/* Uniform float in [0, 1). */
float    nlu_rng_float(uint64_t *state);

#endif
