/*
 * log: the error/event log (stderr, with a level and a timestamp) and the
 * access log (one line per request to a file, stderr, or nowhere).
 *
 * log_warn()/log_error() append strerror(errno); the *x variants do not
 * (OpenBSD relayd's convention).  Safe to call from any thread.
 */
#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include "config.h"

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens (or reopens, for SIGUSR1) the access log: a path, "stderr" or "off".
 * Returns 0, or -1 with errno set when the file cannot be opened (the
 * previous destination is then kept). */
int access_log_open(const char *where);
/* Whether access_log_open(where) would succeed: the file is opened
 * (created when missing, as access_log_open would) and closed.  0, or -1
 * with errno set. */
int access_log_check(const char *where);
int access_log_enabled(void);
/* Writes one complete line (the caller formats it, newline included). */
void access_log_write(const char *line, size_t len);
void access_log_close(void);

#endif
