/* test_arena.c - unit tests of the per-request arena (common/arena.c). */
#include "tests.h"
#include "common/arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Cleanup order recorder: each deferred call appends its tag. */
struct order_log {
	int    seen[16];
	size_t n;
};

struct tagged {
	struct order_log *log;
	int               tag;
};

static void
record_cleanup(void *p)
{
	struct tagged *t = p;

	if (t->log->n < sizeof(t->log->seen) / sizeof(t->log->seen[0]))
		t->log->seen[t->log->n++] = t->tag;
}

static void
count_cleanup(void *p)
{
	(*(int *)p)++;
}

static void
test_alignment(void)
{
	struct arena a;
	size_t sizes[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000 };
	size_t i;

	arena_init(&a, 4096);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = arena_alloc(&a, sizes[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL((uintptr_t)p % alignof(max_align_t), 0);
		CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
		memset(p, 0xa5, sizes[i]);
	}
	/* Sizes are rounded up to the alignment in the accounting. */
	arena_reset(&a);
	(void)arena_alloc(&a, 1);
	CU_ASSERT_EQUAL(a.used_bytes, 16);
	(void)arena_alloc(&a, 17);
	CU_ASSERT_EQUAL(a.used_bytes, 16 + 32);
	arena_cleanup(&a);
}

static void
test_zero_size_alloc(void)
{
	struct arena a;
	void *p, *q;

	arena_init(&a, 256);
	p = arena_alloc(&a, 0);
	q = arena_alloc(&a, 0);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_PTR_NOT_NULL(q);
	CU_ASSERT_EQUAL(a.used_bytes, 0);
	arena_cleanup(&a);
}

static void
test_default_block_size(void)
{
	struct arena a;

	arena_init(&a, 0);
	CU_ASSERT_EQUAL(a.block_bytes, 16384);
	CU_ASSERT_PTR_NOT_NULL(a.head);
	arena_cleanup(&a);
}

static void
test_large_allocation(void)
{
	struct arena a;
	struct arena_block *first;
	unsigned char *big, *small;
	size_t i, big_bytes = 1024 * 1024 + 3;

	arena_init(&a, 1024);
	first = a.head;
	small = arena_alloc(&a, 10);
	memcpy(small, "123456789", 10);
	big = arena_alloc(&a, big_bytes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_EQUAL((uintptr_t)big % 16, 0);
	CU_ASSERT_PTR_NOT_EQUAL(a.head, first);   /* a block of its own */
	for (i = 0; i < big_bytes; i++)
		big[i] = (unsigned char)i;
	CU_ASSERT_EQUAL(big[big_bytes - 1], (unsigned char)(big_bytes - 1));
	/* The earlier allocation is untouched. */
	CU_ASSERT_STRING_EQUAL((char *)small, "123456789");
	CU_ASSERT(a.used_bytes >= big_bytes + 10);

	/* Reset keeps only the first, default-sized block. */
	arena_reset(&a);
	CU_ASSERT_PTR_EQUAL(a.head, first);
	CU_ASSERT_EQUAL(a.used_bytes, 0);
	arena_cleanup(&a);
	CU_ASSERT_PTR_NULL(a.head);
}

static void
test_many_blocks(void)
{
	struct arena a;
	struct arena_block *first;
	char *p[200];
	int i;

	arena_init(&a, 128);
	first = a.head;
	for (i = 0; i < 200; i++) {
		p[i] = arena_alloc(&a, 100);
		memset(p[i], 'a' + i % 26, 100);
	}
	for (i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(p[i][99], 'a' + i % 26);
	CU_ASSERT_EQUAL(a.used_bytes, 200 * 112);
	arena_reset(&a);
	CU_ASSERT_PTR_EQUAL(a.head, first);
	arena_cleanup(&a);
}

static void
test_reuse_after_reset(void)
{
	struct arena a;
	void *p1, *p2;
	int round;

	arena_init(&a, 512);
	p1 = arena_alloc(&a, 64);
	arena_reset(&a);
	p2 = arena_alloc(&a, 64);
	CU_ASSERT_PTR_EQUAL(p1, p2);   /* the kept block is reused from 0 */
	for (round = 0; round < 1000; round++) {
		struct arena_block *first = a.head;
		(void)arena_alloc(&a, 4000);   /* forces an extra block */
		(void)arena_strdup(&a, "x");
		arena_reset(&a);
		CU_ASSERT_PTR_EQUAL(a.head, first);
		CU_ASSERT_EQUAL(a.used_bytes, 0);
	}
	CU_ASSERT_PTR_EQUAL(arena_alloc(&a, 1), p1);
	arena_cleanup(&a);
}

static void
test_cleanups_reverse_on_reset(void)
{
	struct arena a;
	struct order_log log = { { 0 }, 0 };
	struct tagged t[4];
	int i;

	arena_init(&a, 256);
	for (i = 0; i < 4; i++) {
		t[i].log = &log;
		t[i].tag = i + 1;
		arena_defer(&a, record_cleanup, &t[i]);
		/* Interleave allocations that spill into new blocks. */
		(void)arena_alloc(&a, 300);
	}
	CU_ASSERT_EQUAL(log.n, 0);
	arena_reset(&a);
	CU_ASSERT_EQUAL_FATAL(log.n, 4);
	CU_ASSERT_EQUAL(log.seen[0], 4);
	CU_ASSERT_EQUAL(log.seen[1], 3);
	CU_ASSERT_EQUAL(log.seen[2], 2);
	CU_ASSERT_EQUAL(log.seen[3], 1);
	/* Cleanups run once: a second reset does not repeat them. */
	arena_reset(&a);
	CU_ASSERT_EQUAL(log.n, 4);
	arena_cleanup(&a);
	CU_ASSERT_EQUAL(log.n, 4);
}

static void
test_cleanups_reverse_on_cleanup(void)
{
	struct arena a;
	struct order_log log = { { 0 }, 0 };
	struct tagged t[3];
	int i;

	arena_init(&a, 64);
	for (i = 0; i < 3; i++) {
		t[i].log = &log;
		t[i].tag = 10 + i;
		arena_defer(&a, record_cleanup, &t[i]);
	}
	arena_cleanup(&a);
	CU_ASSERT_EQUAL_FATAL(log.n, 3);
	CU_ASSERT_EQUAL(log.seen[0], 12);
	CU_ASSERT_EQUAL(log.seen[1], 11);
	CU_ASSERT_EQUAL(log.seen[2], 10);
	CU_ASSERT_PTR_NULL(a.head);
	CU_ASSERT_PTR_NULL(a.cleanups);
}

static void
test_defer_null_ptr_not_called(void)
{
	struct arena a;
	int calls = 0;

	arena_init(&a, 256);
	arena_defer(&a, count_cleanup, NULL);
	CU_ASSERT_PTR_NULL(a.cleanups);
	arena_defer(&a, count_cleanup, &calls);
	arena_reset(&a);
	CU_ASSERT_EQUAL(calls, 1);
	/* Deferring after a reset works the same. */
	arena_defer(&a, count_cleanup, &calls);
	arena_defer(&a, count_cleanup, &calls);
	arena_reset(&a);
	CU_ASSERT_EQUAL(calls, 3);
	arena_cleanup(&a);
	CU_ASSERT_EQUAL(calls, 3);
}

static void
test_strings(void)
{
	struct arena a;
	char *s, *long_s;
	char big[5000];

	arena_init(&a, 256);
	CU_ASSERT_STRING_EQUAL(arena_strdup(&a, "hello"), "hello");
	CU_ASSERT_PTR_NULL(arena_strdup(&a, NULL));
	s = arena_strndup(&a, "abcdef", 3);
	CU_ASSERT_STRING_EQUAL(s, "abc");
	s = arena_strndup(&a, "ab\0cd", 5);   /* copies n bytes, NUL included */
	CU_ASSERT_EQUAL(memcmp(s, "ab\0cd", 6), 0);
	CU_ASSERT_STRING_EQUAL(arena_sprintf(&a, "%d-%s-%.2f", 42, "x", 1.5),
	    "42-x-1.50");
	CU_ASSERT_STRING_EQUAL(arena_sprintf(&a, "%s", ""), "");
	/* A formatted string larger than a block. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	long_s = arena_sprintf(&a, "<%s>", big);
	CU_ASSERT_EQUAL(strlen(long_s), sizeof(big) + 1);
	CU_ASSERT_EQUAL(long_s[0], '<');
	CU_ASSERT_EQUAL(long_s[sizeof(big)], '>');
	arena_cleanup(&a);
}

static void
test_calloc_zeroed(void)
{
	struct arena a;
	unsigned char *p;
	size_t i;
	int nonzero = 0;

	arena_init(&a, 256);
	/* Dirty the block, reset, then calloc over the same bytes. */
	memset(arena_alloc(&a, 200), 0xff, 200);
	arena_reset(&a);
	p = arena_calloc(&a, 25, 8);
	for (i = 0; i < 200; i++)
		nonzero |= p[i];
	CU_ASSERT_EQUAL(nonzero, 0);
	p = arena_calloc(&a, 0, 8);
	CU_ASSERT_PTR_NOT_NULL(p);
	arena_cleanup(&a);
}

static void
test_null_and_reinit(void)
{
	struct arena a;
	char *p;

	arena_reset(NULL);
	arena_cleanup(NULL);
	arena_init(&a, 128);
	arena_cleanup(&a);
	arena_reset(&a);          /* after cleanup: a no-op */
	arena_cleanup(&a);        /* twice: harmless */
	arena_init(&a, 128);
	p = arena_strdup(&a, "again");
	CU_ASSERT_STRING_EQUAL(p, "again");
	arena_cleanup(&a);
}

static const struct test_case cases[] = {
	{ "alignment", test_alignment },
	{ "zero size alloc", test_zero_size_alloc },
	{ "default block size", test_default_block_size },
	{ "large allocation", test_large_allocation },
	{ "many blocks", test_many_blocks },
	{ "reuse after reset", test_reuse_after_reset },
	{ "cleanups reverse on reset", test_cleanups_reverse_on_reset },
	{ "cleanups reverse on cleanup", test_cleanups_reverse_on_cleanup },
	{ "defer NULL not called", test_defer_null_ptr_not_called },
	{ "strings", test_strings },
	{ "calloc zeroed", test_calloc_zeroed },
	{ "NULL and re-init", test_null_and_reinit },
	{ NULL, NULL }
};

void
test_arena_register(void)
{
	tests_add_suite("arena", cases);
}
