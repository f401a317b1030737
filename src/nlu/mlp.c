/* mlp.c - sparse-input MLP: inference and deterministic Adam training. */
#include "nlu/mlp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#define ADAM_BETA1 0.9f
#define ADAM_BETA2 0.999f
#define ADAM_EPS   1e-8f

/* Everything one training run owns; nothing is shared between runs. */
struct trainer {
	uint32_t  dim, hidden, n_out, stride;
	float    *w1, *b1, *w2, *b2;        /* parameters (caller's block) */
	float    *m_w1, *v_w1;              /* Adam moments, dim x hidden */
	float    *m_b1, *v_b1, *m_w2, *v_w2, *m_b2, *v_b2;
	float    *g_b1, *g_w2, *g_b2;       /* dense gradients of a batch */
	int32_t  *row_slot;                 /* bucket -> row of g_rows, or -1 */
	uint32_t *touched;                  /* buckets touched this batch */
	size_t    n_touched, cap_touched;
	float    *g_rows;                   /* gradients of touched W1 rows */
	uint32_t *in_idx;                   /* one example after dropout */
	float    *in_val;
	size_t    cap_in;
	float    *hid, *mask, *logits, *dlog;
	/* The convolution (conv_filters > 0): parameters (caller's block),
	 * their Adam moments and batch gradient, one example's pooled
	 * outputs and where each came from. */
	uint32_t  cf, n_cin;                /* filters per width, outputs */
	size_t    n_conv;                   /* nlu_conv_floats */
	float    *conv, *m_conv, *v_conv, *g_conv;
	float    *cpool, *cy;
	int32_t  *carg;
	uint64_t  rng;
	long      step;
};

static void	trainer_init(struct trainer *, const struct nlu_mlp_train_opts *,
		    uint32_t, uint32_t, uint32_t, float *, float *);
static void	trainer_cleanup(struct trainer *);
static void	train_example(struct trainer *, const struct nlu_mlp_train_opts *,
		    const struct nlu_mlp_data *, size_t, float);
static void	conv_backward(struct trainer *, const struct nlu_mlp_data *,
		    uint32_t, uint32_t, uint32_t, float);
static void	apply_batch(struct trainer *, float);
static float	*touch_row(struct trainer *, uint32_t);

uint64_t
nlu_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

