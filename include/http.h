/*
 * http: what the proxy understands of an HTTP/1.x message head, and the edits
 * it makes before forwarding one.
 *
 * llhttp finds the boundaries and validates; the proxy forwards the bytes as
 * they came, dropping hop-by-hop header lines and appending its own
 * (X-Forwarded-*, Connection).  Pure functions over buffers: no sockets.
 */
#ifndef PROXY_HTTP_H
#define PROXY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "llhttp.h"

struct buf;

/* One header line inside a head: offsets from the head's first byte. */
struct http_field {
    uint32_t name_off, value_off;
    uint16_t name_len;
    uint32_t value_len;
    uint8_t kind; /* enum http_field_kind */
};

enum http_field_kind {
    HF_OTHER = 0,
    HF_HOP,            /* hop-by-hop: never forwarded */
    HF_CONNECTION,
    HF_UPGRADE,
    HF_HOST,
    HF_XFF,
    HF_XFP,
    HF_EXPECT,
    HF_CONTENT_LENGTH,
    HF_TRANSFER_ENCODING,
    HF_HSTS,           /* Strict-Transport-Security: `tls hsts` replaces a server's */
};

struct http_head {
    uint32_t len;              /* bytes of the head, final CRLF CRLF included */
    uint32_t line_len;         /* request or status line, CRLF included */
    uint32_t uri_off, uri_len; /* request target */
    uint32_t host_off, host_len;
    uint8_t method;            /* llhttp_method_t */
    uint8_t major, minor;
    uint16_t status;           /* responses */
    unsigned keep_alive : 1;   /* the peer allows another message after this one */
    unsigned upgrade : 1;      /* Upgrade requested (request) or 101 (response) */
    unsigned chunked : 1;
    unsigned has_body : 1;     /* a body follows the head (framed or to EOF) */
    unsigned body_to_eof : 1;  /* response body delimited by the connection close */
    unsigned expect_continue : 1;
    unsigned nhost : 2;
    unsigned drop_te : 1;      /* rewrite: leave Transfer-Encoding out (de-chunked) */
    uint64_t content_length;   /* when framed by Content-Length */
    const char *target_out;    /* rewrite: the request target to send instead, or NULL */
    uint32_t target_out_len;
    uint32_t nfields;
    struct http_field *fields; /* scratch array owned by the caller */
    uint32_t max_fields;
};

/* A message being parsed: the llhttp state that frames its body after the
 * head, and what the callbacks need.  Embedded in a session (requests) or
 * an upstream connection (responses). */
struct http_msg {
    llhttp_t parser;
    struct http_head *h;       /* during the head only */
    const char *base;          /* during the head only */
    uint64_t body_limit;       /* 0 = none; chunked bodies are counted as they come */
    uint64_t chunk_total;
    uint8_t head_request;      /* responses: the request was HEAD */
    uint8_t too_many;          /* more fields than h->max_fields */
    uint8_t over_limit;
    uint8_t head_overrun;      /* body callbacks fired while reading the head */
    uint8_t dechunk;           /* move decoded body bytes to dechunk_dst */
    uint8_t chunked;           /* the head's framing (llhttp's flag may change in trailers) */
    char last_byte;            /* the last byte given to the previous http_msg_body */
    char *dechunk_dst;
    /* A chunked body's trailer fields, kept (keep_trailers, set after the
     * head) for a client that gets them apart from the body (HTTP/2): one
     * "name:value\r\n" line each, in a buffer taken when the first one
     * comes and given back by the message's owner (buf_put).  More than
     * trailers_max bytes of them is invalid framing.  The buffer starts
     * with trailers_head bytes that are not the section's: the names the
     * head's Connection fields list, as one "connection:..." line
     * (http_msg_keep_trailers), so that whoever reads the section drops
     * them with it.  For a client that gets the chunked stream as it came
     * (HTTP/1.1), trailer_here tells that the section began in the bytes
     * of the last http_msg_body call, trailer_off bytes in (an offset, not
     * a pointer: it stays right when the caller's buffer moves), so that
     * they can be held back and rewritten. */
    uint8_t keep_trailers;
    uint8_t trailer_here;
    uint32_t trailers_max;
    uint32_t trailers_head;
    uint32_t trailer_off;
    struct buf *trailers;
    /* Whether the trailer section has begun, kept or not, and where in the
     * bytes of the call it began in: what http_msg_body looks at for a
     * folded line. */
    uint8_t in_section;
    uint32_t section_off;
};

/* Whether bytes of the trailer section itself have been kept (not only
 * the head's Connection names). */
int http_msg_trailers_begun(const struct http_msg *m);

/* After a head (buf[0..) as parsed into h) whose chunked body's trailer
 * section goes on: keep that section's fields, at most max bytes of them,
 * and the names the head's Connection fields list, which are hop-by-hop in
 * the section too (RFC 9110 7.6.1).  Returns 0, -1 when those names do not
 * fit a buffer (the head's fault), or -2 when no buffer is left for them
 * (the proxy's). */
int http_msg_keep_trailers(struct http_msg *m, uint32_t max, const char *buf, const struct http_head *h);

/* Looks for the end of a head in buf[0..len).  Returns the head length
 * (CRLF CRLF included) or 0 when it is not complete yet.  `scanned` is where
 * a previous call stopped, so each byte is looked at about once. */
size_t http_head_end(const char *buf, size_t len, size_t scanned);
/* A head over `limit` bytes of buf[0..len): 414 when the request line
 * alone is over it, else 431. */
