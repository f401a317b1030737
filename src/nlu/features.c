/* features.c - hashed n-gram features with sublinear TF-IDF (see features.h). */
#include "nlu/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* Salts keep the feature kinds apart in the one hash space. */
#define SALT_WORD   0x57u
#define SALT_STEM   0x53u
#define SALT_BIGRAM 0x42u
#define SALT_CHAR   0x43u
#define SALT_SHAPE  0x44u
#define SALT_XWORD  0x58u
#define SALT_WN     0x4eu
/* Concept items looked up for one word at most (all its lemmas, parts of
 * speech and senses; a very ambiguous word like "set" has about 60). */
#define WN_ITEMS_MAX 128
#define BOS_HASH    0x2d3c1f0e5a697887ull
#define EOS_HASH    0x7a1b6c5d4e3f2011ull

static uint64_t	mix64(uint64_t);
static uint64_t	hash_cps(uint32_t, uint64_t, const uint32_t *, size_t);
static void	add(struct nlu_rawfeat *, uint64_t, int);
static void	add_w(struct nlu_rawfeat *, uint64_t, int, float);
static void	wn_concepts(const struct nlu_feat_params *,
		    struct nlu_rawfeat *, const uint32_t *, size_t);
static size_t	stem_len(const uint32_t *, size_t);
static void	char_ngrams(const struct nlu_feat_params *, struct nlu_rawfeat *,
		    uint64_t, const uint32_t *, size_t);
static void	xword_ngrams(const struct nlu_feat_params *,
		    struct nlu_rawfeat *, const uint32_t *, size_t,
		    const uint32_t *, size_t);
static void	dedup(struct nlu_rawfeat *);

void
nlu_feat_params_default(struct nlu_feat_params *p)
{
	p->dim_log2 = 18;
	p->hash_seed = 0x6761u;
	p->char_min = 2;
	p->char_max = 5;
	p->char_weight = 0.5f;
	p->flags = 0;
	p->wn = NULL;
	p->wn_weight = 0.5f;
	p->wn_decay = 0.7f;
	p->wn_hyper = 0.5f;
}

int
nlu_feat_params_check(const struct nlu_feat_params *p)
{
	if (p->dim_log2 < NLU_FEAT_DIM_LOG2_MIN ||
	    p->dim_log2 > NLU_FEAT_DIM_LOG2_MAX)
		return -1;
	if (p->char_min < 1 || p->char_max < p->char_min || p->char_max > 8)
		return -1;
	if (!(p->char_weight >= 0.0f && p->char_weight <= 1.0f))
		return -1;
	if ((p->flags & ~NLU_FEAT_FLAGS_ALL) != 0)
		return -1;
	if (!(p->wn_weight >= 0.0f && p->wn_weight <= 4.0f) ||
	    !(p->wn_decay >= 0.0f && p->wn_decay <= 1.0f) ||
	    !(p->wn_hyper >= 0.0f && p->wn_hyper <= 4.0f))
		return -1;
	return 0;
}

void
nlu_rawfeat_init(struct nlu_rawfeat *r)
{
	memset(r, 0, sizeof(*r));
}

void
nlu_rawfeat_cleanup(struct nlu_rawfeat *r)
{
	if (r == NULL)
		return;
	free(r->h);
	free(r->cnt);
	free(r->tab_key);
	free(r->tab_slot);
	memset(r, 0, sizeof(*r));
}

void
nlu_sparse_init(struct nlu_sparse *v)
{
	memset(v, 0, sizeof(*v));
}

void
nlu_sparse_cleanup(struct nlu_sparse *v)
{
	if (v == NULL)
		return;
	free(v->idx);
	free(v->val);
	memset(v, 0, sizeof(*v));
}

/* splitmix64's finaliser: a fast bijective mixer with full avalanche. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* FNV-1a over code points, salted, then mixed.  Fixed arithmetic on
 * uint64_t, so a model's hashes are the same on every platform. */
