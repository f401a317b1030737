/* embed.c - pretrained word vectors: file reader, model table, sentence
 * vectors (embed.h). */
#include "nlu/embed.h"
#include "common/le.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "common/xmalloc.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

#define FORMAT(...) gacp_err_set(err, GACP_EINVAL, "nlu_embeddings_format", \
	__VA_ARGS__)
#define CORRUPT(...) gacp_err_set(err, GACP_EINVAL, "nlu_model_corrupt", \
	__VA_ARGS__)

/* A JSON scan over the mapped file. */
struct cur {
	const char *p;
	const char *end;
	const char *start;
};

static int	keep_word(const struct nlu_emb_filter *, const char *,
		    uint32_t);
static void	src_add(struct nlu_emb_src *, const char *, const float *,
		    uint32_t);
static int	load_text(const char *, size_t, const char *,
		    const struct nlu_emb_filter *, struct nlu_emb_src *,
		    struct gacp_err *);
static int	load_json(const char *, size_t, const char *,
		    const struct nlu_emb_filter *, struct nlu_emb_src *,
		    struct gacp_err *);
static int	parse_num(const char **, const char *, double *);
static void	ws(struct cur *);
static int	json_str(struct cur *, char *, size_t, size_t *);
static int	json_skip(struct cur *);
static long	tok_index(const struct nlu_emb *, const struct nlu_text *,
		    size_t);

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
keep_word(const struct nlu_emb_filter *f, const char *w, uint32_t rank)
{
	if (f == NULL || rank < f->top)
		return 1;
	return f->n_vocab > 0 && bsearch(&w, f->vocab, f->n_vocab,
	    sizeof(*f->vocab), cmp_cstr) != NULL;
}

static void
src_add(struct nlu_emb_src *s, const char *w, const float *v, uint32_t rank)
{
	if ((s->n & (s->n - 1)) == 0) {
		size_t cap = s->n ? s->n * 2 : 1024;

		s->word = xrealloc(s->word, cap * sizeof(*s->word));
		s->vec = xrealloc(s->vec, cap * s->dim * sizeof(*s->vec));
		s->rank = xrealloc(s->rank, cap * sizeof(*s->rank));
	}
	s->word[s->n] = xstrdup(w);
	memcpy(s->vec + s->n * s->dim, v, s->dim * sizeof(*v));
	s->rank[s->n] = rank;
	s->n++;
}

/* One number at *pp (before end); *pp moves past it.  A copy bounds
 * strtod, which would otherwise read past an unterminated mapping. */
static int
parse_num(const char **pp, const char *end, double *out)
{
	char tmp[64], *e;
	size_t n = 0;
	const char *p = *pp;

	while (p + n < end && n < sizeof(tmp) - 1 &&
	    (strchr("0123456789+-.eE", p[n]) != NULL) && p[n] != '\0')
		n++;
	if (n == 0 || n == sizeof(tmp) - 1)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &e);
	/* Values are kept as float: one past FLT_MAX would become inf
	 * there (found by fuzz-embeddings), so it is as unusable as inf. */
	if (e != tmp + n || errno != 0 || !isfinite(*out) ||
	    fabs(*out) > FLT_MAX)
		return -1;
	*pp = p + n;
	return 0;
}

/* Text format: "word v1 ... vd" lines. */
static int
load_text(const char *path, size_t len, const char *buf,
    const struct nlu_emb_filter *f, struct nlu_emb_src *s,
    struct gacp_err *err)
{
	const char *p = buf, *end = buf + len;
	size_t line = 0;
	uint32_t rank = 0;
	float *v = xmalloc(NLU_EMB_MAX_DIM * sizeof(*v));
	char word[NLU_EMB_MAX_WORD + 1];
	int rc = 0;

