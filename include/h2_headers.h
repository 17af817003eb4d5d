/*
 * h2_headers: the conversions between an HTTP/2 header list and the
 * HTTP/1.1 heads the servers speak, as pure functions over caller memory
 * (no nghttp2, no sockets), so each rule is unit-tested on its own
 * (tests/unit/test_h2_headers.c).
 *
 * Request: pseudo-headers to a request line and Host (:authority wins
 * over a Host field), cookies joined with "; " (RFC 9113 8.2.3), fields
 * that are hop-by-hop in HTTP/1.1 refused (RFC 9113 8.2.2: a malformed
 * request), a body without Content-Length sent chunked.
 * Response: the status and the fields of an HTTP/1.1 head, names
 * lowercased, hop-by-hop fields left out; the same for trailers, both
 * ways, without the fields that may not follow a body.
 */
#ifndef PROXY_H2_HEADERS_H
#define PROXY_H2_HEADERS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct h2_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Results of h2_request_head. */
enum {
    H2_HEAD_OK = 0,
    H2_HEAD_MALFORMED = -1,   /* a protocol error of the stream (RST_STREAM PROTOCOL_ERROR) */
    H2_HEAD_TOO_LARGE = -2,   /* does not fit in cap: 431 */
    H2_HEAD_CONNECT = -3,     /* CONNECT: not proxied (501) */
    H2_HEAD_BAD = -4,         /* h2_request_view: what an HTTP/1.1 parser refuses (400) */
};

/* Writes the HTTP/1.1 request head for the n fields of a stream (pseudo
 * ones first, as nghttp2 delivers them) into out[0..cap): `body_unsized`
 * when the client sends a body and no content-length, which then goes
 * chunked.  Sets *len; returns H2_HEAD_OK or an error above. */
int h2_request_head(const struct h2_field *f, size_t n, int body_unsized, char *out, size_t cap, size_t *len);

/* The same, and the parsed view of the head written, in h (into the caller's
 * h->fields[0..max_fields)), as http_parse_request would
 * give it but without parsing again (h is reset first, but for fields and
 * max_fields): offsets of the line, the target and
 * each field, the method, the framing.  Also refuses what an HTTP/1.1
 * parser would (H2_HEAD_BAD): a field name that is not a token, a control
 * byte in a value, a method llhttp does not know, a Content-Length that is
 * repeated or not a number.  More fields than max_fields: H2_HEAD_TOO_LARGE.
 * http_check_built_request then classifies the fields and checks the rest. */
int h2_request_view(const struct h2_field *f, size_t n, int body_unsized, char *out, size_t cap, size_t *len,
                    struct http_head *h);

/* Reads the HTTP/1.1 response head at head[0..len) (CRLF CRLF included):
 * its status, and its fields into out[0..max) pointing into head, whose
 * names are lowercased in place; hop-by-hop fields are left out.  Returns
 * the number of fields, or -1 when the head is not a response or has more
 * than max fields. */
int h2_response_fields(char *head, size_t len, unsigned *status, struct h2_field *out, size_t max);

/* The status of the response head at head[0..len) (its status line
 * "HTTP/1.x NNN"): 0, or -1 when it is not one.  Cheap: it reads 12 bytes,
 * so an interim head can be told from the final one before its fields
 * are converted. */
int h2_response_status(const char *head, size_t len, unsigned *status);

/* The trailer fields of a chunked response, as http_msg keeps them
 * (block[0..len): "name:value\r\n" lines): into out[0..max) as
 * h2_response_fields does, leaving out too the fields that may not trail
 * a body (content-length, host, content-type, set-cookie, ...).  Returns
 * the number of fields or -1. */
int h2_trailer_fields(char *block, size_t len, struct h2_field *out, size_t max);

/* Whether a request trailer field from an HTTP/2 client goes on to the
 * server's chunked trailer section (the same fields are left out). */
int h2_request_trailer_ok(const struct h2_field *f);

/* Whether a response with this status (to a HEAD request when `head`)
 * carries no body: 1xx, 204, 304, HEAD. */
int h2_response_bodiless(unsigned status, int head);

#endif
