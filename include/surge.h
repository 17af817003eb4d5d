/*
 * surge: tells a surge from ordinary traffic (CONTRACT 10).  Once a
 * second, on the main loop, the request rate of the last whole second
 * (metrics.rate, every worker) is set against a baseline: an exponential
 * moving average with time constant `surge baseline`, starting at `surge
 * min-rate` and frozen while a surge is on (or may be starting), so a
 * surge does not become its own baseline.  A surge starts when the rate
 * stays above `surge threshold` x baseline and above min-rate for `surge
 * hold`, and ends when it stays under half of that for 6 holds: the gap
 * between the two lines and the longer exit keep a rate that wavers at
 * the threshold from flapping.  Until the average has a time constant's
 * worth of seconds it is the plain mean of min-rate and the rates seen,
 * so a busy site is not a surge at start.  The start and the end are events
 * (surge-start, surge-end) carrying the traffic's anatomy (traffic.h).
 */
#ifndef PROXY_SURGE_H
#define PROXY_SURGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "traffic.h"

#define SURGE_END_HOLDS 6

/* The detector alone: a pure function of the rates it is given. */
struct surge_detector {
    struct config_surge cfg;
    double baseline;     /* requests per second */
    double rate;         /* the last one given */
    double ratio;        /* rate / baseline */
    int active;
    unsigned above_s;    /* seconds in a row above the threshold (before a surge) */
    unsigned below_s;    /* seconds in a row under half of it (during one) */
    uint64_t since_ms;   /* the surge's start (monotonic) */
    uint64_t samples;    /* seconds seen outside surges (the warm-up) */
};

enum surge_change { SURGE_SAME, SURGE_STARTED, SURGE_ENDED };

/* A detector with settings `cfg`, its baseline at cfg->min_rate. */
void surge_detector_init(struct surge_detector *d, const struct config_surge *cfg);
/* New settings (reload): the baseline and a surge under way stay. */
void surge_detector_configure(struct surge_detector *d, const struct config_surge *cfg);
/* One second's rate, at monotonic now_ms. */
enum surge_change surge_detector_step(struct surge_detector *d, double rate, uint64_t now_ms);

/* What the stats port and the events tell. */
struct surge_status {
    struct surge_detector det;
    time_t since;               /* the surge's start, wall clock (0: none yet) */
    uint64_t ticks;
    uint64_t last_sec;          /* the last whole second given to the detector */
    double rate_10s;            /* requests per second over the last 10 s */
    struct traffic_view view;   /* the last 10 s */
    int off;                    /* `surge off`: nothing is measured or declared */
};

/* The status as of the last tick (main thread). */
const struct surge_status *surge_status(void);

/* One second's work: the traffic's anatomy, the detector, the events.
 * The timer calls it; tests call it with a fake clock. */
void surge_tick(const struct config_surge *cfg, uint64_t now_ms, time_t wall);

/* "rate 640/s, baseline 20/s (32.0x); 412 clients in 10s, 95% new; shape
 * broad; prefixes ...; paths ...; clients ...; per-client rate p50 1.2/s,
 * p99 2.4/s, max 3.0/s" for events. */
size_t surge_describe(const struct surge_status *st, char *out, size_t cap);

/* The once-a-second timer on the main loop (it does not keep the loop
 * alive); settings are read from the current runtime at each tick. */
struct ev_loop;
void surge_start(struct ev_loop *loop);
void surge_stop(void);

/* Forgets the detector's state (tests). */
void surge_reset(void);

#endif
