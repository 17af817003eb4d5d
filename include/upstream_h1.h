/*
 * upstream_h1: the server side of a txn when the server speaks HTTP/1
 * (see upstream_h1.c): the txn's txn_upstream_ops.
 */
#ifndef PROXY_UPSTREAM_H1_H
#define PROXY_UPSTREAM_H1_H

#include "txn.h"

extern const struct txn_upstream_ops upstream_h1_ops;

/* Whether a send to the server still points into the request's bytes
 * (t->reqbuf, a txn passed as trailer_relay's owner): they may not move.
 * A send queued for the loop round is made now first. */
int upstream_h1_sending(const void *txn);

#endif
