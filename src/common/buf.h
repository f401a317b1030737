/* buf.h - growable byte buffer (always NUL-terminated).
 *
 * Heap-backed; embedded in its owner with buf_init()/buf_cleanup().
 * buf_reset() keeps the capacity so a per-process response buffer is reused
 * request after request without reallocating.
 */
#ifndef GACP_BUF_H
#define GACP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char   *data;   /* NUL-terminated; never NULL after buf_init */
	size_t  len;
	size_t  cap;
};

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append s as a JSON string literal (quotes included), escaping as needed.
 * Invalid UTF-8 bytes are replaced by U+FFFD so output is always valid. */
void buf_json_str(struct buf *b, const char *s);
void buf_json_strn(struct buf *b, const char *s, size_t len);
/* Detach the data; the caller frees it.  The buffer is left empty and
 * owning nothing (data NULL): appending to it again works, buf_cleanup is
 * optional. */
char *buf_steal(struct buf *b);

#endif
