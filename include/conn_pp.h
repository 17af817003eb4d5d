/*
 * conn_pp: the PROXY protocol stage of a client connection accepted on a
 * `listen ADDR proxy-protocol` line - read the header an L4 balancer sends
 * first, take the client's address from it, and hand the connection on
 * with its socket as if fresh (the HTTP/1 parser, or a TLS handshake,
 * reads the first byte after the header).
 */
#ifndef PROXY_CONN_PP_H
#define PROXY_CONN_PP_H

struct conn;

/* Takes over c's watcher and timer until the header is in (then
 * conn_stage_done runs, with the watchers still set to the stage's
 * callbacks for it to take back), or closes c (counted in metrics.proxy_protocol_invalid)
 * when the header is invalid, longer than any valid one, or not whole
 * within `timeout client`.  May finish, or close c, before returning. */
void conn_pp_start(struct conn *c);

#endif
