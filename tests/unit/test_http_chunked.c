/*
 * Unit tests of chunked framing as http_msg_body reads it: each chunk's
 * data and each chunk-size line end in CRLF and in nothing else
 * (RFC 9112 7.1).  A body whose end another reader puts elsewhere is
 * request smuggling when that reader is the server: llhttp's loose mode
 * skipped any two bytes after a chunk's data, so "3 CRLF abc LF 10 CRLF
 * CRLF" ended here after "1" was skipped, while a server that takes a bare
 * LF reads a chunk of 0x10 bytes there, the start of the next request.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "http.h"

#define T_MAX_FIELDS 16

struct t_msg {
    struct http_msg m;
    struct http_head h;
    struct http_field f[T_MAX_FIELDS];
};

/* Parses the head at the start of s (a request, or a response when it
 * starts with "HTTP/"); returns where the body starts. */
static size_t t_head(struct t_msg *t, const char *s)
{
    size_t head = http_head_end(s, strlen(s), 0);
    cr_assert_neq(head, 0);
    memset(t, 0, sizeof *t);
    t->h.fields = t->f;
    t->h.max_fields = T_MAX_FIELDS;
    int rc = strncmp(s, "HTTP/", 5) == 0 ? http_parse_response(&t->m, s, head, 0, &t->h)
                                         : http_parse_request(&t->m, s, head, &t->h);
    cr_assert_eq(rc, 0);
    cr_assert(t->h.chunked);
    return head;
}

/* The body after the head of s, in one piece then a byte at a time: never
 * complete, and want (a fault's code) by its end, or 1: complete at its
 * end. */
static void expect_body(const char *s, int want)
{
    struct t_msg t;
    size_t consumed, head = t_head(&t, s), len = strlen(s) - head;
    cr_assert_eq(http_msg_body(&t.m, s + head, len, &consumed), want, "in one piece: %s", s + head);

    head = t_head(&t, s);
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++)
        rc = http_msg_body(&t.m, s + head + i, 1, &consumed);
    cr_assert_eq(rc, want, "byte by byte: %s", s + head);
}

static void expect_invalid_body(const char *s)
{
    expect_body(s, -1);
}

#define REQ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define RESP "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

Test(http_chunked, the_smuggling_shape_is_invalid)
{
    expect_invalid_body(REQ "3\r\nabc\n10\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
}

Test(http_chunked, chunk_data_ends_in_crlf)
{
    expect_invalid_body(REQ "3\r\nabcXX0\r\n\r\n");
    expect_invalid_body(REQ "3\r\nabc\rX0\r\n\r\n");
    expect_invalid_body(REQ "3\r\nabcX\n0\r\n\r\n");
    expect_invalid_body(RESP "5\r\nhelloXX0\r\n\r\n");
}

Test(http_chunked, chunk_size_line_ends_in_crlf)
{
    expect_invalid_body(REQ "3\r\nabc\r\n0\r8\r\n\r\n");
    expect_invalid_body(RESP "3\rXabc\r\n0\r\n\r\n");
}

/* llhttp, even strict, ends a trailer section (or the empty one after the
 * last chunk) at a bare LF: a server that reads lines to CRLF only takes
 * what follows as more trailer lines, the next request among them. */
Test(http_chunked, the_last_line_ends_in_crlf)
{
    expect_invalid_body(REQ "0\r\n\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_invalid_body(REQ "3\r\nabc\r\n0\r\nX-T: 1\r\n\nGET /smuggled HTTP/1.1\r\n\r\n");
    expect_invalid_body(RESP "3\r\nabc\r\n0\r\n\n");
    /* A Transfer-Encoding trailer field changes llhttp's framing flags:
     * the check goes by the head's. */
    expect_invalid_body(RESP "0\r\nTransfer-Encoding: h\r\n\n");
    expect_invalid_body(REQ "0\r\nTransfer-Encoding: gzip\r\n\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
}

Test(http_chunked, the_last_crlf_split_over_two_reads)
{
    struct t_msg t;
    const char *s = RESP "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
    size_t consumed, head = t_head(&t, s), len = strlen(s) - head;
    cr_assert_eq(http_msg_body(&t.m, s + head, len - 1, &consumed), 0);
    cr_assert_eq(http_msg_body(&t.m, s + head + len - 1, 1, &consumed), 1);
    cr_assert_eq(consumed, 1);
}

Test(http_chunked, well_framed_body_still_ends_where_it_ends)
{
    struct t_msg t;
    const char *s = REQ "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET /next HTTP/1.1\r\n";
    size_t consumed, head = t_head(&t, s);
    cr_assert_eq(http_msg_body(&t.m, s + head, strlen(s) - head, &consumed), 1);
    cr_assert_eq(consumed, strlen("3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"));
}

/* llhttp joins a trailer line that starts with a blank to the field
 * before it; the section is refused instead (-4), also when the fold's
 * line break and its blank come in two reads (byte by byte). */
Test(http_chunked, a_folded_trailer_line_is_refused)
{
    expect_body(REQ "5\r\nhello\r\n0\r\nX-Sum: 1\r\n  folded\r\n\r\n", -4);
    expect_body(REQ "0\r\nA: 1\r\nB: 2\r\n\tfolded\r\n\r\n", -4);
    expect_body(RESP "5\r\nhello\r\n0\r\nX-Sum: 1\r\n  folded\r\n\r\n", -4);
}

Test(http_chunked, blanks_inside_a_trailer_line_are_not_a_fold)
{
    expect_body(REQ "5\r\nhello\r\n0\r\nX-Sum: a b\t c\r\nY: 2\r\n\r\n", 1);
    expect_body(REQ "1\r\n \r\n0\r\n\r\n", 1); /* a blank in the data before the section */
}
