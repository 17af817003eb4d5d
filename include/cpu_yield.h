/*
 * cpu_yield: after a loop round that sent something, a worker gives up the
 * CPU once (sched_yield) before it polls again.  The sends woke their
 * readers, a client or a server, often onto this CPU; letting them run now
 * means they answer while their data is hot, and the worker comes back to
 * a round with many events instead of polling at once for the one or two
 * already there.  In `make bench` with two workers (proxy, backend and
 * client sharing two CPUs) this took a round from 4 to 20 requests and the
 * CPU per request from 12-13 to 10 µs.
 *
 * A yield is only worth it while what runs in our place is quick.  Beside
 * a CPU-bound neighbour the yield hands it a whole time slice (0.75-4 ms,
 * by kernel and HZ), and the requests of the round wait for it: in a test
 * with two busy loops, 30 % of yields took over 3 ms and throughput fell to
 * a third.  Yields to a client or server are short: 150-210 µs on average
 * in the bench, a few percent over 500 µs.  So the policy watches how long
 * yields take and pauses yielding when they get costly on average, or when
 * they are useless (nothing else wanted the CPU).
 */
#ifndef PROXY_CPU_YIELD_H
#define PROXY_CPU_YIELD_H

#include <stdint.h>

/* Yields are judged in windows of this many. */
#define YIELD_WINDOW 64
/* Yields that take longer than this on average hand the CPU to something
 * slow: once a window's yields add up to YIELD_WINDOW times it, yielding
 * pauses (at once, not at the end of the window). */
#define YIELD_MEAN_MAX_US 1000
/* A yield shorter than this switched to nobody. */
#define YIELD_IDLE_US 4
/* Pauses: after costly yields from MIN doubling up to MAX (a clean window
 * starts over); after a window of idle yields, MIN. */
#define YIELD_PAUSE_MIN_MS 1000
#define YIELD_PAUSE_MAX_MS 32000

struct yield_policy {
    uint64_t paused_until_us; /* no yield before this (monotonic µs) */
    uint32_t pause_ms;        /* the next pause for costly yields; 0 = MIN */
    uint64_t took_us;         /* time the window's yields took, in all */
    uint16_t n;               /* yields in the current window */
    uint16_t idle;            /* of them, ones that switched to nobody */
};

enum yield_verdict {
    YIELD_GO_ON,
    YIELD_PAUSED_COSTLY, /* pause_ms was just used */
    YIELD_PAUSED_IDLE,
};

/* Whether to yield at monotonic time now_us. */
int yield_policy_wants(const struct yield_policy *p, uint64_t now_us);
/* Records a yield that took took_us, ending at now_us. */
enum yield_verdict yield_policy_record(struct yield_policy *p, uint64_t took_us, uint64_t now_us);

/* The worker side: yields once if the policy wants it, and logs pauses.
 * `id` names the worker in the log. */
void cpu_yield_round(struct yield_policy *p, int id);

#endif
