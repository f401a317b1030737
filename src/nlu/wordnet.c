/* wordnet.c - WordNet database reader, Morphy lemmatiser and model lexicon
 * (see wordnet.h). */
#include "nlu/wordnet.h"
#include "common/le.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"

#define LEX_MAGIC       "GWN1"
#define LEX_HEADER      24u
#define KIND_LEMMA      1u
#define KIND_EXC        2u
#define MAX_CANDIDATES  12u

/* One entry before it is laid out. */
struct entry {
	uint8_t   kind;
	uint8_t   pos;
	char     *key;
	size_t    klen;
	uint32_t *items;     /* lemma: concept items */
	char    **bases;     /* exception: base forms */
	size_t    n;
};

struct entries {
	struct entry *e;
	size_t        n, cap;
};

/* Hypernyms of the synsets of one data file: sorted synset offsets, each
 * with a range of hyp[]. */
struct hyper_map {
	uint32_t *off;
	uint32_t *first;     /* n + 1 */
	uint32_t *hyp;
	size_t    n, cap, n_hyp, cap_hyp;
};

struct nlu_wn_db {
	struct buf       image;  /* the whole database as one lexicon */
	struct nlu_wn_lex lex;
};

static const char *const pos_name[NLU_WN_N_POS] = { "noun", "verb", "adj",
    "adv" };

/* Morphy's rules of detachment, wndb(5WN)/morphy(7WN): suffix -> ending. */
struct rule {
	const char *suffix;
	const char *ending;
};
static const struct rule noun_rules[] = { { "s", "" }, { "ses", "s" },
    { "xes", "x" }, { "zes", "z" }, { "ches", "ch" }, { "shes", "sh" },
    { "men", "man" }, { "ies", "y" }, { NULL, NULL } };
static const struct rule verb_rules[] = { { "s", "" }, { "ies", "y" },
    { "es", "e" }, { "es", "" }, { "ed", "e" }, { "ed", "" },
    { "ing", "e" }, { "ing", "" }, { NULL, NULL } };
static const struct rule adj_rules[] = { { "er", "" }, { "est", "" },
    { "er", "e" }, { "est", "e" }, { NULL, NULL } };
static const struct rule adv_rules[] = { { NULL, NULL } };
static const struct rule *const rules[NLU_WN_N_POS] = { noun_rules,
    verb_rules, adj_rules, adv_rules };

static uint32_t	 key_hash(unsigned, unsigned, const char *, size_t);
static int	 plain_word(const char *, size_t);
static const unsigned char *find(const struct nlu_wn_lex *, unsigned,
		    unsigned, const char *, size_t);
static void	 entries_add(struct entries *, unsigned, unsigned,
		    const char *, size_t, uint32_t *, char **, size_t);
static void	 entries_cleanup(struct entries *);
static void	 layout(const struct entries *, uint32_t, uint32_t,
		    struct buf *);
static char	*read_file(const char *, const char *, size_t *,
		    struct gacp_err *);
static int	 load_hypernyms(const char *, enum nlu_wn_pos,
		    struct hyper_map *, struct gacp_err *);
static int	 load_index(const char *, enum nlu_wn_pos, uint32_t, uint32_t,
		    const struct hyper_map *, struct entries *,
		    struct gacp_err *);
static int	 load_exc(const char *, enum nlu_wn_pos, struct entries *,
		    struct gacp_err *);
static size_t	 candidates(const struct nlu_wn_lex *, enum nlu_wn_pos,
		    const char *, size_t, char (*)[NLU_WN_MAX_WORD + 1],
		    size_t *, const unsigned char **);

/* FNV-1a over kind, pos and key, then a multiply-xorshift finish so the
 * low bits (the slot) depend on every byte. */
static uint32_t
key_hash(unsigned kind, unsigned pos, const char *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ kind) * 16777619u;
	h = (h ^ pos) * 16777619u;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

/* Keys and lookups are lowercase ASCII letters only: a token never holds
 * a hyphen or an apostrophe, so lemmas with one ("e-mail") or with an
 * underscore (collocations) could never be looked up. */
static int
plain_word(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NLU_WN_MAX_WORD)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 'a' || s[i] > 'z')
			return 0;
	return 1;
}

const char *
nlu_wn_default_dir(void)
{
	if (access(NLU_WN_DEFAULT_DIR "/index.noun", R_OK) == 0 &&
	    access(NLU_WN_DEFAULT_DIR "/data.noun", R_OK) == 0)
		return NLU_WN_DEFAULT_DIR;
	return NULL;
}

/* ---- lexicon bytes ------------------------------------------------------ */