int http_too_large_status(const char *buf, size_t len, size_t limit);
/* An Upgrade field of the head names h2c (a server's 101 to h2c is never
 * taken: HTTP/2 past the proxy's routes and limits). */
int http_upgrade_names_h2c(const char *buf, const struct http_head *h);

/* Splits an absolute-form target ("http://host:port/path?q") into the
 * authority and the rest ("/path?q", possibly empty or starting with '?').
 * Returns 1, or 0 for a target that is not http(s) absolute-form. */
int http_target_absolute(const char *uri, size_t len, const char **auth, size_t *auth_len,
                         const char **rest, size_t *rest_len);

/* True when buf[from..len) holds a LF that does not follow a CR. */
int http_has_bare_lf(const char *buf, size_t from, size_t len);

/* Parses a complete request head (buf[0..head_len)) with a strict llhttp
 * parser into `h`, and leaves `parser` ready to frame the body that follows.
 * Returns 0, or the status code to answer: 400 bad request (a
 * Transfer-Encoding that does not end in chunked among them), 431 too many
 * fields, 413 body over m->body_limit. */
int http_parse_request(struct http_msg *m, const char *buf, size_t head_len, struct http_head *h);

/* For a request head the proxy wrote itself (an HTTP/2 stream's, see
 * h2_request_view): the line, target, method, framing and fields are
 * already in h, with every field's bytes checked by the writer.  Classifies
 * the fields and runs the checks of http_parse_request that are about
 * meaning rather than syntax (target form, one Host, framing, body_limit).
 * Returns 0 or the status to answer. */
int http_check_built_request(const char *buf, struct http_head *h, uint64_t body_limit);

/* The same for a response head.  `head_request` tells that the request was
 * HEAD (no body follows whatever the head says).  Returns 0 or -1 (invalid). */
int http_parse_response(struct http_msg *m, const char *buf, size_t head_len, int head_request,
                        struct http_head *h);

/* What http_msg_body (and trailer_relay_body, dechunking or not) tells. */
enum http_body_status {
    HTTP_BODY_FOLDED = -4,    /* a line of its trailer section is folded (obs-fold, refused as in a head) */
    HTTP_BODY_NO_ROOM = -3,   /* trailer_relay only: the rewritten trailer section does not fit */
    HTTP_BODY_TOO_LARGE = -2, /* a chunked body passed body_limit, or its kept trailers trailers_max */
    HTTP_BODY_INVALID = -1,   /* invalid framing */
    HTTP_BODY_MORE = 0,       /* more is needed */
    HTTP_BODY_DONE = 1,       /* the message is complete */
};

/* Feeds body bytes that follow a parsed head.  Sets *consumed to the bytes
 * that belong to this message. */
enum http_body_status http_msg_body(struct http_msg *m, const char *data, size_t len, size_t *consumed);
/* The same, decoding a chunked body in place for a client that does not
 * know chunked (HTTP/1.0): the decoded bytes end up at data[0..*produced),
 * the framing is dropped.  Returns as http_msg_body. */
enum http_body_status http_msg_body_dechunk(struct http_msg *m, char *data, size_t len, size_t *consumed,
                                            size_t *produced);

/* The peer closed: 1 when that completes the message (a body to EOF). */
int http_msg_eof(struct http_msg *m);

/* Writes the request head to forward into out[0..cap): the request line and
 * fields as they came minus hop-by-hop ones, then X-Forwarded-For (existing
 * values joined, `client_ip` appended), X-Forwarded-Proto (https when `tls`), and the
 * Connection header the upstream leg needs.  Returns the length, or 0 when
 * it does not fit. */
size_t http_rewrite_request(const char *buf, const struct http_head *h, const char *client_ip, int tls,
                            char *out, size_t cap);

/* The response head to forward: hop-by-hop fields removed, then
 * `Connection: close` when `client_close`, `Connection: keep-alive` for an
 * HTTP/1.0 client that keeps the connection, or the upgrade pair for 101. */
size_t http_rewrite_response(const char *buf, const struct http_head *h, int client_close,
                             int client_http10, char *out, size_t cap);
/* The same, with `extra` (whole "Name: value\r\n" lines) added after the
 * server's fields: what the proxy itself says on every response (its
 * Strict-Transport-Security, which then replaces the server's). */
size_t http_rewrite_response_with(const char *buf, const struct http_head *h, int client_close, int client_http10,
                                  const char *extra, size_t extra_len, char *out, size_t cap);
/* A redirect `status` (301/302/307/308) to `location`, with a short body. */
size_t http_redirect_response(int status, const char *location, size_t location_len, char *out, size_t cap);
/* The https:// URL a request for `target` on `host` (port dropped) has:
 * the redirect of `listen ADDR redirect https`.  0 when it does not fit. */
size_t http_https_location(const char *host, size_t host_len, const char *target, size_t target_len, char *out,
                           size_t cap);

/* A response made by the proxy itself: status line, Content-Type text/plain,
 * Content-Length, optional Retry-After, Connection: close when `close`, and
 * a short body naming the status.  Returns the length written. */
size_t http_error_response(int status, int close, char *out, size_t cap);

/* The reason phrase of a status, and the short body the proxy sends with
 * the errors it makes ("bad request\n"...), for both ports. */
const char *http_reason(int status);
const char *http_error_body(int status);

/* True for GET, HEAD, OPTIONS, PUT, DELETE (and TRACE): safe to retry. */
int http_method_idempotent(uint8_t method);

/* Case-insensitive comparison of a token with a NUL-terminated literal. */
int http_token_eq(const char *s, size_t len, const char *lit);

#endif
