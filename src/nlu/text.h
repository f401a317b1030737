/* text.h - NLU text front end: normalisation, language id, tokenisation.
 *
 * A struct nlu_text is per-thread scratch: it owns a libthai word breaker
 * (ThBrk, which keeps internal state and so must not be shared between
 * threads) and buffers that grow to the largest text seen and are reused.
 *
 * Normalisation works on code points: Unicode-aware lowercasing (Latin,
 * Greek, Cyrillic, full-width forms), Thai digits to ASCII digits, Latin
 * accents stripped, zero-width characters dropped, whitespace collapsed,
 * common Thai spelling slips repaired (two SARA E for SARA AE, decomposed
 * SARA AM), and runs of three or more identical letters shortened, so
 * "helloooo" and "ครับบบบ" meet their dictionary forms.
 */
#ifndef GACP_NLU_TEXT_H
#define GACP_NLU_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Longest text we accept, in bytes (the API refuses more than 2,000
 * characters; this guards the library when used directly). */
#define NLU_TEXT_MAX_BYTES (64 * 1024)

enum nlu_tok_kind {
	NLU_TOK_LATIN = 1,   /* letters of space-separated scripts */
	NLU_TOK_THAI = 2,    /* one word found by libthai */
	NLU_TOK_DIGIT = 3,   /* run of ASCII digits (Thai digits normalised) */
};

struct nlu_tok {
	uint32_t off;        /* first code point in nlu_text.cp */
	uint32_t len;        /* code points */
	uint8_t  kind;       /* enum nlu_tok_kind */
	uint8_t  run_start;  /* first token of a run of same-script tokens */
};

struct _ThBrk;

struct nlu_text {
	uint32_t       *cp;       /* normalised code points */
	size_t          n_cp;
	size_t          cap_cp;
	struct nlu_tok *tok;      /* tokens over cp */
	size_t          n_tok;
	size_t          cap_tok;
	int            *brk_pos;  /* libthai scratch: break positions */
	wchar_t        *wbuf;     /* libthai scratch: one Thai run, NUL-ended */
	size_t          cap_w;
	struct _ThBrk  *brk;      /* libthai word breaker (per thread) */
	size_t          n_thai;   /* Thai letters seen (language id) */
	size_t          n_latin;  /* Latin letters seen */
	size_t          n_other;  /* letters of other scripts */
	const char     *other_lang; /* ISO code of the main other script */
};

/* Prototypes */

/* Set up scratch and load libthai's dictionary.  Returns 0, or GACP_EINTERNAL
 * when libthai cannot load its dictionary (package libthai-data missing). */
int   nlu_text_init(struct nlu_text *t, struct gacp_err *err);
/* Release everything; t may be NULL or never initialised after a memset. */
void  nlu_text_cleanup(struct nlu_text *t);

/* Normalise and tokenise len bytes of UTF-8.  On success t->cp and t->tok
 * describe the text (possibly zero tokens for empty or punctuation-only
 * text).  Returns GACP_EINVAL for invalid UTF-8 or a NUL byte, GACP_ETOOBIG
 * past NLU_TEXT_MAX_BYTES. */
int   nlu_text_process(struct nlu_text *t, const char *s, size_t len,
          struct gacp_err *err);

/* Language of the last processed text: "th", "en" (any Latin-script text),
 * another ISO 639-1 code for a few other scripts, or "und" with no letters.
 * Thai wins when at least a quarter of the letters are Thai, so mixed
 * Thai-English chat ("ขอ form สมัคร GACP หน่อย") counts as Thai. */
const char *nlu_text_lang(const struct nlu_text *t);

/* Lowercase / fold one code point as the normaliser does (exposed for the
 * entity matcher and tests). */
uint32_t nlu_text_fold(uint32_t cp);

/* Encode the code points of token i as UTF-8 into out (cap bytes, NUL
 * terminated, truncated if needed); returns the byte length written. */
size_t nlu_text_tok_utf8(const struct nlu_text *t, size_t i, char *out,
          size_t cap);

#endif