float
nlu_rng_float(uint64_t *state)
{
	return (float)(nlu_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

uint32_t
nlu_mlp_stride(uint32_t n_out)
{
	return (n_out + NLU_MLP_LANES - 1) / NLU_MLP_LANES * NLU_MLP_LANES;
}

size_t
nlu_mlp_floats(uint32_t dim, uint32_t hidden, uint32_t n_out)
{
	size_t s = nlu_mlp_stride(n_out);

	return (size_t)dim * hidden + hidden + (size_t)hidden * s + s;
}

/* Everything but the first layer: b1, w2 and b2 from rest on. */
static void
bind_rest(struct nlu_mlp *m, uint32_t dim, uint32_t hidden, uint32_t n_out,
    const float *rest)
{
	m->dim = dim;
	m->hidden = hidden;
	m->n_out = n_out;
	m->out_stride = nlu_mlp_stride(n_out);
	m->w1 = NULL;
	m->w1q = NULL;
	m->w1q_stride = 0;
	m->b1 = rest;
	m->w2 = m->b1 + hidden;
	m->b2 = m->w2 + (size_t)hidden * m->out_stride;
}

void
nlu_mlp_bind(struct nlu_mlp *m, uint32_t dim, uint32_t hidden, uint32_t n_out,
    const float *params)
{
	bind_rest(m, dim, hidden, n_out, params + (size_t)dim * hidden);
	m->w1 = params;
}

static size_t
round64(size_t n)
{
	return (n + 63) / 64 * 64;
}

size_t
nlu_mlp_q8_stride(uint32_t hidden)
{
	return ((size_t)hidden + sizeof(float) + 31) / 32 * 32;
}

/* Floats after the first layer: b1, w2, b2. */
static size_t
rest_floats(uint32_t dim, uint32_t hidden, uint32_t n_out)
{
	return nlu_mlp_floats(dim, hidden, n_out) - (size_t)dim * hidden;
}

size_t
nlu_mlp_q8_bytes(uint32_t dim, uint32_t hidden, uint32_t n_out)
{
	size_t rest = rest_floats(dim, hidden, n_out);

	return round64((size_t)dim * nlu_mlp_q8_stride(hidden)) +
	    round64(rest * sizeof(float));
}

/* One row's int8 values and scale. */
static float
quantise_row(const float *x, uint32_t n, int8_t *q)
{
	float mx = 0.0f, inv;
	uint32_t j;

	for (j = 0; j < n; j++)
		mx = fabsf(x[j]) > mx ? fabsf(x[j]) : mx;
	inv = mx > 0.0f ? 127.0f / mx : 0.0f;
	for (j = 0; j < n; j++) {
		long v = lrintf(x[j] * inv);

		q[j] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
	return mx / 127.0f;
}

void
nlu_mlp_q8_write(const float *params, uint32_t dim, uint32_t hidden,
    uint32_t n_out, unsigned char *out)
{
	size_t qs = nlu_mlp_q8_stride(hidden), r;
	size_t rest = rest_floats(dim, hidden, n_out);
	size_t qbytes = round64((size_t)dim * qs);

	memset(out, 0, nlu_mlp_q8_bytes(dim, hidden, n_out));
	for (r = 0; r < dim; r++) {
		unsigned char *row = out + r * qs;
		float sc = quantise_row(params + r * hidden, hidden,
		    (int8_t *)(void *)row);

		memcpy(row + hidden, &sc, sizeof(sc));
	}
	memcpy(out + qbytes, params + (size_t)dim * hidden,
	    rest * sizeof(float));
}

void
nlu_mlp_dequantise(float *params, uint32_t dim, uint32_t hidden)
{
	int8_t *q = xmalloc(hidden);
	size_t r;
	uint32_t j;

	for (r = 0; r < dim; r++) {
		float *x = params + r * hidden;
		float sc = quantise_row(x, hidden, q);

		for (j = 0; j < hidden; j++)
			x[j] = (float)q[j] * sc;
	}
	free(q);
}

void
nlu_mlp_bind_q8(struct nlu_mlp *m, uint32_t dim, uint32_t hidden,
    uint32_t n_out, const unsigned char *block)
{
	size_t qs = nlu_mlp_q8_stride(hidden);

	bind_rest(m, dim, hidden, n_out, (const float *)(const void *)(block +
	    round64((size_t)dim * qs)));
	m->w1q = block;
	m->w1q_stride = qs;
}

/* Dot product with NLU_MLP_LANES independent partial sums (fixed order,
 * so deterministic). */
static inline float
dot(const float *restrict x, const float *restrict y, size_t n)
{
	float acc[NLU_MLP_LANES] = { 0 };
	float s = 0.0f;
	size_t i, k;

	for (i = 0; i < n; i += NLU_MLP_LANES)
		for (k = 0; k < NLU_MLP_LANES; k++)
			acc[k] += x[i + k] * y[i + k];
	for (k = 0; k < NLU_MLP_LANES; k++)
		s += acc[k];
	return s;
}

/* y[0 .. n) += a[r] * w[row(r) * stride + 0 .. n) for r = 0 .. nr - 1,
 * where row(r) is row[r], or r itself when row is NULL.  Each element
 * adds the rows in the order of r, as nr calls of nlu_axpy would (the
 * same bits), but a block of y stays in registers across all the rows
 * instead of being loaded and stored once per row: the forward pass's
 * adds no longer wait on the store of the row before.  n is a multiple
 * of NLU_MLP_LANES.  Always inlined into its two callers below, each of
 * which passes row as it is or NULL, so neither copy tests row in the
 * loop. */
static inline __attribute__((always_inline)) void
axpy_rows(const float *restrict w, size_t stride,
    const uint32_t *restrict row, const float *restrict a, size_t nr,
    float *restrict y, size_t n)
{
	size_t c = 0, r, k;

	/* Four separate accumulators: GCC keeps each in one register, where
	 * one array of four times the width stays on the stack. */
	for (; c + 4 * NLU_MLP_LANES <= n; c += 4 * NLU_MLP_LANES) {
		float a0[NLU_MLP_LANES], a1[NLU_MLP_LANES];
		float a2[NLU_MLP_LANES], a3[NLU_MLP_LANES];

		memcpy(a0, y + c, sizeof(a0));
		memcpy(a1, y + c + NLU_MLP_LANES, sizeof(a1));
		memcpy(a2, y + c + 2 * NLU_MLP_LANES, sizeof(a2));
		memcpy(a3, y + c + 3 * NLU_MLP_LANES, sizeof(a3));
		for (r = 0; r < nr; r++) {
			const float *p = w + (size_t)(row != NULL ? row[r] : r) *
			    stride + c;
			float ar = a[r];

			for (k = 0; k < NLU_MLP_LANES; k++)
				a0[k] += ar * p[k];
			for (k = 0; k < NLU_MLP_LANES; k++)
				a1[k] += ar * p[NLU_MLP_LANES + k];
			for (k = 0; k < NLU_MLP_LANES; k++)
				a2[k] += ar * p[2 * NLU_MLP_LANES + k];
			for (k = 0; k < NLU_MLP_LANES; k++)
				a3[k] += ar * p[3 * NLU_MLP_LANES + k];
		}
		memcpy(y + c, a0, sizeof(a0));
		memcpy(y + c + NLU_MLP_LANES, a1, sizeof(a1));
		memcpy(y + c + 2 * NLU_MLP_LANES, a2, sizeof(a2));
		memcpy(y + c + 3 * NLU_MLP_LANES, a3, sizeof(a3));
	}
	for (; c < n; c += NLU_MLP_LANES) {
		float acc[NLU_MLP_LANES];

		memcpy(acc, y + c, sizeof(acc));
		for (r = 0; r < nr; r++) {
			const float *p = w + (size_t)(row != NULL ? row[r] : r) *
			    stride + c;

			for (k = 0; k < NLU_MLP_LANES; k++)
				acc[k] += a[r] * p[k];
		}
		memcpy(y + c, acc, sizeof(acc));
	}
}

/* With GCC on x86-64, a second copy for AVX2 chosen at load time (ifunc):
 * the fixed eight-lane loops become one 256-bit operation instead of two
 * 128-bit ones.  AVX2 without FMA, and -std=c11 contracts nothing, so
 * both copies do the same IEEE operations in the same order: the same
 * bits on every machine.  The scoring of a parse is most of its time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NLU_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define NLU_AVX2_CLONE
#endif

/* The rows named by row (the MLP's active inputs and hidden units). */
NLU_AVX2_CLONE static void
gather_axpy(const float *restrict w, size_t stride,
    const uint32_t *restrict row, const float *restrict a, size_t nr,
    float *restrict y, size_t n)
{
	axpy_rows(w, stride, row, a, nr, y, n);
}

/* How many rows ahead the int8 first layer prefetches: its rows lie
 * scattered over megabytes, and their numbers are known in advance. */
#define Q8_AHEAD 8

/* A row's scale, stored after its n int8 values. */
static inline float
q8_scale(const unsigned char *row, size_t n)
{
	float sc;

	memcpy(&sc, row + n, sizeof(sc));
	return sc;
}

/* y[0 .. n) += (a[r] * scale(r)) * q(r)[0 .. n) for r in order, q(r) and
 * scale(r) the row row[r] of stride qs bytes (nlu_mlp_bind_q8); n a
 * multiple of NLU_MLP_LANES: the portable copy.  The AVX2 one below
 * adds the rows in the same order but with fused multiply-adds (8 %
 * more parses per second on CLINC150), so its last bits may differ
 * from this copy's.  Only parsing reads the int8 form: the trainer
 * calibrates on the float32 path (nlu_mlp_dequantise), so model files
 * stay the same bytes on every machine. */
static void
gather_axpy_q8_c(const unsigned char *restrict q, size_t qs,
    const uint32_t *restrict row, const float *restrict a, size_t nr,
    float *restrict y, size_t n)
{
	size_t r, k;

	for (r = 0; r < nr; r++) {
		const unsigned char *p = q + (size_t)row[r] * qs;
		float f = a[r] * q8_scale(p, n);

		for (k = 0; k < n; k++)
			y[k] += f * (float)(int8_t)p[k];
	}
}

#if defined(__GNUC__) && defined(__x86_64__)
#define NLU_Q8_AVX2 1
#define Q8_ADD(acc, off) acc = _mm256_fmadd_ps(ar,			\
	_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(	\
	(const __m128i *)(const void *)(p + (off))))), acc)