	while (p < end && rc == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q, *w0;
		size_t wl, nv = 0;
		double x;

		if (eol == NULL)
			eol = end;
		line++;
		q = p;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q == eol) {          /* blank line */
			p = eol + 1;
			continue;
		}
		w0 = q;
		while (q < eol && *q != ' ' && *q != '\t')
			q++;
		wl = (size_t)(q - w0);
		/* word2vec's header: "count dim". */
		if (line == 1 && s->dim == 0) {
			const char *r = q;
			double a, b;

			if (parse_num(&w0, q, &a) == 0 && w0 == q) {
				while (r < eol && (*r == ' ' || *r == '\t'))
					r++;
				if (parse_num(&r, eol, &b) == 0) {
					while (r < eol && (*r == ' ' ||
					    *r == '\t' || *r == '\r'))
						r++;
					if (r == eol) {
						p = eol + 1;
						continue;
					}
				}
			}
			w0 = q - wl;
		}
		if (!utf8_valid(w0, wl)) {
			rc = FORMAT("%s: line %zu: the word is not UTF-8",
			    path, line);
			break;
		}
		/* Read the values; the first line of vectors sets the
		 * dimension every other line must have. */
		for (;;) {
			while (q < eol && (*q == ' ' || *q == '\t' ||
			    *q == '\r'))
				q++;
			if (q == eol)
				break;
			if (parse_num(&q, eol, &x) != 0) {
				rc = FORMAT("%s: line %zu: value %zu is not a "
				    "number", path, line, nv + 1);
				break;
			}
			if (nv < NLU_EMB_MAX_DIM)
				v[nv] = (float)x;
			nv++;
		}
		if (rc != 0)
			break;
		if (s->dim == 0) {
			if (nv == 0 || nv > NLU_EMB_MAX_DIM) {
				rc = FORMAT("%s: line %zu: %zu values (1 to "
				    "%u expected)", path, line, nv,
				    NLU_EMB_MAX_DIM);
				break;
			}
			s->dim = (uint32_t)nv;
		} else if (nv != s->dim) {
			rc = FORMAT("%s: line %zu: %zu values, the file's "
			    "dimension is %u", path, line, nv, s->dim);
			break;
		}
		if (wl <= NLU_EMB_MAX_WORD) {
			memcpy(word, w0, wl);
			word[wl] = '\0';
			if (strlen(word) == wl && keep_word(f, word, rank))
				src_add(s, word, v, rank);
		}
		rank++;
		p = eol + 1;
	}
	s->n_file = rank;
	free(v);
	return rc;
}

static void
ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' ||
	    *c->p == '\r' || *c->p == '\t'))
		c->p++;
}

/* A JSON string at c->p into out (cap bytes, NUL-terminated); *len gets
 * its length, or cap when it did not fit (the scan still moves past it).
 * Escapes: \" \\ \/ \b \f \n \r \t, and \u with four hex digits, one
 * code point of the Basic Multilingual Plane (a surrogate half is encoded
 * as it is, so a word holding one is not UTF-8 and is not kept). */
static int
json_str(struct cur *c, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int over = 0;

	if (c->p >= c->end || *c->p != '"')
		return -1;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		char u8[4];
		size_t k = 1;

		u8[0] = *c->p;
		if (*c->p == '\\') {
			if (c->end - c->p < 2)
				return -1;
			c->p++;
			switch (*c->p) {
			case '"': case '\\': case '/': u8[0] = *c->p; break;
			case 'b': u8[0] = '\b'; break;
			case 'f': u8[0] = '\f'; break;
			case 'n': u8[0] = '\n'; break;
			case 'r': u8[0] = '\r'; break;
			case 't': u8[0] = '\t'; break;
			case 'u': {
				unsigned cp = 0, i;

				if (c->end - c->p < 5)
					return -1;
				for (i = 1; i <= 4; i++) {
					char h = c->p[i];

					cp <<= 4;
					if (h >= '0' && h <= '9')
						cp |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f')
						cp |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F')
						cp |= (unsigned)(h - 'A' + 10);
					else
						return -1;
				}
				c->p += 4;
				k = utf8_encode(cp, u8);
				break;
			}
			default:
				return -1;
			}
		} else if ((unsigned char)*c->p < 0x20) {
			return -1;
		}
		c->p++;
		if (n + k >= cap)
			over = 1;
		else if (!over) {
			memcpy(out + n, u8, k);
			n += k;
		}
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	out[n] = '\0';
	*len = over ? cap : n;
	return 0;
}

/* Skip one JSON value (no validation of numbers beyond their bytes). */
static int
json_skip(struct cur *c)
{
	size_t depth = 0;
	char tmp[8];
	size_t len;

	do {
		ws(c);
		if (c->p >= c->end)
			return -1;
		switch (*c->p) {
		case '{': case '[':
			depth++;
			c->p++;
			break;
		case '}': case ']':
			if (depth == 0)
				return -1;
			depth--;
			c->p++;
			break;
		case ',': case ':':
			if (depth == 0)
				return -1;
			c->p++;
			break;
		case '"':
			if (json_str(c, tmp, sizeof(tmp), &len) != 0)
				return -1;
			break;
		default:
			/* strchr finds a NUL byte too (the terminator): without
			 * the first test, a NUL inside an array or object was
			 * taken for a number that never advanced, and the loop
			 * never ended (found by fuzz-embeddings). */
			if (*c->p == '\0' ||
			    strchr("-0123456789tfn", *c->p) == NULL)
				return -1;
			while (c->p < c->end && *c->p != '\0' &&
			    strchr("-+.eE0123456789truefalsn", *c->p) != NULL)
				c->p++;
			break;
		}
	} while (depth > 0);
	return 0;
}