static const unsigned char *
find(const struct nlu_wn_lex *lx, unsigned kind, unsigned pos,
    const char *key, size_t len)
{
	uint32_t mask, s, probes;

	if (lx == NULL || lx->n_slots == 0 || len == 0 || len > 255)
		return NULL;
	mask = lx->n_slots - 1;
	s = key_hash(kind, pos, key, len) & mask;
	/* n_entries < n_slots (checked at open), so an empty slot ends
	 * every probe sequence; the bound is belt and braces. */
	for (probes = 0; probes < lx->n_slots; probes++) {
		uint32_t v = le_get_u32(lx->slots + 4u * s);
		const unsigned char *e;

		if (v == 0)
			return NULL;
		e = lx->pool + (v - 1);
		if (e[0] == kind && e[1] == pos && e[2] == len &&
		    memcmp(e + 4, key, len) == 0)
			return e;
		s = (s + 1) & mask;
	}
	return NULL;
}

const unsigned char *
nlu_wn_lex_entry(const struct nlu_wn_lex *lx, enum nlu_wn_pos pos,
    const char *lemma, size_t len, uint32_t *n_items)
{
	const unsigned char *e = find(lx, KIND_LEMMA, pos, lemma, len);

	if (e == NULL)
		return NULL;
	*n_items = e[3];
	return e + ((4u + e[2] + 3u) & ~3u);
}

int
nlu_wn_lex_open(struct nlu_wn_lex *lx, const void *p, size_t len,
    struct gacp_err *err)
{
	const unsigned char *b = p;
	uint32_t n_slots, n_entries, pool_bytes, i, used = 0;

	memset(lx, 0, sizeof(*lx));
#define BAD(what) gacp_err_set(err, GACP_EINVAL, "nlu_model_corrupt", \
	"model WordNet lexicon is malformed (%s)", what)
	if (len < LEX_HEADER || memcmp(b, LEX_MAGIC, 4) != 0)
		return BAD("bad magic");
	n_slots = le_get_u32(b + 4);
	n_entries = le_get_u32(b + 8);
	pool_bytes = le_get_u32(b + 12);
	if (n_slots < 2 || (n_slots & (n_slots - 1)) != 0 ||
	    n_slots > (1u << 26) || n_entries >= n_slots)
		return BAD("bad table size");
	if ((uint64_t)LEX_HEADER + 4ull * n_slots + pool_bytes != len)
		return BAD("section size does not match");
	lx->slots = b + LEX_HEADER;
	lx->pool = b + LEX_HEADER + 4u * n_slots;
	lx->pool_bytes = pool_bytes;
	lx->n_slots = n_slots;
	lx->n_entries = n_entries;
	lx->max_senses = le_get_u32(b + 16);
	lx->flags = le_get_u32(b + 20);
	if (lx->max_senses < 1 || lx->max_senses > NLU_WN_MAX_SENSES ||
	    (lx->flags & ~NLU_WN_BUILD_HYPERNYMS) != 0)
		return BAD("bad build parameters");
	for (i = 0; i < n_slots; i++) {
		uint32_t v = le_get_u32(lx->slots + 4u * i), k, off;
		const unsigned char *e;
		size_t need;

		if (v == 0)
			continue;
		off = v - 1;
		used++;
		if (off % 4 != 0 || (size_t)off + 4 > pool_bytes)
			return BAD("entry offset out of bounds");
		e = lx->pool + off;
		if ((e[0] != KIND_LEMMA && e[0] != KIND_EXC) ||
		    e[1] >= NLU_WN_N_POS || e[2] == 0 || e[3] == 0)
			return BAD("bad entry header");
		need = (4u + e[2] + 3u) & ~(size_t)3;
		if (need > pool_bytes - off)
			return BAD("entry key out of bounds");
		if (!plain_word((const char *)e + 4, e[2]))
			return BAD("entry key is not a plain word");
		if (e[0] == KIND_LEMMA) {
			if (need + 4u * e[3] > pool_bytes - off)
				return BAD("entry items out of bounds");
			for (k = 0; k < e[3]; k++)
				if (le_get_u32(e + need + 4u * k) & 0x80000000u)
					return BAD("bad concept item");
			continue;
		}
		for (k = 0; k < e[3]; k++) {
			if (need + 1 > pool_bytes - off ||
			    e[need] == 0 ||
			    need + 1 + e[need] > pool_bytes - off ||
			    !plain_word((const char *)e + need + 1, e[need]))
				return BAD("exception base out of bounds");
			need += 1u + e[need];
		}
	}
	if (used != n_entries)
		return BAD("entry count does not match");
#undef BAD
	return 0;
}

/* Lemmas Morphy would try for word in pos, deduplicated, kept only when
 * lx has them as lemmas (their entries into ent, so callers need not look
 * them up again).  The exception list wins over the rules (as in Morphy:
 * "went" is "go", never "wen"); the word itself is always tried. */
