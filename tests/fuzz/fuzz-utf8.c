/* fuzz-utf8.c - libFuzzer target: UTF-8 decoding and JSON string escaping (common/utf8.c, common/buf.c).
 *
 * Any bytes are decoded one sequence at a time: each decoded code point is
 * a scalar value (<= U+10FFFF, no surrogate) whose shortest encoding is the
 * very bytes read; utf8_valid() and utf8_count() agree with that walk.  The
 * bytes escaped by buf_json_strn() always give valid UTF-8 and one JSON
 * string, equal to the input when the input was valid text.
 */
#include "common/buf.h"
#include "common/json.h"
#include "common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t i = 0, count = 0;
	int valid = 1;
	struct json_object *obj = NULL;
	struct buf b;

	while (i < size) {
		uint32_t cp = 0;
		char enc[4];
		size_t n = utf8_decode(s + i, size - i, &cp);

		if (n > 4 || n > size - i)
			abort();
		if (n == 0) {
			valid = 0;
			i++;
		} else {
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				abort();
			if (utf8_encode(cp, enc) != n || memcmp(enc, s + i, n) != 0)
				abort();
			if (utf8_valid_prefix(s + i, size - i) != n)
				abort();
			if (cp == 0)
				valid = 0;
			i += n;
		}
		count++;
	}
	if (utf8_valid(s, size) != (valid != 0) || utf8_count(s, size) != count)
		abort();

	buf_init(&b);
	buf_json_strn(&b, s, size);
	if (!utf8_valid(b.data, b.len))
		abort();
	if (json_parse_strict(b.data, b.len, 2, &obj, NULL) != GACP_OK ||
	    !json_object_is_type(obj, json_type_string))
		abort();
	if (valid && ((size_t)json_object_get_string_len(obj) != size ||
	    memcmp(json_object_get_string(obj), s, size) != 0))
		abort();
	json_object_put(obj);
	buf_cleanup(&b);
	return 0;
}