static uint64_t
hash_cps(uint32_t seed, uint64_t salt, const uint32_t *cp, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)seed << 32) ^ salt;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= cp[i];
		h *= 0x100000001b3ull;
	}
	return mix64(h);
}

static void
add_w(struct nlu_rawfeat *r, uint64_t h, int group, float cnt)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->h = xrealloc(r->h, r->cap * sizeof(*r->h));
		r->cnt = xrealloc(r->cnt, r->cap * sizeof(*r->cnt));
	}
	r->h[r->n] = (h & ~1ull) | (uint64_t)group;
	r->cnt[r->n] = cnt;
	r->n++;
}

static void
add(struct nlu_rawfeat *r, uint64_t h, int group)
{
	add_w(r, h, group, 1.0f);
}

/* WordNet concepts of one Latin word, as negative counts (see the struct
 * comment); the same concept reached twice in one text adds up. */
static void
wn_concepts(const struct nlu_feat_params *p, struct nlu_rawfeat *r,
    const uint32_t *cp, size_t n)
{
	uint32_t items[WN_ITEMS_MAX];
	size_t ni, i;

	if (p->wn == NULL || !(p->wn_weight > 0.0f))
		return;
	ni = nlu_wn_lookup(p->wn, cp, n, items, WN_ITEMS_MAX);
	for (i = 0; i < ni; i++) {
		uint32_t concept = items[i] & NLU_WN_ITEM_CONCEPT_MASK;
		uint32_t rank = (items[i] >> NLU_WN_ITEM_RANK_SHIFT) &
		    NLU_WN_ITEM_RANK_MASK;
		float w = p->wn_weight, k;

		for (k = 0; k < (float)rank; k += 1.0f)
			w *= p->wn_decay;
		if (items[i] & NLU_WN_ITEM_HYPER)
			w *= p->wn_hyper;
		if (w > 0.0f)
			add_w(r, hash_cps(p->hash_seed, SALT_WN, &concept, 1),
			    NLU_FEAT_GROUP_WORD, -w);
	}
}

/* Light English suffix stripping ("bookings" -> "book", "cancelled" ->
 * "cancell"): only plain ASCII words of five letters or more, only a few
 * suffixes, so it cannot mangle other languages much; the stem is an extra
 * feature next to the word, never a replacement. */
static size_t
stem_len(const uint32_t *cp, size_t n)
{
	size_t i;

	if (n < 5)
		return n;
	for (i = 0; i < n; i++)
		if (cp[i] < 'a' || cp[i] > 'z')
			return n;
	if (n >= 6 && cp[n - 3] == 'i' && cp[n - 2] == 'n' && cp[n - 1] == 'g')
		n -= 3;
	else if (cp[n - 2] == 'e' && cp[n - 1] == 'd')
		n -= 2;
	else if (cp[n - 2] == 'l' && cp[n - 1] == 'y')
		n -= 2;
	else if (cp[n - 1] == 's' && cp[n - 2] != 's' && cp[n - 2] != 'u')
		n -= (cp[n - 2] == 'e' && n >= 6) ? 2 : 1;
	else if (cp[n - 1] == 'e')
		n -= 1;
	return n;
}

/* n-grams of "<" + cp + ">" with '<' and '>' as boundary markers. */
static void
char_ngrams(const struct nlu_feat_params *p, struct nlu_rawfeat *r,
    uint64_t salt, const uint32_t *cp, size_t n)
{
	uint32_t win[8 + 2];
	size_t total = n + 2, start, k, order;

	for (start = 0; start < total; start++) {
		for (order = p->char_min; order <= p->char_max; order++) {
			if (start + order > total)
				break;
			for (k = 0; k < order; k++) {
				size_t pos = start + k;
				win[k] = pos == 0 ? '<' :
				    pos == total - 1 ? '>' : cp[pos - 1];
			}
			/* The lone markers carry nothing. */
			if (order == 1 && (start == 0 || start == total - 1))
				continue;
			add(r, hash_cps(p->hash_seed, salt, win, order),
			    NLU_FEAT_GROUP_CHAR);
		}
	}
}

