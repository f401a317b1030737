/* text.c - NLU normalisation, language identification and tokenisation. */
#include "nlu/text.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <thai/thbrk.h>
#include <thai/thwbrk.h>

#include "common/utf8.h"
#include "common/xmalloc.h"

enum cls {
	CLS_SPACE,
	CLS_PUNCT,      /* dropped between tokens */
	CLS_DIGIT,
	CLS_LATIN,      /* letters of space-separated scripts */
	CLS_THAI,
	CLS_SYMBOL,     /* emoji and pictographs: one token each */
};

static void	grow_cp(struct nlu_text *, size_t);
static void	push_tok(struct nlu_text *, size_t, size_t, int, int);
static int	classify(uint32_t);
static int	is_space(uint32_t);
static int	is_invisible(uint32_t);
static int	is_apostrophe(uint32_t);
static uint32_t	strip_accent(uint32_t);
static void	count_script(struct nlu_text *, uint32_t);
static void	compact(struct nlu_text *);
static void	split_thai(struct nlu_text *, size_t, size_t);
static void	tokenise(struct nlu_text *);

int
nlu_text_init(struct nlu_text *t, struct gacp_err *err)
{
	memset(t, 0, sizeof(*t));
	/* NULL: libthai's default dictionary (libthai-data's thbrk.tri). */
	t->brk = th_brk_new(NULL);
	if (t->brk == NULL)
		return gacp_err_set(err, GACP_EINTERNAL, "nlu_thai_dict",
		    "libthai could not load its word-break dictionary");
	return 0;
}

void
nlu_text_cleanup(struct nlu_text *t)
{
	if (t == NULL)
		return;
	if (t->brk != NULL)
		th_brk_delete(t->brk);
	free(t->cp);
	free(t->tok);
	free(t->brk_pos);
	free(t->wbuf);
	memset(t, 0, sizeof(*t));
}

uint32_t
nlu_text_fold(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	if (c >= 0x0e50 && c <= 0x0e59)             /* Thai digits */
		return '0' + (c - 0x0e50);
	if (c >= 0xff01 && c <= 0xff5e)             /* full-width ASCII */
		return nlu_text_fold(c - 0xfee0);
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)    /* Latin-1 capitals */
		return strip_accent(c + 32);
	if (c >= 0xdf && c <= 0xff)
		return strip_accent(c);
	if (c >= 0x100 && c <= 0x17f) {             /* Latin Extended-A */
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c + 1 : c;
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 ||
		    c == 0x17f)
			return c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) /* Greek */
		return c + 32;
	if (c >= 0x410 && c <= 0x42f)               /* Cyrillic */
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

/* Accented Latin-1 lowercase letters to their base letter, so "café" and
 * "cafe" share features; users type either. */
static uint32_t
strip_accent(uint32_t c)
{
	static const char map[] =
	    /* e0 */ "aaaaaa\0ceeeeiiii"
	    /* f0 */ "\0nooooo\0ouuuuy\0y";

	if (c < 0xe0 || c > 0xff)
		return c;
	return map[c - 0xe0] ? (uint32_t)(unsigned char)map[c - 0xe0] : c;
}

static int
is_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/* Zero-width characters (ZWSP is common in Thai web text as an invisible
 * word separator), soft hyphen, BOM, variation selectors. */
static int
is_invisible(uint32_t c)
{
	return (c >= 0x200b && c <= 0x200f) || c == 0xad || c == 0xfeff ||
	    c == 0x2060 || (c >= 0xfe00 && c <= 0xfe0f);
}

static int
is_apostrophe(uint32_t c)
{
	return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x2bc ||
	    c == '`';
}

