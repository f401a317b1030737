/* err.h - the project's one result convention.
 *
 * Functions return 0 on success or a negative GACP_E* value, and fill a
 * caller-provided struct gacp_err with a stable machine code (used in the
 * JSON error envelope and logs) and a short factual message.  Details that
 * must not reach a client (SQL text, library messages) go to the log, not
 * into the message.
 */
#ifndef GACP_ERR_H
#define GACP_ERR_H

#define GACP_ERR_MSG_LEN 256

enum gacp_result {
	GACP_OK = 0,
	GACP_EINVAL = -1,       /* bad input from outside */
	GACP_ENOTFOUND = -2,
	GACP_ECONFLICT = -3,
	GACP_EUNAVAIL = -4,     /* a dependency (PostgreSQL, Redis) is down */
	GACP_EINTERNAL = -5,
	GACP_EAUTH = -6,        /* not authenticated */
	GACP_EFORBIDDEN = -7,
	GACP_ETOOBIG = -8,
	GACP_ELIMIT = -9,       /* rate limited */
	GACP_EIO = -10,
};

struct gacp_err {
	int  result;                  /* one of enum gacp_result */
	char code[48];                /* stable machine code, e.g. "invalid_json" */
	char msg[GACP_ERR_MSG_LEN];   /* short human message */
};

/* Fill err (may be NULL) and return result, so callers can write
 * `return gacp_err_set(err, GACP_EINVAL, "invalid_json", "...")`. */
int gacp_err_set(struct gacp_err *err, int result, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void gacp_err_clear(struct gacp_err *err);

#endif
