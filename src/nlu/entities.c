/* entities.c - regex, lookup, synonym and built-in entity extraction. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "nlu/entities.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "common/buf.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "nlu/text.h"

/* What a built-in pattern's match means. */
enum rule_kind {
	R_EMAIL, R_URL, R_PHONE,
	R_DATE_ISO,          /* 2026-03-15 */
	R_DATE_DMY,          /* 15/03/2026, 15.3.69 */
	R_DATE_D_MONTH_Y,    /* 15 March 2026, 15 มีนาคม 2569, 15 มี.ค. 69 */
	R_DATE_MONTH_D_Y,    /* March 15th, 2026 */
	R_DATE_REL_EN,       /* today, tomorrow, day after tomorrow ... */
	R_DATE_REL_TH,       /* วันนี้, พรุ่งนี้, มะรืนนี้ ... */
	R_DATE_WEEKDAY_EN,   /* (next|this|on) monday */
	R_DATE_WEEKDAY_TH,   /* วันจันทร์(หน้า|นี้) */
	R_DATE_IN_N_EN,      /* in 3 days / in 2 weeks */
	R_DATE_IN_N_TH,      /* อีก 3 วัน / อีก 2 สัปดาห์ */
	R_DATE_DAY_TH,       /* วันที่ 15 */
	R_NUMBER,
};

struct rule {
	enum rule_kind kind;
	const char    *entity;
	const char    *pattern;
};

/* Digits: \d with PCRE2_UCP matches every decimal digit, Thai included.
 * Boundaries are explicit lookarounds instead of \b, which never fires
 * inside unspaced Thai text. */
#define NB "(?<![\\p{L}\\p{N}_])"
#define NA "(?![\\p{L}\\p{N}_])"
#define EN_MONTH "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|" \
	"june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|" \
	"nov(?:ember)?|dec(?:ember)?)"
#define TH_MONTH "(มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|" \
	"กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|พฤศจิกายน|ธันวาคม|ม\\.ค\\.?|" \
	"ก\\.พ\\.?|มี\\.ค\\.?|เม\\.ย\\.?|พ\\.ค\\.?|มิ\\.ย\\.?|ก\\.ค\\.?|" \
	"ส\\.ค\\.?|ก\\.ย\\.?|ต\\.ค\\.?|พ\\.ย\\.?|ธ\\.ค\\.?)"
#define EN_WD "(monday|mon|tuesday|tues?|wednesday|wed|thursday|thurs?|" \
	"thu|friday|fri|saturday|sat|sunday|sun)"
#define TH_WD "(จันทร์|อังคาร|พุธ|พฤหัสบดี|พฤหัส|ศุกร์|เสาร์|อาทิตย์)"

/* Order matters: earlier rules win overlaps (email before URL before
 * phone, specific dates before numbers). */
