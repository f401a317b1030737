/* linear.c - sparse multinomial logistic regression (see linear.h). */
#include "nlu/linear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

size_t
nlu_linear_floats(uint32_t dim, uint32_t n_out)
{
	return ((size_t)dim + 1) * nlu_mlp_stride(n_out);
}

void
nlu_linear_bind(struct nlu_linear *m, uint32_t dim, uint32_t n_out,
    const float *params)
{
	m->dim = dim;
	m->n_out = n_out;
	m->stride = nlu_mlp_stride(n_out);
	m->w = params;
	m->b = params + (size_t)dim * m->stride;
}

void
nlu_linear_forward(const struct nlu_linear *m, const struct nlu_sparse *x,
    float *logits)
{
	size_t i;

	memcpy(logits, m->b, m->stride * sizeof(*logits));
	for (i = 0; i < x->n; i++)
		nlu_axpy(x->val[i], m->w + (size_t)x->idx[i] * m->stride,
		    logits, m->stride);
}

void
nlu_linear_scale(float *params, uint32_t dim, uint32_t n_out, float f)
{
	size_t i, n = nlu_linear_floats(dim, n_out);

	for (i = 0; i < n; i++)
		params[i] *= f;
}

void
nlu_linear_train(const struct nlu_linear_train_opts *o,
    const struct nlu_mlp_data *d, uint32_t dim, uint32_t n_out,
    float *params)
{
	struct nlu_linear m;
	uint32_t stride = nlu_mlp_stride(n_out), c;
	float *logits = xmalloc(stride * sizeof(float));
	float *w, *b;
	size_t *order = xmalloc((d->n + 1) * sizeof(*order));
	size_t total = (size_t)o->epochs * d->n, step = 0, e, i, k;
	uint64_t rng = o->seed ^ 0x3c6ef372fe94f82bull;

	memset(params, 0, nlu_linear_floats(dim, n_out) * sizeof(float));
	nlu_linear_bind(&m, dim, n_out, params);
	w = params;
	b = params + (size_t)dim * stride;
	for (i = 0; i < d->n; i++)
		order[i] = i;
	for (e = 0; e < o->epochs; e++) {
		/* Fisher-Yates with the seeded generator. */
		for (i = d->n; i > 1; i--) {
			size_t j = (size_t)(nlu_rng_next(&rng) % i), t;

			t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (k = 0; k < d->n; k++, step++) {
			size_t r = order[k];
			struct nlu_sparse x;
			float lr = o->lr * (1.0f - (float)step / (float)total);
			float mx, sum = 0.0f, rw;

			if (d->label[r] >= n_out)
				continue;
			rw = d->weight ? d->weight[r] : 1.0f;
			x.idx = (uint32_t *)(uintptr_t)(d->idx + d->row_off[r]);
			x.val = (float *)(uintptr_t)(d->val + d->row_off[r]);
			x.n = d->row_off[r + 1] - d->row_off[r];
			nlu_linear_forward(&m, &x, logits);
			mx = logits[0];
			for (c = 1; c < n_out; c++)
				if (logits[c] > mx)
					mx = logits[c];
			for (c = 0; c < n_out; c++) {
				logits[c] = expf(logits[c] - mx);
				sum += logits[c];
			}
			/* logits becomes the gradient: p - y, times the step. */
			for (c = 0; c < n_out; c++)
				logits[c] = -lr * rw * (logits[c] / sum -
				    (c == d->label[r] ? 1.0f : 0.0f));
			for (c = n_out; c < stride; c++)
				logits[c] = 0.0f;
			for (i = 0; i < x.n; i++)
				nlu_axpy(x.val[i], logits, w +
				    (size_t)x.idx[i] * stride, stride);
			nlu_axpy(1.0f, logits, b, stride);
		}
	}
	free(order);
	free(logits);
}
