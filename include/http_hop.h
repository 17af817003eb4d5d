/*
 * http_hop: HTTP/1.1's hop-by-hop fields, by name.  A file of its own so
 * that the pure converters (h2_headers.c, http_trailer.c) take the list
 * without the llhttp codec in http.c.
 */
#ifndef PROXY_HTTP_HOP_H
#define PROXY_HTTP_HOP_H

#include <stddef.h>
#include <stdint.h>

#include "http.h" /* enum http_field_kind */

/* The one list of HTTP/1.1's hop-by-hop fields (CONTRACT 3, RFC 9110
 * 7.6.1), by name in any case: HF_CONNECTION, HF_UPGRADE (kept for a 101),
 * HF_TRANSFER_ENCODING (kept when the body goes on chunked), HF_HOP for
 * Keep-Alive, Proxy-Connection, TE and Trailer; HF_OTHER for any other
 * name.  Heads (http.c), trailer sections (http_trailer.c) and HTTP/2's
 * header lists (h2_headers.c) all leave out what it names.  Proxy-
 * Authenticate and Proxy-Authorization are not in it: forwarded in a head
 * (a gateway may pass credentials on, RFC 9110 11.7), they may not trail
 * a body (http_trailer.c). */
uint8_t http_hop_kind(const char *name, size_t len);

#endif