static size_t
candidates(const struct nlu_wn_lex *lx, enum nlu_wn_pos pos, const char *w,
    size_t n, char (*out)[NLU_WN_MAX_WORD + 1], size_t *out_len,
    const unsigned char **ent)
{
	char tmp[MAX_CANDIDATES][NLU_WN_MAX_WORD + 1];
	size_t tlen[MAX_CANDIDATES], nt = 0, i, k, nout = 0;
	const unsigned char *exc;
	const struct rule *r;

	memcpy(tmp[0], w, n);
	tlen[nt++] = n;
	exc = find(lx, KIND_EXC, pos, w, n);
	if (exc != NULL) {
		size_t at = (4u + exc[2] + 3u) & ~(size_t)3;

		for (k = 0; k < exc[3] && nt < MAX_CANDIDATES; k++) {
			size_t bl = exc[at];

			if (bl <= NLU_WN_MAX_WORD) {
				memcpy(tmp[nt], exc + at + 1, bl);
				tlen[nt++] = bl;
			}
			at += 1 + bl;
		}
	} else {
		for (r = rules[pos]; r->suffix != NULL &&
		    nt < MAX_CANDIDATES; r++) {
			size_t sl = strlen(r->suffix), el = strlen(r->ending);

			/* A stem of at least two letters: "is" is not "i". */
			if (n < sl + 2 || memcmp(w + n - sl, r->suffix, sl) != 0 ||
			    n - sl + el > NLU_WN_MAX_WORD)
				continue;
			memcpy(tmp[nt], w, n - sl);
			memcpy(tmp[nt] + n - sl, r->ending, el);
			tlen[nt++] = n - sl + el;
		}
	}
	for (i = 0; i < nt; i++) {
		const unsigned char *e;
		int dup = 0;

		for (k = 0; k < nout && !dup; k++)
			dup = out_len[k] == tlen[i] &&
			    memcmp(out[k], tmp[i], tlen[i]) == 0;
		if (dup || (e = find(lx, KIND_LEMMA, pos, tmp[i], tlen[i])) ==
		    NULL)
			continue;
		memcpy(out[nout], tmp[i], tlen[i]);
		out[nout][tlen[i]] = '\0';
		ent[nout] = e;
		out_len[nout++] = tlen[i];
	}
	return nout;
}

size_t
nlu_wn_lemmas(const struct nlu_wn_lex *lx, enum nlu_wn_pos pos,
    const char *word, char *out, size_t cap)
{
	char c[MAX_CANDIDATES][NLU_WN_MAX_WORD + 1];
	const unsigned char *ent[MAX_CANDIDATES];
	size_t clen[MAX_CANDIDATES], n = strlen(word), nc, i, at = 0, kept = 0;

	if (!plain_word(word, n) || (unsigned)pos >= NLU_WN_N_POS)
		return 0;
	nc = candidates(lx, pos, word, n, c, clen, ent);
	for (i = 0; i < nc; i++) {
		if (at + clen[i] + 1 > cap)
			break;
		memcpy(out + at, c[i], clen[i] + 1);
		at += clen[i] + 1;
		kept++;
	}
	return kept;
}

size_t
nlu_wn_lookup(const struct nlu_wn_lex *lx, const uint32_t *cp, size_t n,
    uint32_t *items, size_t cap)
{
	char w[NLU_WN_MAX_WORD + 1];
	char c[MAX_CANDIDATES][NLU_WN_MAX_WORD + 1];
	const unsigned char *ent[MAX_CANDIDATES];
	size_t clen[MAX_CANDIDATES], nc, i, k, out = 0;
	unsigned pos;

	if (lx == NULL || lx->n_entries == 0 || n < 3 || n > NLU_WN_MAX_WORD)
		return 0;
	for (i = 0; i < n; i++) {
		if (cp[i] < 'a' || cp[i] > 'z')
			return 0;
		w[i] = (char)cp[i];
	}
	for (pos = 0; pos < NLU_WN_N_POS; pos++) {
		nc = candidates(lx, (enum nlu_wn_pos)pos, w, n, c, clen, ent);
		for (i = 0; i < nc; i++) {
			const unsigned char *it = ent[i] +
			    ((4u + ent[i][2] + 3u) & ~3u);

			for (k = 0; k < ent[i][3] && out < cap; k++)
				items[out++] = le_get_u32(it + 4 * k);
		}
	}
	return out;
}

/* ---- building ----------------------------------------------------------- */

static void
entries_add(struct entries *es, unsigned kind, unsigned pos, const char *key,
    size_t klen, uint32_t *items, char **bases, size_t n)
{
	struct entry *e;

	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 1024;
		es->e = xrealloc(es->e, es->cap * sizeof(*es->e));
	}
	e = &es->e[es->n++];
	e->kind = (uint8_t)kind;
	e->pos = (uint8_t)pos;
	e->key = xstrndup(key, klen);
	e->klen = klen;
	e->items = items;
	e->bases = bases;
	e->n = n;
}

static void
entries_cleanup(struct entries *es)
{
	size_t i, k;

	for (i = 0; i < es->n; i++) {
		free(es->e[i].key);
		free(es->e[i].items);
		for (k = 0; es->e[i].bases != NULL && k < es->e[i].n; k++)
			free(es->e[i].bases[k]);
		free(es->e[i].bases);
	}
	free(es->e);
	memset(es, 0, sizeof(*es));
}

/* Lay entries out as lexicon bytes: a table at most half full, entries in
 * the order given (which is the order of the files, so deterministic).
 * A later entry with the key of an earlier one is dropped. */
