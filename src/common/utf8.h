/* utf8.h - UTF-8 validation and decoding for outside text. */
#ifndef GACP_UTF8_H
#define GACP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at s, or 0 when the bytes there
 * are not one (overlong, surrogate, > U+10FFFF, truncated). */
size_t utf8_valid_prefix(const char *s, size_t len);
/* True when all len bytes are valid UTF-8 and contain no NUL. */
bool   utf8_valid(const char *s, size_t len);
/* Decode one code point at s; returns its length or 0 when invalid. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp into out (4 bytes room); returns the length (0 if invalid). */
size_t utf8_encode(uint32_t cp, char *out);
/* Number of code points in a valid UTF-8 string. */
size_t utf8_count(const char *s, size_t len);

#endif