/* The AVX2 copy: a row of 96 in one pass with twelve sums in registers,
 * other widths 64 columns per pass, then 8 at a time. */
__attribute__((target("avx2,fma"))) static void
gather_axpy_q8_avx2(const unsigned char *restrict q, size_t qs,
    const uint32_t *restrict row, const float *restrict a, size_t nr,
    float *restrict y, size_t n)
{
	size_t r, c;

	for (r = 0; r < nr && r < Q8_AHEAD; r++)
		__builtin_prefetch(q + (size_t)row[r] * qs);
	if (n == 96) {
		__m256 s0 = _mm256_loadu_ps(y), s1 = _mm256_loadu_ps(y + 8);
		__m256 s2 = _mm256_loadu_ps(y + 16);
		__m256 s3 = _mm256_loadu_ps(y + 24);
		__m256 s4 = _mm256_loadu_ps(y + 32);
		__m256 s5 = _mm256_loadu_ps(y + 40);
		__m256 s6 = _mm256_loadu_ps(y + 48);
		__m256 s7 = _mm256_loadu_ps(y + 56);
		__m256 s8 = _mm256_loadu_ps(y + 64);
		__m256 s9 = _mm256_loadu_ps(y + 72);
		__m256 s10 = _mm256_loadu_ps(y + 80);
		__m256 s11 = _mm256_loadu_ps(y + 88);

		for (r = 0; r < nr; r++) {
			const unsigned char *p = q + (size_t)row[r] * qs;
			__m256 ar = _mm256_set1_ps(a[r] * q8_scale(p, 96));

			/* A row of 96 + 4 bytes at a 32-byte stride spans
			 * at most two lines: its first and its last byte. */
			if (r + Q8_AHEAD < nr) {
				const unsigned char *nx = q +
				    (size_t)row[r + Q8_AHEAD] * qs;

				__builtin_prefetch(nx);
				__builtin_prefetch(nx + 99);
			}
			Q8_ADD(s0, 0); Q8_ADD(s1, 8); Q8_ADD(s2, 16);
			Q8_ADD(s3, 24); Q8_ADD(s4, 32); Q8_ADD(s5, 40);
			Q8_ADD(s6, 48); Q8_ADD(s7, 56); Q8_ADD(s8, 64);
			Q8_ADD(s9, 72); Q8_ADD(s10, 80); Q8_ADD(s11, 88);
		}
		_mm256_storeu_ps(y, s0); _mm256_storeu_ps(y + 8, s1);
		_mm256_storeu_ps(y + 16, s2); _mm256_storeu_ps(y + 24, s3);
		_mm256_storeu_ps(y + 32, s4); _mm256_storeu_ps(y + 40, s5);
		_mm256_storeu_ps(y + 48, s6); _mm256_storeu_ps(y + 56, s7);
		_mm256_storeu_ps(y + 64, s8); _mm256_storeu_ps(y + 72, s9);
		_mm256_storeu_ps(y + 80, s10); _mm256_storeu_ps(y + 88, s11);
		return;
	}
	/* Other widths: 64 columns per pass over the rows (eight sums in
	 * registers; a row's second pass finds it in cache), then 8 at a
	 * time.  Each column still adds the rows in order. */
	for (c = 0; c + 64 <= n; c += 64) {
		__m256 s0 = _mm256_loadu_ps(y + c), s1 = _mm256_loadu_ps(y + c + 8);
		__m256 s2 = _mm256_loadu_ps(y + c + 16);
		__m256 s3 = _mm256_loadu_ps(y + c + 24);
		__m256 s4 = _mm256_loadu_ps(y + c + 32);
		__m256 s5 = _mm256_loadu_ps(y + c + 40);
		__m256 s6 = _mm256_loadu_ps(y + c + 48);
		__m256 s7 = _mm256_loadu_ps(y + c + 56);

		for (r = 0; r < nr; r++) {
			const unsigned char *p = q + (size_t)row[r] * qs;
			__m256 ar = _mm256_set1_ps(a[r] * q8_scale(p, n));

			if (c == 0 && r + Q8_AHEAD < nr) {
				const unsigned char *nx = q +
				    (size_t)row[r + Q8_AHEAD] * qs;
				size_t k;

				for (k = 0; k <= n; k += 64)
					__builtin_prefetch(nx + k);
			}
			p += c;
			Q8_ADD(s0, 0); Q8_ADD(s1, 8); Q8_ADD(s2, 16);
			Q8_ADD(s3, 24); Q8_ADD(s4, 32); Q8_ADD(s5, 40);
			Q8_ADD(s6, 48); Q8_ADD(s7, 56);
		}
		_mm256_storeu_ps(y + c, s0); _mm256_storeu_ps(y + c + 8, s1);
		_mm256_storeu_ps(y + c + 16, s2);
		_mm256_storeu_ps(y + c + 24, s3);
		_mm256_storeu_ps(y + c + 32, s4);
		_mm256_storeu_ps(y + c + 40, s5);
		_mm256_storeu_ps(y + c + 48, s6);
		_mm256_storeu_ps(y + c + 56, s7);
	}
	for (; c < n; c += 8) {
		__m256 s0 = _mm256_loadu_ps(y + c);

		for (r = 0; r < nr; r++) {
			const unsigned char *p = q + (size_t)row[r] * qs;
			__m256 ar = _mm256_set1_ps(a[r] * q8_scale(p, n));

			p += c;
			Q8_ADD(s0, 0);
		}
		_mm256_storeu_ps(y + c, s0);
	}
}
#undef Q8_ADD
#endif

