/* linear.h - multinomial logistic regression over sparse hashed features.
 *
 * logits = W x + b, x sparse: a forward pass costs nnz(x) * classes
 * multiply-adds.  It is the ensemble's linear member (model.h): its errors
 * differ from the MLPs' (no hidden layer to overfit feature conjunctions),
 * which is what averaging needs.
 *
 * Parameters are one float block (w, then b; see nlu_linear_floats) so a
 * model file holds them as one mmap'd section; struct nlu_linear is only a
 * view.  Training is plain stochastic gradient descent, one example at a
 * time in a seeded shuffled order with a linearly decaying rate: a pure
 * function of its inputs and seed, single-threaded.
 */
#ifndef GACP_NLU_LINEAR_H
#define GACP_NLU_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "nlu/features.h"
#include "nlu/mlp.h"

struct nlu_linear {
	uint32_t     dim;         /* input buckets */
	uint32_t     n_out;       /* classes */
	uint32_t     stride;      /* n_out rounded up to NLU_MLP_LANES */
	const float *w;           /* dim x stride */
	const float *b;           /* stride */
};

struct nlu_linear_train_opts {
	uint32_t epochs;
	float    lr;              /* initial step size */
	uint64_t seed;
};

/* Prototypes */

size_t nlu_linear_floats(uint32_t dim, uint32_t n_out);
/* Point m at a block of nlu_linear_floats() floats (not copied). */
void   nlu_linear_bind(struct nlu_linear *m, uint32_t dim, uint32_t n_out,
           const float *params);
/* logits (stride floats) = W x + b.  Indices of x must be < dim. */
void   nlu_linear_forward(const struct nlu_linear *m,
           const struct nlu_sparse *x, float *logits);
/* Train from zero into params (caller-owned, nlu_linear_floats floats);
 * rows of d with a per-row weight use it.  Deterministic. */
void   nlu_linear_train(const struct nlu_linear_train_opts *o,
           const struct nlu_mlp_data *d, uint32_t dim, uint32_t n_out,
           float *params);
/* Multiply every parameter by f (folds a calibration scale into W, b). */
void   nlu_linear_scale(float *params, uint32_t dim, uint32_t n_out, float f);

#endif
