/*
 * Unit tests of http.c: finding the end of a head, strict request and
 * response parsing (every 400/431/413 case of CONTRACT section 3),
 * body framing fed in pieces, the exact bytes of the forwarded heads, and
 * the proxy's own error responses.  No sockets.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "http_strict.h"
#include "h2_headers.h"
#include "http_trailer.h"

#define T_MAX_FIELDS 64

/* A parsed message with its scratch fields; never moved after parsing
 * (llhttp keeps a pointer to the http_msg). */
struct t_msg {
    struct http_msg m;
    struct http_head h;
    struct http_field f[T_MAX_FIELDS];
    const char *buf;
};

static size_t head_len_of(const char *buf, size_t len)
{
    size_t n = http_head_end(buf, len, 0);
    cr_assert_neq(n, 0, "no end of head in: %s", buf);
    return n;
}

/* Parses the request head at the start of buf[0..len); returns the status. */
static int t_req_n(struct t_msg *t, const char *buf, size_t len, uint64_t body_limit,
                   uint32_t max_fields)
{
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->m.body_limit = body_limit;
    t->h.fields = t->f;
    t->h.max_fields = max_fields;
    return http_parse_request(&t->m, buf, head_len_of(buf, len), &t->h);
}

static int t_req(struct t_msg *t, const char *buf)
{
    return t_req_n(t, buf, strlen(buf), 0, T_MAX_FIELDS);
}

static int t_resp(struct t_msg *t, const char *buf, int head_request)
{
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->h.fields = t->f;
    t->h.max_fields = T_MAX_FIELDS;
    return http_parse_response(&t->m, buf, head_len_of(buf, strlen(buf)), head_request, &t->h);
}

static void assert_span(const char *buf, uint32_t off, uint32_t len, const char *want)
{
    cr_assert_eq(len, strlen(want), "span length %u, want %zu (\"%s\")", len, strlen(want), want);
    cr_assert(memcmp(buf + off, want, len) == 0, "span \"%.*s\", want \"%s\"", (int)len,
              buf + off, want);
}

/* Asserts that the rewritten request head is exactly `want`. */
static void expect_rewrite_request(const char *in, const char *ip, const char *want)
{
    struct t_msg t;
    char out[4096];

    cr_assert_eq(t_req(&t, in), 0);
    size_t n = http_rewrite_request(in, &t.h, ip, 0, out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, want);
}

static void expect_rewrite_response(const char *in, int head_request, int client_close,
                                    int client_http10, const char *want)
{
    struct t_msg t;
    char out[4096];

    cr_assert_eq(t_resp(&t, in, head_request), 0);
    size_t n = http_rewrite_response(in, &t.h, client_close, client_http10, out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, want);
}

/* ---- http_head_end ------------------------------------------------------------ */

Test(http_head_end, finds_the_end_of_a_whole_head)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    cr_assert_eq(http_head_end(s, strlen(s), 0), strlen(s));
}

/* The rule of http_line_ends_clean, byte by byte: the reference the
 * 16-bytes-at-a-time version must agree with. */
static int line_ends_clean_reference(const char *buf, size_t len)
{
    if (len == 0 || buf[0] == '\r' || buf[0] == '\n')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' && buf[i - 1] != '\r')
            return 0; /* an LF without its CR */
        if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n'))
            return 0; /* a CR alone */
        if (buf[i] == '\n' && i + 1 < len && (buf[i + 1] == ' ' || buf[i + 1] == '\t'))
            return 0; /* obs-fold */
    }
    return 1;
}