static void
layout(const struct entries *es, uint32_t max_senses, uint32_t flags,
    struct buf *out)
{
	uint32_t n_slots = 2, *slot, i, k, n_used = 0;
	struct buf pool;
	struct nlu_wn_lex view;

	while (n_slots < es->n * 2 + 2)
		n_slots <<= 1;
	slot = xcalloc(n_slots, sizeof(*slot));
	buf_init(&pool);
	memset(&view, 0, sizeof(view));
	view.n_slots = n_slots;
	for (i = 0; i < es->n; i++) {
		const struct entry *e = &es->e[i];
		uint32_t s = key_hash(e->kind, e->pos, e->key, e->klen) &
		    (n_slots - 1);
		unsigned char hdr[4];
		int dup = 0;

		if (e->n == 0 || e->klen > 255)
			continue;
		while (slot[s] != 0) {
			const unsigned char *o = (const unsigned char *)
			    pool.data + slot[s] - 1;

			if (o[0] == e->kind && o[1] == e->pos &&
			    o[2] == e->klen && memcmp(o + 4, e->key,
			    e->klen) == 0) {
				dup = 1;
				break;
			}
			s = (s + 1) & (n_slots - 1);
		}
		if (dup)
			continue;
		slot[s] = (uint32_t)pool.len + 1;
		n_used++;
		hdr[0] = e->kind;
		hdr[1] = e->pos;
		hdr[2] = (unsigned char)e->klen;
		hdr[3] = (unsigned char)(e->n > 255 ? 255 : e->n);
		buf_append(&pool, hdr, 4);
		buf_append(&pool, e->key, e->klen);
		while (pool.len % 4)
			buf_putc(&pool, '\0');
		for (k = 0; k < hdr[3]; k++) {
			if (e->kind == KIND_LEMMA) {
				le_put_u32(&pool, e->items[k]);
			} else {
				size_t bl = strlen(e->bases[k]);

				buf_putc(&pool, (char)bl);
				buf_append(&pool, e->bases[k], bl);
			}
		}
		while (pool.len % 4)
			buf_putc(&pool, '\0');
	}
	buf_reset(out);
	buf_append(out, LEX_MAGIC, 4);
	le_put_u32(out, n_slots);
	le_put_u32(out, n_used);
	le_put_u32(out, (uint32_t)pool.len);
	le_put_u32(out, max_senses);
	le_put_u32(out, flags);
	for (i = 0; i < n_slots; i++)
		le_put_u32(out, slot[i]);
	buf_append(out, pool.data, pool.len);
	buf_cleanup(&pool);
	free(slot);
}

/* Whole file into a NUL-terminated heap buffer. */
static char *
read_file(const char *dir, const char *name, size_t *len,
    struct gacp_err *err)
{
	char *path = xasprintf("%s/%s", dir, name), *data = NULL;
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n = 0, got;