/* The wink-embeddings JSON object. */
static int
load_json(const char *path, size_t len, const char *buf,
    const struct nlu_emb_filter *f, struct nlu_emb_src *s,
    struct gacp_err *err)
{
	struct cur c = { buf, buf + len, buf };
	char key[NLU_EMB_MAX_WORD + 1];
	double x, dims = -1, word_ix = -1, norm_ix = -1;
	size_t kl, order = 0, n_keys = 0;
	float *v = NULL;
	int rc = 0, have_vectors = 0;

#define AT(msg) FORMAT("%s: byte %zu: %s", path, (size_t)(c.p - c.start), \
	msg)
	ws(&c);
	if (c.p >= c.end || *c.p != '{') {
		rc = AT("expected a JSON object");
		goto out;
	}
	c.p++;
	for (;;) {
		ws(&c);
		if (c.p < c.end && *c.p == '}' && n_keys == 0) {
			c.p++;
			break;
		}
		if (json_str(&c, key, sizeof(key), &kl) != 0) {
			rc = AT("expected a key");
			goto out;
		}
		n_keys++;
		ws(&c);
		if (c.p >= c.end || *c.p != ':') {
			rc = AT("expected ':'");
			goto out;
		}
		c.p++;
		ws(&c);
		if (strcmp(key, "dimensions") == 0 ||
		    strcmp(key, "wordIndex") == 0 ||
		    strcmp(key, "l2NormIndex") == 0) {
			if (parse_num(&c.p, c.end, &x) != 0 || x < 0 ||
			    x > NLU_EMB_MAX_DIM + 2 || x != floor(x)) {
				rc = AT("expected a small whole number");
				goto out;
			}
			if (key[0] == 'd')
				dims = x;
			else if (key[0] == 'w')
				word_ix = x;
			else
				norm_ix = x;
		} else if (strcmp(key, "vectors") == 0 && !have_vectors) {
			size_t extra, n_arr;

			if (dims < 1 || dims > NLU_EMB_MAX_DIM) {
				rc = AT("\"vectors\" before a valid "
				    "\"dimensions\"");
				goto out;
			}
			/* The values come first, then the extra entries
			 * (the norm and the rank); both indices, when
			 * given, must sit past the values. */
			if ((word_ix >= 0 && word_ix < dims) ||
			    (norm_ix >= 0 && norm_ix < dims)) {
				rc = AT("\"wordIndex\"/\"l2NormIndex\" inside "
				    "the values");
				goto out;
			}
			x = word_ix > norm_ix ? word_ix : norm_ix;
			extra = x >= 0 ? (size_t)x + 1 : 0;
			n_arr = extra > (size_t)dims ? extra : (size_t)dims;
			s->dim = (uint32_t)dims;
			v = xmalloc(n_arr * sizeof(*v));
			have_vectors = 1;
			if (c.p >= c.end || *c.p != '{') {
				rc = AT("\"vectors\" is not an object");
				goto out;
			}
			c.p++;
			ws(&c);
			if (c.p < c.end && *c.p == '}')
				c.p++;
			else for (;;) {
				size_t nv = 0;
				uint32_t rank;
				const char *close;
				int keep, fast;

				if (json_str(&c, key, sizeof(key), &kl) != 0) {
					rc = AT("expected a word");
					goto out;
				}
				ws(&c);
				if (c.p >= c.end || *c.p != ':') {
					rc = AT("expected ':'");
					goto out;
				}
				c.p++;
				ws(&c);
				if (c.p >= c.end || *c.p != '[') {
					rc = AT("a word's vector is not an "
					    "array");
					goto out;
				}
				c.p++;
				/* Not kept: a word that is empty (found by
				 * fuzz-embeddings), too long, holds a NUL or is
				 * not UTF-8; no text can meet it. */
				keep = kl > 0 && kl < sizeof(key) &&
				    kl == strlen(key) && utf8_valid(key, kl);
				/* Most of the file's words are not kept: their
				 * values are counted, not converted, and the
				 * rank (the last entry, in the wink file) is
				 * read alone. */
				close = memchr(c.p, ']', (size_t)(c.end - c.p));
				if (close == NULL) {
					rc = AT("a word's vector is not "
					    "closed");
					goto out;
				}
				rank = (uint32_t)order;
				fast = word_ix >= 0 &&
				    (size_t)word_ix == n_arr - 1;
				if (fast) {
					const char *q = close;

					while (q > c.p && q[-1] != ',')
						q--;
					while (q < close && (*q == ' ' ||
					    *q == '\n' || *q == '\r' ||
					    *q == '\t'))
						q++;
					if (parse_num(&q, close, &x) == 0 &&
					    x >= 0 && x < 4e9 && x == floor(x))
						rank = (uint32_t)x;
					keep = keep && keep_word(f, key, rank);
				}
				if (fast && !keep) {
					const char *q;

					for (q = c.p; q < close; q++)
						nv += *q == ',';
					for (q = c.p; q < close && (*q == ' ' ||
					    *q == '\n' || *q == '\r' ||
					    *q == '\t'); q++)
						;
					nv += q < close;
					c.p = close;
				} else for (;;) {
					ws(&c);
					if (c.p < c.end && *c.p == ']' &&
					    nv == 0)
						break;
					if (parse_num(&c.p, c.end, &x) != 0) {
						rc = AT("a vector value is not "
						    "a number");
						goto out;
					}
					if (nv < n_arr)
						v[nv] = (float)x;
					nv++;
					ws(&c);
					if (c.p < c.end && *c.p == ',') {
						c.p++;
						continue;
					}
					if (c.p < c.end && *c.p == ']')
						break;
					rc = AT("expected ',' or ']'");
					goto out;
				}
				c.p++;
				if (nv != n_arr) {
					char msg[96];

					snprintf(msg, sizeof(msg), "\"%.40s\" "
					    "has %zu values, %zu expected", key,
					    nv, n_arr);
					rc = AT(msg);
					goto out;
				}
				if (!fast) {
					float r = word_ix >= 0 ?
					    v[(size_t)word_ix] : -1.0f;

					if (r >= 0.0f && r < 4e9f)
						rank = (uint32_t)r;
					keep = keep && keep_word(f, key, rank);
				}
				if (keep)
					src_add(s, key, v, rank);
				order++;
				ws(&c);
				if (c.p < c.end && *c.p == ',') {
					c.p++;
					ws(&c);
					continue;
				}
				if (c.p < c.end && *c.p == '}') {
					c.p++;
					break;
				}
				rc = AT("expected ',' or '}'");
				goto out;
			}
		} else if (json_skip(&c) != 0) {
			rc = AT("malformed value");
			goto out;
		}
		ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		rc = AT("expected ',' or '}'");
		goto out;
	}
	if (!have_vectors)
		rc = FORMAT("%s: no \"vectors\" object", path);
