/* log.c - structured JSON-lines logging (see log.h). */
#include "common/log.h"
#include "common/buf.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
	char           program[64];
	int            error_fd;
	int            access_fd;
	enum log_level min_level;
} logstate = { "gacp", STDERR_FILENO, STDERR_FILENO, LOG_INFO };

static const char *level_names[] = { "debug", "info", "warn", "error" };

static int
open_log(const char *path)
{
	if (path == NULL || path[0] == '\0' || strcmp(path, "stderr") == 0)
		return STDERR_FILENO;
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int
log_sys_init(const char *program, const char *error_path,
    const char *access_path, enum log_level min_level)
{
	int efd, afd;

	snprintf(logstate.program, sizeof(logstate.program), "%s",
	    program ? program : "gacp");
	logstate.min_level = min_level;
	efd = open_log(error_path);
	afd = open_log(access_path);
	if (efd < 0 || afd < 0) {
		if (efd > STDERR_FILENO)
			close(efd);
		if (afd > STDERR_FILENO)
			close(afd);
		return -10; /* GACP_EIO */
	}
	log_sys_cleanup();
	logstate.error_fd = efd;
	logstate.access_fd = afd;
	return 0;
}

void
log_sys_cleanup(void)
{
	if (logstate.error_fd > STDERR_FILENO)
		close(logstate.error_fd);
	if (logstate.access_fd > STDERR_FILENO &&
	    logstate.access_fd != logstate.error_fd)
		close(logstate.access_fd);
	logstate.error_fd = logstate.access_fd = STDERR_FILENO;
}

enum log_level
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (enum log_level)i;
	return LOG_INFO;
}

void
log_time_now(char *out, unsigned long outlen)
{
	struct timeval tv;
	struct tm tm;
	char tmp[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%06ldZ", tmp, (long)tv.tv_usec);
}

static void
write_line(int fd, struct buf *b)
{
	const char *p = b->data;
	size_t left = b->len;

	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n <= 0)
			return;     /* nowhere to report a failing log */
		p += n;
		left -= (size_t)n;
	}
}

static void log_vmsg(enum log_level level, const char *event,
    const char *fields, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
log_vmsg(enum log_level level, const char *event, const char *fields,
    const char *fmt, va_list ap)
{
	char when[40];
	char msg[1024];
	struct buf b;

	if (level < logstate.min_level)
		return;
	log_time_now(when, sizeof(when));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	buf_init(&b);
	buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"program\":",
	    when, level_names[level]);
	buf_json_str(&b, logstate.program);
	buf_printf(&b, ",\"pid\":%ld,\"event\":", (long)getpid());
	buf_json_str(&b, event);
	buf_puts(&b, ",\"msg\":");
	buf_json_str(&b, msg);
	if (fields != NULL && fields[0] != '\0') {
		buf_putc(&b, ',');
		buf_puts(&b, fields);
	}
	buf_puts(&b, "}\n");
	write_line(logstate.error_fd, &b);
	buf_cleanup(&b);
}

void
log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, event, NULL, fmt, ap);
	va_end(ap);
}

void
log_msg_fields(enum log_level level, const char *event,
    const char *json_fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, event, json_fields, fmt, ap);
	va_end(ap);
}

void
log_access_line(const struct buf *line)
{
	struct buf b = *line;
	write_line(logstate.access_fd, &b);
}
