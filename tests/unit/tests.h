/* tests.h - shared declarations of the CUnit unit-test binary.
 *
 * Each tests/unit/test_<module>.c defines one suite and exports
 * `void test_<module>_register(void)`; main.c calls every one.
 */
#ifndef GACP_TESTS_H
#define GACP_TESTS_H

#include <CUnit/CUnit.h>

/* Add a suite with the given tests; aborts the run if CUnit fails. */
struct test_case {
	const char   *name;
	CU_TestFunc   fn;
};
void tests_add_suite(const char *name, const struct test_case *cases);

#ifndef TEST_LIST
#define TEST_LIST "test_list.h"
#endif
#define TEST_REGISTER(fn) void fn(void);
#include TEST_LIST
#undef TEST_REGISTER

#endif