out:
#undef AT
	s->n_file = order;
	free(v);
	return rc;
}

int
nlu_emb_src_load(const char *path, const struct nlu_emb_filter *f,
    struct nlu_emb_src *out, struct gacp_err *err)
{
	struct stat st;
	void *map = NULL;
	size_t len;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gacp_err_set(err, GACP_EIO, "nlu_embeddings_unreadable",
		    "cannot open embeddings %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return gacp_err_set(err, GACP_EIO, "nlu_embeddings_unreadable",
		    "embeddings %s is not a regular file", path);
	}
	len = (size_t)st.st_size;
	if (len == 0) {
		close(fd);
		return FORMAT("%s: empty file", path);
	}
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return gacp_err_set(err, GACP_EIO, "nlu_embeddings_unreadable",
		    "cannot map embeddings %s: %s", path, strerror(errno));
	(void)madvise(map, len, MADV_SEQUENTIAL);
	rc = nlu_emb_src_parse(path, map, len, f, out, err);
	munmap(map, len);
	return rc;
}

/* The model's table keeps rows a multiple of 4 long (nlu_emb_open
 * refuses others): pad each vector with zeros, which change no length and
 * no angle between vectors (GloVe's 50-d file becomes 52-d). */
static void
pad_dim(struct nlu_emb_src *s)
{
	uint32_t dim = (s->dim + 3u) & ~3u;
	float *vec = xcalloc(s->n * dim + 1, sizeof(*vec));
	size_t i;

	for (i = 0; i < s->n; i++)
		memcpy(vec + i * dim, s->vec + i * s->dim,
		    s->dim * sizeof(*vec));
	free(s->vec);
	s->vec = vec;
	s->dim = dim;
}

