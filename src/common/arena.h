/* arena.h - per-request region allocator with deferred cleanups.
 *
 * Everything a request allocates comes from its arena and is released in one
 * step by arena_reset() after the response is sent.  Library objects the
 * request holds (PGresult, redisReply, json_object, jwt_t) are registered with
 * arena_defer() so an early return leaks nothing.  Blocks are kept between
 * resets up to a retained size, so a steady-state request does no malloc.
 *
 * An arena is owned by one thread; it is not safe to share.
 */
#ifndef GACP_ARENA_H
#define GACP_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;
struct arena_cleanup;

struct arena {
	struct arena_block   *head;        /* current block (newest first) */
	struct arena_cleanup *cleanups;    /* run in reverse order on reset */
	size_t                block_bytes; /* default block size */
	size_t                used_bytes;  /* bytes handed out since last reset */
};

typedef void (*arena_cleanup_fn)(void *);

void  arena_init(struct arena *a, size_t block_bytes);
/* Run cleanups, release all but the first block. */
void  arena_reset(struct arena *a);
/* Run cleanups and release every block; the arena may be re-initialised. */
void  arena_cleanup(struct arena *a);

/* Memory aligned for any type; never NULL (aborts on exhaustion). */
void *arena_alloc(struct arena *a, size_t size);
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_sprintf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Call fn(ptr) when the arena is reset.  ptr may be NULL (fn not called). */
void  arena_defer(struct arena *a, arena_cleanup_fn fn, void *ptr);

#endif