Test(http_line_ends_clean, heads)
{
    cr_assert(http_line_ends_clean("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27));
    cr_assert_not(http_line_ends_clean("GET / HTTP/1.1\r\nHost: a\n\r\n", 26), "an LF alone");
    cr_assert_not(http_line_ends_clean("GET / HTTP/1.1\r\nX-A: o\rne\r\n\r\n", 29), "a CR alone");
    cr_assert_not(http_line_ends_clean("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 30), "obs-fold");
    cr_assert_not(http_line_ends_clean("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 30), "obs-fold by a tab");
    cr_assert_not(http_line_ends_clean("\r\nGET / HTTP/1.1\r\n\r\n", 20), "a blank line first");
    cr_assert_not(http_line_ends_clean("GET / HTTP/1.1\r\n\r", 17), "a CR at the very end");
    cr_assert_not(http_line_ends_clean("", 0));
}

/* Every place a CR, LF or blank can fall relative to the 16-byte chunks:
 * random heads from a small alphabet, and each clean head with one byte
 * changed, agree with the reference at every length. */
Test(http_line_ends_clean, agrees_with_the_byte_rule)
{
    static const char alphabet[] = "ab: \t\r\n\r\n";
    char buf[80];
    unsigned seed = 12345;
    int clean = 0;

    for (int round = 0; round < 200000; round++) {
        size_t len = (size_t)(rand_r(&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        int want = line_ends_clean_reference(buf, len);
        clean += want;
        cr_assert_eq(http_line_ends_clean(buf, len), want, "round %d, %zu bytes", round, len);
    }
    /* Clean heads of every length up to 70, then each with a CR, an LF
     * or a blank put at each position. */
    for (size_t len = 1; len <= 70; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (i % 6 == 4) ? '\r' : (i % 6 == 5) ? '\n' : 'x';
        for (size_t at = 0; at < len; at++)
            for (const char *c = "\r\n \t"; *c; c++) {
                char keep = buf[at];
                buf[at] = *c;
                cr_assert_eq(http_line_ends_clean(buf, len), line_ends_clean_reference(buf, len),
                             "%zu bytes, %d at %zu", len, *c, at);
                buf[at] = keep;
            }
    }
    cr_assert_gt(clean, 100, "the random heads hold clean ones too (%d)", clean);
}

Test(http_head_end, incomplete_heads_give_zero)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t len = strlen(s);

    for (size_t i = 0; i < len; i++)
        cr_assert_eq(http_head_end(s, i, 0), 0, "prefix of %zu bytes", i);
    cr_assert_eq(http_head_end("", 0, 0), 0);
    cr_assert_eq(http_head_end("\r\n\r", 3, 0), 0);
}

Test(http_head_end, bytes_after_the_head_are_not_counted)
{
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
    const char *body = strstr(s, "abc");
    cr_assert_eq(http_head_end(s, strlen(s), 0), (size_t)(body - s));
}

Test(http_head_end, incremental_scan_one_byte_at_a_time)
{
    const char *s = "GET /x HTTP/1.1\r\nHost: a\r\nX: \r\r\n\r\n";
    size_t full = strlen(s), scanned = 0;

    for (size_t len = 1; len <= full; len++) {
        size_t n = http_head_end(s, len, scanned);
        if (len < full) {
            cr_assert_eq(n, 0, "at %zu bytes", len);
            scanned = len;
        } else {
            cr_assert_eq(n, full);
        }
    }
}

Test(http_head_end, crlfcrlf_split_across_calls_at_every_point)
{
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET";
    size_t end = strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n");

    /* The previous call saw the head up to each of the last four bytes. */
    for (size_t cut = end - 4; cut < end; cut++) {
        cr_assert_eq(http_head_end(s, cut, 0), 0);
        cr_assert_eq(http_head_end(s, end, cut), end, "split after %zu bytes", cut);
        cr_assert_eq(http_head_end(s, strlen(s), cut), end, "split after %zu bytes", cut);
    }
}

Test(http_head_end, a_lone_cr_or_lf_pair_is_not_the_end)
{
    const char *s = "GET / HTTP/1.1\r\nA: b\r\r\nC: \n\r\n";
    cr_assert_eq(http_head_end(s, strlen(s), 0), 0);
}

/* ---- http_parse_request: what it learns ---------------------------------------- */

Test(http_request, simple_get_http11)
{
    struct t_msg t;
    const char *s = "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(t.h.len, strlen(s));
    cr_assert_eq(t.h.line_len, strlen("GET /path?q=1 HTTP/1.1\r\n"));
    cr_assert_eq(t.h.method, HTTP_GET);
    cr_assert_eq(t.h.major, 1);
    cr_assert_eq(t.h.minor, 1);
    assert_span(s, t.h.uri_off, t.h.uri_len, "/path?q=1");
    assert_span(s, t.h.host_off, t.h.host_len, "example.com");
    cr_assert_eq(t.h.nhost, 1);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.chunked, 0);
    cr_assert_eq(t.h.upgrade, 0);
    cr_assert_eq(t.h.expect_continue, 0);
    cr_assert_eq(t.h.content_length, 0);
}

Test(http_request, fields_are_recorded_with_offsets_and_kinds)
{
    struct t_msg t;
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nX-Empty:\r\n"
                    "Connection: keep-alive\r\nX-Other: v v\r\n\r\n";

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(t.h.nfields, 5);
    assert_span(s, t.f[0].name_off, t.f[0].name_len, "Host");
    assert_span(s, t.f[0].value_off, t.f[0].value_len, "a");
    cr_assert_eq(t.f[0].kind, HF_HOST);
    assert_span(s, t.f[1].name_off, t.f[1].name_len, "X-Forwarded-For");
    assert_span(s, t.f[1].value_off, t.f[1].value_len, "1.2.3.4");
    cr_assert_eq(t.f[1].kind, HF_XFF);
    assert_span(s, t.f[2].name_off, t.f[2].name_len, "X-Empty");
    cr_assert_eq(t.f[2].value_len, 0);
    cr_assert_eq(t.f[3].kind, HF_CONNECTION);
    assert_span(s, t.f[4].value_off, t.f[4].value_len, "v v");
    cr_assert_eq(t.f[4].kind, HF_OTHER);
}

Test(http_request, keep_alive_http11_default_and_connection_close)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t_req(&t, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 0);
    cr_assert_eq(t_req(&t, "GET / HTTP/1.1\r\nHost: a\r\nconnection: Close\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 0);
    cr_assert_eq(t_req(&t, "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 1);
}

Test(http_request, keep_alive_http10_only_when_asked)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "GET / HTTP/1.0\r\n\r\n"), 0);
    cr_assert_eq(t.h.minor, 0);
    cr_assert_eq(t.h.keep_alive, 0);
    cr_assert_eq(t.h.nhost, 0);
    cr_assert_eq(t_req(&t, "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t_req(&t, "GET / HTTP/1.0\r\nConnection: close\r\n\r\n"), 0);
    cr_assert_eq(t.h.keep_alive, 0);
}

Test(http_request, content_length_body)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"), 0);
    cr_assert_eq(t.h.method, HTTP_POST);
    cr_assert_eq(t.h.has_body, 1);
    cr_assert_eq(t.h.chunked, 0);
    cr_assert_eq(t.h.content_length, 12);
    cr_assert_eq(t.h.body_to_eof, 0);
}

Test(http_request, content_length_zero_has_no_body)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 0);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.content_length, 0);
}

Test(http_request, two_equal_content_lengths_are_not_accepted_as_two_different_ones)
{
    /* RFC 9112 allows a proxy to reject these; the contract only requires
     * rejecting differing ones.  Either is fine; what is not fine is a
     * length other than 5. */
    struct t_msg t;
    int rc = t_req(&t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    if (rc == 0)
        cr_assert_eq(t.h.content_length, 5);
    else
        cr_assert_eq(rc, 400);
}

Test(http_request, chunked_body)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    cr_assert_eq(t.h.chunked, 1);
    cr_assert_eq(t.h.has_body, 1);
    cr_assert_eq(t.h.body_to_eof, 0);
    cr_assert_eq(t.h.content_length, 0);
}

Test(http_request, gzip_then_final_chunked_is_accepted)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0);
    cr_assert_eq(t.h.chunked, 1);
    cr_assert_eq(t.h.has_body, 1);
}

Test(http_request, expect_continue)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"), 0);
    cr_assert_eq(t.h.expect_continue, 1);
    cr_assert_eq(t.h.method, HTTP_PUT);
    cr_assert_eq(t_req(&t, "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nexpect: 100-Continue\r\n\r\n"), 0);
    cr_assert_eq(t.h.expect_continue, 1);
    cr_assert_eq(t_req(&t, "PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"), 0);
    cr_assert_eq(t.h.expect_continue, 0);
}

Test(http_request, websocket_upgrade)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                           "Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n"), 0);
    cr_assert_eq(t.h.upgrade, 1);
    cr_assert_eq(t.h.has_body, 0);
}

