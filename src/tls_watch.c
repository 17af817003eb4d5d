/*
 * tls_watch: ticket key rotation and certificate expiry (see tls_watch.h).
 */
#include "tls_watch.h"

#include <ev.h>
#include <stdio.h>

#include "event.h"
#include "log.h"
#include "runtime.h"
#include "tls_certs.h"
#include "tls_ctx.h"
#include "tls_tickets.h"

#define DAY_SECONDS 86400.0

static struct ev_loop *watch_loop;
static ev_timer rotate_timer, expiry_timer;

static void emit_expiry(void *arg, const struct tls_cert_info *ci, int days_left, int expired)
{
    char detail[CONFIG_PATH_MAX + 320];
    (void)arg;
    snprintf(detail, sizeof detail, "%s: %s%s %s (%d day%s)", ci->path, ci->nnames ? ci->names[0] : "-",
             ci->nnames > 1 ? " ..." : "", expired ? "expired" : "expires soon", days_left,
             days_left == 1 || days_left == -1 ? "" : "s");
    event_emit(expired ? EVT_CERT_EXPIRED : EVT_CERT_EXPIRING, NULL, NULL, detail);
}

void tls_watch_check(const struct tls_set *set, time_t now)
{
    for (size_t i = 0; set && i < set->nlistens; i++)
        if (set->stores[i])
            tls_store_check_expiry(set->stores[i], now, emit_expiry, NULL);
}

static void rotate_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    if (tls_tickets_rotate() < 0)
        log_warnx("TLS: the session ticket key could not be rotated (no randomness); the current one stays");
    else
        log_info("TLS: session ticket key rotated (the previous one is still accepted)");
}

static void expiry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    struct runtime *rt = runtime_acquire();
    if (rt) {
        tls_watch_check(rt->tls, time(NULL));
        runtime_release(rt);
    }
}

void tls_watch_start(struct ev_loop *loop)
{
    watch_loop = loop;
    ev_timer_init(&rotate_timer, rotate_cb, TLS_TICKET_ROTATE_SECONDS, TLS_TICKET_ROTATE_SECONDS);
    ev_timer_init(&expiry_timer, expiry_cb, DAY_SECONDS, DAY_SECONDS);
    ev_timer_start(loop, &rotate_timer);
    ev_timer_start(loop, &expiry_timer);
    /* Timers that only measure time must not keep the loop alive at stop. */
    ev_unref(loop);
    ev_unref(loop);
}

ev_timer *tls_watch_rotate_timer(void)
{
    return &rotate_timer;
}

ev_timer *tls_watch_expiry_timer(void)
{
    return &expiry_timer;
}

void tls_watch_stop(void)
{
    if (!watch_loop)
        return;
    ev_ref(watch_loop);
    ev_ref(watch_loop);
    ev_timer_stop(watch_loop, &rotate_timer);
    ev_timer_stop(watch_loop, &expiry_timer);
    watch_loop = NULL;
}