static const struct rule rules[] = {
	{ R_EMAIL, "email",
	  NB "[\\p{L}\\p{N}._%+-]+@[\\p{L}\\p{N}-]+(?:\\.[\\p{L}\\p{N}-]+)*"
	  "\\.\\p{L}{2,}" NA },
	{ R_URL, "url",
	  "(?<![\\p{L}\\p{N}@])(?:https?://|www\\.)[^\\s<>\"'()]+"
	  "(?<![.,!?:;])" },
	{ R_PHONE, "phone",
	  "(?<![\\p{N}+])(?:\\+\\d{1,3}[\\s-]?\\d(?:[\\s-]?\\d){6,11}|"
	  "0\\d{1,2}[\\s-]?\\d{3}[\\s-]?\\d{3,4})(?!\\p{N})" },
	{ R_DATE_ISO, "date",
	  NB "(\\d{4})-(\\d{1,2})-(\\d{1,2})" NA },
	{ R_DATE_DMY, "date",
	  NB "(\\d{1,2})[/.](\\d{1,2})[/.](\\d{4}|\\d{2})" NA },
	{ R_DATE_D_MONTH_Y, "date",
	  "(?:วันที่\\s*)?(?<![\\p{Latin}\\p{N}_])(\\d{1,2})(?:st|nd|rd|th)?"
	  "\\s*(?:of\\s+)?"
	  "(?:" EN_MONTH "|" TH_MONTH ")(?![\\p{Latin}])"
	  "(?:,?\\s*(?:พ\\.ศ\\.|ค\\.ศ\\.|ปี)?\\s*(\\d{4}|\\d{2})(?!\\p{N}))?" },
	{ R_DATE_MONTH_D_Y, "date",
	  NB EN_MONTH "\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?" NA
	  "(?:,?\\s*(\\d{4})" NA ")?" },
	{ R_DATE_REL_EN, "date",
	  NB "((?:the\\s+)?day\\s+after\\s+tomorrow|today|tonight|tomorrow|"
	  "tmrw?|tmr|yesterday)" NA },
	{ R_DATE_REL_TH, "date",
	  "(วันนี้|พรุ่งนี้|พรุ้งนี้|มะรืนนี้|มะรืน|เมื่อวานนี้|เมื่อวาน)" },
	{ R_DATE_WEEKDAY_EN, "date",
	  NB "(?:(next|this|coming|on)\\s+)?" EN_WD NA },
	{ R_DATE_WEEKDAY_TH, "date",
	  "วัน" TH_WD "(หน้า|นี้|ที่จะถึง)?" },
	{ R_DATE_IN_N_EN, "date",
	  NB "in\\s+(\\d{1,3}|a|one|two|three)\\s+(days?|weeks?)" NA },
	{ R_DATE_IN_N_TH, "date",
	  "อีก\\s*(\\d{1,3}|หนึ่ง|สอง|สาม)\\s*(วัน|สัปดาห์|อาทิตย์)" },
	{ R_DATE_DAY_TH, "date",
	  "วันที่\\s*(\\d{1,2})(?!\\p{N})" },
	{ R_NUMBER, "number",
	  "(?<![\\p{L}\\p{N}_.,])[+-]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)"
	  "(?:\\.\\d+)?(?![\\p{N}])" },
};
#define N_RULES (sizeof(rules) / sizeof(rules[0]))

struct matcher {
	pcre2_code *code;
	char       *entity;      /* heap */
	const char *extractor;
};

struct synonym {
	char *folded;            /* case-folded surface form */
	char *canonical;
};

struct nlu_entities {
	struct matcher  builtin[N_RULES];
	struct matcher *user;    /* regexes, then one per lookup table */
	size_t          n_user;
	struct synonym *syn;
	size_t          n_syn;
};

/* A found span before it becomes an entity. */
struct span {
	size_t      b0, b1;       /* byte offsets */
	const char *entity;
	const char *extractor;
	char       *value;        /* heap */
	int         numeric;
};

static pcre2_code *compile(const char *, struct gacp_err *);
static char	*fold_utf8(const char *, size_t);
static void	 escape_literal(struct buf *, const char *);
static int	 ascii_alnum(int);
static size_t	 cp_offset(const char *, size_t);
static long	 parse_int(const char *, size_t, size_t);
static long	 days_from_civil(long, long, long);
static void	 civil_from_days(long, long *, long *, long *);
static int	 month_index(const char *, size_t);
static int	 weekday_index(const char *, size_t);
static char	*builtin_value(enum rule_kind, const char *,
		    const PCRE2_SIZE *, int, long, int *);
static int	 overlaps(const struct span *, size_t, size_t, size_t);
static int	 same_span(const struct span *, size_t, const struct span *);
static void	 push_span(struct span **, size_t *, size_t *, struct span);

static pcre2_code *
compile(const char *pattern, struct gacp_err *err)
{
	pcre2_code *code;
	int errcode;
	PCRE2_SIZE erroff;
	PCRE2_UCHAR msg[128];

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &errcode, &erroff, NULL);
	if (code == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		gacp_err_set(err, GACP_EINVAL, "nlu_bad_regex",
		    "regex %.60s does not compile at offset %zu: %s", pattern,
		    (size_t)erroff, (const char *)msg);
		return NULL;
	}
	/* JIT is an optimisation only; matching works without it. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

/* Case-folded copy, the same folding as the classifier's normaliser, so
 * synonyms match whatever case the user typed. */
