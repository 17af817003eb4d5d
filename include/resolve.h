/*
 * resolve: the host names of servers given as NAME:PORT, resolved with
 * c-ares on the main loop (never blocking it; /etc/hosts first, as the
 * C library does), at start-up, at each reload and every `resolve
 * interval`.
 *
 * What an answer does to a server (CONTRACT section 12):
 * - the first address of a server puts it up, as a server given by IP
 *   starts up;
 * - no address (the name does not exist, or no answer for a server that has
 *   no address yet) marks it down with "resolve: NAME: <why>" as its check
 *   status and a server-down event; an address again brings it back
 *   through its checks;
 * - another address applies to new connections and checks; idle
 *   connections to the old one are closed (server_addr.h's version);
 * - a failure to get an answer (timeout, SERVFAIL) for a server that has an
 *   address keeps that address: a DNS outage must not take healthy
 *   servers down.
 * Of several addresses, the one in use stays while it is in the answer;
 * otherwise the first IPv4 one, else the first IPv6 one.
 *
 * The environment can point it elsewhere (tests, containers):
 * PROXY_RESOLV_CONF a resolv.conf to read instead of /etc/resolv.conf,
 * PROXY_DNS_SERVERS name servers that replace its own, in c-ares's form
 * "127.0.0.1:5353,[::1]:53", and CARES_HOSTS (c-ares's own) a hosts file
 * to read instead of /etc/hosts.
 *
 * Main thread only.
 */
#ifndef PROXY_RESOLVE_H
#define PROXY_RESOLVE_H

#include "runtime.h"

struct ev_loop;

/* Where a server given by name stands (server->resolve_state). */
enum resolve_state {
    RESOLVE_PENDING = 0,   /* no answer yet: down, takes no traffic */
    RESOLVE_OK,            /* has an address */
    RESOLVE_FAILED         /* resolves to nothing: down, with the reason */
};

/* Sets up the resolver on `loop`.  Returns 0, or -1 after logging why
 * (then servers given by name stay down, saying so). */
int resolve_start(struct ev_loop *loop);

/* After building rt (start-up, before publishing it; each reload, after):
 * resolves every server of rt given by name now, and then every
 * rt->cfg->resolve_interval_ms.  Holds a reference on rt until the next
 * call or resolve_stop(). */
void resolve_apply(struct runtime *rt);

/* Start-up: runs the loop until every query has its answer, for at most
 * max_ms, so that servers whose names resolve take the first requests. */
void resolve_settle(unsigned max_ms);

void resolve_stop(void);

#endif
