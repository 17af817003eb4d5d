/*
 * trailer_relay: a chunked body's trailer section held back from the
 * buffer it streams through and put back rewritten, whatever the reads'
 * boundaries; a body without one as it came; bytes after the message left
 * after it.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "buf.h"
#include "http.h"
#include "trailer_relay.h"

#define T_FIELDS 16

static int never_busy(const void *owner)
{
    (void)owner;
    return 0;
}

/* Feeds body (after the request head `head`) piece bytes at a time into a
 * buffer, as reads would, and returns the bytes that went on followed by
 * those left after the message, "|" between. */
static void relay(const char *head, const char *body, size_t piece, char *out, size_t cap)
{
    static struct http_msg m; /* llhttp keeps a pointer to it */
    struct http_head h;
    struct http_field f[T_FIELDS];
    memset(&m, 0, sizeof m);
    memset(&h, 0, sizeof h);
    h.fields = f;
    h.max_fields = T_FIELDS;
    cr_assert_eq(http_parse_request(&m, head, strlen(head), &h), 0);
    if (h.chunked)
        cr_assert_eq(http_msg_keep_trailers(&m, 1024, head, &h), 0);
    struct buf *b = buf_get(BUF_SIZE);
    size_t fwd = 0, fed = 0, n = strlen(body);
    int rc = 0;
    while (rc == 0 && fed < n) {
        size_t take = n - fed < piece ? n - fed : piece, consumed;
        memcpy(b->data + b->len, body + fed, take);
        b->len += take;
        fed += take;
        rc = trailer_relay_body(&m, &b, fwd, &consumed, never_busy, NULL, NULL);
        fwd += consumed;
    }
    cr_assert_eq(rc, 1, "rc %d after %zu bytes", rc, fed);
    memcpy(b->data + b->len, body + fed, n - fed); /* the rest, never fed */
    b->len += n - fed;
    cr_assert_lt(b->len + 2, cap);
    memcpy(out, b->data, fwd);
    out[fwd] = '|';
    memcpy(out + fwd + 1, b->data + fwd, b->len - fwd);
    out[b->len + 1] = 0;
    buf_put(b);
    buf_put(m.trailers);
}

static const char *head = "POST / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Head\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n";
static const char *body = "5\r\nhello\r\n0\r\nConnection: X-A\r\nX-A: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
                          "Content-Length: 5\r\nX-Head: h\r\nX-Sum:ab\r\n\r\nGET / HTTP/1.1\r\n";
static const char *want = "5\r\nhello\r\n0\r\nX-Sum: ab\r\n\r\n|GET / HTTP/1.1\r\n";

Test(trailer_relay, section_rewritten_in_one_read)
{
    char out[512];
    relay(head, body, 4096, out, sizeof out);
    cr_assert_str_eq(out, want);
}

Test(trailer_relay, section_rewritten_byte_by_byte)
{
    char out[512];
    relay(head, body, 1, out, sizeof out);
    cr_assert_str_eq(out, want);
}

Test(trailer_relay, body_without_section_as_it_came)
{
    char out[512];
    relay(head, "5;x=1\r\nhello\r\n0\r\n\r\nNEXT", 3, out, sizeof out);
    cr_assert_str_eq(out, "5;x=1\r\nhello\r\n0\r\n\r\n|NEXT");
}

Test(trailer_relay, body_not_chunked_untouched)
{
    char out[512];
    relay("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", "hello0\r\nX: 1\r\n\r\n", 2, out, sizeof out);
    cr_assert_str_eq(out, "hello|0\r\nX: 1\r\n\r\n");
}