/* n-grams of "a b" (the end of word a, a space, the start of word b) that
 * contain the space and at least one letter on each side. */
static void
xword_ngrams(const struct nlu_feat_params *p, struct nlu_rawfeat *r,
    const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	uint32_t win[8];
	size_t order, left, k;

	for (order = p->char_min < 3 ? 3 : p->char_min; order <= p->char_max;
	    order++) {
		/* left letters from a, one space, order - 1 - left from b */
		for (left = 1; left + 1 < order; left++) {
			size_t right = order - 1 - left;

			if (left > na || right > nb)
				continue;
			for (k = 0; k < left; k++)
				win[k] = a[na - left + k];
			win[left] = ' ';
			for (k = 0; k < right; k++)
				win[left + 1 + k] = b[k];
			add(r, hash_cps(p->hash_seed, SALT_XWORD, win, order),
			    NLU_FEAT_GROUP_CHAR);
		}
	}
}

/* Merge equal hashes, summing counts; keeps first-seen order.  The table
 * lives in r and is reused, so a parse does no allocation once warm. */
static void
dedup(struct nlu_rawfeat *r)
{
	size_t i, o = 0, size = 64, mask;

	if (r->n < 2)
		return;
	while (size < r->n * 2)
		size <<= 1;
	if (size > r->tab_size) {
		r->tab_size = size;
		r->tab_key = xrealloc(r->tab_key, size * sizeof(*r->tab_key));
		r->tab_slot = xrealloc(r->tab_slot, size * sizeof(*r->tab_slot));
	}
	memset(r->tab_key, 0, size * sizeof(*r->tab_key));
	mask = size - 1;
	for (i = 0; i < r->n; i++) {
		uint64_t h = r->h[i];
		/* Key 0 marks an empty slot; h | 1 is never 0 and keeps
		 * every bit that tells two hashes apart except the group
		 * bit, which is compared below. */
		uint64_t key = h | 1;
		size_t s = (size_t)(h >> 17) & mask;

		while (r->tab_key[s] != 0 &&
		    (r->tab_key[s] != key || r->h[r->tab_slot[s]] != h))
			s = (s + 1) & mask;
		if (r->tab_key[s] != 0) {
			r->cnt[r->tab_slot[s]] += r->cnt[i];
			continue;
		}
		r->tab_key[s] = key;
		r->tab_slot[s] = (uint32_t)o;
		r->h[o] = h;
		r->cnt[o] = r->cnt[i];
		o++;
	}
	r->n = o;
}

void
nlu_features_raw(const struct nlu_feat_params *p, const struct nlu_text *t,
    struct nlu_rawfeat *r)
{
	uint64_t prev = BOS_HASH, w;
	const struct nlu_tok *prev_latin = NULL;
	size_t i;

