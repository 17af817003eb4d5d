/*
 * tls_watch: what TLS needs done on the main loop over time - the session
 * ticket keys rotated every 12 hours, and every certificate of the current
 * generation checked for expiry once a day (and after each start and
 * reload): `cert-expiring` within 14 days, `cert-expired` after.
 */
#ifndef PROXY_TLS_WATCH_H
#define PROXY_TLS_WATCH_H

#include <time.h>

struct ev_loop;
struct ev_timer;
struct tls_set;

#define TLS_EXPIRY_WARN_DAYS 14

void tls_watch_start(struct ev_loop *loop);
void tls_watch_stop(void);
/* Checks the certificates of `set` now (main thread): after start and reload. */
void tls_watch_check(const struct tls_set *set, time_t now);

/* The two timers tls_watch_start arms (the 12 h ticket key rotation, the
 * daily expiry check), for a test to fire them with ev_feed_event: their
 * periods are too long to wait for. */
struct ev_timer *tls_watch_rotate_timer(void);
struct ev_timer *tls_watch_expiry_timer(void);

#endif
