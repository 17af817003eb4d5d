/*
 * session: the HTTP/1 protocol over a client connection (h1_proto, chosen
 * by conn.c) and the requests it carries, driven as a state machine (see
 * enum sess_state in session_priv.h).
 */
#ifndef PROXY_SESSION_H
#define PROXY_SESSION_H

#include "conn.h"

extern const struct conn_proto h1_proto;

/* Frees the calling thread's cache of request structures (thread exit). */
void sess_cache_clear(void);

#endif
