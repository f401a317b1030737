/* fuzz-jscan.c - libFuzzer target: the webhook's JSON scanner (common/jscan.c)
 * against json_parse_strict() (common/json.c).
 *
 * Any bytes go to both parsers, at JSON_MAX_DEPTH and again at a depth
 * of 1 to 4 (so the depth limit is met often).  tests/unit/jscan_diff.c
 * does the comparing; it aborts here on:
 *   - jscan accepting what json_parse_strict() refuses;
 *   - jscan refusing what json_parse_strict() accepts, unless the refusal
 *     is one of jscan's documented stricter cases (raw control character
 *     in a string, '.' without a digit after it, a leading zero json-c
 *     lets through, "-.5", an integer beyond a double's range), known by
 *     jscan's message and by the construct standing where it points;
 *   - a refusal with another code than invalid_json, or tokens left
 *     behind by one;
 *   - for a document both accept: any difference between the json-c tree
 *     and the tokens (types, keys and their order, array lengths,
 *     decoded strings, numbers, truthiness), a token's extent or `next`
 *     out of place, or an accessor answering for a token of another type.
 */
#include "common/json.h"
#include "jscan_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const uint8_t *data, size_t size, int max_depth)
{
	struct jscan_diff d;

	if (!jscan_diff_run((const char *)data, size, max_depth, &d)) {
		fprintf(stderr, "fuzz-jscan: depth %d: %s\n", max_depth, d.what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, JSON_MAX_DEPTH);
	check(data, size, 1 + (int)(size % 4));
	return 0;
}