	r->n = 0;
	for (i = 0; i < t->n_tok; i++) {
		const struct nlu_tok *k = &t->tok[i];
		const uint32_t *cp = t->cp + k->off;
		size_t sl;

		if ((p->flags & NLU_FEAT_XWORD) && k->kind == NLU_TOK_LATIN &&
		    prev_latin != NULL)
			xword_ngrams(p, r, t->cp + prev_latin->off,
			    prev_latin->len, cp, k->len);
		prev_latin = k->kind == NLU_TOK_LATIN ? k : NULL;

		if (k->kind == NLU_TOK_DIGIT) {
			/* Numbers by shape: "#6" for a six-digit number; the
			 * value is the entity extractors' business. */
			uint32_t shape = k->len > 9 ? 9 : k->len;
			w = hash_cps(p->hash_seed, SALT_SHAPE, &shape, 1);
			add(r, w, NLU_FEAT_GROUP_WORD);
		} else {
			w = hash_cps(p->hash_seed, SALT_WORD, cp, k->len);
			add(r, w, NLU_FEAT_GROUP_WORD);
			if (k->kind == NLU_TOK_LATIN) {
				sl = stem_len(cp, k->len);
				if (sl < k->len)
					add(r, hash_cps(p->hash_seed, SALT_STEM,
					    cp, sl), NLU_FEAT_GROUP_WORD);
				char_ngrams(p, r, SALT_CHAR, cp, k->len);
				wn_concepts(p, r, cp, k->len);
			} else if (k->run_start) {
				/* A whole unspaced Thai run, so n-grams still
				 * match where libthai split differently. */
				size_t j = i + 1, end = k->off + k->len;

				while (j < t->n_tok && !t->tok[j].run_start &&
				    t->tok[j].kind == NLU_TOK_THAI) {
					end = t->tok[j].off + t->tok[j].len;
					j++;
				}
				char_ngrams(p, r, SALT_CHAR, cp, end - k->off);
			}
		}
		add(r, mix64(prev * 31 + w + SALT_BIGRAM), NLU_FEAT_GROUP_WORD);
		prev = w;
	}
	if (t->n_tok > 0)
		add(r, mix64(prev * 31 + EOS_HASH + SALT_BIGRAM),
		    NLU_FEAT_GROUP_WORD);
	dedup(r);
}

uint32_t
nlu_features_bucket(const struct nlu_feat_params *p, uint32_t member,
    uint64_t h)
{
	uint64_t salt = ((uint64_t)member + 1) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(mix64(h ^ salt) >> (64 - p->dim_log2));
}

/* Member views: a word-leaning and a character-leaning member beside two
 * balanced ones, repeated for larger ensembles. */
float
nlu_features_char_weight(const struct nlu_feat_params *p, uint32_t member)
{
	static const float shift[4] = { 0.0f, -0.25f, 0.25f, 0.0f };
	float w = p->char_weight;

	if (!(p->flags & NLU_FEAT_VIEWS))
		return w;
	w += shift[member % 4];
	return w < 0.05f ? 0.05f : w > 0.95f ? 0.95f : w;
}

void
nlu_features_vector(const struct nlu_feat_params *p, uint32_t member,
    const float *idf, const struct nlu_rawfeat *r, struct nlu_sparse *out)
{
	double norm2[2] = { 0.0, 0.0 };
	double cw = nlu_features_char_weight(p, member);
	float scale[2];
	size_t i;

	if (out->cap < r->n) {
		out->cap = r->n + 64;
		out->idx = xrealloc(out->idx, out->cap * sizeof(*out->idx));
		out->val = xrealloc(out->val, out->cap * sizeof(*out->val));
	}
	out->n = r->n;
	for (i = 0; i < r->n; i++) {
		uint32_t b = nlu_features_bucket(p, member, r->h[i]);
		float c = r->cnt[i];
		/* A count of one (most features) needs no logf: 1 + 0. */
		float v = c == 1.0f ? 1.0f : c < 0.0f ? -c : 1.0f + logf(c);

		if (idf != NULL)
			v *= idf[b];
		out->idx[i] = b;
		out->val[i] = v;
		/* Concept features ride on the word group's scale but do not
		 * count in its norm (features.h). */
		if (c > 0.0f)
			norm2[r->h[i] & 1] += (double)v * v;
	}
	/* Each group gets its share of the unit norm; a missing group gives
	 * its share to the other. */
	if (norm2[0] > 0.0 && norm2[1] > 0.0) {
		scale[0] = (float)(sqrt(1.0 - cw) / sqrt(norm2[0]));
		scale[1] = (float)(sqrt(cw) / sqrt(norm2[1]));
	} else {
		scale[0] = norm2[0] > 0.0 ? (float)(1.0 / sqrt(norm2[0])) : 0.0f;
		scale[1] = norm2[1] > 0.0 ? (float)(1.0 / sqrt(norm2[1])) : 0.0f;
	}
	for (i = 0; i < r->n; i++)
		out->val[i] *= scale[r->h[i] & 1];
}
