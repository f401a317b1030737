/* err.c - filling struct gacp_err. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
gacp_err_set(struct gacp_err *err, int result, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return result;
	err->result = result;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "internal");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return result;
}

void
gacp_err_clear(struct gacp_err *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
}
