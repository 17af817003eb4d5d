/*
 * tls_tickets: the session ticket keys every TLS listener shares - a ring
 * of the current key and the previous ones, so a ticket issued by any
 * worker resumes on any other, and one issued just before a rotation still
 * resumes after it (CONTRACT 7: rotated every 12h, the previous still
 * accepted).  Keys are random, per process, and kept across reloads.
 */
#ifndef PROXY_TLS_TICKETS_H
#define PROXY_TLS_TICKETS_H

struct ssl_ctx_st;

#define TLS_TICKET_ROTATE_SECONDS (12 * 3600)

/* Makes the first key (once; main thread, before any handshake). */
int tls_tickets_init(void);
/* A new current key; the old current becomes the previous one. */
int tls_tickets_rotate(void);
/* Issues and accepts tickets on ctx with the shared keys. */
void tls_tickets_attach(struct ssl_ctx_st *ctx);

#endif
