/* fixture.c - service context of the unit tests (see fixture.h). */
#include "fixture.h"
#include "common/config.h"
#include "common/json.h"

#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
fixture_wordnet_dir(void)
{
	const char *src = getenv("srcdir");
	char *p = malloc(1024);

	/* automake's test harness exports srcdir (the tests' directory). */
	snprintf(p, 1024, "%s/tests/data/wordnet", src ? src : ".");
	if (access(p, R_OK) != 0)
		snprintf(p, 1024, "%s/../../tests/data/wordnet",
		    src ? src : ".");
	return p;
}

void
fixture_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(fwrite(data, 1, len, f) == len);
	fclose(f);
}

void
fixture_init(struct fixture *f)
{
	struct config cfg;

	memset(f, 0, sizeof(*f));
	arena_init(&f->a, 4096);
	f->s.a = &f->a;
	f->s.who = &f->who;
	config_init(&cfg);
	tenancy_policy_load(&cfg, &f->s.policy);
	config_cleanup(&cfg);
}

void
fixture_cleanup(struct fixture *f)
{
	arena_cleanup(&f->a);
}

size_t
fixture_nerrors(const struct svc *s)
{
	return s->field_errors ? json_object_array_length(s->field_errors) : 0;
}

bool
fixture_has_error(const struct svc *s, const char *field,
    const char *code)
{
	size_t i;

	for (i = 0; i < fixture_nerrors(s); i++) {
		struct json_object *e =
		    json_object_array_get_idx(s->field_errors, i);
		if (strcmp(json_get_str(e, "field"), field) == 0 &&
		    strcmp(json_get_str(e, "code"), code) == 0)
			return true;
	}
	return false;
}