static void
gather_axpy_q8(const unsigned char *restrict q, size_t qs,
    const uint32_t *restrict row, const float *restrict a, size_t nr,
    float *restrict y, size_t n)
{
#ifdef NLU_Q8_AVX2
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		gather_axpy_q8_avx2(q, qs, row, a, nr, y, n);
		return;
	}
#endif
	gather_axpy_q8_c(q, qs, row, a, nr, y, n);
}

/* Rows 0 .. nr - 1 (one word's product with the convolution matrix). */
NLU_AVX2_CLONE static void
rows_axpy(const float *restrict w, size_t stride, const float *restrict a,
    size_t nr, float *restrict y, size_t n)
{
	axpy_rows(w, stride, NULL, a, nr, y, n);
}

size_t
nlu_conv_floats(uint32_t dim, uint32_t filters)
{
	return ((size_t)dim * NLU_CONV_BLOCKS + NLU_CONV_WIDTHS) * filters;
}

size_t
nlu_conv_scratch(uint32_t filters)
{
	return (size_t)NLU_CONV_MAX_POS * NLU_CONV_BLOCKS * filters +
	    filters;
}

void
nlu_conv_bind(struct nlu_conv *c, uint32_t dim, uint32_t filters,
    const float *params)
{
	c->dim = dim;
	c->filters = filters;
	c->cols = NLU_CONV_BLOCKS * filters;
	c->w = params;
	c->b = params + (size_t)dim * c->cols;
	c->pre_map = NULL;
	c->n_map = 0;
	c->pre = NULL;
}

void
nlu_conv_word(const struct nlu_conv *c, const float *x, float *z)
{
	uint32_t k;

	memset(z, 0, c->cols * sizeof(*z));
	for (k = 0; k < c->dim && x[k] == 0.0f; k++)
		;
	if (k < c->dim)
		rows_axpy(c->w, c->cols, x, c->dim, z, c->cols);
}

void
nlu_conv_forward(const struct nlu_conv *c, const float *x, uint32_t n_pos,
    float *pooled, int32_t *argmax, float *z)
{
	nlu_conv_forward_ids(c, x, NULL, n_pos, pooled, argmax, z);
}

