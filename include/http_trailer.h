/*
 * http_trailer: which fields of a chunked body's trailer section go on to
 * the client, whatever it speaks (CONTRACT 3: hop-by-hop fields are not
 * forwarded, in a trailer section no more than in a head).  Shared by the
 * HTTP/1.1 path (upstream_h1.c, the section rewritten in the raw chunked
 * stream) and the HTTP/2 one (h2_headers.c, the section as a HEADERS frame).
 */
#ifndef PROXY_HTTP_TRAILER_H
#define PROXY_HTTP_TRAILER_H

#include <stddef.h>

/* Whether the field named name[0..n) (any case) may not trail a body
 * (RFC 9110 6.5.1): Content-Length, Host, Content-Type, Set-Cookie, the
 * authentication fields...  Beside the hop-by-hop ones (http_hop_kind),
 * these are left out of every trailer section the proxy passes on. */
int http_trailer_forbidden(const char *name, size_t n);

/* The Connection fields of a trailer section, found once so that each
 * field's test does not walk the section again. */
#define HTTP_TRAILER_CONN_MAX 8
struct http_trailer_conn {
    const char *value[HTTP_TRAILER_CONN_MAX];
    size_t len[HTTP_TRAILER_CONN_MAX];
    unsigned n;
};

/* The Connection fields of section[0..len), as http_msg keeps it
 * ("name:value\r\n" lines).  Returns 0, or -1 for a section with more
 * than HTTP_TRAILER_CONN_MAX of them (refused as malformed). */
int http_trailer_conn_of(const char *section, size_t len, struct http_trailer_conn *conn);

/* Whether the field named name[0..n) of a trailer section goes on: not
 * hop-by-hop (http_hop_kind), not forbidden in trailers, nor named by one
 * of the section's Connection fields (conn; NULL for a field seen alone). */
int http_trailer_forwarded(const char *name, size_t n, const struct http_trailer_conn *conn);

/* The trailer section to send an HTTP/1.1 client, from the kept one
 * (section[0..len) as above): the fields that go on as "name: value\r\n"
 * lines, then the empty line that ends the message.  Returns the length
 * written to out[0..cap), or 0 when it does not fit. */
size_t http_trailer_write(const char *section, size_t len, char *out, size_t cap);

#endif