Test(http_request, upgrade_without_connection_upgrade_is_not_an_upgrade)
{
    struct t_msg t;

    cr_assert_eq(t_req(&t, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n"), 0);
    cr_assert_eq(t.h.upgrade, 0);
}

Test(http_request, host_with_port_and_absolute_form)
{
    struct t_msg t;
    const char *s = "GET http://example.com:8080/p HTTP/1.1\r\nHost: example.com:8080\r\n\r\n";

    cr_assert_eq(t_req(&t, s), 0);
    assert_span(s, t.h.uri_off, t.h.uri_len, "http://example.com:8080/p");
    assert_span(s, t.h.host_off, t.h.host_len, "example.com:8080");
}

/* ---- http_parse_request: what it refuses --------------------------------------- */

static void expect_req_status(const char *s, int want)
{
    struct t_msg t;
    int rc = t_req(&t, s);
    cr_assert_eq(rc, want, "got %d, want %d for: %s", rc, want, s);
}

Test(http_request_errors, content_length_with_transfer_encoding_is_400)
{
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
}

Test(http_request_errors, two_different_content_lengths_are_400)
{
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
}

Test(http_request_errors, content_length_list_is_400)
{
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400);
}

Test(http_request_errors, bad_content_length_is_400)
{
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
}

Test(http_request_errors, obs_fold_is_400)
{
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", 400);
}

Test(http_request_errors, nul_in_a_value_is_400)
{
    static const char s[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: o\0ne\r\n\r\n";
    struct t_msg t;
    cr_assert_eq(t_req_n(&t, s, sizeof s - 1, 0, T_MAX_FIELDS), 400);
}

Test(http_request_errors, control_characters_in_a_value_are_400)
{
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: o\x01ne\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: o\x7fne\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A: o\rne\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\x1b\r\n\r\n", 400);
}

Test(http_request_errors, bare_lf_inside_the_head_is_400)
{
    expect_req_status("GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", 400);
}

Test(http_request_errors, space_before_colon_is_400)
{
    expect_req_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", 400);
}

Test(http_request_errors, missing_host_on_http11_is_400)
{
    expect_req_status("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
}

Test(http_request_errors, two_hosts_are_400)
{
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

Test(http_request_errors, transfer_encoding_on_http10_is_400)
{
    expect_req_status("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

Test(http_request_errors, request_line_that_is_not_http_is_400)
{
    expect_req_status("GET / FOO/1.1\r\nHost: a\r\n\r\n", 400);
    expect_req_status("hello\r\n\r\n", 400);
    expect_req_status("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400);
}

/* An HTTP/0.9 request line (no version) is not HTTP/1.x: it must not be
 * parsed as a request with headers and forwarded. */
Test(http_request_errors, http09_request_line_is_400)
{
    expect_req_status("GET /\r\nHost: a\r\n\r\n", 400);
    expect_req_status("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 400);
}

/* The proxy speaks HTTP/1.0 and 1.1 only (CONTRACT section 3). */
Test(http_request_errors, http2_version_in_a_request_line_is_400)
{
    expect_req_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400);
}

/* The HTTP/2 preface's method in an HTTP/1 request line: the head as
 * forwarded (with X-Forwarded-For) would not parse again. */
Test(http_request_errors, pri_method_is_400)
{
    expect_req_status("PRI / HTTP/1.0\r\n\r\n", 400);
    expect_req_status("PRI * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

/* Strict parsing: one SP between the parts of the request line (RFC 9112
 * 3; a lenient parser here lets the proxy and a server split it
 * differently, and the line is forwarded as it came). */
Test(http_request_errors, double_space_in_request_line_is_400)
{
    expect_req_status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_req_status("GET /a  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_req_status("GET /a HTTP/1.1  \r\nHost: a\r\n\r\n", 400);
    expect_req_status("GET /a HTTP/1.1\r\nHost: a\r\n\r\n", 0);
}

Test(http_request_errors, request_body_to_eof_cannot_happen)
{
    /* A POST without framing has no body (it is not read to EOF). */
    struct t_msg t;
    cr_assert_eq(t_req(&t, "POST / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
}

Test(http_request_errors, connect_is_refused)
{
    expect_req_status("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 400);
}

/* RFC 9112 3.2.2: the proxy routes by Host and forwards the target as it
 * came, so a target naming another host than Host is refused. */
Test(http_request_errors, absolute_form_host_mismatch_is_400)
{
    struct t_msg t;

    expect_req_status("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", 400);
    expect_req_status("GET http://a.example/x HTTP/1.1\r\n\r\n", 400);
    cr_assert_eq(t_req(&t, "GET http://A.example/x HTTP/1.1\r\nHost: a.EXAMPLE\r\n\r\n"), 0);
}

Test(http_request_errors, more_fields_than_max_fields_is_431)
{
    struct t_msg t;
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";

    cr_assert_eq(t_req_n(&t, s, strlen(s), 0, 4), 431);
    cr_assert_eq(t_req_n(&t, s, strlen(s), 0, 5), 0);
    cr_assert_eq(t.h.nfields, 5);
}

Test(http_request_errors, content_length_over_body_limit_is_413)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n";

    cr_assert_eq(t_req_n(&t, s, strlen(s), 100, T_MAX_FIELDS), 413);
    cr_assert_eq(t_req_n(&t, s, strlen(s), 101, T_MAX_FIELDS), 0);
    cr_assert_eq(t_req_n(&t, s, strlen(s), 0, T_MAX_FIELDS), 0); /* 0 = unlimited */
}

/* CONTRACT section 3 and RFC 9112 6.3: a request whose Transfer-Encoding
 * does not end in chunked has no length the proxy can read: 400 (and the
 * connection closed), whether its last coding is unknown or known. */
Test(http_request_errors, transfer_coding_not_ending_in_chunked_is_400)
{
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    expect_req_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                      "Transfer-Encoding: gzip\r\n\r\n", 400);
    /* an upgrade is let through by llhttp before its coding is checked */
    expect_req_status("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                      "Transfer-Encoding: gzip\r\n\r\n", 400);
}

Test(http_request_errors, chunked_twice_is_refused)
{
    struct t_msg t;
    int rc = t_req(&t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n");
    cr_assert_eq(rc, 400, "got %d", rc);
}

/* ---- http_msg_body -------------------------------------------------------------- */

Test(http_body, content_length_in_pieces_stops_at_the_message_end)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed = 99;

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, 2, &consumed), 0);
    cr_assert_eq(consumed, 2);
    cr_assert_eq(http_msg_body(&t.m, s + head + 2, strlen(s) - head - 2, &consumed), 1);
    cr_assert_eq(consumed, 3);
}

Test(http_body, content_length_byte_by_byte)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789X";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_req(&t, s), 0);
    for (size_t i = 0; i < 9; i++) {
        cr_assert_eq(http_msg_body(&t.m, s + head + i, 1, &consumed), 0, "byte %zu", i);
        cr_assert_eq(consumed, 1);
    }
    cr_assert_eq(http_msg_body(&t.m, s + head + 9, 2, &consumed), 1);
    cr_assert_eq(consumed, 1);
}

Test(http_body, chunked_in_pieces_stops_at_the_message_end)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
                    "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;
    const char *body = s + head;
    size_t body_len = (size_t)(strstr(s, "GET /next") - body);
    size_t total = strlen(s) - head;

    cr_assert_eq(t_req(&t, s), 0);
    /* Byte by byte up to the last byte of the message. */
    for (size_t i = 0; i + 1 < body_len; i++) {
        cr_assert_eq(http_msg_body(&t.m, body + i, 1, &consumed), 0, "byte %zu", i);
        cr_assert_eq(consumed, 1);
    }
    /* The last byte comes with the pipelined request, which is left. */
    cr_assert_eq(http_msg_body(&t.m, body + body_len - 1, total - body_len + 1, &consumed), 1);
    cr_assert_eq(consumed, 1);
}

/* keep_trailers (HTTP/2 relays them as a HEADERS frame): the trailer
 * section of a chunked response, kept as "name:value\r\n" lines while the
 * body is decoded in place, whole when fed a byte at a time. */
static void expect_trailers_kept(size_t piece)
{
    struct t_msg t;
    char s[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\nGrpc-Status: 0\r\nX-Empty:\r\nX-Sum:  ab c \r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), at = head, produced_total = 0;
    int rc = 0;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    t.m.keep_trailers = 1;
    while (at < strlen(s) && rc == 0) {
        size_t n = strlen(s) - at < piece ? strlen(s) - at : piece, consumed, produced;
        rc = http_msg_body_dechunk(&t.m, s + at, n, &consumed, &produced);
        memmove(s + head + produced_total, s + at, produced);
        produced_total += produced;
        at += consumed;
    }
    cr_assert_eq(rc, 1);
    cr_assert_eq(produced_total, 5);
    cr_assert(memcmp(s + head, "hello", 5) == 0);
    cr_assert_not_null(t.m.trailers);
    const char *want = "Grpc-Status:0\r\nX-Empty:\r\nX-Sum:ab c \r\n";
    cr_assert_eq(t.m.trailers->len, strlen(want), "kept \"%.*s\"", (int)t.m.trailers->len, t.m.trailers->data);
    cr_assert(memcmp(t.m.trailers->data, want, strlen(want)) == 0, "kept \"%.*s\"", (int)t.m.trailers->len,
              t.m.trailers->data);
    buf_put(t.m.trailers);
}

Test(http_body, trailers_kept_whole)
{
    expect_trailers_kept(4096);
}

Test(http_body, trailers_kept_byte_by_byte)
{
    expect_trailers_kept(1);
}

/* The names the head's Connection fields list are hop-by-hop in the
 * trailer section too (RFC 9110 7.6.1): http_msg_keep_trailers keeps them
 * before the section, where both trailer writers find them and drop them
 * with the section's own Connection names. */
Test(http_body, trailers_without_the_names_the_heads_connection_lists)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nConnection: X-Other,close\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n0\r\nX-Private: a\r\nX-Sum: 1\r\nx-other: b\r\nX-Late: c\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_keep_trailers(&t.m, 1024, s, &t.h), 0);
    cr_assert_not(http_msg_trailers_begun(&t.m), "the head's names are not the section");
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert(t.m.trailer_here);
    cr_assert_eq(t.m.trailer_off, strlen("5\r\nhello\r\n0\r\n"), "the section begins after the last chunk");
    cr_assert(http_msg_trailers_begun(&t.m));
    char out[256];
    size_t n = http_trailer_write(t.m.trailers->data, t.m.trailers->len, out, sizeof out);
    const char want[] = "X-Sum: 1\r\nX-Late: c\r\n\r\n";
    cr_assert_eq(n, strlen(want), "%.*s", (int)n, out);
    cr_assert(memcmp(out, want, n) == 0, "%.*s", (int)n, out);
    struct h2_field f[8];
    int nf = h2_trailer_fields(t.m.trailers->data, t.m.trailers->len, f, 8);
    cr_assert_eq(nf, 2);
    cr_assert(f[0].name_len == 5 && memcmp(f[0].name, "x-sum", 5) == 0);
    cr_assert(f[1].name_len == 6 && memcmp(f[1].name, "x-late", 6) == 0);
    buf_put(t.m.trailers);
}

/* A head whose Connection names only hop-by-hop fields (the usual
 * "keep-alive" or "close") takes no buffer for them; the limit is the
 * section's own, whatever the head's names take. */
Test(http_body, trailers_head_names_take_nothing_usual_nor_the_limit)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nConnection: keep-alive, close, Upgrade\r\nTransfer-Encoding: chunked\r\n\r\n";
    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_keep_trailers(&t.m, 16, s, &t.h), 0);
    cr_assert_null(t.m.trailers);

    /* "X-Eighteen-Byte:\r\n" is kept as 18 bytes: a limit of 18 takes
     * it, one of 17 does not, the head's longer names before it aside. */
    const char *s2 = "HTTP/1.1 200 OK\r\nConnection: X-A-Long-Private-Name\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "0\r\nX-Eighteen-Byte:\r\n\r\n";
    size_t head = head_len_of(s2, strlen(s2)), consumed;
    for (uint32_t max = 17; max <= 18; max++) {
        cr_assert_eq(t_resp(&t, s2, 0), 0);
        cr_assert_eq(http_msg_keep_trailers(&t.m, max, s2, &t.h), 0);
        cr_assert_gt(t.m.trailers_head, 18);
        int rc = http_msg_body(&t.m, s2 + head, strlen(s2) - head, &consumed);
        cr_assert_eq(rc, max == 18 ? 1 : -2, "limit %u: %d", max, rc);
        if (max == 18)
            cr_assert_eq(t.m.trailers->len - t.m.trailers_head, 18);
        buf_put(t.m.trailers);
    }
}

Test(http_body, trailers_not_kept_unless_asked_or_over_the_limit)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Long: 0123456789\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert_null(t.m.trailers, "nothing kept for an HTTP/1.1 client");
    cr_assert_eq(t_resp(&t, s, 0), 0);
    t.m.keep_trailers = 1;
    t.m.trailers_max = 8;
    cr_assert_lt(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 0, "trailers over trailers_max");
    buf_put(t.m.trailers);
}

Test(http_body, chunked_whole_with_pipelined_request)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert_eq(consumed, strlen("3\r\nabc\r\n0\r\n\r\n"));
}

Test(http_body, bad_chunk_size_is_minus_1)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), -1);
}

