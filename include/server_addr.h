/*
 * server_addr: the address workers connect a server's connections to,
 * published by the main thread when a host name resolves to a new one.
 *
 * A sequence lock over a few atomic words (Boehm, "Can seqlocks get along
 * with programming language memory models?", 2012): one writer (the main
 * thread's resolver), any number of readers (workers at connect time), no
 * lock and no allocation on the reader's side, and no memory to reclaim
 * after a change.  The version a reader got says later whether the
 * address has changed since (idle connections to an old address go).
 */
#ifndef PROXY_SERVER_ADDR_H
#define PROXY_SERVER_ADDR_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 32 bytes: a sockaddr_in6 (28) fits. */
#define SERVER_ADDR_WORDS 4

struct server_addr {
    atomic_uint seq;                               /* odd while being written; +2 per store */
    atomic_uint len;                               /* socklen_t; 0 = no address */
    atomic_uint_least64_t word[SERVER_ADDR_WORDS]; /* the sockaddr, copied as words */
};

/* Any thread: copies the address into *ss and *len (0: none) and returns
 * its version. */
unsigned server_addr_load(const struct server_addr *a, struct sockaddr_storage *ss, socklen_t *len);

/* Any thread: the version now; differs from one server_addr_load returned
 * once the address changed. */
unsigned server_addr_version(const struct server_addr *a);

/* Any thread: the IP address of `ss` as text, without port or brackets
 * ("10.0.0.5", "2001:db8::7"): what a worker checks a server's
 * certificate against when the server has no name, from the copy it
 * connected to (a server's `addr` belongs to the main thread).  -1 for
 * another family. */
int server_addr_ip(const struct sockaddr_storage *ss, char *out, size_t cap);

/* Main thread only (the one writer): publishes `sa` (len 0 or sa NULL:
 * no address).  An address longer than the words hold is refused (-1). */
int server_addr_store(struct server_addr *a, const struct sockaddr *sa, socklen_t len);

#endif
