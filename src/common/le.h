/* le.h - little-endian integers and floats in byte strings: the layout of
 * the model file and its sections (nlu/model.h, nlu/wordnet.h,
 * nlu/embed.h), written the same on every host.  Readers take unaligned
 * pointers; floats travel as their IEEE-754 bits. */
#ifndef GACP_LE_H
#define GACP_LE_H

#include <stdint.h>
#include <string.h>

#include "common/buf.h"

static inline uint32_t
le_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
le_get_u64(const unsigned char *p)
{
	return (uint64_t)le_get_u32(p) | (uint64_t)le_get_u32(p + 4) << 32;
}

static inline float
le_get_f32(const unsigned char *p)
{
	uint32_t v = le_get_u32(p);
	float f;

	memcpy(&f, &v, 4);
	return f;
}

static inline void
le_put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	buf_append(b, x, 4);
}

static inline void
le_put_u64(struct buf *b, uint64_t v)
{
	le_put_u32(b, (uint32_t)v);
	le_put_u32(b, (uint32_t)(v >> 32));
}

static inline void
le_put_f32(struct buf *b, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	le_put_u32(b, v);
}

#endif
