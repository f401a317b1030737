/* fields.h - input checks shared by the Messenger REST services (channels, conversations, responses).
 *
 * Each check records a field error on the service (svc_field_error, a 422
 * "validation_failed" once svc_check_fields runs) and returns NULL / false
 * when the value is absent or invalid.  Returned strings belong to the
 * JSON object they came from.
 */
#ifndef GACP_MESSENGER_FIELDS_H
#define GACP_MESSENGER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

struct svc;

/* Messenger's limit on a message's text (Send API reference). */
#define MX_TEXT_MAX_CHARS 2000
#define MX_METADATA_MAX_BYTES 8192

/* Prototypes */

/* v as message text: a string of 1..max_chars characters of valid UTF-8
 * without control characters other than tab and line breaks.  field
 * names the value in the error ("text", "responses[2].templates[0]"). */
const char *mx_field_text(struct svc *s, struct json_object *v,
        const char *field, size_t max_chars);
/* body[key] as an optional JSON object of at most MX_METADATA_MAX_BYTES,
 * returned as compact JSON text (arena); NULL when absent or invalid. */
const char *mx_field_metadata(struct svc *s, struct json_object *body,
        const char *key);
/* An optional query parameter that must be an RFC 3339 date-time of a
 * real calendar day (tenancy_rfc3339_ok checks the form; 2026-02-30 has
 * it too, and PostgreSQL would refuse it); records "invalid_format". */
bool mx_field_datetime(struct svc *s, const char *field, const char *value);
/* An optional query parameter's value checked against a NULL-terminated
 * list; records "invalid_value" and returns false if not in it. */
bool mx_field_one_of(struct svc *s, const char *field, const char *value,
        const char *const *allowed);

#endif
