/*
 * proto_h1: the HTTP/1 protocol over a client connection (h1_proto, chosen
 * by conn.c) and the requests it carries, driven as a state machine (see
 * enum h1_state in proto_h1.c); the txn's stream sink for HTTP/1 clients.
 */
#ifndef PROXY_PROTO_H1_H
#define PROXY_PROTO_H1_H

#include "conn.h"

extern const struct conn_proto h1_proto;

/* Frees the calling thread's cache of request structures (thread exit). */
void h1_cache_clear(void);

#endif