static char *
fold_utf8(const char *s, size_t len)
{
	struct buf b;
	size_t i = 0;
	char *out;

	buf_init(&b);
	while (i < len) {
		uint32_t c;
		char enc[4];
		size_t n = utf8_decode(s + i, len - i, &c);

		if (n == 0) {
			i++;
			continue;
		}
		/* Runs of whitespace count as one space. */
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (b.len > 0 && b.data[b.len - 1] != ' ')
				buf_putc(&b, ' ');
			i++;
			continue;
		}
		n = utf8_encode(nlu_text_fold(c), enc);
		buf_append(&b, enc, n);
		i += utf8_valid_prefix(s + i, len - i);
	}
	out = buf_steal(&b);
	buf_cleanup(&b);
	return out;
}

static int
ascii_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* A lookup value as a literal pattern: ASCII punctuation escaped, runs of
 * spaces matching any whitespace. */
static void
escape_literal(struct buf *b, const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == ' ') {
			buf_puts(b, "\\s+");
			while (v[1] == ' ')
				v++;
		} else if (c < 0x80 && !ascii_alnum(c)) {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, (char)c);
		}
	}
}

static int
cmp_len_desc(const void *a, const void *b)
{
	size_t la = strlen(*(const char *const *)a);
	size_t lb = strlen(*(const char *const *)b);

	if (la != lb)
		return la > lb ? -1 : 1;
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
nlu_entities_new(const struct nlu_dataset *spec, struct nlu_entities **out,
    struct gacp_err *err)
{
	struct nlu_entities *e = xcalloc(1, sizeof(*e));
	struct buf pat;
	size_t i, k;
	int rc = GACP_EINVAL;

	*out = NULL;
	buf_init(&pat);
	for (i = 0; i < N_RULES; i++) {
		e->builtin[i].code = compile(rules[i].pattern, err);
		if (e->builtin[i].code == NULL) {
			rc = GACP_EINTERNAL;
			goto out;
		}
		e->builtin[i].entity = xstrdup(rules[i].entity);
		e->builtin[i].extractor = NLU_EXTRACTOR_BUILTIN;
	}
	e->user = xcalloc(spec->n_rx + spec->n_lk + 1, sizeof(*e->user));
	for (i = 0; i < spec->n_rx; i++) {
		buf_reset(&pat);
		/* Rasa's RegexEntityExtractor wraps patterns in word
		 * boundaries; ours work next to Thai letters too. */
		buf_printf(&pat, "(?<![\\p{Latin}\\p{N}_])(?:%s)"
		    "(?![\\p{Latin}\\p{N}_])", spec->rx[i].pattern);
		e->user[e->n_user].code = compile(pat.data, err);
		if (e->user[e->n_user].code == NULL)
			goto out;
		e->user[e->n_user].entity = xstrdup(spec->rx[i].name);
		e->user[e->n_user].extractor = NLU_EXTRACTOR_REGEX;
		e->n_user++;
	}
	for (i = 0; i < spec->n_lk; i++) {
		const struct nlu_lookup *l = &spec->lk[i];
		const char **vals;

		if (l->n_values == 0)
			continue;
		/* Longest values first, so "green tea" beats "green". */
		vals = xcalloc(l->n_values, sizeof(*vals));
		for (k = 0; k < l->n_values; k++)
			vals[k] = l->values[k];
		qsort(vals, l->n_values, sizeof(*vals), cmp_len_desc);
		buf_reset(&pat);
		buf_puts(&pat, "(?:");
		for (k = 0; k < l->n_values; k++) {
			const char *v = vals[k];
			size_t vl = strlen(v);

			if (k > 0)
				buf_putc(&pat, '|');
			if (vl && ascii_alnum((unsigned char)v[0]))
				buf_puts(&pat, "(?<![\\p{Latin}\\p{N}_])");
			escape_literal(&pat, v);
			if (vl && ascii_alnum((unsigned char)v[vl - 1]))
				buf_puts(&pat, "(?![\\p{Latin}\\p{N}_])");
		}
		buf_putc(&pat, ')');
		free(vals);
		e->user[e->n_user].code = compile(pat.data, err);
		if (e->user[e->n_user].code == NULL)
			goto out;
		e->user[e->n_user].entity = xstrdup(l->name);
		e->user[e->n_user].extractor = NLU_EXTRACTOR_LOOKUP;
		e->n_user++;
	}
	e->syn = xcalloc(spec->n_syn + 1, sizeof(*e->syn));
	for (i = 0; i < spec->n_syn; i++) {
		e->syn[i].folded = fold_utf8(spec->syn[i].text,
		    strlen(spec->syn[i].text));
		e->syn[i].canonical = xstrdup(spec->syn[i].canonical);
	}
	e->n_syn = spec->n_syn;
	*out = e;
	e = NULL;
	rc = 0;
out:
	buf_cleanup(&pat);
	nlu_entities_free(e);
	return rc;
}

void
nlu_entities_free(struct nlu_entities *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < N_RULES; i++) {
		pcre2_code_free(e->builtin[i].code);
		free(e->builtin[i].entity);
	}
	for (i = 0; i < e->n_user; i++) {
		pcre2_code_free(e->user[i].code);
		free(e->user[i].entity);
	}
	free(e->user);
	for (i = 0; i < e->n_syn; i++) {
		free(e->syn[i].folded);
		free(e->syn[i].canonical);
	}
	free(e->syn);
	free(e);
}

