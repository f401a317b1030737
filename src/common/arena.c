/* arena.c - per-request region allocator (see arena.h). */
#include "common/arena.h"
#include "common/xmalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t              size;   /* usable bytes in data[] */
	size_t              used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	arena_cleanup_fn      fn;
	void                 *ptr;
};

static struct arena_block *
block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

void
arena_init(struct arena *a, size_t block_bytes)
{
	a->block_bytes = block_bytes ? block_bytes : 16384;
	a->head = block_new(a->block_bytes);
	a->cleanups = NULL;
	a->used_bytes = 0;
}

static void
run_cleanups(struct arena *a)
{
	/* Cleanups are stored in arena memory; take each before running it. */
	struct arena_cleanup *c = a->cleanups;
	a->cleanups = NULL;
	while (c != NULL) {
		struct arena_cleanup *next = c->next;
		c->fn(c->ptr);
		c = next;
	}
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b, *keep;

	if (a == NULL || a->head == NULL)
		return;
	run_cleanups(a);
	/* Keep the oldest block (the default-sized one at the tail). */
	keep = a->head;
	while (keep->next != NULL)
		keep = keep->next;
	b = a->head;
	while (b != keep) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	keep->used = 0;
	a->head = keep;
	a->used_bytes = 0;
}

void
arena_cleanup(struct arena *a)
{
	struct arena_block *b;

	if (a == NULL)
		return;
	run_cleanups(a);
	b = a->head;
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < size)        /* overflow */
		need = SIZE_MAX;
	if (b == NULL || b->size - b->used < need) {
		size_t bsize = need > a->block_bytes ? need : a->block_bytes;
		if (need == SIZE_MAX)
			bsize = size;   /* xmalloc will abort */
		b = block_new(bsize);
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
	a->used_bytes += need;
	return p;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	size_t total;
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		total = SIZE_MAX;
	else
		total = nmemb * size;
	p = arena_alloc(a, total);
	memset(p, 0, total);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *
arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_sprintf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_defer(struct arena *a, arena_cleanup_fn fn, void *ptr)
{
	struct arena_cleanup *c;

	if (ptr == NULL)
		return;
	c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}
