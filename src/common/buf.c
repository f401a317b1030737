/* buf.c - growable byte buffer (see buf.h). */
#include "common/buf.h"
#include "common/utf8.h"
#include "common/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b)
{
	b->cap = 256;
	b->len = 0;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
}

void
buf_cleanup(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)            /* after buf_steal */
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->data == NULL)        /* after buf_steal */
		buf_reserve(b, 0);
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Runs of bytes that need no escape (printable ASCII other than '"' and
 * '\\', and valid UTF-8 sequences) are copied in one append; the queue
 * record of every webhook event passes here. */
void
buf_json_strn(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	buf_reserve(b, len + 2);
	buf_putc(b, '"');
	while (i < len) {
		unsigned char c;

		for (run = i; run < len; run++) {
			c = (unsigned char)s[run];
			if (c >= 0x80) {
				size_t n = utf8_valid_prefix(s + run, len - run);
				if (n == 0)
					break;
				run += n - 1;
			} else if (c < 0x20 || c == 0x7f || c == '"' ||
			    c == '\\')
				break;
		}
		if (run > i) {
			buf_append(b, s + i, run - i);
			i = run;
			continue;
		}
		c = (unsigned char)s[i];
		switch (c) {
		case '"':  buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (c >= 0x80) {
				/* Not valid UTF-8 here. */
				buf_puts(b, "\\ufffd");
			} else {
				char esc[6] = { '\\', 'u', '0', '0',
				    hex[c >> 4], hex[c & 15] };
				buf_append(b, esc, sizeof(esc));
			}
		}
		i++;
	}
	buf_putc(b, '"');
}

void
buf_json_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_json_strn(b, s, strlen(s));
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	/* Empty and owning nothing: the callers drop the buffer right away,
	 * and one holding a fresh allocation here leaked it (one per Send
	 * API body in the worker, found by bench/soak + massif). */
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