void
nlu_ent_scratch_init(struct nlu_ent_scratch *s)
{
	/* 32 pairs is more than any built-in needs; user patterns with more
	 * groups still report the whole match. */
	s->match = pcre2_match_data_create(32, NULL);
}

void
nlu_ent_scratch_cleanup(struct nlu_ent_scratch *s)
{
	if (s == NULL)
		return;
	pcre2_match_data_free(s->match);
	s->match = NULL;
}

void
nlu_entity_list_init(struct nlu_entity_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
nlu_entity_list_reset(struct nlu_entity_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].entity);
		free(l->v[i].value);
	}
	l->n = 0;
}

void
nlu_entity_list_cleanup(struct nlu_entity_list *l)
{
	if (l == NULL)
		return;
	nlu_entity_list_reset(l);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static size_t
cp_offset(const char *s, size_t byte_off)
{
	return utf8_count(s, byte_off);
}

/* Integer value of s[a, b) whose digits may be ASCII or Thai, or the
 * English/Thai words for one to three; -1 if not a number. */
static long
parse_int(const char *s, size_t a, size_t b)
{
	static const struct {
		const char *word;
		long        value;
	} words[] = {
		{ "a", 1 }, { "one", 1 }, { "two", 2 }, { "three", 3 },
		{ "หนึ่ง", 1 }, { "สอง", 2 }, { "สาม", 3 },
	};
	long v = 0;
	size_t i = a, k;
	int any = 0;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strlen(words[k].word) == b - a &&
		    strncasecmp(s + a, words[k].word, b - a) == 0)
			return words[k].value;
	while (i < b) {
		uint32_t c;
		size_t n = utf8_decode(s + i, b - i, &c);

		if (n == 0)
			return -1;
		c = nlu_text_fold(c);
		if (c >= '0' && c <= '9') {
			if (v > 100000000L)
				return -1;
			v = v * 10 + (long)(c - '0');
			any = 1;
		}
		i += n;
	}
	return any ? v : -1;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of y-m-d in the
 * proleptic Gregorian calendar; exact for every year we care about. */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Month 1-12 of an English or Thai month name or abbreviation, or 0. */
static int
month_index(const char *s, size_t len)
{
	static const char *th[] = { "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน",
	    "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม",
	    "พฤศจิกายน", "ธันวาคม" };
	static const char *th_abbr[] = { "ม.ค", "ก.พ", "มี.ค", "เม.ย", "พ.ค",
	    "มิ.ย", "ก.ค", "ส.ค", "ก.ย", "ต.ค", "พ.ย", "ธ.ค" };
	static const char *en = "janfebmaraprmayjunjulaugsepoctnovdec";
	size_t i;

	while (len > 0 && s[len - 1] == '.')
		len--;
	for (i = 0; i < 12; i++) {
		if (strlen(th[i]) == len && memcmp(th[i], s, len) == 0)
			return (int)i + 1;
		if (strlen(th_abbr[i]) == len && memcmp(th_abbr[i], s, len) == 0)
			return (int)i + 1;
	}
	if (len >= 3)
		for (i = 0; i < 12; i++)
			if (strncasecmp(en + 3 * i, s, 3) == 0)
				return (int)i + 1;
	return 0;
}

/* 0 = Monday ... 6 = Sunday, or -1. */
static int
weekday_index(const char *s, size_t len)
{
	static const char *en = "montuewedthufrisatsun";
	static const char *th[] = { "จันทร์", "อังคาร", "พุธ", "พฤหัส",
	    "ศุกร์", "เสาร์", "อาทิตย์" };
	size_t i;

	for (i = 0; i < 7; i++)
		if (len >= strlen(th[i]) && memcmp(s, th[i], strlen(th[i])) == 0)
			return (int)i;
	if (len >= 3)
		for (i = 0; i < 7; i++)
			if (strncasecmp(en + 3 * i, s, 3) == 0)
				return (int)i;
	return -1;
}

#define GROUP_SET(ov, g) ((ov)[2 * (g)] != PCRE2_UNSET)
#define GROUP_LEN(ov, g) ((size_t)((ov)[2 * (g) + 1] - (ov)[2 * (g)]))

/* ISO date of a year that may be Buddhist era or two-digit. */
static long
full_year(long y, size_t digits, int thai)
{
	if (digits <= 2)
		/* Two digits: Thai writers abbreviate the Buddhist year
		 * ("69" = 2569 = 2026), English writers the Christian. */
		y = thai ? y + 2500 : y + 2000;
	if (y >= 2400)
		y -= 543;
	return y;
}

/* Value of a built-in match; NULL when the match is not a valid value
 * (31 February, a weekday word that is not a date). */
static char *
builtin_value(enum rule_kind kind, const char *s, const PCRE2_SIZE *ov,
    int groups, long today, int *numeric)
{
	long y = 0, m = 0, d = 0, day = -1, n;
	size_t i;
	struct buf b;
	char *out;
	int wd, thai;

	*numeric = 0;
	switch (kind) {
	case R_EMAIL:
	case R_URL:
		return xstrndup(s + ov[0], ov[1] - ov[0]);
	case R_PHONE:
	case R_NUMBER:
		buf_init(&b);
		for (i = ov[0]; i < ov[1];) {
			uint32_t c;
			size_t k = utf8_decode(s + i, ov[1] - i, &c);

			if (k == 0)
				break;
			c = nlu_text_fold(c);
			if ((c >= '0' && c <= '9') || c == '+' ||
			    (kind == R_NUMBER && (c == '-' || c == '.')))
				buf_putc(&b, (char)c);
			i += k;
		}
		*numeric = kind == R_NUMBER;
		if (kind == R_NUMBER && b.len > 15) {
			/* Beyond a double's exact range: keep it text. */
			*numeric = 0;
		}
		out = buf_steal(&b);
		buf_cleanup(&b);
		return out;
	case R_DATE_ISO:
		y = parse_int(s, ov[2], ov[3]);
		m = parse_int(s, ov[4], ov[5]);
		d = parse_int(s, ov[6], ov[7]);
		y = full_year(y, 4, 0);
		break;
	case R_DATE_DMY:
		d = parse_int(s, ov[2], ov[3]);
		m = parse_int(s, ov[4], ov[5]);
		y = parse_int(s, ov[6], ov[7]);
		/* Two-digit years: Buddhist when > 40 (69 = 2569 BE). */
		if (GROUP_LEN(ov, 3) == 2)
			y = y > 40 ? full_year(y, 2, 1) : y + 2000;
		else
			y = full_year(y, 4, 0);
		break;
	case R_DATE_D_MONTH_Y:
		d = parse_int(s, ov[2], ov[3]);
		thai = !GROUP_SET(ov, 2);
		m = thai ? month_index(s + ov[6], GROUP_LEN(ov, 3)) :
		    month_index(s + ov[4], GROUP_LEN(ov, 2));
		if (groups > 4 && GROUP_SET(ov, 4)) {
			y = parse_int(s, ov[8], ov[9]);
			y = full_year(y, GROUP_LEN(ov, 4), thai);
		}
		break;
	case R_DATE_MONTH_D_Y:
		m = month_index(s + ov[2], GROUP_LEN(ov, 1));
		d = parse_int(s, ov[4], ov[5]);
		if (groups > 3 && GROUP_SET(ov, 3))
			y = full_year(parse_int(s, ov[6], ov[7]), 4, 0);
		break;
	case R_DATE_REL_EN:
		if (strncasecmp(s + ov[2], "yesterday", 9) == 0)
			day = today - 1;
		else if (strncasecmp(s + ov[2], "to", 2) == 0 &&
		    GROUP_LEN(ov, 1) != 8)
			day = today;                  /* today, tonight */
		else if (memchr(s + ov[2], ' ', GROUP_LEN(ov, 1)) != NULL)
			day = today + 2;              /* day after tomorrow */
		else
			day = today + 1;              /* tomorrow, tmr */
		break;
	case R_DATE_REL_TH:
		if (strncmp(s + ov[2], "วันนี้", GROUP_LEN(ov, 1)) == 0)
			day = today;
		else if (strncmp(s + ov[2], "มะรืน", strlen("มะรืน")) == 0)
			day = today + 2;
		else if (strncmp(s + ov[2], "เมื่อวาน", strlen("เมื่อวาน")) == 0)
			day = today - 1;
		else
			day = today + 1;
		break;
	case R_DATE_WEEKDAY_EN:
	case R_DATE_WEEKDAY_TH:
		wd = kind == R_DATE_WEEKDAY_EN ?
		    weekday_index(s + ov[4], GROUP_LEN(ov, 2)) :
		    weekday_index(s + ov[2], GROUP_LEN(ov, 1));
		if (wd < 0)
			return NULL;
		/* 1970-01-01 was a Thursday (index 3).  The next such
		 * weekday strictly after today; "next X" / "Xหน้า" when
		 * that falls in this week means the one after. */
		n = ((wd - ((today % 7 + 7 + 3) % 7)) + 7) % 7;
		if (n == 0)
			n = 7;
		day = today + n;
		if (kind == R_DATE_WEEKDAY_EN && GROUP_SET(ov, 1) &&
		    strncasecmp(s + ov[2], "next", 4) == 0 &&
		    n < 7 - (today % 7 + 7 + 3) % 7)
			day += 7;
		if (kind == R_DATE_WEEKDAY_TH && groups > 2 &&
		    GROUP_SET(ov, 2) && strncmp(s + ov[4], "หน้า",
		    strlen("หน้า")) == 0 && n < 7 - (today % 7 + 7 + 3) % 7)
			day += 7;
		break;
	case R_DATE_IN_N_EN:
	case R_DATE_IN_N_TH:
		n = parse_int(s, ov[2], ov[3]);
		if (n < 0)
			return NULL;
		/* "day"/"วัน" vs "week"/"สัปดาห์"/"อาทิตย์". */
		if (strncasecmp(s + ov[4], "day", 3) != 0 &&
		    strncmp(s + ov[4], "วัน", strlen("วัน")) != 0)
			n *= 7;
		day = today + n;
		break;
	case R_DATE_DAY_TH:
		d = parse_int(s, ov[2], ov[3]);
		break;
	default:
		return NULL;
	}
	if (day < 0) {
		long ty, tm, td;

		civil_from_days(today, &ty, &tm, &td);
		if (m == 0)
			m = tm;
		if (m < 1 || m > 12 || d < 1 || d > 31)
			return NULL;
		if (y == 0) {
			/* No year: the next such date on or after today. */
			y = ty;
			if (days_from_civil(y, m, d) < today) {
				if (kind == R_DATE_DAY_TH)
					m = m == 12 ? (y++, 1) : m + 1;
				else
					y++;
			}
		}
		if (y < 1900 || y > 2200)
			return NULL;
		/* Reject dates that do not exist (31 April). */
		civil_from_days(days_from_civil(y, m, d), &ty, &tm, &td);
		if (tm != m || td != d)
			return NULL;
		day = days_from_civil(y, m, d);
	}
	civil_from_days(day, &y, &m, &d);
	buf_init(&b);
	buf_printf(&b, "%04ld-%02ld-%02ld", y, m, d);
	out = buf_steal(&b);
	buf_cleanup(&b);
	return out;
}

static int
same_span(const struct span *v, size_t n, const struct span *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].b0 == s->b0 && v[i].b1 == s->b1 &&
		    strcmp(v[i].entity, s->entity) == 0)
			return 1;
	return 0;
}