int
nlu_emb_src_parse(const char *name, const char *buf, size_t len,
    const struct nlu_emb_filter *f, struct nlu_emb_src *out,
    struct gacp_err *err)
{
	const char *p;
	int rc;

	memset(out, 0, sizeof(*out));
	for (p = buf; p < buf + len && (*p == ' ' || *p == '\n' ||
	    *p == '\r' || *p == '\t'); p++)
		;
	if (p < buf + len && *p == '{')
		rc = load_json(name, len, buf, f, out, err);
	else
		rc = load_text(name, len, buf, f, out, err);
	if (rc == 0 && out->n_file == 0)
		rc = FORMAT("%s: no word vectors", name);
	if (rc == 0 && out->dim % 4 != 0)
		pad_dim(out);
	if (rc != 0)
		nlu_emb_src_cleanup(out);
	return rc;
}

void
nlu_emb_src_cleanup(struct nlu_emb_src *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->word[i]);
	free(s->word);
	free(s->vec);
	free(s->rank);
	memset(s, 0, sizeof(*s));
}

/* ---- the model table ------------------------------------------------- */

struct build_ent {
	const char *word;
	size_t      src;
};

static int
cmp_ent(const void *a, const void *b)
{
	const struct build_ent *x = a, *y = b;
	int c = strcmp(x->word, y->word);

	if (c != 0)
		return c;
	return x->src < y->src ? -1 : x->src > y->src;
}

void
nlu_emb_build(const struct nlu_emb_src *s, const float *weight,
    uint32_t flags, struct buf *out)
{
	struct build_ent *e = xcalloc(s->n + 1, sizeof(*e));
	size_t i, n = 0, pool = 0, k;
	static const unsigned char zero[12];

	for (i = 0; i < s->n; i++) {
		e[i].word = s->word[i];
		e[i].src = i;
	}
	qsort(e, s->n, sizeof(*e), cmp_ent);
	for (i = 0; i < s->n; i++)
		if (n == 0 || strcmp(e[n - 1].word, e[i].word) != 0)
			e[n++] = e[i];
	for (i = 0; i < n; i++)
		pool += strlen(e[i].word) + 1;

	buf_reset(out);
	buf_append(out, "GEM1", 4);
	le_put_u32(out, (uint32_t)n);
	le_put_u32(out, s->dim);
	le_put_u32(out, (uint32_t)pool);
	le_put_u32(out, flags);
	buf_append(out, zero, sizeof(zero));
	pool = 0;
	for (i = 0; i < n; i++) {
		le_put_u32(out, (uint32_t)pool);
		pool += strlen(e[i].word) + 1;
	}
	/* Symmetric int8 per word: scale = max |value| / 127. */
	for (i = 0; i < n; i++) {
		const float *v = s->vec + e[i].src * s->dim;
		float mx = 0.0f;

		for (k = 0; k < s->dim; k++)
			if (fabsf(v[k]) > mx)
				mx = fabsf(v[k]);
		le_put_f32(out, mx > 0.0f ? mx / 127.0f : 0.0f);
	}
	for (i = 0; i < n; i++)
		le_put_f32(out, weight ? weight[e[i].src] : 1.0f);
	for (i = 0; i < n; i++) {
		const float *v = s->vec + e[i].src * s->dim;
		float mx = 0.0f;

		for (k = 0; k < s->dim; k++)
			if (fabsf(v[k]) > mx)
				mx = fabsf(v[k]);
		for (k = 0; k < s->dim; k++) {
			long q = mx > 0.0f ? lrintf(v[k] / mx * 127.0f) : 0;
			int8_t b = (int8_t)(q > 127 ? 127 :
			    q < -127 ? -127 : q);

			buf_append(out, &b, 1);
		}
	}
	for (i = 0; i < n; i++)
		buf_append(out, e[i].word, strlen(e[i].word) + 1);
	free(e);
}

int
nlu_emb_open(struct nlu_emb *e, const void *p, size_t len,
    struct gacp_err *err)
{
	const unsigned char *b = p;
	uint64_t need;
	uint32_t i, k;
	const char *prev = NULL;

