/* fuzz-config.c - libFuzzer target: INI configuration text (common/config.c).
 *
 * Any bytes go to config_parse().  When accepted, every entry must be
 * "section.key" with both names made of [A-Za-z0-9_-], its value trimmed
 * and on one line, and each lookup (string, int, bool) must work.
 */
#include "common/config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_entry(const struct config_entry *e)
{
	const char *dot = strchr(e->key, '.');
	const char *p;
	size_t vlen = strlen(e->value);

	if (dot == NULL || dot == e->key || dot[1] == '\0' ||
	    strchr(dot + 1, '.') != NULL)
		abort();
	for (p = e->key; *p; p++)
		if (p != dot && !isalnum((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			abort();
	if (strchr(e->value, '\n') != NULL)
		abort();
	if (vlen > 0 && (e->value[0] == ' ' || e->value[0] == '\t' ||
	    e->value[vlen - 1] == ' ' || e->value[vlen - 1] == '\t' ||
	    e->value[vlen - 1] == '\r'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct gacp_err err;
	size_t i;

	config_init(&cfg);
	gacp_err_clear(&err);
	if (config_parse(&cfg, (const char *)data, size, &err) == GACP_OK) {
		for (i = 0; i < cfg.n; i++) {
			check_entry(&cfg.entries[i]);
			/* GACP_* overrides are not set under the fuzzer. */
			if (config_get(&cfg, cfg.entries[i].key, NULL) !=
			    cfg.entries[i].value)
				abort();
			(void)config_get_int(&cfg, cfg.entries[i].key, 0);
			(void)config_get_bool(&cfg, cfg.entries[i].key, false);
		}
	} else if (strcmp(err.code, "config_invalid") != 0 ||
	    (strncmp(err.msg, "line ", 5) != 0 &&
	    strstr(err.msg, "NUL") == NULL)) {
		abort();
	}
	config_cleanup(&cfg);
	return 0;
}