static int
overlaps(const struct span *v, size_t n, size_t b0, size_t b1)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b0 < v[i].b1 && v[i].b0 < b1)
			return 1;
	return 0;
}

static void
push_span(struct span **v, size_t *n, size_t *cap, struct span s)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = s;
}

static int
cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->b0 != y->b0)
		return x->b0 < y->b0 ? -1 : 1;
	return x->b1 < y->b1 ? -1 : x->b1 > y->b1;
}

int
nlu_entities_extract(const struct nlu_entities *e, struct nlu_ent_scratch *s,
    const char *text, size_t len, time_t now, long utc_offset_s,
    struct nlu_entity_list *out, struct gacp_err *err)
{
	pcre2_match_data *md = s->match;
	struct span *spans = NULL;
	size_t n_spans = 0, cap_spans = 0, i, k;
	long today = (long)((now + utc_offset_s) >= 0 ?
	    (now + utc_offset_s) / 86400 :
	    ((now + utc_offset_s) - 86399) / 86400);

	if (!utf8_valid(text, len))
		return gacp_err_set(err, GACP_EINVAL, "invalid_utf8",
		    "text is not valid UTF-8");
	/* User regexes and lookups first: a built-in never overrides them. */
	for (k = 0; k < e->n_user + N_RULES; k++) {
		const struct matcher *mt = k < e->n_user ? &e->user[k] :
		    &e->builtin[k - e->n_user];
		PCRE2_SIZE start = 0;

		while (start <= len) {
			PCRE2_SIZE *ov;
			struct span sp;
			int rc = pcre2_match(mt->code, (PCRE2_SPTR)text, len,
			    start, 0, md, NULL);

			if (rc < 0)
				break;
			ov = pcre2_get_ovector_pointer(md);
			if (ov[1] == ov[0]) {
				/* Empty match: step one code point. */
				start = ov[1] + (ov[1] < len ?
				    utf8_valid_prefix(text + ov[1],
				    len - ov[1]) : 1);
				continue;
			}
			start = ov[1];
			memset(&sp, 0, sizeof(sp));
			sp.b0 = ov[0];
			sp.b1 = ov[1];
			sp.entity = mt->entity;
			sp.extractor = mt->extractor;
			if (k < e->n_user) {
				/* A regex and a lookup of one entity finding the
				 * same span report it once. */
				if (same_span(spans, n_spans, &sp))
					continue;
				sp.value = xstrndup(text + ov[0], ov[1] - ov[0]);
			} else {
				if (overlaps(spans, n_spans, sp.b0, sp.b1))
					continue;
				sp.value = builtin_value(rules[k -
				    e->n_user].kind, text, ov,
				    rc == 0 ? 32 : rc, today, &sp.numeric);
				if (sp.value == NULL)
					continue;
			}
			push_span(&spans, &n_spans, &cap_spans, sp);
		}
	}
	if (n_spans > 1)
		qsort(spans, n_spans, sizeof(*spans), cmp_span);
	for (i = 0; i < n_spans; i++) {
		struct nlu_entity *ent;
		char *folded;

		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 8;
			out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
		}
		ent = &out->v[out->n++];
		memset(ent, 0, sizeof(*ent));
		ent->entity = xstrdup(spans[i].entity);
		ent->value = spans[i].value;
		ent->start = (uint32_t)cp_offset(text, spans[i].b0);
		ent->end = (uint32_t)cp_offset(text, spans[i].b1);
		ent->extractor = spans[i].extractor;
		ent->confidence = 1.0f;
		ent->numeric = spans[i].numeric;
		if (strcmp(spans[i].extractor, NLU_EXTRACTOR_BUILTIN) == 0)
			continue;
		folded = fold_utf8(ent->value, strlen(ent->value));
		for (k = 0; k < e->n_syn; k++) {
			if (strcmp(folded, e->syn[k].folded) == 0) {
				free(ent->value);
				ent->value = xstrdup(e->syn[k].canonical);
				ent->synonym = 1;
				break;
			}
		}
		free(folded);
	}
	free(spans);
	return 0;
}
