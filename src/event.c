/*
 * event: logs operator-visible events and runs the `notify` program for
 * them (see event.h).  Owns the notify path and the list of notify
 * children not reaped yet.
 */
#include "event.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

/* A flapping server must not fork-bomb the host: beyond this many notify
 * programs still running, events are only logged. */
#define EVENT_MAX_CHILDREN 32
#define EVENT_REAP_INTERVAL 0.25

static const char *const kind_names[] = {
    [EVT_SERVER_DOWN] = "server-down",
    [EVT_SERVER_UP] = "server-up",
    [EVT_STANDBY_ACTIVE] = "standby-active",
    [EVT_STANDBY_IDLE] = "standby-idle",
    [EVT_POOL_DOWN] = "pool-down",
    [EVT_RELOAD_OK] = "reload-ok",
    [EVT_RELOAD_FAILED] = "reload-failed",
    [EVT_CERT_EXPIRING] = "cert-expiring",
    [EVT_CERT_EXPIRED] = "cert-expired",
    [EVT_SURGE_START] = "surge-start",
    [EVT_SURGE_END] = "surge-end",
};

static char notify_path[CONFIG_PATH_MAX];
static pid_t children[EVENT_MAX_CHILDREN];
static unsigned nchildren;
static struct ev_loop *reap_loop;
static ev_timer reap_timer;

const char *event_kind_name(enum event_kind kind)
{
    if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
        return "unknown";
    return kind_names[kind];
}

void event_set_notify(const char *path)
{
    snprintf(notify_path, sizeof notify_path, "%s", path ? path : "");
}

unsigned event_children(void)
{
    return nchildren;
}

/* Reaps our own children only, never waitpid(-1): other modules may wait
 * for children of their own.  ECHILD means libev's SIGCHLD handler on the
 * default loop got there first. */
static void reap_children(void)
{
    unsigned i = 0;

    while (i < nchildren) {
        pid_t r = waitpid(children[i], NULL, WNOHANG);

        if (r == 0 || (r < 0 && errno == EINTR)) {
            i++;
            continue;
        }
        children[i] = children[--nchildren];
    }
    if (nchildren == 0 && reap_loop && ev_is_active(&reap_timer)) {
        ev_ref(reap_loop);
        ev_timer_stop(reap_loop, &reap_timer);
    }
}

static void reap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    reap_children();
}

/* The timer runs only while children are outstanding, and does not keep
 * the loop alive on its own (ev_unref). */
static void arm_reaper(void)
{
    if (!reap_loop || ev_is_active(&reap_timer))
        return;
    ev_timer_again(reap_loop, &reap_timer);
    ev_unref(reap_loop);
}

void event_start(struct ev_loop *loop)
{
    reap_loop = loop;
    ev_timer_init(&reap_timer, reap_cb, 0., EVENT_REAP_INTERVAL);
    if (nchildren > 0)
        arm_reaper();
}

void event_stop(void)
{
    if (reap_loop && ev_is_active(&reap_timer)) {
        ev_ref(reap_loop);
        ev_timer_stop(reap_loop, &reap_timer);
    }
    reap_loop = NULL;
}

/* Fills `env` (5 entries + NULL) from the event, using `store` for the
 * strings. */
static void build_env(char *store, size_t size, char *env[6], const char *kind,
                      const char *pool, const char *server, const char *detail)
{
    const char *path = getenv("PATH");
    const char *names[5] = { "PROXY_EVENT", "PROXY_POOL", "PROXY_SERVER", "PROXY_DETAIL", "PATH" };
    const char *values[5] = { kind, pool, server, detail,
                              path ? path : "/usr/local/bin:/usr/bin:/bin" };
    size_t off = 0;
    int i;

    for (i = 0; i < 5; i++) {
        int n = snprintf(store + off, size - off, "%s=%s", names[i], values[i] ? values[i] : "");

        env[i] = store + off;
        if (n < 0 || (size_t)n >= size - off)
            n = (int)(size - off - 1); /* truncated; later entries are empty */
        off += (size_t)n + 1;
        if (off >= size)
            off = size - 1;
    }
    env[5] = NULL;
}

/* Resets what the child would otherwise inherit from a proxy thread: the
 * signal mask (the main thread may block signals for libev) and ignored
 * dispositions (SIGPIPE). */
static int spawn_attrs(posix_spawnattr_t *attr)
{
    static const int sigs[] = { SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGTERM,
                                SIGUSR1, SIGUSR2, SIGQUIT, SIGALRM };
    sigset_t empty, defaults;
    size_t i;

    sigemptyset(&empty);
    sigemptyset(&defaults);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&defaults, sigs[i]);
    if (posix_spawnattr_init(attr) != 0)
        return -1;
    posix_spawnattr_setsigmask(attr, &empty);
    posix_spawnattr_setsigdefault(attr, &defaults);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    return 0;
}

/* stdin from /dev/null; stdout/stderr shared with the proxy so the
 * program's messages land in the same log; nothing else (listening
 * sockets must not outlive the proxy in a slow notify program). */
static int spawn_files(posix_spawn_file_actions_t *fa)
{
    if (posix_spawn_file_actions_init(fa) != 0)
        return -1;
    posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(fa, 3);
    return 0;
}

static void run_notify(const char *kind, const char *pool, const char *server,
                       const char *detail)
{
    char store[2048];
    char *env[6];
    char *argv[2];
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    reap_children();
    if (nchildren >= EVENT_MAX_CHILDREN) {
        log_warnx("event: %u notify programs still running, not running %s for %s",
                  nchildren, notify_path, kind);
        return;
    }
    build_env(store, sizeof store, env, kind, pool, server, detail);
    argv[0] = notify_path;
    argv[1] = NULL;
    if (spawn_attrs(&attr) < 0)
        return;
    if (spawn_files(&fa) < 0) {
        posix_spawnattr_destroy(&attr);
        return;
    }
    rc = posix_spawn(&pid, notify_path, &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        log_warnx("event: cannot run notify program %s: %s", notify_path, strerror(rc));
        return;
    }
    children[nchildren++] = pid;
    arm_reaper();
}

void event_emit(enum event_kind kind, const char *pool, const char *server, const char *detail)
{
    const char *name = event_kind_name(kind);

    log_warnx("event %s%s%s%s%s%s%s", name,
              pool ? " pool=" : "", pool ? pool : "",
              server ? " server=" : "", server ? server : "",
              detail ? ": " : "", detail ? detail : "");
    if (notify_path[0])
        run_notify(name, pool, server, detail);
}