Test(http_body, chunk_size_overflow_is_minus_1)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "10000000000000000\r\nx";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), -1);
}

Test(http_body, missing_crlf_after_chunk_data_is_minus_1)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_req(&t, s), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), -1);
}

Test(http_body, chunked_over_body_limit_is_minus_2)
{
    struct t_msg t;
    const char *s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    /* 10 bytes in two chunks: within a limit of 10, over one of 9. */
    cr_assert_eq(t_req_n(&t, s, strlen(s), 10, T_MAX_FIELDS), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert_eq(t_req_n(&t, s, strlen(s), 9, T_MAX_FIELDS), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, 10, &consumed), 0); /* the first chunk is fine */
    cr_assert_eq(http_msg_body(&t.m, s + head + 10, strlen(s) - head - 10, &consumed), -2);
}

/* ---- http_parse_response -------------------------------------------------------- */

Test(http_response, status_and_content_length)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n";

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(t.h.status, 200);
    cr_assert_eq(t.h.major, 1);
    cr_assert_eq(t.h.minor, 1);
    cr_assert_eq(t.h.line_len, strlen("HTTP/1.1 200 OK\r\n"));
    cr_assert_eq(t.h.len, strlen(s));
    cr_assert_eq(t.h.has_body, 1);
    cr_assert_eq(t.h.content_length, 5);
    cr_assert_eq(t.h.body_to_eof, 0);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t.h.nfields, 2);
}

