/*
 * test_tls_watch: the two timers of tls_watch, fired by hand
 * (ev_feed_event) since their periods are 12 h and a day: the rotation
 * timer rotates the shared ticket key (a ticket of the key before still
 * resumes, one two rotations old no longer does), the expiry timer checks
 * the current generation's certificates and fires `cert-expiring` for one
 * that expires within 14 days (seen through the notify program).
 */
#include <criterion/criterion.h>

#include <ev.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "fixtures.h"
#include "runtime.h"
#include "tls_certs.h"
#include "tls_ctx.h"
#include "tls_fixtures.h"
#include "tls_tickets.h"
#include "tls_watch.h"

static struct ev_loop *loop;

static void loop_up(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
    cr_assert(loop);
    tls_watch_start(loop);
}

static void loop_down(void)
{
    tls_watch_stop();
    ev_loop_destroy(loop);
}

TestSuite(tls_watch, .init = loop_up, .fini = loop_down);

/* What the loop does when the timer's time comes, without the wait. */
static void fire(ev_timer *t)
{
    cr_assert(ev_is_active(t), "tls_watch_start did not arm the timer");
    ev_feed_event(loop, t, EV_TIMER);
    ev_invoke_pending(loop);
}

static int resumes(SSL_CTX *ctx, SSL_SESSION *offer, SSL_SESSION **next)
{
    struct tlsfx_client opts = { .max_version = TLS1_3_VERSION };
    int reused = -1;
    SSL_SESSION *got = tlsfx_resume(ctx, &opts, offer, &reused);
    cr_assert(got, "the handshake failed");
    if (next)
        *next = got;
    else
        SSL_SESSION_free(got);
    return reused;
}

Test(tls_watch, rotation_timer_rotates_the_ticket_key)
{
    SSL_CTX *ctx = fixture_tls_server_with_tickets();
    SSL_SESSION *first = NULL;
    cr_assert_eq(resumes(ctx, NULL, &first), 0);
    cr_assert(SSL_SESSION_has_ticket(first), "the server sent no ticket");

    /* Every 12 h, first in 12 h: ev_feed_event below runs the callback
     * without rescheduling, so the period is read from the timer itself
     * (after a fired event its remaining time says nothing of it). */
    ev_timer *t = tls_watch_rotate_timer();
    cr_assert_float_eq(t->repeat, (double)TLS_TICKET_ROTATE_SECONDS, 0.5, "the rotation timer repeats every %.0f s",
                       t->repeat);
    cr_assert_gt(ev_timer_remaining(loop, t), TLS_TICKET_ROTATE_SECONDS - 60, "the first rotation is not 12 h away");

    fire(tls_watch_rotate_timer());
    cr_assert_eq(resumes(ctx, first, NULL), 1, "after one rotation the previous key is not accepted");
    /* The second rotation drops the key that issued `first`: the timer
     * did rotate (a callback that did nothing would keep it resuming). */
    fire(tls_watch_rotate_timer());
    cr_assert_eq(resumes(ctx, first, NULL), 0, "a ticket two rotations old still resumed");

    SSL_SESSION_free(first);
    SSL_CTX_free(ctx);
}

/* The notify program's record: "EVENT DETAIL" lines, read after the
 * program wrote them (it is spawned, not waited for). */
static int events_have(const char *path, const char *want, double secs)
{
    for (double waited = 0; waited < secs; waited += 0.05) {
        char buf[4096] = "";
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
            if (strstr(buf, want))
                return 1;
        }
        usleep(50000);
    }
    return 0;
}

Test(tls_watch, expiry_timer_fires_cert_expiring)
{
    char *dir = tlsfx_mkdtemp();
    cr_assert(dir);
    EVP_PKEY *key = tlsfx_key_ec("prime256v1");
    cr_assert_eq(tlsfx_make_pem(dir, "soon.pem", key, "shop.example", NULL, time(NULL) + 5 * 86400 + 3600), 0);
    EVP_PKEY_free(key);
    char *pem = tlsfx_path(dir, "soon.pem"), *script = tlsfx_path(dir, "notify.sh");
    char *events = tlsfx_path(dir, "events"), err[256] = "";
    struct tls_store *store = tls_store_load(pem, err, sizeof err);
    cr_assert(store, "%s", err);

    FILE *f = fopen(script, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\necho \"$PROXY_EVENT $PROXY_DETAIL\" >> '%s'\n", events);
    fclose(f);
    cr_assert_eq(chmod(script, 0755), 0);
    event_set_notify(script);

    /* The current generation: one TLS listener with that store.  The test
     * keeps a reference of its own, so it is never freed. */
    const struct tls_store *stores[1] = { store };
    struct tls_set set = { .nlistens = 1, .stores = stores };
    static struct runtime rt;
    atomic_init(&rt.refs, 2);
    rt.tls = &set;
    runtime_publish(&rt);

    /* Once a day (the check at start and reload is main.c's, not this timer's). */
    ev_timer *t = tls_watch_expiry_timer();
    cr_assert_float_eq(t->repeat, 86400.0, 0.5, "the expiry timer repeats every %.0f s", t->repeat);
    cr_assert_gt(ev_timer_remaining(loop, t), 86400.0 - 60, "the first expiry check is not a day away");
    cr_assert_not(events_have(events, "cert-", 0.2), "an expiry event before the timer fired");
    fire(t);
    cr_assert(events_have(events, "cert-expiring", 5), "no cert-expiring after the expiry check");
    cr_assert(events_have(events, "soon.pem: shop.example expires soon (5 days)", 1), "the event's detail");

    tls_store_free(store);
    free(pem);
    free(script);
    free(events);
    tlsfx_rmtree(dir);
}
