/*
 * clock: the monotonic time (CLOCK_MONOTONIC) in the units the modules
 * count in.  Its own file, below everything: the protocols, the txn, the
 * health checker and the stats take the time without depending on the
 * runtime (where now_ms used to live) or on each other.
 */
#ifndef PROXY_CLOCK_H
#define PROXY_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds. */
uint64_t now_ms(void);
/* Monotonic nanoseconds (rate limits, the rehearsal's schedule). */
uint64_t now_ns(void);

#endif
