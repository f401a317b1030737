/* util.c - clocks, random ids, UUIDs, URL decoding (see util.h). */
#include "common/util.h"
#include "common/err.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

int64_t
util_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
util_random(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return GACP_EIO;
		}
		p += got;
		n -= (size_t)got;
	}
	return GACP_OK;
}

void
util_hex(const unsigned char *in, size_t nbytes, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < nbytes; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

void
util_uuid_v4(char out[37])
{
	unsigned char b[16];
	char hex[33];

	if (util_random(b, sizeof(b)) != GACP_OK)
		memset(b, 0, sizeof(b));   /* getrandom cannot fail after boot */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	util_hex(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

int
util_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_hex(char c)
{
	return util_hex_value(c) >= 0;
}

bool
util_uuid_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return true;
}


long
util_url_decode(const char *in, size_t len, char *out, bool plus_is_space)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			if (i + 2 >= len || !is_hex(in[i + 1]) || !is_hex(in[i + 2]))
				return -1;
			out[o++] = (char)(util_hex_value(in[i + 1]) * 16 +
			    util_hex_value(in[i + 2]));
			i += 2;
		} else if (c == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return (long)o;
}

bool
util_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = (unsigned char)(alen != blen);
	size_t i, n = alen < blen ? alen : blen;

	/* Touch min(alen, blen) bytes regardless of where they differ; the
	 * length itself is not secret in any of our uses (fixed-size MACs). */
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}
