/* xmalloc.h - allocation that never returns NULL.
 *
 * Running out of memory in a request-serving process is not a condition we
 * can answer sensibly; like tmux's xmalloc we log and abort, and the process
 * manager (spawn-fcgi / systemd) starts a fresh one.
 */
#ifndef GACP_XMALLOC_H
#define GACP_XMALLOC_H

#include <stddef.h>
#include <stdlib.h>   /* free() pairs with every x*alloc */

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formatted string on the heap; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
