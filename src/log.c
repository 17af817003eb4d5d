/*
 * log: error/event log on stderr and the access log (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = LOG_INFO;

/* The access log fd: -1 = off.  Swapped under a lock on SIGUSR1 so that a
 * worker never writes to a closed descriptor. */
static int access_fd = -1;
static int access_fd_owned;
static pthread_rwlock_t access_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char *level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level) { atomic_store(&current_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&current_level); }

/* Formats "2026-11-21T12:00:00.123Z level message[: strerror]\n" and writes
 * it with one write(2), so lines from threads never interleave. */
static void log_emit(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
    int saved_errno = errno;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;

    if ((int)level > atomic_load(&current_level))
        return;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03dZ %s ",
                          (int)(tv.tv_usec / 1000), level_names[level]);
    int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (m > 0)
        n = (n + (size_t)m < sizeof line - 1) ? n + (size_t)m : sizeof line - 2;
    if (with_errno && n < sizeof line - 2) {
        m = snprintf(line + n, sizeof line - n, ": %s", strerror(saved_errno));
        if (m > 0)
            n = (n + (size_t)m < sizeof line - 1) ? n + (size_t)m : sizeof line - 2;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
    errno = saved_errno;
}

#define LOG_FN(fn, level, with_errno)                      \
    void fn(const char *fmt, ...)                          \
    {                                                      \
        va_list ap;                                        \
        va_start(ap, fmt);                                 \
        log_emit(level, with_errno, fmt, ap);              \
        va_end(ap);                                        \
    }

LOG_FN(log_error, LOG_ERROR, 1)
LOG_FN(log_errorx, LOG_ERROR, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)

int access_log_open(const char *where)
{
    int fd, owned;

    if (strcmp(where, "off") == 0) {
        fd = -1;
        owned = 0;
    } else if (strcmp(where, "stderr") == 0) {
        fd = STDERR_FILENO;
        owned = 0;
    } else {
        fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            return -1;
        owned = 1;
    }
    pthread_rwlock_wrlock(&access_lock);
    if (access_fd_owned && access_fd >= 0)
        close(access_fd);
    /* Atomic: access_log_enabled reads it without the lock. */
    __atomic_store_n(&access_fd, fd, __ATOMIC_RELAXED);
    access_fd_owned = owned;
    pthread_rwlock_unlock(&access_lock);
    return 0;
}

int access_log_check(const char *where)
{
    if (strcmp(where, "off") == 0 || strcmp(where, "stderr") == 0)
        return 0;
    int fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int access_log_enabled(void)
{
    /* A racy read is fine: it only decides whether to format a line. */
    return __atomic_load_n(&access_fd, __ATOMIC_RELAXED) >= 0;
}

void access_log_write(const char *line, size_t len)
{
    pthread_rwlock_rdlock(&access_lock);
    if (access_fd >= 0) {
        ssize_t w = write(access_fd, line, len);
        (void)w;
    }
    pthread_rwlock_unlock(&access_lock);
}

void access_log_close(void)
{
    access_log_open("off");
}