	memset(e, 0, sizeof(*e));
	if (len < NLU_EMB_HEADER || memcmp(b, "GEM1", 4) != 0)
		return CORRUPT("model embedding section has a bad header");
	e->n = le_get_u32(b + 4);
	e->dim = le_get_u32(b + 8);
	e->pool_bytes = le_get_u32(b + 12);
	e->flags = le_get_u32(b + 16);
	if ((e->flags & ~NLU_EMB_FLAGS_ALL) != 0)
		return CORRUPT("model embedding section has unknown flags");
	for (i = 20; i < NLU_EMB_HEADER; i++)
		if (b[i] != 0)
			return CORRUPT("model embedding section header "
			    "reserved bytes are not zero");
	if (e->n == 0 || e->dim == 0 || e->dim > NLU_EMB_MAX_DIM ||
	    e->dim % 4 != 0)
		return CORRUPT("model embedding section sizes are out of "
		    "range");
	e->in_dim = e->flags & NLU_EMB_MAX ? 2 * e->dim : e->dim;
	need = NLU_EMB_HEADER + (uint64_t)e->n * (12 + (uint64_t)e->dim) +
	    e->pool_bytes;
	if (need != len)
		return CORRUPT("model embedding section is truncated or has "
		    "trailing bytes (%zu bytes, %llu expected)", len,
		    (unsigned long long)need);
	/* Four-byte arrays first: aligned as the section is. */
	e->str_off = (const uint32_t *)(const void *)(b + NLU_EMB_HEADER);
	e->scale = (const float *)(const void *)(e->str_off + e->n);
	e->weight = e->scale + e->n;
	e->q = (const int8_t *)(const void *)(e->weight + e->n);
	e->pool = (const char *)(e->q + (size_t)e->n * e->dim);
	if (e->pool_bytes == 0 || e->pool[e->pool_bytes - 1] != '\0')
		return CORRUPT("model embedding words are not terminated");
	for (i = 0; i < e->n; i++) {
		const char *w;

		if (e->str_off[i] >= e->pool_bytes)
			return CORRUPT("model embedding word offset out of "
			    "bounds");
		w = e->pool + e->str_off[i];
		if (!utf8_valid(w, strlen(w)))
			return CORRUPT("model embedding word is not UTF-8");
		/* Strictly increasing: nlu_emb_find's binary search. */
		if (prev != NULL && strcmp(prev, w) >= 0)
			return CORRUPT("model embedding words are not sorted");
		prev = w;
		if (!isfinite(e->scale[i]) || e->scale[i] < 0.0f ||
		    !isfinite(e->weight[i]) || e->weight[i] < 0.0f ||
		    e->weight[i] > 1e6f)
			return CORRUPT("model embedding scale or weight out "
			    "of range");
		for (k = 0; k < e->dim; k++)
			if (e->q[(size_t)i * e->dim + k] == -128)
				return CORRUPT("model embedding value out of "
				    "range");
	}
	return 0;
}

long
nlu_emb_find(const struct nlu_emb *e, const char *word)
{
	size_t lo = 0, hi = e->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(word, e->pool + e->str_off[mid]);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* out[0 .. n) times scale / its norm; nothing when all zero. */
static void
normalise(float *out, size_t n, float scale)
{
	double norm = 0.0;
	size_t k;

	for (k = 0; k < n; k++)
		norm += (double)out[k] * out[k];
	if (norm <= 0.0)
		return;
	norm = scale / sqrt(norm);
	for (k = 0; k < n; k++)
		out[k] = (float)(out[k] * norm);
}

/* Table index of token i of t, or -1 (not a Latin-script word, too long,
 * or not in the table). */
static long
tok_index(const struct nlu_emb *e, const struct nlu_text *t, size_t i)
{
	char tok[4 * NLU_EMB_MAX_WORD + 8];

	if (t->tok[i].kind != NLU_TOK_LATIN ||
	    t->tok[i].len > NLU_EMB_MAX_WORD)
		return -1;
	nlu_text_tok_utf8(t, i, tok, sizeof(tok));
	return nlu_emb_find(e, tok);
}

/* out[k] += w * q[k] and, when mx is not NULL, mx[k] = sc * q[k] for
 * the first word (first) or its maximum with mx[k] after: one word's
 * share of the sentence vector, the portable copy. */
static void
add_word_c(float *restrict out, float *restrict mx, const int8_t *q,
    size_t dim, float w, float sc, int first)
{
	size_t k;

	for (k = 0; k < dim; k++)
		out[k] += w * (float)q[k];
	if (mx == NULL)
		return;
	for (k = 0; k < dim; k++) {
		float v = sc * (float)q[k];

		if (first || v > mx[k])
			mx[k] = v;
	}
}

#if defined(__GNUC__) && defined(__x86_64__)
/* The AVX2 copy: eight values at a time, the same operations in the same
 * order (a multiply, then an add; max_ps(v, m) is v > m ? v : m), so the
 * same bits (training builds its sentence vectors here too); the last
 * dim % 8 values one at a time. */
__attribute__((target("avx2"))) static void
add_word_avx2(float *restrict out, float *restrict mx, const int8_t *q,
    size_t dim, float w, float sc, int first)
{
	__m256 vw = _mm256_set1_ps(w), vs = _mm256_set1_ps(sc);
	size_t k;

	for (k = 0; k + 8 <= dim; k += 8) {
		__m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
		    _mm_loadl_epi64((const __m128i *)(const void *)(q + k))));

		_mm256_storeu_ps(out + k, _mm256_add_ps(_mm256_loadu_ps(out +
		    k), _mm256_mul_ps(vw, f)));
		if (mx != NULL) {
			__m256 v = _mm256_mul_ps(vs, f);

			_mm256_storeu_ps(mx + k, first ? v :
			    _mm256_max_ps(v, _mm256_loadu_ps(mx + k)));
		}
	}
	for (; k < dim; k++) {
		float f = (float)q[k];

		out[k] += w * f;
		if (mx != NULL && (first || sc * f > mx[k]))
			mx[k] = sc * f;
	}
}
#endif

