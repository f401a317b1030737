/* utf8.c - strict UTF-8 (RFC 3629): no overlongs, no surrogates. */
#include "common/utf8.h"

#include <string.h>

size_t
utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	uint32_t cp;
	return utf8_decode(s, len, &cp);
}

/* True when none of the 8 bytes of w is 0 and none has its high bit:
 * eight ASCII characters without a NUL.  (w - 0x01…) & ~w sets a byte's
 * high bit only for a zero byte once no high bits are set. */
static bool
ascii8_no_nul(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;

	return (w & highs) == 0 && ((w - ones) & ~w & highs) == 0;
}

/* Every request body and every text we store passes here, mostly ASCII
 * JSON: eight ASCII bytes at a time, the decoder only for the rest. */
bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;
		uint64_t w;

		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (ascii8_no_nul(w)) {
				i += 8;
				continue;
			}
		}
		if ((unsigned char)s[i] < 0x80) {
			if (s[i] == '\0')
				return false;
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp <= 0x10ffff) {
		o[0] = (unsigned char)(0xf0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

size_t
utf8_count(const char *s, size_t len)
{
	size_t i = 0, count = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		i += n ? n : 1;
		count++;
	}
	return count;
}
