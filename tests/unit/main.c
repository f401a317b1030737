/* main.c - runs every CUnit suite of a test binary.
 *
 * Shared by the unit tests (suites in test_list.h) and the integration tests
 * (TEST_LIST defined as "itest_list.h" by their Makefile rule).
 * Usage: gacp-unit|gacp-itest [SUITE]   (only that suite when named)
 * Prints CUnit's basic-mode summary; exits non-zero on any failure.
 */
#include "tests.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *only_suite;

void
tests_add_suite(const char *name, const struct test_case *cases)
{
	CU_pSuite s;

	if (only_suite != NULL && strcmp(only_suite, name) != 0)
		return;
	s = CU_add_suite(name, NULL, NULL);
	if (s == NULL) {
		fprintf(stderr, "CU_add_suite(%s): %s\n", name, CU_get_error_msg());
		exit(2);
	}
	for (; cases->name != NULL; cases++) {
		if (CU_add_test(s, cases->name, cases->fn) == NULL) {
			fprintf(stderr, "CU_add_test(%s): %s\n", cases->name,
			    CU_get_error_msg());
			exit(2);
		}
	}
}

int
main(int argc, char **argv)
{
	unsigned failed;

	if (argc > 1)
		only_suite = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
#define TEST_REGISTER(fn) fn();
#include TEST_LIST
#undef TEST_REGISTER
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_suites_run() == 0) {
		fprintf(stderr, "no suite ran\n");
		failed = 1;
	}
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