Test(http_response, content_length_body_pieces_then_pipelined_garbage)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, 3, &consumed), 0);
    cr_assert_eq(consumed, 3);
    cr_assert_eq(http_msg_body(&t.m, s + head + 3, strlen(s) - head - 3, &consumed), 1);
    cr_assert_eq(consumed, 2);
}

Test(http_response, chunked_response_body)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(t.h.chunked, 1);
    cr_assert_eq(t.h.has_body, 1);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert_eq(consumed, strlen(s) - head);
}

Test(http_response, head_request_has_no_body)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 1), 0);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1), 0);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\n\r\n", 1), 0);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
}

Test(http_response, no_body_for_204_and_304)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 204 No Content\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.status, 204);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
    cr_assert_eq(t.h.keep_alive, 1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 304 Not Modified\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.status, 304);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
}

/* RFC 9110 15.4.5: a 304 never has a body, and its Content-Length is the
 * length the 200 would have had.  Waiting for those bytes hangs the
 * client and misreads the next response on a reused connection. */
Test(http_response, no_body_for_304_with_content_length)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(t.h.status, 304);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
}

Test(http_response, no_body_for_204_with_content_length)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.has_body, 0);
}

Test(http_response, close_delimited_body)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(t.h.has_body, 1);
    cr_assert_eq(t.h.body_to_eof, 1);
    cr_assert_eq(t.h.keep_alive, 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 0);
    cr_assert_eq(consumed, strlen(s) - head);
    cr_assert_eq(http_msg_eof(&t.m), 1);
}

Test(http_response, http10_response_without_length_runs_to_eof)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.0 200 OK\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.minor, 0);
    cr_assert_eq(t.h.body_to_eof, 1);
    cr_assert_eq(t.h.keep_alive, 0);
    cr_assert_eq(http_msg_eof(&t.m), 1);
}

Test(http_response, eof_inside_a_framed_body_is_not_complete)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, 2, &consumed), 0);
    cr_assert_eq(http_msg_eof(&t.m), 0);
}

Test(http_response, eof_inside_a_chunked_body_is_not_complete)
{
    struct t_msg t;
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    size_t head = head_len_of(s, strlen(s)), consumed;

    cr_assert_eq(t_resp(&t, s, 0), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 0);
    cr_assert_eq(http_msg_eof(&t.m), 0);
}

Test(http_response, switching_protocols_is_an_upgrade)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.status, 101);
    cr_assert_eq(t.h.upgrade, 1);
    cr_assert_eq(t.h.has_body, 0);
}

Test(http_response, informational_1xx_has_no_body)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 100 Continue\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.status, 100);
    cr_assert_eq(t.h.has_body, 0);
    cr_assert_eq(t.h.body_to_eof, 0);
    cr_assert_eq(t.h.upgrade, 0);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 1), 0);
    cr_assert_eq(t.h.status, 103);
    cr_assert_eq(t.h.has_body, 0);
}

