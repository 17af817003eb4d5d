/*
 * Unit tests of the I/O buffers: the per-thread free list (reuse, capacity,
 * big buffers never cached) and buf_consume.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "buf.h"

static void buf_teardown(void)
{
    buf_cache_clear();
}

TestSuite(buf, .fini = buf_teardown);

Test(buf, get_gives_an_empty_buffer_of_at_least_buf_size)
{
    struct buf *b = buf_get(0);

    cr_assert_not_null(b);
    cr_assert_eq(b->len, 0);
    cr_assert_geq(b->cap, BUF_SIZE);
    memset(b->data, 'x', b->cap); /* all of it is writable */
    buf_put(b);

    b = buf_get(100);
    cr_assert_not_null(b);
    cr_assert_geq(b->cap, 100);
    buf_put(b);
}

Test(buf, put_then_get_reuses_the_buffer)
{
    struct buf *b = buf_get(BUF_SIZE);

    b->len = 123;
    buf_put(b);
    struct buf *c = buf_get(BUF_SIZE);
    cr_assert_eq(c, b);
    cr_assert_eq(c->len, 0, "a reused buffer comes back empty");
    cr_assert_eq(c->cap, BUF_SIZE);
    cr_assert_null(c->next_free);
    buf_put(c);
}

Test(buf, free_list_is_last_in_first_out)
{
    struct buf *a = buf_get(0), *b = buf_get(0);

    cr_assert_neq(a, b);
    buf_put(a);
    buf_put(b);
    cr_assert_eq(buf_get(0), b);
    cr_assert_eq(buf_get(0), a);
    buf_put(a);
    buf_put(b);
}

Test(buf, big_buffers_are_not_cached)
{
    struct buf *small = buf_get(0);
    buf_put(small);

    struct buf *big = buf_get(BUF_SIZE * 4);
    cr_assert_not_null(big);
    cr_assert_geq(big->cap, BUF_SIZE * 4);
    cr_assert_neq(big, small, "a cached small buffer cannot serve a big request");
    memset(big->data, 'y', big->cap);
    buf_put(big);

    /* The next small request still gets the cached small buffer. */
    struct buf *again = buf_get(0);
    cr_assert_eq(again, small);
    cr_assert_eq(again->cap, BUF_SIZE);
    buf_put(again);
}

Test(buf, put_null_is_harmless)
{
    buf_put(NULL);
}

Test(buf, many_buffers_round_trip)
{
    enum { N = 300 };
    static struct buf *bufs[N];

    for (int i = 0; i < N; i++) {
        bufs[i] = buf_get(0);
        cr_assert_not_null(bufs[i]);
        bufs[i]->len = 1;
        bufs[i]->data[0] = (char)i;
    }
    for (int i = 0; i < N; i++)
        buf_put(bufs[i]);
    for (int i = 0; i < N; i++) {
        bufs[i] = buf_get(0);
        cr_assert_not_null(bufs[i]);
        cr_assert_eq(bufs[i]->len, 0);
    }
    for (int i = 0; i < N; i++)
        buf_put(bufs[i]);
    buf_cache_clear();
    struct buf *b = buf_get(0);
    cr_assert_not_null(b);
    buf_put(b);
}

static struct buf *filled(const char *s)
{
    struct buf *b = buf_get(0);
    cr_assert_not_null(b);
    b->len = strlen(s);
    memcpy(b->data, s, b->len);
    return b;
}

Test(buf, consume_moves_the_rest_to_the_front)
{
    struct buf *b = filled("hello world");

    buf_consume(b, 6);
    cr_assert_eq(b->len, 5);
    cr_assert(memcmp(b->data, "world", 5) == 0);
    buf_consume(b, 0);
    cr_assert_eq(b->len, 5);
    cr_assert(memcmp(b->data, "world", 5) == 0);
    buf_consume(b, 1);
    cr_assert_eq(b->len, 4);
    cr_assert(memcmp(b->data, "orld", 4) == 0);
    buf_put(b);
}

Test(buf, consume_everything_or_more_empties_it)
{
    struct buf *b = filled("abc");

    buf_consume(b, 3);
    cr_assert_eq(b->len, 0);
    b->len = 3;
    memcpy(b->data, "abc", 3);
    buf_consume(b, 1000);
    cr_assert_eq(b->len, 0);
    buf_consume(b, 1);
    cr_assert_eq(b->len, 0);
    buf_put(b);
}

Test(buf, consume_a_full_buffer_overlapping)
{
    struct buf *b = buf_get(0);

    for (size_t i = 0; i < b->cap; i++)
        b->data[i] = (char)(i % 251);
    b->len = b->cap;
    buf_consume(b, 7);
    cr_assert_eq(b->len, b->cap - 7);
    for (size_t i = 0; i < b->len; i++)
        cr_assert_eq(b->data[i], (char)((i + 7) % 251), "byte %zu", i);
    buf_put(b);
}

Test(buf, cache_trim_keeps_only_the_number_asked)
{
    struct buf *held[8];

    for (int i = 0; i < 8; i++)
        held[i] = buf_get(BUF_SIZE);
    for (int i = 0; i < 8; i++)
        buf_put(held[i]);
    buf_cache_trim(3);
    /* The three kept come back first; the fourth is a new allocation. */
    struct buf *a = buf_get(BUF_SIZE), *b = buf_get(BUF_SIZE), *c = buf_get(BUF_SIZE);
    cr_assert(a == held[7] && b == held[6] && c == held[5]);
    buf_put(a);
    buf_put(b);
    buf_put(c);
}