static int
classify(uint32_t c)
{
	if (is_space(c))
		return CLS_SPACE;
	if (c >= '0' && c <= '9')
		return CLS_DIGIT;
	if (c < 0x80)
		return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ?
		    CLS_LATIN : CLS_PUNCT;
	if (c >= 0x0e01 && c <= 0x0e4e && c != 0x0e3f)
		return CLS_THAI;
	if (c >= 0x0e00 && c <= 0x0e7f)
		return CLS_PUNCT;                   /* baht sign, ฯ marks */
	if ((c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7 ||
	    (c >= 0x2010 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
	    (c >= 0xfe10 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xff0f))
		return (c >= 0x2600 && c <= 0x27bf) ? CLS_SYMBOL : CLS_PUNCT;
	if (c >= 0x1f000 && c <= 0x1faff)
		return CLS_SYMBOL;
	return CLS_LATIN;   /* letters of every other script */
}

static void
count_script(struct nlu_text *t, uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
		const char *lang;
	} scripts[] = {
		{ 0x0370, 0x03ff, "el" }, { 0x0400, 0x04ff, "ru" },
		{ 0x0590, 0x05ff, "he" }, { 0x0600, 0x06ff, "ar" },
		{ 0x0900, 0x097f, "hi" }, { 0x0e80, 0x0eff, "lo" },
		{ 0x1000, 0x109f, "my" }, { 0x1780, 0x17ff, "km" },
		{ 0x3040, 0x30ff, "ja" }, { 0x4e00, 0x9fff, "zh" },
		{ 0xac00, 0xd7af, "ko" },
	};
	size_t i;

	if (c >= 0x0e01 && c <= 0x0e4e) {
		t->n_thai++;
		return;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 0xc0 && c <= 0x24f) ||
	    (c >= 0x1e00 && c <= 0x1eff)) {
		t->n_latin++;
		return;
	}
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		if (c >= scripts[i].lo && c <= scripts[i].hi) {
			t->n_other++;
			/* Kana decides Japanese even among Han characters. */
			if (t->other_lang == NULL ||
			    strcmp(scripts[i].lang, "ja") == 0)
				t->other_lang = scripts[i].lang;
			return;
		}
	}
}

const char *
nlu_text_lang(const struct nlu_text *t)
{
	size_t letters = t->n_thai + t->n_latin + t->n_other;

	if (letters == 0)
		return "und";
	if (t->n_thai * 4 >= letters)
		return "th";
	if (t->n_other > t->n_latin && t->other_lang != NULL)
		return t->other_lang;
	return "en";
}

static void
grow_cp(struct nlu_text *t, size_t need)
{
	if (need <= t->cap_cp)
		return;
	t->cap_cp = need < 256 ? 256 : need * 2;
	t->cp = xrealloc(t->cp, t->cap_cp * sizeof(*t->cp));
}

/* Second pass over the folded code points, in place: collapse whitespace,
 * drop invisibles and in-word apostrophes ("what's" -> "whats"), repair
 * Thai typing slips, shorten letter repetitions. */
static void
compact(struct nlu_text *t)
{
	size_t i, o = 0, run = 0;
	uint32_t *cp = t->cp;

	for (i = 0; i < t->n_cp; i++) {
		uint32_t c = cp[i];

		if (is_invisible(c))
			continue;
		if (is_space(c)) {
			if (o > 0 && cp[o - 1] != ' ')
				cp[o++] = ' ';
			run = 0;
			continue;
		}
		if (is_apostrophe(c) && o > 0 && i + 1 < t->n_cp &&
		    classify(cp[o - 1]) == CLS_LATIN &&
		    classify(cp[i + 1]) == CLS_LATIN)
			continue;
		/* "เเ" (two SARA E) typed for "แ" (SARA AE). */
		if (c == 0x0e40 && o > 0 && cp[o - 1] == 0x0e40) {
			cp[o - 1] = 0x0e41;
			run = 1;
			continue;
		}
		/* NIKHAHIT + SARA AA typed for SARA AM. */
		if (c == 0x0e32 && o > 0 && cp[o - 1] == 0x0e4d) {
			cp[o - 1] = 0x0e33;
			run = 1;
			continue;
		}
		if (o > 0 && cp[o - 1] == c) {
			int cls = classify(c);

			run++;
			/* Thai: "มากกกก" -> "มาก"; doubled consonants are real
			 * spelling ("กรรม") so two stay.  Latin keeps two
			 * ("goood" -> "good"); punctuation one; digits all. */
			if (cls == CLS_THAI && run >= 3) {
				if (run == 3)
					o--;
				continue;
			}
			if (cls == CLS_LATIN && run >= 3)
				continue;
			if (cls == CLS_PUNCT)
				continue;
		} else {
			run = 1;
		}
		cp[o++] = c;
	}
	if (o > 0 && cp[o - 1] == ' ')
		o--;
	t->n_cp = o;
}