void
nlu_conv_forward_ids(const struct nlu_conv *c, const float *x,
    const int32_t *ids, uint32_t n_pos, float *pooled, int32_t *argmax,
    float *z)
{
	uint32_t w, f, o, p, F = c->filters, D = c->dim, cols = c->cols;
	uint32_t blk = 0;
	float *y = z + (size_t)n_pos * cols;
	int32_t t;

	for (f = 0; f < NLU_CONV_WIDTHS * F; f++) {
		pooled[f] = 0.0f;
		if (argmax != NULL)
			argmax[f] = INT32_MIN;
	}
	if (n_pos == 0)
		return;
	/* Each word's share of every window it sits in: one product with
	 * the whole matrix (a word without a vector adds nothing), or the
	 * stored one.  That product is most of a parse's convolution. */
	for (p = 0; p < n_pos; p++) {
		float *zp = z + (size_t)p * cols;

		if (ids != NULL && ids[p] >= 0 && c->n_map > 0 &&
		    (uint32_t)ids[p] < c->n_map &&
		    c->pre_map[ids[p]] != UINT32_MAX)
			memcpy(zp, c->pre + (size_t)c->pre_map[ids[p]] * cols,
			    cols * sizeof(*zp));
		else
			nlu_conv_word(c, x + (size_t)p * D, zp);
	}
	for (w = NLU_CONV_WIDTH_MIN; w <= NLU_CONV_WIDTH_MAX; blk += w, w++) {
		const float *b = c->b + (w - NLU_CONV_WIDTH_MIN) * F;
		float *pool = pooled + (w - NLU_CONV_WIDTH_MIN) * F;
		int32_t *arg = argmax != NULL ? argmax +
		    (w - NLU_CONV_WIDTH_MIN) * F : NULL;

		/* Window starts from -(w - 1): the sentence's first word
		 * alone at the window's end, to n_pos - 1: its last word
		 * alone at the start; the sums go in offset order. */
		for (t = -(int32_t)(w - 1); t < (int32_t)n_pos; t++) {
			memcpy(y, b, F * sizeof(*y));
			for (o = 0; o < w; o++) {
				int32_t q = t + (int32_t)o;
				const float *zq;

				if (q < 0 || q >= (int32_t)n_pos)
					continue;
				zq = z + (size_t)q * cols +
				    (size_t)(blk + o) * F;
				for (f = 0; f < F; f++)
					y[f] += zq[f];
			}
			/* ReLU, then the maximum: the first position wins
			 * a tie, so the argmax is deterministic. */
			if (arg == NULL) {
				for (f = 0; f < F; f++)
					pool[f] = y[f] > pool[f] ? y[f] :
					    pool[f];
				continue;
			}
			for (f = 0; f < F; f++) {
				if (y[f] > pool[f]) {
					pool[f] = y[f];
					arg[f] = t;
				}
			}
		}
	}
}

void
nlu_mlp_forward(const struct nlu_mlp *m, const struct nlu_sparse *x,
    float *hid, float *logits)
{
	size_t j, h = m->hidden, s = m->out_stride, na;
	uint32_t act[64];
	float av[64];

	memcpy(hid, m->b1, h * sizeof(*hid));
	if (m->w1q != NULL)
		gather_axpy_q8(m->w1q, m->w1q_stride, x->idx, x->val, x->n,
		    hid, h);
	else
		gather_axpy(m->w1, h, x->idx, x->val, x->n, hid, h);
	memcpy(logits, m->b2, s * sizeof(*logits));
	/* ReLU zeroes about half the units: skip them.  The active ones go
	 * in order, a batch at a time. */
	for (j = 0; j < h; ) {
		for (na = 0; j < h && na < 64; j++) {
			if (hid[j] > 0.0f) {
				act[na] = (uint32_t)j;
				av[na++] = hid[j];
			}
		}
		gather_axpy(m->w2, s, act, av, na, logits, s);
	}
}

