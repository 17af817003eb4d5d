/*
 * token_bucket: `limit rate R/s burst B` for one client, as one 64-bit
 * number (the generic cell rate algorithm, the same bucket counted by
 * time): `tat` is when the bucket would be full again.  A bucket holds up
 * to B tokens, one comes back every `interval` (1/R s), a request takes
 * one.  Keeping the time rather than a token count needs no refill step:
 * a request is one subtraction and one comparison.  Pure: the caller
 * passes the clock (monotonic nanoseconds), so tests use a fake one.
 */
#ifndef PROXY_TOKEN_BUCKET_H
#define PROXY_TOKEN_BUCKET_H

#include <stdint.h>

/* How far apart the callers' clocks may be (each worker's loop time):
 * within it a bucket is never reset (a client emptying its bucket on one
 * worker then asking on another must not get a fresh burst). */
#define TOKEN_BUCKET_SKEW_NS 2000000000ull

/* Takes a token at `now` from the bucket whose state is *tat (0 for a new,
 * full one).  Returns 0 and moves *tat on, or, with the bucket empty,
 * leaves it and returns the nanoseconds until a token is there (> 0). */
static inline uint64_t token_bucket_take(uint64_t *tat, uint64_t now, uint64_t interval, uint64_t burst)
{
    uint64_t room = interval * burst;   /* how far ahead of now a full burst reaches */
    /* Further ahead than a whole burst (and the clocks' skew between
     * workers, whose loop times differ by a few ms) only when the clock
     * went back - a wall clock set back: start over full rather than refuse
     * the client until the clock catches up. */
    if (*tat > now && *tat - now > room + TOKEN_BUCKET_SKEW_NS)
        *tat = now;
    uint64_t base = *tat > now ? *tat : now;
    uint64_t next = base + interval;

    if (next - now <= room) {
        *tat = next;
        return 0;
    }
    return next - now - room;
}

/* Whole seconds to wait for `ns` (at least 1: Retry-After 0 would invite
 * the client to come straight back). */
static inline uint32_t token_bucket_retry_after_s(uint64_t ns)
{
    uint64_t s = (ns + 999999999ull) / 1000000000ull;
    return s ? (s > UINT32_MAX ? UINT32_MAX : (uint32_t)s) : 1;
}

#endif
