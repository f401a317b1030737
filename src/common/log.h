/* log.h - structured JSON-lines logging (error log and access log).
 *
 * One line per event, written with a single write(2) so lines from several
 * pre-forked processes sharing a file never interleave (O_APPEND, < PIPE_BUF
 * in the common case).  Module state is set once by log_sys_init().
 */
#ifndef GACP_LOG_H
#define GACP_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

struct buf;

/* program: name put in every line.  error_path/access_path: files to append
 * to, or NULL / "" / "stderr" for standard error.  Returns 0 or GACP_EIO. */
int  log_sys_init(const char *program, const char *error_path,
    const char *access_path, enum log_level min_level);
void log_sys_cleanup(void);
enum log_level log_level_parse(const char *s);

/* {"time":…,"level":…,"program":…,"pid":…,"event":event,"msg":…} */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with extra pre-rendered JSON members (`"k":v,"k2":v2`, no braces). */
void log_msg_fields(enum log_level level, const char *event,
    const char *json_fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write one complete JSON object line (no trailing newline needed). */
void log_access_line(const struct buf *line);
/* RFC 3339 UTC time with microseconds into out (>= 32 bytes). */
void log_time_now(char *out, unsigned long outlen);

#endif