static void
trainer_init(struct trainer *t, const struct nlu_mlp_train_opts *o,
    uint32_t dim, uint32_t n_out, uint32_t seq_dim, float *params,
    float *conv_params)
{
	size_t i, n_w1 = (size_t)dim * o->hidden, n_w2;
	float a1, a2;

	memset(t, 0, sizeof(*t));
	t->dim = dim;
	t->hidden = o->hidden;
	t->n_out = n_out;
	t->stride = nlu_mlp_stride(n_out);
	n_w2 = (size_t)t->hidden * t->stride;
	t->w1 = params;
	t->b1 = t->w1 + n_w1;
	t->w2 = t->b1 + t->hidden;
	t->b2 = t->w2 + n_w2;
	t->m_w1 = xcalloc(n_w1, sizeof(float));
	t->v_w1 = xcalloc(n_w1, sizeof(float));
	t->m_b1 = xcalloc(t->hidden, sizeof(float));
	t->v_b1 = xcalloc(t->hidden, sizeof(float));
	t->m_w2 = xcalloc(n_w2, sizeof(float));
	t->v_w2 = xcalloc(n_w2, sizeof(float));
	t->m_b2 = xcalloc(t->stride, sizeof(float));
	t->v_b2 = xcalloc(t->stride, sizeof(float));
	t->g_b1 = xcalloc(t->hidden, sizeof(float));
	t->g_w2 = xcalloc(n_w2, sizeof(float));
	t->g_b2 = xcalloc(t->stride, sizeof(float));
	t->row_slot = xmalloc((size_t)dim * sizeof(int32_t));
	memset(t->row_slot, 0xff, (size_t)dim * sizeof(int32_t));
	t->hid = xcalloc(t->hidden, sizeof(float));
	t->mask = xcalloc(t->hidden, sizeof(float));
	t->logits = xcalloc(t->stride, sizeof(float));
	t->dlog = xcalloc(t->stride, sizeof(float));
	t->rng = o->seed ^ 0x5851f42d4c957f2dull;

	/* Inputs are unit-norm, so W1 entries of unit scale give hidden
	 * pre-activations of unit scale; W2 uses Glorot's uniform range.
	 * Padding classes of W2 stay zero and are never trained. */
	a1 = 1.0f;
	a2 = sqrtf(6.0f / (float)(t->hidden + n_out));
	for (i = 0; i < n_w1; i++)
		t->w1[i] = (2.0f * nlu_rng_float(&t->rng) - 1.0f) * a1;
	memset(t->b1, 0, t->hidden * sizeof(float));
	for (i = 0; i < n_w2; i++) {
		t->w2[i] = (i % t->stride) < n_out ?
		    (2.0f * nlu_rng_float(&t->rng) - 1.0f) * a2 : 0.0f;
	}
	memset(t->b2, 0, t->stride * sizeof(float));

	/* Convolution filters: He's uniform range for ReLU units over a
	 * window of w unit-norm word vectors, biases zero. */
	if (conv_params != NULL && o->conv_filters > 0) {
		uint32_t w, f, k;
		float *p = conv_params;

		t->cf = o->conv_filters;
		t->n_cin = NLU_CONV_WIDTHS * t->cf;
		t->n_conv = nlu_conv_floats(seq_dim, t->cf);
		t->conv = conv_params;
		t->m_conv = xcalloc(t->n_conv, sizeof(float));
		t->v_conv = xcalloc(t->n_conv, sizeof(float));
		t->g_conv = xcalloc(t->n_conv, sizeof(float));
		t->cpool = xcalloc(t->n_cin, sizeof(float));
		t->cy = xcalloc(nlu_conv_scratch(t->cf), sizeof(float));
		t->carg = xcalloc(t->n_cin, sizeof(int32_t));
		for (k = 0; k < seq_dim; k++) {
			for (w = NLU_CONV_WIDTH_MIN, f = 0;
			    w <= NLU_CONV_WIDTH_MAX; w++) {
				float a = sqrtf(6.0f / (float)(w * seq_dim));
				uint32_t e;

				for (e = 0; e < w * t->cf; e++, f++)
					*p++ = (2.0f * nlu_rng_float(&t->rng) -
					    1.0f) * a;
			}
		}
		memset(p, 0, NLU_CONV_WIDTHS * t->cf * sizeof(float));
	}
}

static void
trainer_cleanup(struct trainer *t)
{
	free(t->m_w1);
	free(t->v_w1);
	free(t->m_b1);
	free(t->v_b1);
	free(t->m_w2);
	free(t->v_w2);
	free(t->m_b2);
	free(t->v_b2);
	free(t->g_b1);
	free(t->g_w2);
	free(t->g_b2);
	free(t->row_slot);
	free(t->touched);
	free(t->g_rows);
	free(t->in_idx);
	free(t->in_val);
	free(t->hid);
	free(t->mask);
	free(t->logits);
	free(t->dlog);
	free(t->m_conv);
	free(t->v_conv);
	free(t->g_conv);
	free(t->cpool);
	free(t->cy);
	free(t->carg);
}

/* Gradient row of W1 bucket b for this batch, zeroed on first touch. */
static float *
touch_row(struct trainer *t, uint32_t b)
{
	int32_t s = t->row_slot[b];

	if (s < 0) {
		if (t->n_touched == t->cap_touched) {
			t->cap_touched = t->cap_touched ? t->cap_touched * 2 :
			    1024;
			t->touched = xrealloc(t->touched,
			    t->cap_touched * sizeof(*t->touched));
			t->g_rows = xrealloc(t->g_rows,
			    t->cap_touched * t->hidden * sizeof(float));
		}
		s = (int32_t)t->n_touched++;
		t->row_slot[b] = s;
		t->touched[s] = b;
		memset(t->g_rows + (size_t)s * t->hidden, 0,
		    t->hidden * sizeof(float));
	}
	return t->g_rows + (size_t)s * t->hidden;
}

/* Gradient g at pooled output f of the convolution into its filter's
 * weights and bias: the maximum passes it to the one window it came
 * from, the words seq[so + start ..] of the row (sn words). */