Test(http_response, connection_close_is_not_keep_alive)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.keep_alive, 0);
}

Test(http_response, invalid_responses_are_minus_1)
{
    struct t_msg t;

    cr_assert_eq(t_resp(&t, "HTTP/1.1 abc OK\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "SMTP ready\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 0), -1);
    /* Any Transfer-Encoding beside a Content-Length, an empty one too
     * (llhttp frames that by the length): the client might frame it by
     * the coding (RFC 9112 6.3). */
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 9\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: \r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 9\r\n\r\n", 0), -1);
    /* chunked twice (llhttp decodes it once), in one field or two, and any
     * Transfer-Encoding in an HTTP/1.0 response (RFC 9112 6.1). */
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked, chunked\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0), -1);
    cr_assert_eq(t_resp(&t, "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0), -1);
    /* ... while one chunked, last, or a coding without chunked (read to
     * the close) is framing the client reads alike. */
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.chunked, 1);
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0), 0);
    cr_assert_eq(t.h.body_to_eof, 1);
}

/* RFC 9112 5.2: a proxy that receives obs-fold in a response must replace
 * it or answer 502; this one forwards the bytes as they came. */
Test(http_response, obs_fold_in_a_response_is_invalid)
{
    struct t_msg t;
    cr_assert_eq(t_resp(&t, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", 0), -1);
}

/* ---- http_rewrite_request ------------------------------------------------------- */

Test(http_rewrite_request, minimal_http11)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, kept_lines_are_byte_for_byte)
{
    expect_rewrite_request("GET /A%20b?x=Y HTTP/1.1\r\nhOsT: Example.COM:80\r\nX-Odd:   spaced   \r\n"
                           "X-Empty:\r\nUser-Agent: t/1\r\n\r\n",
                           "192.0.2.7",
                           "GET /A%20b?x=Y HTTP/1.1\r\nhOsT: Example.COM:80\r\nX-Odd:   spaced   \r\n"
                           "X-Empty:\r\nUser-Agent: t/1\r\n"
                           "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, hop_by_hop_fields_removed)
{
    expect_rewrite_request("GET /a HTTP/1.1\r\nHost: example.com\r\nConnection: close, X-Foo\r\nX-Foo: 1\r\n"
                           "Accept: */*\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
                           "Trailer: X-T\r\nUser-Agent: t\r\nx-foo: 2\r\n\r\n",
                           "10.0.0.1",
                           "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: t\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

/* classify() goes by length, then by the first byte by hand: every name
 * in an odd case, each beside a near miss of its length that differs in
 * the first byte, or in the last. */
Test(http_rewrite_request, hop_by_hop_names_in_any_case_near_misses_kept)
{
    expect_rewrite_request("GET /a HTTP/1.1\r\nhOST: example.com\r\ncONNECTION: x-a\r\nX-A: 1\r\n"
                           "kEEP-ALIVE: 3\r\nKeep-Alivf: 1\r\nPROXY-CONNECTION: k\r\nQroxy-Connection: 2\r\n"
                           "tE: trailers\r\nUE: 3\r\nTRAILER: X-T\r\nUrailer: 4\r\nX-FORWARDED-PROTO: ftp\r\n"
                           "Y-Forwarded-Proto: 5\r\nx-fORWARDED-fOR: 10.9.9.9\r\nY-Forwarded-For: 6\r\n\r\n",
                           "10.0.0.1",
                           "GET /a HTTP/1.1\r\nhOST: example.com\r\nKeep-Alivf: 1\r\nQroxy-Connection: 2\r\n"
                           "UE: 3\r\nUrailer: 4\r\nY-Forwarded-Proto: 5\r\nY-Forwarded-For: 6\r\n"
                           "X-Forwarded-For: 10.9.9.9, 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, connection_tokens_with_odd_spacing)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,X-A ,, x-b\t\r\nX-A: 1\r\nX-B: 2\r\n"
                           "X-C: 3\r\n\r\n",
                           "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\nX-C: 3\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, several_connection_fields)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nConnection: X-A\r\nHost: a\r\nconnection: X-B\r\nX-A: 1\r\n"
                           "X-B: 2\r\n\r\n",
                           "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, content_length_and_host_named_in_connection_are_kept)
{
    expect_rewrite_request("POST / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length, Host, Transfer-Encoding\r\n"
                           "Content-Length: 3\r\n\r\n",
                           "10.0.0.1",
                           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, chunked_request_keeps_transfer_encoding)
{
    expect_rewrite_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: Transfer-Encoding\r\n\r\n",
                           "10.0.0.1",
                           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, existing_x_forwarded_for_values_joined)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: a\r\n"
                           "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\nAccept: b\r\n\r\n",
                           "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\nAccept: b\r\n"
                           "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.1\r\n"
                           "X-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, empty_x_forwarded_for_is_ignored)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For:\r\n\r\n", "::1",
                           "GET / HTTP/1.1\r\nHost: a\r\n"
                           "X-Forwarded-For: ::1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, client_x_forwarded_proto_replaced)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\nx-forwarded-proto: ftp\r\n"
                           "Accept: b\r\n\r\n",
                           "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\nAccept: b\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, http10_gets_connection_keep_alive)
{
    expect_rewrite_request("GET / HTTP/1.0\r\nHost: a\r\nConnection: close\r\n\r\n", "10.0.0.1",
                           "GET / HTTP/1.0\r\nHost: a\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                           "Connection: keep-alive\r\n\r\n");
    expect_rewrite_request("GET / HTTP/1.0\r\n\r\n", "10.0.0.1",
                           "GET / HTTP/1.0\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                           "Connection: keep-alive\r\n\r\n");
}

Test(http_rewrite_request, upgrade_keeps_upgrade_and_sends_connection_upgrade)
{
    expect_rewrite_request("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
                           "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n",
                           "10.0.0.1",
                           "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                           "Connection: upgrade\r\n\r\n");
}

Test(http_rewrite_request, upgrade_removed_outside_an_upgrade)
{
    expect_rewrite_request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nHTTP2-Settings: x\r\n\r\n",
                           "10.0.0.1",
                           "GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: x\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n\r\n");
}

Test(http_rewrite_request, every_field_removed)
{
    expect_rewrite_request("GET / HTTP/1.0\r\nConnection: close\r\nKeep-Alive: 1\r\n\r\n", "10.0.0.1",
                           "GET / HTTP/1.0\r\n"
                           "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                           "Connection: keep-alive\r\n\r\n");
}

Test(http_rewrite_request, returns_zero_when_cap_is_too_small)
{
    struct t_msg t;
    const char *in = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nAccept: b\r\n\r\n";
    char out[512];

    cr_assert_eq(t_req(&t, in), 0);
    size_t full = http_rewrite_request(in, &t.h, "10.0.0.1", 0, out, sizeof out);
    cr_assert_gt(full, 0);
    for (size_t cap = 0; cap < full; cap++)
        cr_assert_eq(http_rewrite_request(in, &t.h, "10.0.0.1", 0, out, cap), 0, "cap %zu", cap);
    cr_assert_eq(http_rewrite_request(in, &t.h, "10.0.0.1", 0, out, full), full);
}

/* ---- http_rewrite_response ------------------------------------------------------ */

Test(http_rewrite_response, hop_by_hop_removed)
{
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Hop\r\n"
                            "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\nTE: t\r\n"
                            "Trailer: X-T\r\nUpgrade: h2\r\nServer: s\r\n\r\n",
                            0, 0, 0,
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n");
}

/* "Connection: keep-alive" alone (the value most servers send, taken
 * without walking its list) still removes Keep-Alive and nothing else;
 * "keep-alive" as one name of a longer list, or in other case, too. */
Test(http_rewrite_response, connection_keep_alive_alone)
{
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n"
                            "Keep-Alive: timeout=5\r\nKeep-Alivf: 1\r\nServer: s\r\n\r\n",
                            0, 0, 0,
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alivf: 1\r\nServer: s\r\n\r\n");
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alivf\r\n"
                            "Keep-Alivf: 1\r\nServer: s\r\n\r\n",
                            0, 0, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n");
}

Test(http_rewrite_response, kept_bytes_are_as_they_came)
{
    expect_rewrite_response("HTTP/1.1 404 Nope Nope\r\nset-cookie: a=b; Path=/\r\nX-Sp:  v  \r\n"
                            "Transfer-Encoding: chunked\r\n\r\n",
                            0, 0, 0,
                            "HTTP/1.1 404 Nope Nope\r\nset-cookie: a=b; Path=/\r\nX-Sp:  v  \r\n"
                            "Transfer-Encoding: chunked\r\n\r\n");
}

Test(http_rewrite_response, connection_close_when_client_closes)
{
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
                            0, 1, 0,
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 0, 1, 1,
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
}

Test(http_rewrite_response, keep_alive_for_http10_clients)
{
    expect_rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 0, 0, 1,
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

Test(http_rewrite_response, switching_protocols_keeps_upgrade)
{
    expect_rewrite_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: x\r\n\r\n",
                            0, 0, 0,
                            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Sec-WebSocket-Accept: x\r\nConnection: upgrade\r\n\r\n");
}

Test(http_rewrite_response, returns_zero_when_cap_is_too_small)
{
    struct t_msg t;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\n\r\n";
    char out[512];

    cr_assert_eq(t_resp(&t, in, 0), 0);
    size_t full = http_rewrite_response(in, &t.h, 1, 0, out, sizeof out);
    cr_assert_eq(full, strlen(in) + strlen("Connection: close\r\n"));
    for (size_t cap = 0; cap < full; cap++)
        cr_assert_eq(http_rewrite_response(in, &t.h, 1, 0, out, cap), 0, "cap %zu", cap);
    cr_assert_eq(http_rewrite_response(in, &t.h, 1, 0, out, full), full);
}

/* ---- http_error_response -------------------------------------------------------- */

/* Checks one error response: status line, Content-Type, Content-Length equal
 * to the body, Retry-After only on 503, Connection: close iff asked. */
static void check_error_response(int status, int close)
{
    char out[1024], line[64];
    size_t n = http_error_response(status, close, out, sizeof out);

    cr_assert_gt(n, 0, "status %d", status);
    cr_assert_lt(n, sizeof out);
    out[n] = '\0';
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    cr_assert(strncmp(out, line, strlen(line)) == 0, "status line of %d: %s", status, out);
    const char *eoh = strstr(out, "\r\n\r\n");
    cr_assert_not_null(eoh);
    size_t head_len = (size_t)(eoh - out) + 4;
    size_t body_len = n - head_len;
    cr_assert_gt(body_len, 0, "status %d has an empty body", status);

    const char *cl = strstr(out, "\r\nContent-Length: ");
    cr_assert(cl && cl < eoh, "no Content-Length for %d", status);
    cr_assert_eq(strtoul(cl + strlen("\r\nContent-Length: "), NULL, 10), body_len, "status %d", status);
    const char *ct = strstr(out, "\r\nContent-Type: text/plain");
    cr_assert(ct && ct < eoh);

    const char *ra = strstr(out, "\r\nRetry-After: ");
    if (status == 503)
        cr_assert(ra && ra < eoh, "503 without Retry-After");
    else
        cr_assert(!ra || ra > eoh, "%d with Retry-After", status);
    const char *cc = strstr(out, "\r\nConnection: close\r\n");
    if (close)
        cr_assert(cc && cc < eoh, "%d without Connection: close", status);
    else
        cr_assert(!cc || cc > eoh, "%d with Connection: close", status);

    /* And it is a response our own parser frames correctly. */
    struct t_msg t;
    memset(&t, 0, sizeof t);
    t.h.fields = t.f;
    t.h.max_fields = T_MAX_FIELDS;
    cr_assert_eq(http_parse_response(&t.m, out, head_len, 0, &t.h), 0);
    cr_assert_eq(t.h.status, status);
    cr_assert_eq(t.h.content_length, body_len);
    cr_assert_eq(t.h.keep_alive, close ? 0 : 1);
}

Test(http_error_response, every_status_with_and_without_close)
{
    static const int statuses[] = { 400, 408, 413, 414, 431, 501, 502, 503, 504 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        check_error_response(statuses[i], 1);
        check_error_response(statuses[i], 0);
    }
}

Test(http_error_response, reason_phrases)
{
    static const struct { int status; const char *line; } want[] = {
        { 400, "HTTP/1.1 400 Bad Request\r\n" },
        { 408, "HTTP/1.1 408 Request Timeout\r\n" },
        { 413, "HTTP/1.1 413 Payload Too Large\r\n" },
        { 414, "HTTP/1.1 414 URI Too Long\r\n" },
        { 431, "HTTP/1.1 431 Request Header Fields Too Large\r\n" },
        { 502, "HTTP/1.1 502 Bad Gateway\r\n" },
        { 503, "HTTP/1.1 503 Service Unavailable\r\n" },
        { 504, "HTTP/1.1 504 Gateway Timeout\r\n" },
    };
    char out[1024];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n = http_error_response(want[i].status, 1, out, sizeof out);
        cr_assert_gt(n, 0);
        cr_assert(strncmp(out, want[i].line, strlen(want[i].line)) == 0, "%.*s", (int)n, out);
    }
}

Test(http_error_response, too_small_a_buffer_gives_zero)
{
    char out[1024];
    size_t n = http_error_response(503, 1, out, sizeof out);

    cr_assert_gt(n, 0);
    cr_assert_eq(http_error_response(503, 1, out, n), 0);
    cr_assert_eq(http_error_response(503, 1, out, 10), 0);
}

/* ---- http_method_idempotent / http_token_eq ---------------------------------- */

Test(http_misc, idempotent_methods)
{
    cr_assert(http_method_idempotent(HTTP_GET));
    cr_assert(http_method_idempotent(HTTP_HEAD));
    cr_assert(http_method_idempotent(HTTP_OPTIONS));
    cr_assert(http_method_idempotent(HTTP_PUT));
    cr_assert(http_method_idempotent(HTTP_DELETE));
    cr_assert(http_method_idempotent(HTTP_TRACE));
    cr_assert_not(http_method_idempotent(HTTP_POST));
    cr_assert_not(http_method_idempotent(HTTP_PATCH));
    cr_assert_not(http_method_idempotent(HTTP_CONNECT));
}

Test(http_misc, token_eq_is_case_insensitive_and_exact_length)
{
    cr_assert(http_token_eq("Keep-Alive", 10, "keep-alive"));
    cr_assert_not(http_token_eq("Keep-Alive", 4, "keep-alive"));
    cr_assert_not(http_token_eq("keep-alivex", 11, "keep-alive"));
}

/* ---- TLS clients and the https redirect ------------------------------------------ */

Test(http_rewrite_request, tls_client_is_forwarded_as_https)
{
    struct t_msg t;
    char out[4096];
    const char *in = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: http\r\n\r\n";

    cr_assert_eq(t_req(&t, in), 0);
    size_t n = http_rewrite_request(in, &t.h, "10.0.0.1", 1, out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    /* The client's own X-Forwarded-Proto is replaced, never trusted. */
    cr_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\n\r\n");
}

Test(http_rewrite_response, extra_lines_go_after_the_fields)
{
    struct t_msg t;
    char out[4096];
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const char *hsts = "Strict-Transport-Security: max-age=60\r\n";

    cr_assert_eq(t_resp(&t, in, 0), 0);
    size_t n = http_rewrite_response_with(in, &t.h, 0, 0, hsts, strlen(hsts), out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nStrict-Transport-Security: max-age=60\r\n\r\n");
}

/* The proxy's Strict-Transport-Security replaces the server's: a browser
 * heeds the first (RFC 6797 8.1), which was the server's, and a server's
 * max-age=0 turned `tls hsts` off.  Without the proxy's, the server's goes
 * on untouched. */
Test(http_rewrite_response, the_proxys_hsts_replaces_the_servers)
{
    struct t_msg t;
    char out[4096];
    const char *in = "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=0\r\nContent-Length: 0\r\n"
                     "strict-transport-security: max-age=1; includeSubDomains\r\n\r\n";
    const char *hsts = "Strict-Transport-Security: max-age=60\r\n";

    cr_assert_eq(t_resp(&t, in, 0), 0);
    size_t n = http_rewrite_response_with(in, &t.h, 0, 0, hsts, strlen(hsts), out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nStrict-Transport-Security: max-age=60\r\n\r\n");
    n = http_rewrite_response(in, &t.h, 0, 0, out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, in);
}

static void expect_location(const char *host, const char *target, const char *want)
{
    char out[512];
    size_t n = http_https_location(host, strlen(host), target, strlen(target), out, sizeof out);
    if (!want) {
        cr_assert_eq(n, 0, "\"%s\" \"%s\" gave \"%.*s\"", host, target, (int)n, out);
        return;
    }
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, want);
}

Test(http_https_location, port_dropped_path_and_query_kept)
{
    expect_location("shop.example", "/cart?id=1", "https://shop.example/cart?id=1");
    expect_location("shop.example:8080", "/", "https://shop.example/");
    expect_location("[2001:db8::1]:80", "/a", "https://[2001:db8::1]/a");
    expect_location("[2001:db8::1]", "/a", "https://[2001:db8::1]/a");
    expect_location("h", "*", "https://h/*");
    /* An absolute-form target names the host itself. */
    expect_location("ignored", "http://real.example:80/p?q", "https://real.example/p?q");
    /* No host: nowhere to redirect to. */
    expect_location("", "/", NULL);
}

Test(http_redirect_response, exact_bytes)
{
    char out[512];
    size_t n = http_redirect_response(308, "https://a/b", 11, out, sizeof out);
    cr_assert_neq(n, 0);
    out[n] = '\0';
    cr_assert_str_eq(out, "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://a/b\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 16\r\nConnection: close\r\n\r\nMoved to HTTPS.\n");
    cr_assert_eq(http_redirect_response(308, "https://a/b", 11, out, 40), 0);
}
