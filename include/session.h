/*
 * session: one client connection and the requests it carries, driven as a
 * state machine (see the enum in session.c).
 */
#ifndef PROXY_SESSION_H
#define PROXY_SESSION_H

#include <sys/socket.h>

struct worker;

/* Takes ownership of an accepted, non-blocking client socket. */
void session_accept(struct worker *w, int fd, const struct sockaddr *addr, socklen_t len);
/* Graceful stop: closes sessions idle between requests; the others close
 * after their current response. */
void session_shutdown_idle(struct worker *w);
/* Closes up to n of the worker's longest-idle keep-alive sessions (not one
 * with a request already arrived), counting them in
 * metrics.idle_closed_for_room.  Returns how many it closed.  Not from a
 * session's own callback. */
unsigned session_close_longest_idle(struct worker *w, unsigned n);
/* A server was marked down: in pools with `on-down shutdown`, the
 * worker's requests on a down server with no response byte yet go to
 * another server when they may be retried, else get 502 (on-down). */
void session_shutdown_down(struct worker *w);
/* Requests in flight on the calling thread. */
unsigned session_requests_live(void);
/* Frees the calling thread's cache of request structures (thread exit). */
void session_cache_clear(void);

/* Immediate stop: closes every session of the worker. */
void session_close_all(struct worker *w);

#endif