static void
conv_backward(struct trainer *t, const struct nlu_mlp_data *d, uint32_t so,
    uint32_t sn, uint32_t f, float g)
{
	uint32_t wi = f / t->cf, ff = f % t->cf;
	uint32_t width = NLU_CONV_WIDTH_MIN + wi;
	uint32_t D = d->seq_dim, cols = NLU_CONV_BLOCKS * t->cf, o, k, w;
	uint32_t blk = 0;
	int32_t start = t->carg[f];

	if (start == INT32_MIN)
		return;
	for (w = NLU_CONV_WIDTH_MIN; w < width; w++)
		blk += w;
	t->g_conv[(size_t)D * cols + f] += g;
	for (o = 0; o < width; o++) {
		int32_t p = start + (int32_t)o;
		const float *x;
		float *gr;

		if (p < 0 || p >= (int32_t)sn)
			continue;
		x = d->seq + ((size_t)so + (size_t)p) * D;
		gr = t->g_conv + (size_t)(blk + o) * t->cf + ff;
		for (k = 0; k < D; k++)
			gr[(size_t)k * cols] += g * x[k];
	}
}

/* Forward and backward pass of one example; gradients accumulate with
 * weight `scale` (example weight / batch size). */
static void
train_example(struct trainer *t, const struct nlu_mlp_train_opts *o,
    const struct nlu_mlp_data *d, size_t row, float scale)
{
	size_t i, j, n = 0, n_sparse, h = t->hidden, s = t->stride;
	uint32_t lo = d->row_off[row], hi = d->row_off[row + 1], so = 0, sn = 0;
	uint32_t y = d->label[row];
	float keep_in = 1.0f - o->dropout_in, keep_h = 1.0f - o->dropout_hidden;
	float maxl, sum, on, off;

	if (hi - lo + t->n_cin > t->cap_in) {
		t->cap_in = hi - lo + t->n_cin;
		t->in_idx = xrealloc(t->in_idx, t->cap_in * sizeof(uint32_t));
		t->in_val = xrealloc(t->in_val, t->cap_in * sizeof(float));
	}
	for (i = lo; i < hi; i++) {
		if (o->dropout_in > 0.0f && nlu_rng_float(&t->rng) >= keep_in)
			continue;
		t->in_idx[n] = d->idx[i];
		t->in_val[n] = d->val[i] / keep_in;
		n++;
	}
	n_sparse = n;
	if (t->cf > 0) {
		/* The convolution's pooled outputs as the last inputs,
		 * without input dropout: they are a few dense values, not
		 * one of many redundant n-grams (dropped like those, CLINC150
		 * validation in-scope accuracy fell 0.2 points); a zero
		 * output gets no gradient (carg INT32_MIN). */
		struct nlu_conv cv;
		uint32_t f, cbase = t->dim - t->n_cin;

		so = d->seq_off[row];
		sn = d->seq_off[row + 1] - so;
		nlu_conv_bind(&cv, d->seq_dim, t->cf, t->conv);
		nlu_conv_forward(&cv, d->seq + (size_t)so * d->seq_dim, sn,
		    t->cpool, t->carg, t->cy);
		for (f = 0; f < t->n_cin; f++) {
			if (t->cpool[f] == 0.0f)
				continue;
			t->in_idx[n] = cbase + f;
			t->in_val[n] = t->cpool[f];
			n++;
		}
	}

	memcpy(t->hid, t->b1, h * sizeof(float));
	for (i = 0; i < n; i++)
		nlu_axpy(t->in_val[i], t->w1 + (size_t)t->in_idx[i] * h, t->hid, h);
	for (j = 0; j < h; j++) {
		float m = 0.0f;

		if (t->hid[j] > 0.0f && (o->dropout_hidden <= 0.0f ||
		    nlu_rng_float(&t->rng) < keep_h))
			m = 1.0f / keep_h;
		t->mask[j] = m;
		t->hid[j] = t->hid[j] > 0.0f ? t->hid[j] * m : 0.0f;
	}
	memcpy(t->logits, t->b2, s * sizeof(float));
	for (j = 0; j < h; j++)
		if (t->hid[j] != 0.0f)
			nlu_axpy(t->hid[j], t->w2 + j * s, t->logits, s);

	/* Softmax cross-entropy against a smoothed one-hot target. */
	maxl = t->logits[0];
	for (j = 1; j < t->n_out; j++)
		if (t->logits[j] > maxl)
			maxl = t->logits[j];
	sum = 0.0f;
	for (j = 0; j < t->n_out; j++) {
		t->dlog[j] = expf(t->logits[j] - maxl);
		sum += t->dlog[j];
	}
	on = 1.0f - o->label_smoothing;
	off = t->n_out > 1 ? o->label_smoothing / (float)(t->n_out - 1) : 0.0f;
	for (j = 0; j < t->n_out; j++)
		t->dlog[j] = (t->dlog[j] / sum - (j == y ? on : off)) * scale;
	for (; j < s; j++)
		t->dlog[j] = 0.0f;

	for (j = 0; j < s; j++)
		t->g_b2[j] += t->dlog[j];
	for (j = 0; j < h; j++) {
		float dh;

		if (t->hid[j] == 0.0f) {
			t->mask[j] = 0.0f;
			continue;
		}
		nlu_axpy(t->hid[j], t->dlog, t->g_w2 + j * s, s);
		dh = dot(t->w2 + j * s, t->dlog, s) * t->mask[j];
		t->mask[j] = dh;        /* reuse: gradient at pre-activation */
		t->g_b1[j] += dh;
	}
	for (i = n_sparse; i < n; i++)
		conv_backward(t, d, so, sn, t->in_idx[i] - (t->dim - t->n_cin),
		    dot(t->w1 + (size_t)t->in_idx[i] * h, t->mask, h));
	for (i = 0; i < n; i++)
		nlu_axpy(t->in_val[i], t->mask, touch_row(t, t->in_idx[i]), h);
}

