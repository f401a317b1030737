/* router.c - path matching against the const route table (see router.h). */
#include "http/router.h"
#include "common/arena.h"

#include <stdio.h>
#include <string.h>

/* Match path against pattern; on success store params.  Both start with
 * '/'.  Returns 1 on match. */
static int
match_pattern(const char *pattern, const char *path, struct http_request *req,
    struct arena *a, int capture)
{
	const char *p = pattern, *s = path;
	size_t nparams = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			const char *send = strchr(s, '/');
			size_t vlen = send ? (size_t)(send - s) : strlen(s);

			if (pend == NULL || vlen == 0)
				return 0;
			if (capture) {
				if (nparams >= HTTP_MAX_PATH_PARAMS)
					return 0;
				req->path_params[nparams].name =
				    arena_strndup(a, p + 1, (size_t)(pend - p - 1));
				req->path_params[nparams].value =
				    arena_strndup(a, s, vlen);
			}
			nparams++;
			p = pend + 1;
			s += vlen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (capture)
		req->npath_params = nparams;
	return 1;
}

enum router_result
router_match(const struct route *table, size_t n, struct http_request *req,
    struct arena *a, const struct route **out, char *allow, size_t allow_len)
{
	enum http_method want = req->method_id == HTTP_HEAD ? HTTP_GET :
	    req->method_id;
	int path_seen = 0;
	size_t i, used = 0;

	*out = NULL;
	if (allow_len > 0)
		allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!match_pattern(table[i].pattern, req->path, req, a, 0))
			continue;
		if (table[i].method == want) {
			match_pattern(table[i].pattern, req->path, req, a, 1);
			*out = &table[i];
			return ROUTER_MATCH;
		}
		path_seen = 1;
		if (allow_len > 0 && !strstr(allow, http_method_name(table[i].method))) {
			int w = snprintf(allow + used, allow_len - used, "%s%s",
			    used ? ", " : "", http_method_name(table[i].method));
			if (w > 0 && (size_t)w < allow_len - used)
				used += (size_t)w;
		}
	}
	return path_seen ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

size_t
router_index(const struct route *table, size_t n, const struct route *r)
{
	if (r == NULL || r < table || r >= table + n)
		return n;
	return (size_t)(r - table);
}
