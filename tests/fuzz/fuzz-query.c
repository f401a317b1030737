/* fuzz-query.c - libFuzzer target: query strings and percent-decoding (http/request.c, util_url_decode).
 *
 * The input (up to its first NUL, as a FastCGI param would be) is the
 * QUERY_STRING of a request; the raw bytes, NULs included, also go through
 * util_url_decode() in both '+' modes.  Checked: decoded lengths never grow,
 * decoded names and values hold no NUL, and every parameter is found again
 * by name.
 */
#include "common/arena.h"
#include "common/util.h"
#include "http/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_decode(const char *in, size_t len, bool plus)
{
	char *out = malloc(len + 1);
	long n = util_url_decode(in, len, out, plus);

	if (n >= 0 && ((size_t)n > len || out[n] != '\0'))
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = malloc(size + sizeof("QUERY_STRING="));
	char *params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/q", qs, NULL };
	struct http_request req;
	struct gacp_err err;
	struct arena a;
	size_t i;

	check_decode((const char *)data, size, true);
	check_decode((const char *)data, size, false);

	memcpy(qs, "QUERY_STRING=", 13);
	memcpy(qs + 13, data, size);
	qs[13 + size] = '\0';
	arena_init(&a, 512);
	if (http_request_parse(&req, &a, params, NULL, NULL, 0, &err) ==
	    GACP_OK) {
		if (req.nquery > HTTP_MAX_QUERY_PARAMS ||
		    strcmp(req.raw_query, qs + 13) != 0)
			abort();
		for (i = 0; i < req.nquery; i++) {
			const char *v = http_request_query(&req,
			    req.query[i].name);
			size_t j = 0;

			/* A lookup returns the first occurrence of the name. */
			while (strcmp(req.query[j].name, req.query[i].name) != 0)
				j++;
			if (v == NULL || strcmp(v, req.query[j].value) != 0)
				abort();
			if (strlen(req.query[i].name) > size ||
			    strlen(req.query[i].value) > size)
				abort();
		}
	} else if (strcmp(err.code, "bad_request") != 0) {
		abort();
	}
	arena_cleanup(&a);
	free(qs);
	return 0;
}
