/*
 * event: operator-visible events (CONTRACT.md section 5) - logged at warn
 * level and, when `notify` is set, handed to that program.
 *
 * The program is started with posix_spawn (never through a shell), with
 * only PROXY_EVENT, PROXY_POOL, PROXY_SERVER, PROXY_DETAIL and PATH in its
 * environment, stdin on /dev/null, no inherited descriptors beyond
 * stdout/stderr, default signal mask and dispositions.  It is never waited
 * for; it is reaped by libev's SIGCHLD handler on the default loop or, when
 * that does not see it, by this module's reaper timer.
 *
 * Main thread only.
 */
#ifndef PROXY_EVENT_H
#define PROXY_EVENT_H

struct ev_loop;

enum event_kind {
    EVT_SERVER_DOWN,
    EVT_SERVER_UP,
    EVT_STANDBY_ACTIVE,
    EVT_STANDBY_IDLE,
    EVT_POOL_DOWN,
    EVT_RELOAD_OK,
    EVT_RELOAD_FAILED,
    EVT_CERT_EXPIRING,
    EVT_CERT_EXPIRED,
    EVT_SURGE_START,
    EVT_SURGE_END
};

/* Logs "event server-down pool=web server=app1: check: connect refused"
 * (pool, server and detail may be NULL and are then left out) and runs the
 * notify program if one is set. */
void event_emit(enum event_kind kind, const char *pool, const char *server, const char *detail);

/* The notify program: a path, or "" for none.  At start-up and reload. */
void event_set_notify(const char *path);

/* "server-down", "server-up", ... as in PROXY_EVENT. */
const char *event_kind_name(enum event_kind kind);

/* Attaches the child reaper to `loop` (health_start() calls it).  Without
 * it children are still reaped, at the next event_emit(). */
void event_start(struct ev_loop *loop);
void event_stop(void);

/* Notify programs started and not reaped yet (tests, stats). */
unsigned event_children(void);

#endif
