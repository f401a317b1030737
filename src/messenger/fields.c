/* fields.c - input checks shared by the Messenger REST services (see fields.h). */
#include "messenger/fields.h"
#include "common/arena.h"
#include "common/json.h"
#include "common/utf8.h"
#include "tenancy/tenancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
mx_field_text(struct svc *s, struct json_object *v, const char *field,
    size_t max_chars)
{
	const char *str;
	size_t len, i;

	if (v == NULL) {
		svc_field_error(s, field, "required", "is required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		svc_field_error(s, field, "invalid_type", "must be a string");
		return NULL;
	}
	str = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0) {
		svc_field_error(s, field, "required", "must not be empty");
		return NULL;
	}
	/* json-c keeps "\u0000" inside the string; C code would cut it. */
	if (strlen(str) != len || !utf8_valid(str, len)) {
		svc_field_error(s, field, "invalid_characters",
		    "must be UTF-8 text without NUL characters");
		return NULL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			svc_field_error(s, field, "invalid_characters",
			    "must not contain control characters");
			return NULL;
		}
	}
	if (utf8_count(str, len) > max_chars) {
		svc_field_error(s, field, "too_long",
		    "must be at most %zu characters", max_chars);
		return NULL;
	}
	return str;
}

const char *
mx_field_metadata(struct svc *s, struct json_object *body, const char *key)
{
	struct json_object *m;
	const char *text;

	if (!json_object_object_get_ex(body, key, &m) || m == NULL)
		return NULL;
	if (!json_object_is_type(m, json_type_object)) {
		svc_field_error(s, key, "invalid_type", "must be an object");
		return NULL;
	}
	text = json_compact(m);
	if (strlen(text) > MX_METADATA_MAX_BYTES) {
		svc_field_error(s, key, "too_long",
		    "must be at most %d bytes of JSON", MX_METADATA_MAX_BYTES);
		return NULL;
	}
	return arena_strdup(s->a, text);
}

bool
mx_field_one_of(struct svc *s, const char *field, const char *value,
    const char *const *allowed)
{
	char names[128] = "";
	size_t i, used = 0;

	if (value == NULL)
		return true;
	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(value, allowed[i]) == 0)
			return true;
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    "%s%s", i ? ", " : "", allowed[i]);
		if (used >= sizeof(names))
			used = sizeof(names) - 1;
	}
	svc_field_error(s, field, "invalid_value", "must be one of: %s", names);
	return false;
}

static bool
calendar_day_ok(const char *v)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int year = atoi(v), month = atoi(v + 5), day = atoi(v + 8);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (year < 1 || month < 1 || month > 12)
		return false;
	return day >= 1 && day <= days[month - 1] + (month == 2 && leap);
}

bool
mx_field_datetime(struct svc *s, const char *field, const char *value)
{
	/* tenancy_rfc3339_ok fixes the layout YYYY-MM-DDTHH:MM:SS…, so the
	 * numbers sit at offsets 0, 5 and 8. */
	if (value == NULL || (tenancy_rfc3339_ok(value) &&
	    calendar_day_ok(value)))
		return true;
	svc_field_error(s, field, "invalid_format", "must be an RFC 3339 "
	    "date-time, e.g. 2026-01-31T12:00:00Z");
	return false;
}
