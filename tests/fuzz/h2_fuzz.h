/*
 * h2_fuzz: what fuzz_h2_frames.c shares with its backend (h2_fuzz_backend.c),
 * its structured input (h2_fuzz_ops.c) and its client's view of the
 * proxy's output (h2_fuzz_view.c).
 */
#ifndef PROXY_FUZZ_H2_FUZZ_H
#define PROXY_FUZZ_H2_FUZZ_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                              \
    do {                                                                                      \
        if (!(c)) {                                                                           \
            fprintf(stderr, "fuzz_h2_frames: invariant failed: %s (%s:%d)\n", #c, __FILE__,    \
                    __LINE__);                                                                \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* Appends n bytes at p to buf, of which *len are used and *cap allocated
 * (doubling, from 4 KiB): the buffer, moved when it grew.  The one growable
 * byte buffer of the harness (its program, the backend's output, the
 * client's view); out of memory aborts, as an input cannot go on. */
static inline void *h2_fuzz_append(void *buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (n == 0)
        return buf;
    if (*len + n > *cap) {
        size_t grown = *cap ? *cap : 4096;
        while (grown < *len + n)
            grown *= 2;
        buf = realloc(buf, grown);
        CHECK(buf != NULL);
        *cap = grown;
    }
    memcpy((char *)buf + *len, p, n);
    *len += n;
    return buf;
}

/* The backend: two listeners on loopback in the worker's loop.  A answers
 * as `behaviour` says (fuzz_h2_frames.c's data[0] bits 0-1) with bodies of
 * `body` bytes; B always fails.  Ports in ports[0] (A) and ports[1] (B). */
void backend_start(struct ev_loop *loop, unsigned ports[2]);
/* How A answers during the next input. */
void backend_set(int behaviour, size_t body, uint32_t seed);
/* Closes every connection the backend holds (the end of an input). */
void backend_close_all(void);

/* What the client does: bytes to send, and what happens between them
 * (each mark comes once the bytes before its offset went). */
enum { H2_MARK_SETTLE, H2_MARK_TIME, H2_MARK_EVENT };
#define H2_MARKS_MAX 64
struct h2_mark {
    size_t at;
    int action;
    unsigned arg; /* H2_MARK_TIME: milliseconds */
};
struct h2_program {
    uint8_t *bytes;
    size_t len, cap;
    struct h2_mark marks[H2_MARKS_MAX];
    int nmarks;
};
/* The structured input (h2_fuzz_ops.c): operations to frames and marks,
 * appended to pr.  0, or -1 out of memory. */
int h2_ops_compile(const uint8_t *in, size_t len, struct h2_program *pr);

/* The client's view: the proxy's output checked frame by frame. */
extern int view_verbose; /* each frame on stderr */
void view_reset(void);
void view_got(const uint8_t *p, size_t n);

#endif
