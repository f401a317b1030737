/* fixture.h - shared unit-test fixtures: the tiny WordNet database, file
 * writing, and a service context for unit tests of the services' pure
 * parts: an arena, a principal and the default policy, and no process
 * behind it (s.app is NULL), so anything that does I/O would crash the
 * test instead of passing by accident. */
#ifndef GACP_TESTS_FIXTURE_H
#define GACP_TESTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "tenancy/tenancy.h"

struct fixture {
	struct arena     a;
	struct principal who;
	struct svc       s;
};

/* Prototypes */
void   fixture_init(struct fixture *f);
void   fixture_cleanup(struct fixture *f);
/* How many field errors the service recorded. */
size_t fixture_nerrors(const struct svc *s);
/* Whether the recorded field errors name field with code. */
bool   fixture_has_error(const struct svc *s, const char *field,
           const char *code);
/* The tiny WordNet database of the unit tests (tests/data/wordnet, found
 * through automake's srcdir), malloc'd. */
char  *fixture_wordnet_dir(void);
/* Write len bytes to path (test failure if it cannot). */
void   fixture_write_file(const char *path, const void *data, size_t len);

#endif
