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
struct tls_set;

#define TLS_EXPIRY_WARN_DAYS 14

void tls_watch_start(struct ev_loop *loop);
void tls_watch_stop(void);
/* Checks the certificates of `set` now (main thread): after start and reload. */
void tls_watch_check(const struct tls_set *set, time_t now);

#endif