	if (f == NULL) {
		gacp_err_set(err, GACP_EIO, "nlu_wordnet_unreadable",
		    "cannot open WordNet file %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			data = xrealloc(data, cap + 1);
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		gacp_err_set(err, GACP_EIO, "nlu_wordnet_unreadable",
		    "cannot read WordNet file %s", path);
		free(data);
		data = NULL;
	} else {
		data[n] = '\0';
		*len = n;
	}
	fclose(f);
	free(path);
	return data;
}

/* Next space-separated field of a line; NULL at the end of the line. */
static const char *
field(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	if (s >= end)
		return NULL;
	e = s;
	while (e < end && *e != ' ')
		e++;
	*len = (size_t)(e - s);
	*p = e;
	return s;
}

static int
num(const char *s, size_t n, int base, unsigned long *v)
{
	char tmp[24], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtoul(tmp, &end, base);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* The direct hypernyms ("@" and "@i" pointers to the same part of speech)
 * of every synset of data.<pos>.  Lines come in offset order. */
static int
load_hypernyms(const char *dir, enum nlu_wn_pos pos, struct hyper_map *hm,
    struct gacp_err *err)
{
	char *name = xasprintf("data.%s", pos_name[pos]);
	size_t len = 0, lineno = 0;
	char *data = read_file(dir, name, &len, err);
	const char *p = data, *end = data + len;
	int rc = 0;

	memset(hm, 0, sizeof(*hm));
	if (data == NULL) {
		free(name);
		return GACP_EIO;
	}
	hm->first = xmalloc(sizeof(*hm->first));
	hm->first[0] = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;
		const char *f;
		unsigned long off, wcnt, pcnt, i, toff;
		size_t fl;

		if (eol == NULL)
			eol = end;
		lineno++;
		if (*p == ' ' || eol == p) {     /* licence header */
			p = eol + 1;
			continue;
		}
		if ((f = field(&q, eol, &fl)) == NULL || num(f, fl, 10, &off) ||
		    off > NLU_WN_ITEM_OFFSET_MASK ||
		    field(&q, eol, &fl) == NULL ||          /* lex_filenum */
		    field(&q, eol, &fl) == NULL ||          /* ss_type */
		    (f = field(&q, eol, &fl)) == NULL || num(f, fl, 16, &wcnt))
			goto bad;
		for (i = 0; i < 2 * wcnt; i++)
			if (field(&q, eol, &fl) == NULL)
				goto bad;
		if ((f = field(&q, eol, &fl)) == NULL || num(f, fl, 10, &pcnt))
			goto bad;
		if (hm->n == hm->cap) {
			hm->cap = hm->cap ? hm->cap * 2 : 4096;
			hm->off = xrealloc(hm->off, hm->cap * sizeof(*hm->off));
			hm->first = xrealloc(hm->first, (hm->cap + 1) *
			    sizeof(*hm->first));
		}
		if (hm->n > 0 && off <= hm->off[hm->n - 1])
			goto bad;
		hm->off[hm->n] = (uint32_t)off;
		for (i = 0; i < pcnt; i++) {
			const char *sym, *tp;
			size_t sl, tl;

			if ((sym = field(&q, eol, &sl)) == NULL ||
			    (f = field(&q, eol, &fl)) == NULL ||
			    num(f, fl, 10, &toff) ||
			    toff > NLU_WN_ITEM_OFFSET_MASK ||
			    (tp = field(&q, eol, &tl)) == NULL ||
			    field(&q, eol, &fl) == NULL)    /* source/target */
				goto bad;
			if (!((sl == 1 && sym[0] == '@') || (sl == 2 &&
			    sym[0] == '@' && sym[1] == 'i')) || tl != 1 ||
			    *tp != (pos == NLU_WN_NOUN ? 'n' : 'v'))
				continue;
			if (hm->n_hyp == hm->cap_hyp) {
				hm->cap_hyp = hm->cap_hyp ? hm->cap_hyp * 2 :
				    4096;
				hm->hyp = xrealloc(hm->hyp, hm->cap_hyp *
				    sizeof(*hm->hyp));
			}
			hm->hyp[hm->n_hyp++] = (uint32_t)toff;
		}
		hm->n++;
		hm->first[hm->n] = (uint32_t)hm->n_hyp;
		p = eol + 1;
	}
	goto out;
bad:
	rc = gacp_err_set(err, GACP_EINVAL, "nlu_wordnet_corrupt",
	    "WordNet file %s/%s is malformed at line %zu", dir, name, lineno);
out:
	free(data);
	free(name);
	return rc;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Lemma entries of index.<pos>: the first `senses` synsets (senses come
 * most frequent first) and, with NLU_WN_BUILD_HYPERNYMS, their direct
 * hypernyms, each item once (at its best rank). */
static int
load_index(const char *dir, enum nlu_wn_pos pos, uint32_t senses,
    uint32_t flags, const struct hyper_map *hm, struct entries *es,
    struct gacp_err *err)
{
	char *name = xasprintf("index.%s", pos_name[pos]);
	size_t len = 0, lineno = 0;
	char *data = read_file(dir, name, &len, err);
	const char *p = data, *end = data + len;
	int rc = 0;

	if (data == NULL) {
		free(name);
		return GACP_EIO;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;
		const char *lemma, *f;
		size_t ll, fl, n_items = 0, k;
		unsigned long cnt, pcnt, i, off;
		uint32_t items[NLU_WN_MAX_ITEMS];

		if (eol == NULL)
			eol = end;
		lineno++;
		if (*p == ' ' || eol == p) {
			p = eol + 1;
			continue;
		}
		if ((lemma = field(&q, eol, &ll)) == NULL ||
		    field(&q, eol, &fl) == NULL ||                 /* pos */
		    (f = field(&q, eol, &fl)) == NULL || num(f, fl, 10, &cnt) ||
		    (f = field(&q, eol, &fl)) == NULL || num(f, fl, 10, &pcnt))
			goto bad;
		for (i = 0; i < pcnt; i++)
			if (field(&q, eol, &fl) == NULL)
				goto bad;
		if (field(&q, eol, &fl) == NULL ||                 /* sense_cnt */
		    field(&q, eol, &fl) == NULL)                   /* tagsense */
			goto bad;
		for (i = 0; i < cnt; i++) {
			uint32_t base;
			const uint32_t *h;

			if ((f = field(&q, eol, &fl)) == NULL ||
			    num(f, fl, 10, &off) ||
			    off > NLU_WN_ITEM_OFFSET_MASK)
				goto bad;
			if (i >= senses)
				continue;
			base = (uint32_t)off |
			    (uint32_t)pos << NLU_WN_ITEM_POS_SHIFT |
			    (uint32_t)i << NLU_WN_ITEM_RANK_SHIFT;
			for (k = 0; k < n_items; k++)
				if ((items[k] & NLU_WN_ITEM_CONCEPT_MASK) ==
				    (base & NLU_WN_ITEM_CONCEPT_MASK))
					break;
			if (k == n_items && n_items < NLU_WN_MAX_ITEMS)
				items[n_items++] = base;
			if (!(flags & NLU_WN_BUILD_HYPERNYMS) || hm == NULL ||
			    hm->n == 0)
				continue;
			h = bsearch(&(uint32_t){ (uint32_t)off }, hm->off, hm->n,
			    sizeof(*hm->off), cmp_u32);
			if (h == NULL)
				continue;
			for (k = hm->first[h - hm->off];
			    k < hm->first[h - hm->off + 1]; k++) {
				uint32_t it = hm->hyp[k] |
				    (uint32_t)pos << NLU_WN_ITEM_POS_SHIFT |
				    (uint32_t)i << NLU_WN_ITEM_RANK_SHIFT |
				    NLU_WN_ITEM_HYPER;
				size_t j;

				for (j = 0; j < n_items; j++)
					if ((items[j] &
					    NLU_WN_ITEM_CONCEPT_MASK) ==
					    (it & NLU_WN_ITEM_CONCEPT_MASK))
						break;
				if (j == n_items && n_items < NLU_WN_MAX_ITEMS)
					items[n_items++] = it;
			}
		}
		/* Collocations ("credit_card") never match one token. */
		if (n_items > 0 && plain_word(lemma, ll)) {
			uint32_t *copy = xmalloc(n_items * sizeof(*copy));

			memcpy(copy, items, n_items * sizeof(*copy));
			entries_add(es, KIND_LEMMA, pos, lemma, ll, copy, NULL,
			    n_items);
		}
		p = eol + 1;
	}
	goto out;
bad:
	rc = gacp_err_set(err, GACP_EINVAL, "nlu_wordnet_corrupt",
	    "WordNet file %s/%s is malformed at line %zu", dir, name, lineno);
out:
	free(data);
	free(name);
	return rc;
}

/* Exception entries of <pos>.exc: inflected form, then its base forms. */
static int
load_exc(const char *dir, enum nlu_wn_pos pos, struct entries *es,
    struct gacp_err *err)
{
	char *name = xasprintf("%s.exc", pos_name[pos]);
	size_t len = 0;
	char *data = read_file(dir, name, &len, err);
	const char *p = data, *end = data + len;

	if (data == NULL) {
		free(name);
		return GACP_EIO;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;
		const char *form, *f;
		size_t fl, bl, nb = 0;
		char **bases = NULL;

		if (eol == NULL)
			eol = end;
		form = field(&q, eol, &fl);
		if (form != NULL && plain_word(form, fl)) {
			while ((f = field(&q, eol, &bl)) != NULL) {
				if (!plain_word(f, bl))
					continue;
				bases = xrealloc(bases, (nb + 1) *
				    sizeof(*bases));
				bases[nb++] = xstrndup(f, bl);
			}
			if (nb > 0)
				entries_add(es, KIND_EXC, pos, form, fl, NULL,
				    bases, nb);
			else
				free(bases);
		}
		p = eol + 1;
	}
	free(data);
	free(name);
	return 0;
}

int
nlu_wn_db_load(const char *dir, uint32_t senses, uint32_t flags,
    struct nlu_wn_db **out, struct gacp_err *err)
{
	struct nlu_wn_db *db = NULL;
	struct hyper_map hm[2];
	struct entries es;
	unsigned pos;
	int rc;

	*out = NULL;
	memset(hm, 0, sizeof(hm));
	memset(&es, 0, sizeof(es));
	if (senses < 1 || senses > NLU_WN_MAX_SENSES ||
	    (flags & ~NLU_WN_BUILD_HYPERNYMS) != 0) {
		rc = gacp_err_set(err, GACP_EINVAL, "nlu_bad_options",
		    "WordNet senses must be 1 to %u", NLU_WN_MAX_SENSES);
		goto out;
	}
	if (flags & NLU_WN_BUILD_HYPERNYMS)
		for (pos = NLU_WN_NOUN; pos <= NLU_WN_VERB; pos++)
			if ((rc = load_hypernyms(dir, (enum nlu_wn_pos)pos,
			    &hm[pos], err)) != 0)
				goto out;
	for (pos = 0; pos < NLU_WN_N_POS; pos++)
		if ((rc = load_index(dir, (enum nlu_wn_pos)pos, senses, flags,
		    pos <= NLU_WN_VERB ? &hm[pos] : NULL, &es, err)) != 0 ||
		    (rc = load_exc(dir, (enum nlu_wn_pos)pos, &es, err)) != 0)
			goto out;
	db = xcalloc(1, sizeof(*db));
	buf_init(&db->image);
	layout(&es, senses, flags, &db->image);
	rc = nlu_wn_lex_open(&db->lex, db->image.data, db->image.len, err);
	if (rc != 0)
		goto out;
	*out = db;
	db = NULL;
out:
	for (pos = 0; pos < 2; pos++) {
		free(hm[pos].off);
		free(hm[pos].first);
		free(hm[pos].hyp);
	}
	entries_cleanup(&es);
	nlu_wn_db_free(db);
	return rc;
}

void
nlu_wn_db_free(struct nlu_wn_db *db)
{
	if (db == NULL)
		return;
	buf_cleanup(&db->image);
	free(db);
}

/* Open-addressing set of concepts (offset + pos); 0 is never a concept
 * key because keys are stored plus one. */
struct cset {
	uint32_t *k;
	size_t    size, n;
};

static int
cset_has(const struct cset *s, uint32_t c)
{
	size_t i = (c * 2654435761u) & (s->size - 1);

	while (s->k[i] != 0) {
		if (s->k[i] == c + 1)
			return 1;
		i = (i + 1) & (s->size - 1);
	}
	return 0;
}

static void
cset_add(struct cset *s, uint32_t c)
{
	size_t i;

	if ((s->n + 1) * 2 > s->size) {
		struct cset big = { xcalloc(s->size * 2, sizeof(uint32_t)),
		    s->size * 2, 0 };

		for (i = 0; i < s->size; i++)
			if (s->k[i] != 0)
				cset_add(&big, s->k[i] - 1);
		free(s->k);
		*s = big;
	}
	i = (c * 2654435761u) & (s->size - 1);
	while (s->k[i] != 0) {
		if (s->k[i] == c + 1)
			return;
		i = (i + 1) & (s->size - 1);
	}
	s->k[i] = c + 1;
	s->n++;
}

void
nlu_wn_lexicon_build(const struct nlu_wn_db *db, const char *const *words,
    size_t n, struct buf *out, uint32_t *n_concepts)
{
	const struct nlu_wn_lex *full = &db->lex;
	struct cset cs = { xcalloc(1024, sizeof(uint32_t)), 1024, 0 };
	struct entries es;
	uint32_t items[256], cp[NLU_WN_MAX_WORD];
	size_t i, k, ni, wl;

	memset(&es, 0, sizeof(es));
	/* Concepts reachable from the vocabulary. */
	for (i = 0; i < n; i++) {
		wl = strlen(words[i]);
		if (wl < 3 || wl > NLU_WN_MAX_WORD)
			continue;
		for (k = 0; k < wl; k++)
			cp[k] = (unsigned char)words[i][k];
		ni = nlu_wn_lookup(full, cp, wl, items, 256);
		for (k = 0; k < ni; k++)
			cset_add(&cs, items[k] & NLU_WN_ITEM_CONCEPT_MASK);
	}
	/* Every lemma sharing one of them, in the full table's slot order
	 * (deterministic), items cut to the reachable concepts. */
	for (i = 0; i < full->n_slots; i++) {
		uint32_t v = le_get_u32(full->slots + 4u * i);
		const unsigned char *e, *it;
		uint32_t *kept = NULL, nk = 0;

		if (v == 0)
			continue;
		e = full->pool + (v - 1);
		if (e[0] != KIND_LEMMA)
			continue;
		it = e + ((4u + e[2] + 3u) & ~3u);
		for (k = 0; k < e[3]; k++) {
			uint32_t x = le_get_u32(it + 4 * k);

			if (!cset_has(&cs, x & NLU_WN_ITEM_CONCEPT_MASK))
				continue;
			kept = xrealloc(kept, (nk + 1) * sizeof(*kept));
			kept[nk++] = x;
		}
		if (nk > 0)
			entries_add(&es, KIND_LEMMA, e[1], (const char *)e + 4,
			    e[2], kept, NULL, nk);
		else
			free(kept);
	}
	/* Exceptions whose base forms survived, in the same order. */
	for (i = 0; i < full->n_slots; i++) {
		uint32_t v = le_get_u32(full->slots + 4u * i);
		const unsigned char *e;
		char **bases = NULL;
		size_t at, nb = 0;

		if (v == 0)
			continue;
		e = full->pool + (v - 1);
		if (e[0] != KIND_EXC)
			continue;
		at = (4u + e[2] + 3u) & ~(size_t)3;
		for (k = 0; k < e[3]; k++) {
			size_t bl = e[at], j;
			const unsigned char *it;
			uint32_t nit;
			int any = 0;

			it = nlu_wn_lex_entry(full, (enum nlu_wn_pos)e[1],
			    (const char *)e + at + 1, bl, &nit);
			for (j = 0; it != NULL && j < nit && !any; j++)
				any = cset_has(&cs, le_get_u32(it + 4 * j) &
				    NLU_WN_ITEM_CONCEPT_MASK);
			if (any) {
				bases = xrealloc(bases, (nb + 1) *
				    sizeof(*bases));
				bases[nb++] = xstrndup((const char *)e + at + 1,
				    bl);
			}
			at += 1 + bl;
		}
		if (nb > 0)
			entries_add(&es, KIND_EXC, e[1], (const char *)e + 4,
			    e[2], NULL, bases, nb);
		else
			free(bases);
	}
	layout(&es, full->max_senses, full->flags, out);
	if (n_concepts != NULL)
		*n_concepts = (uint32_t)cs.n;
	entries_cleanup(&es);
	free(cs.k);
}

/* ---- synonyms for augmentation ------------------------------------------ */

struct syn_pair {
	uint32_t    concept;
	uint32_t    order;      /* slot order: keeps the sort deterministic */
	const char *lemma;
	uint8_t     len;
};

static int
cmp_pair(const void *a, const void *b)
{
	const struct syn_pair *x = a, *y = b;

	if (x->concept != y->concept)
		return x->concept < y->concept ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void
nlu_wn_syn_init(struct nlu_wn_syn *s, const struct nlu_wn_lex *lx)
{
	struct syn_pair *pr = NULL;
	size_t n = 0, cap = 0, i, k;

	memset(s, 0, sizeof(*s));
	for (i = 0; lx != NULL && i < lx->n_slots; i++) {
		uint32_t v = le_get_u32(lx->slots + 4u * i);
		const unsigned char *e, *it;

		if (v == 0)
			continue;
		e = lx->pool + (v - 1);
		if (e[0] != KIND_LEMMA)
			continue;
		it = e + ((4u + e[2] + 3u) & ~3u);
		for (k = 0; k < e[3]; k++) {
			uint32_t x = le_get_u32(it + 4 * k);

			if ((x & NLU_WN_ITEM_HYPER) ||
			    ((x >> NLU_WN_ITEM_RANK_SHIFT) &
			    NLU_WN_ITEM_RANK_MASK) > 1)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				pr = xrealloc(pr, cap * sizeof(*pr));
			}
			pr[n].concept = x & NLU_WN_ITEM_CONCEPT_MASK;
			pr[n].order = (uint32_t)n;
			pr[n].lemma = (const char *)e + 4;
			pr[n].len = e[2];
			n++;
		}
	}
	if (n > 0)
		qsort(pr, n, sizeof(*pr), cmp_pair);
	s->concept = xmalloc((n + 1) * sizeof(*s->concept));
	s->lemma = xmalloc((n + 1) * sizeof(*s->lemma));
	s->len = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		s->concept[i] = pr[i].concept;
		s->lemma[i] = pr[i].lemma;
		s->len[i] = pr[i].len;
	}
	s->n = n;
	free(pr);
}

void
nlu_wn_syn_cleanup(struct nlu_wn_syn *s)
{
	if (s == NULL)
		return;
	free(s->concept);
	free(s->lemma);
	free(s->len);
	memset(s, 0, sizeof(*s));
}

size_t
nlu_wn_synonym(const struct nlu_wn_lex *lx, const struct nlu_wn_syn *s,
    const uint32_t *cp, size_t n, uint64_t pick, char *out)
{
	char w[NLU_WN_MAX_WORD + 1];
	char c[MAX_CANDIDATES][NLU_WN_MAX_WORD + 1];
	const unsigned char *ent[MAX_CANDIDATES];
	size_t clen[MAX_CANDIDATES], nc, i, k, lo, hi, mid, n_other = 0;
	uint32_t concept = UINT32_MAX;
	unsigned pos;

	if (lx == NULL || s->n == 0 || n < 3 || n > NLU_WN_MAX_WORD)
		return 0;
	for (i = 0; i < n; i++) {
		if (cp[i] < 'a' || cp[i] > 'z')
			return 0;
		w[i] = (char)cp[i];
	}
	w[n] = '\0';
	/* The word's most frequent sense and its own lemmas (which are not
	 * synonyms of it). */
	nc = 0;
	for (pos = 0; pos < NLU_WN_N_POS && concept == UINT32_MAX; pos++) {
		nc = candidates(lx, (enum nlu_wn_pos)pos, w, n, c, clen, ent);
		for (i = 0; i < nc && concept == UINT32_MAX; i++) {
			uint32_t ni = ent[i][3];
			const unsigned char *it = ent[i] +
			    ((4u + ent[i][2] + 3u) & ~3u);

			for (k = 0; k < ni; k++) {
				uint32_t x = le_get_u32(it + 4 * k);

				if (!(x & NLU_WN_ITEM_HYPER) &&
				    ((x >> NLU_WN_ITEM_RANK_SHIFT) &
				    NLU_WN_ITEM_RANK_MASK) == 0) {
					concept = x & NLU_WN_ITEM_CONCEPT_MASK;
					break;
				}
			}
		}
	}
	if (concept == UINT32_MAX)
		return 0;
	lo = 0;
	hi = s->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->concept[mid] < concept)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Pairs of this concept whose lemma is none of the word's own. */
	for (i = lo; i < s->n && s->concept[i] == concept; i++) {
		int own = s->len[i] == n && memcmp(s->lemma[i], w, n) == 0;

		for (k = 0; k < nc && !own; k++)
			own = s->len[i] == clen[k] &&
			    memcmp(s->lemma[i], c[k], clen[k]) == 0;
		n_other += !own;
	}
	if (n_other == 0)
		return 0;
	pick %= n_other;
	for (i = lo; i < s->n && s->concept[i] == concept; i++) {
		int own = s->len[i] == n && memcmp(s->lemma[i], w, n) == 0;

		for (k = 0; k < nc && !own; k++)
			own = s->len[i] == clen[k] &&
			    memcmp(s->lemma[i], c[k], clen[k]) == 0;
		if (own)
			continue;
		if (pick-- == 0) {
			memcpy(out, s->lemma[i], s->len[i]);
			out[s->len[i]] = '\0';
			return s->len[i];
		}
	}
	return 0;
}