/* One Adam step over n floats. */
static inline void
adam(float *restrict w, float *restrict m, float *restrict v,
    const float *restrict g, size_t n, float lr_t)
{
	size_t i, k;

	for (i = 0; i < n; i += NLU_MLP_LANES) {
		for (k = 0; k < NLU_MLP_LANES; k++) {
			float gi = g[i + k];

			m[i + k] = ADAM_BETA1 * m[i + k] + (1.0f - ADAM_BETA1) * gi;
			v[i + k] = ADAM_BETA2 * v[i + k] +
			    (1.0f - ADAM_BETA2) * gi * gi;
			w[i + k] -= lr_t * m[i + k] / (sqrtf(v[i + k]) + ADAM_EPS);
		}
	}
}

static void
apply_batch(struct trainer *t, float lr)
{
	size_t i, h = t->hidden, s = t->stride;
	float bc1, bc2, lr_t;

	t->step++;
	bc1 = 1.0f - powf(ADAM_BETA1, (float)t->step);
	bc2 = 1.0f - powf(ADAM_BETA2, (float)t->step);
	lr_t = lr * sqrtf(bc2) / bc1;

	adam(t->b1, t->m_b1, t->v_b1, t->g_b1, h, lr_t);
	adam(t->w2, t->m_w2, t->v_w2, t->g_w2, h * s, lr_t);
	adam(t->b2, t->m_b2, t->v_b2, t->g_b2, s, lr_t);
	/* Lazy Adam: only rows this batch touched move (their moments decay
	 * only when touched), which keeps a step proportional to the batch. */
	for (i = 0; i < t->n_touched; i++) {
		size_t off = (size_t)t->touched[i] * h;

		adam(t->w1 + off, t->m_w1 + off, t->v_w1 + off,
		    t->g_rows + i * h, h, lr_t);
		t->row_slot[t->touched[i]] = -1;
	}
	t->n_touched = 0;
	if (t->n_conv > 0) {
		adam(t->conv, t->m_conv, t->v_conv, t->g_conv, t->n_conv, lr_t);
		memset(t->g_conv, 0, t->n_conv * sizeof(float));
	}
	memset(t->g_b1, 0, h * sizeof(float));
	memset(t->g_w2, 0, h * s * sizeof(float));
	memset(t->g_b2, 0, s * sizeof(float));
	/* Padding classes must stay exactly zero. */
	for (i = 0; i < h; i++)
		memset(t->w2 + i * s + t->n_out, 0,
		    (s - t->n_out) * sizeof(float));
	memset(t->b2 + t->n_out, 0, (s - t->n_out) * sizeof(float));
}

void
nlu_mlp_train(const struct nlu_mlp_train_opts *o, const struct nlu_mlp_data *d,
    uint32_t dim, uint32_t n_out, float *params, float *conv_params)
{
	struct trainer t;
	size_t *order, i, e, total_steps, step = 0, steps_per_epoch;
	uint32_t batch = o->batch ? o->batch : 1, epochs;

	trainer_init(&t, o, dim, n_out, d->seq_dim, params,
	    d->seq_off != NULL ? conv_params : NULL);
	order = xmalloc((d->n ? d->n : 1) * sizeof(*order));
	for (i = 0; i < d->n; i++)
		order[i] = i;
	epochs = o->epochs;
	steps_per_epoch = (d->n + batch - 1) / batch;
	if (steps_per_epoch > 0 && (size_t)epochs * steps_per_epoch <
	    o->min_steps)
		epochs = (uint32_t)((o->min_steps + steps_per_epoch - 1) /
		    steps_per_epoch);
	total_steps = (size_t)epochs * steps_per_epoch;
	for (e = 0; e < epochs; e++) {
		/* Fisher-Yates with the run's own generator. */
		for (i = d->n; i > 1; i--) {
			size_t j = (size_t)(nlu_rng_next(&t.rng) % i), tmp;

			tmp = order[i - 1];
			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (i = 0; i < d->n; i += batch) {
			size_t b, end = i + batch < d->n ? i + batch : d->n;
			/* Linear decay to 5 % of the peak rate. */
			float lr = o->lr * (1.0f - 0.95f * (float)step /
			    (float)(total_steps ? total_steps : 1));

			for (b = i; b < end; b++) {
				float w = d->weight ? d->weight[order[b]] : 1.0f;
				train_example(&t, o, d, order[b],
				    w / (float)(end - i));
			}
			apply_batch(&t, lr);
			step++;
		}
	}
	free(order);
	trainer_cleanup(&t);
}
