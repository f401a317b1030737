/* fixture.c - service context of the unit tests (see fixture.h). */
#include "fixture.h"
#include "common/config.h"
#include "common/json.h"

#include <string.h>

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