static void
add_word(float *restrict out, float *restrict mx, const int8_t *q,
    size_t dim, float w, float sc, int first)
{
#if defined(__GNUC__) && defined(__x86_64__)
	if (__builtin_cpu_supports("avx2")) {
		add_word_avx2(out, mx, q, dim, w, sc, first);
		return;
	}
#endif
	add_word_c(out, mx, q, dim, w, sc, first);
}

size_t
nlu_emb_sentence(const struct nlu_emb *e, const struct nlu_text *t,
    float scale, float *out)
{
	return nlu_emb_sentence_ids(e, t, NULL, 0, scale, out);
}

size_t
nlu_emb_sentence_ids(const struct nlu_emb *e, const struct nlu_text *t,
    const int32_t *ids, size_t n_ids, float scale, float *out)
{
	float *mx = e->flags & NLU_EMB_MAX ? out + e->dim : NULL;
	size_t i, k, found = 0;

	for (k = 0; k < e->in_dim; k++)
		out[k] = 0.0f;
	for (i = 0; i < t->n_tok; i++) {
		const int8_t *q;
		float w;
		long ix = i < n_ids ? ids[i] : tok_index(e, t, i);

		if (ix < 0)
			continue;
		w = e->weight[ix] * e->scale[ix];
		q = e->q + (size_t)ix * e->dim;
		add_word(out, mx, q, e->dim, w, e->scale[ix], found == 0);
		found++;
	}
	if (found == 0)
		return 0;
	normalise(out, e->dim, scale);
	if (mx != NULL)
		normalise(mx, e->dim, scale);
	return found;
}

void
nlu_emb_unit(const struct nlu_emb *e, uint32_t ix, float *out)
{
	const int8_t *q = e->q + (size_t)ix * e->dim;
	size_t k;

	for (k = 0; k < e->dim; k++)
		out[k] = e->scale[ix] * (float)q[k];
	normalise(out, e->dim, 1.0f);
}

size_t
nlu_emb_ids(const struct nlu_emb *e, const struct nlu_text *t, int32_t *ids,
    size_t max)
{
	size_t i;

	for (i = 0; i < t->n_tok && i < max; i++)
		ids[i] = (int32_t)tok_index(e, t, i);
	return i;
}

size_t
nlu_emb_sequence(const struct nlu_emb *e, const struct nlu_text *t,
    float *out, int32_t *ids, size_t max)
{
	size_t i, k;

	for (i = 0; i < t->n_tok && i < max; i++) {
		float *v = out + i * e->dim;
		long ix = tok_index(e, t, i);

		if (ids != NULL)
			ids[i] = (int32_t)ix;
		if (ix >= 0) {
			nlu_emb_unit(e, (uint32_t)ix, v);
			continue;
		}
		for (k = 0; k < e->dim; k++)
			v[k] = 0.0f;
	}
	return i;
}

long
nlu_emb_tok_index(const struct nlu_emb *e, const struct nlu_text *t, size_t i)
{
	return tok_index(e, t, i);
}