static void
push_tok(struct nlu_text *t, size_t off, size_t len, int kind, int run_start)
{
	if (t->n_tok == t->cap_tok) {
		t->cap_tok = t->cap_tok ? t->cap_tok * 2 : 64;
		t->tok = xrealloc(t->tok, t->cap_tok * sizeof(*t->tok));
	}
	t->tok[t->n_tok].off = (uint32_t)off;
	t->tok[t->n_tok].len = (uint32_t)len;
	t->tok[t->n_tok].kind = (uint8_t)kind;
	t->tok[t->n_tok].run_start = (uint8_t)run_start;
	t->n_tok++;
}

/* Break one run of Thai code points [off, off+len) into words. */
static void
split_thai(struct nlu_text *t, size_t off, size_t len)
{
	size_t i, prev = 0;
	int n;

	if (len + 1 > t->cap_w) {
		t->cap_w = len + 64;
		t->wbuf = xrealloc(t->wbuf, t->cap_w * sizeof(*t->wbuf));
		t->brk_pos = xrealloc(t->brk_pos, t->cap_w * sizeof(int));
	}
	for (i = 0; i < len; i++)
		t->wbuf[i] = (wchar_t)t->cp[off + i];
	t->wbuf[len] = 0;
	n = th_brk_wc_find_breaks(t->brk, (const thwchar_t *)t->wbuf,
	    t->brk_pos, t->cap_w);
	for (i = 0; n > 0 && i < (size_t)n; i++) {
		size_t p = (size_t)t->brk_pos[i];

		if (p <= prev || p > len)
			continue;
		push_tok(t, off + prev, p - prev, NLU_TOK_THAI, prev == 0);
		prev = p;
	}
	if (prev < len)
		push_tok(t, off + prev, len - prev, NLU_TOK_THAI, prev == 0);
}

static void
tokenise(struct nlu_text *t)
{
	size_t i = 0;

	t->n_tok = 0;
	while (i < t->n_cp) {
		int cls = classify(t->cp[i]);
		size_t j = i + 1;

		if (cls == CLS_SPACE || cls == CLS_PUNCT) {
			i++;
			continue;
		}
		if (cls == CLS_SYMBOL) {
			push_tok(t, i, 1, NLU_TOK_LATIN, 1);
			i++;
			continue;
		}
		while (j < t->n_cp && classify(t->cp[j]) == cls)
			j++;
		if (cls == CLS_THAI)
			split_thai(t, i, j - i);
		else
			push_tok(t, i, j - i, cls == CLS_DIGIT ? NLU_TOK_DIGIT :
			    NLU_TOK_LATIN, 1);
		i = j;
	}
}

int
nlu_text_process(struct nlu_text *t, const char *s, size_t len,
    struct gacp_err *err)
{
	size_t i = 0;

	t->n_cp = t->n_tok = 0;
	t->n_thai = t->n_latin = t->n_other = 0;
	t->other_lang = NULL;
	if (len > NLU_TEXT_MAX_BYTES)
		return gacp_err_set(err, GACP_ETOOBIG, "text_too_long",
		    "text is longer than %d bytes", NLU_TEXT_MAX_BYTES);
	grow_cp(t, len + 1);
	while (i < len) {
		uint32_t c;
		size_t n = utf8_decode(s + i, len - i, &c);

		if (n == 0 || c == 0) {
			t->n_cp = 0;
			return gacp_err_set(err, GACP_EINVAL, "invalid_utf8",
			    "text is not valid UTF-8 (byte %zu)", i);
		}
		c = nlu_text_fold(c);
		count_script(t, c);
		t->cp[t->n_cp++] = c;
		i += n;
	}
	compact(t);
	tokenise(t);
	return 0;
}

size_t
nlu_text_tok_utf8(const struct nlu_text *t, size_t i, char *out, size_t cap)
{
	const struct nlu_tok *k = &t->tok[i];
	size_t o = 0, j;
	char tmp[4];

	if (cap == 0)
		return 0;
	for (j = 0; j < k->len; j++) {
		size_t n = utf8_encode(t->cp[k->off + j], tmp);

		if (o + n + 1 > cap)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}
