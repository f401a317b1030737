/* util.h - small helpers: clocks, random ids, UUIDs, URL decoding. */
#ifndef GACP_UTIL_H
#define GACP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in microseconds (durations). */
int64_t util_mono_us(void);
/* Wall clock in microseconds since the epoch. */
int64_t util_wall_us(void);
/* Fill out with n random bytes from the kernel CSPRNG; 0 or GACP_EIO. */
int     util_random(void *out, size_t n);
/* 2*nbytes lower-case hex characters + NUL into out. */
void    util_hex(const unsigned char *in, size_t nbytes, char *out);
/* The value of one hex digit (either case), or -1 for any other byte. */
int     util_hex_value(char c);
/* Random RFC 4122 version-4 UUID, 36 chars + NUL. */
void    util_uuid_v4(char out[37]);
/* True for the canonical 8-4-4-4-12 hex form (any case). */
bool    util_uuid_valid(const char *s);
/* Percent-decode (and '+' as space when plus_is_space) len bytes of in
 * into out (room for len + 1).  Returns the decoded length, or -1 on a
 * malformed escape.  The result may contain NUL bytes: callers check. */
long    util_url_decode(const char *in, size_t len, char *out,
    bool plus_is_space);
/* Constant-time equality of two byte strings of possibly different length. */
bool    util_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