/* One thread's share of nlu_emb_neighbours: queries first, first + step,
 * ...  The candidates are stored dimension-major (cand_t[d * nc + c]), so
 * a query's cosines to all of them are dim passes of a multiply-add over
 * one array, which the compiler vectorises; each cosine is summed in the
 * same order whatever the thread, so results do not depend on threads. */
struct nb_job {
	const struct nlu_emb *e;
	const unsigned char  *query;
	const float          *cand_t;
	const uint32_t       *cid;
	size_t                nc;
	uint32_t              k;
	float                 min_cos;
	uint32_t              first;
	uint32_t              step;
	uint32_t             *ix;
	float                *cos;
};

static void *
nb_thread(void *arg)
{
	struct nb_job *j = arg;
	const struct nlu_emb *e = j->e;
	float *q = xmalloc(e->dim * sizeof(*q));
	float *dot = xmalloc((j->nc + 1) * sizeof(*dot));
	uint32_t bi[NLU_EMB_NB_MAX_K], i, d, s, r;
	float bc[NLU_EMB_NB_MAX_K];
	size_t c;

	for (i = j->first; i < e->n; i += j->step) {
		if (!j->query[i])
			continue;
		nlu_emb_unit(e, i, q);
		for (c = 0; c < j->nc; c++)
			dot[c] = 0.0f;
		for (d = 0; d < e->dim; d++) {
			const float *col = j->cand_t + (size_t)d * j->nc;
			float qd = q[d];

			if (qd == 0.0f)
				continue;
			for (c = 0; c < j->nc; c++)
				dot[c] += qd * col[c];
		}
		for (s = 0; s < j->k; s++) {
			bi[s] = UINT32_MAX;
			bc[s] = 0.0f;
		}
		for (c = 0; c < j->nc; c++) {
			if (!(dot[c] >= j->min_cos) || j->cid[c] == i)
				continue;
			/* Strictly better only: on a tie the lower index,
			 * met first, stays ahead. */
			if (bi[j->k - 1] != UINT32_MAX && !(dot[c] > bc[j->k - 1]))
				continue;
			for (s = j->k - 1; s > 0 && (bi[s - 1] == UINT32_MAX ||
			    dot[c] > bc[s - 1]); s--) {
				bi[s] = bi[s - 1];
				bc[s] = bc[s - 1];
			}
			bi[s] = j->cid[c];
			bc[s] = dot[c];
		}
		for (r = 0; r < j->k; r++) {
			j->ix[(size_t)i * j->k + r] = bi[r];
			j->cos[(size_t)i * j->k + r] = bi[r] == UINT32_MAX ?
			    0.0f : bc[r];
		}
	}
	free(q);
	free(dot);
	return NULL;
}

void
nlu_emb_neighbours(const struct nlu_emb *e, const unsigned char *query,
    const unsigned char *cand, uint32_t k, float min_cos, uint32_t threads,
    uint32_t *ix, float *cos)
{
	struct nb_job jobs[8];
	pthread_t tid[8];
	int started[8];
	float *v = xmalloc(e->dim * sizeof(*v)), *cand_t;
	uint32_t *cid, i, d, t;
	size_t nc = 0, c;

	if (k == 0 || k > NLU_EMB_NB_MAX_K) {
		free(v);
		return;
	}
	for (i = 0; i < e->n; i++)
		nc += cand[i] != 0;
	cid = xmalloc((nc + 1) * sizeof(*cid));
	cand_t = xmalloc(((size_t)e->dim * nc + 1) * sizeof(*cand_t));
	for (i = 0, c = 0; i < e->n; i++) {
		if (!cand[i])
			continue;
		nlu_emb_unit(e, i, v);
		for (d = 0; d < e->dim; d++)
			cand_t[(size_t)d * nc + c] = v[d];
		cid[c++] = i;
	}
	if (threads < 1)
		threads = 1;
	if (threads > 8)
		threads = 8;
	for (t = 0; t < threads; t++) {
		jobs[t] = (struct nb_job){ e, query, cand_t, cid, nc, k,
		    min_cos, t, threads, ix, cos };
		started[t] = 0;
	}
	for (t = 1; t < threads; t++)
		started[t] = pthread_create(&tid[t], NULL, nb_thread,
		    &jobs[t]) == 0;
	nb_thread(&jobs[0]);
	for (t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			nb_thread(&jobs[t]);
	}
	free(v);
	free(cid);
	free(cand_t);
}
