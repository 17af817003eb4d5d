/*
 * surge: the detector, its timer and its events (see surge.h).  Main
 * thread only.
 */
#include "surge.h"

#include <ev.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "metrics.h"
#include "runtime.h"

/* Seconds a late tick evaluates at most (the rest are skipped). */
#define SURGE_CATCH_UP_S 5
#define SURGE_HANDOVER_LEAD_S 0.1

static struct surge_status status;
static int status_init;
static struct ev_loop *tick_loop;
static ev_timer tick_timer, handover_timer;

/* ---- the detector --------------------------------------------------------------------------- */

void surge_detector_init(struct surge_detector *d, const struct config_surge *cfg)
{
    memset(d, 0, sizeof *d);
    d->cfg = *cfg;
    d->baseline = cfg->min_rate;
}

void surge_detector_configure(struct surge_detector *d, const struct config_surge *cfg)
{
    d->cfg = *cfg;
}

static unsigned hold_seconds(const struct config_surge *cfg)
{
    uint64_t s = cfg->hold_ms / 1000;
    return s ? (unsigned)s : 1;
}

enum surge_change surge_detector_step(struct surge_detector *d, double rate, uint64_t now_ms)
{
    const struct config_surge *c = &d->cfg;
    unsigned hold = hold_seconds(c);

    d->rate = rate;
    d->ratio = d->baseline > 0 ? rate / d->baseline : 0.0;
    if (!d->active) {
        double tau_s = (double)c->baseline_ms / 1000.0;
        double alpha = 1.0 - exp(-1.0 / (tau_s > 1.0 ? tau_s : 1.0));
        /* Warm-up: until the moving average has a time constant's worth
         * of seconds, the baseline is the plain mean of min-rate and the
         * rates so far, so a busy site is not one long surge from start. */
        int warming = 1.0 / (double)(d->samples + 2) > alpha;
        if (warming)
            alpha = 1.0 / (double)(d->samples + 2);
        d->samples++;
        if (rate > c->threshold * d->baseline && rate > c->min_rate) {
            if (++d->above_s >= hold) {
                d->active = 1;
                d->above_s = d->below_s = 0;
                d->since_ms = now_ms;
                return SURGE_STARTED;
            }
            /* Frozen while a surge may be starting, too: the seconds that
             * make it must not raise the bar it is measured against. */
            if (!warming)
                return SURGE_SAME;
        } else {
            d->above_s = 0;
        }
        d->baseline += (rate - d->baseline) * alpha;
        return SURGE_SAME;
    }
    if (rate < c->threshold / 2.0 * d->baseline) {
        if (++d->below_s >= SURGE_END_HOLDS * hold) {
            d->active = 0;
            d->below_s = 0;
            return SURGE_ENDED;
        }
    } else {
        d->below_s = 0;
    }
    return SURGE_SAME;
}

/* ---- the anatomy in words ------------------------------------------------------------------ */

static void add(char *out, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;

    if (*len >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static void add_list(char *out, size_t cap, size_t *len, const char *name, const struct traffic_top *top,
                     unsigned n)
{
    add(out, cap, len, "; %s", name);
    if (n == 0)
        add(out, cap, len, " none over the others");
    for (unsigned i = 0; i < n; i++)
        add(out, cap, len, "%s %s %.0f%%", i ? "," : "", top[i].key, top[i].share * 100.0);
}

size_t surge_describe(const struct surge_status *st, char *out, size_t cap)
{
    const struct surge_detector *d = &st->det;
    const struct traffic_view *v = &st->view;
    size_t len = 0;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    add(out, cap, &len, "rate %.0f/s, baseline %.1f/s (%.1fx); %.0f clients in %ds, %.0f%% new; shape %s",
        d->rate, d->baseline, d->ratio, v->distinct, TRAFFIC_WINDOW_S, v->new_share * 100.0,
        traffic_shape_name(v->shape));
    add_list(out, cap, &len, "prefixes", v->prefixes, v->nprefixes);
    add_list(out, cap, &len, "paths", v->paths, v->npaths);
    add_list(out, cap, &len, "clients", v->clients, v->nclients < TRAFFIC_TOP ? v->nclients : TRAFFIC_TOP);
    /* How the rate spreads over clients, over the last complete window:
     * a flood's max far above its p50, a campaign's p99 low. */
    if (v->rates.clients == 0) /* in the first window after a start or a reset: nothing measured */
        add(out, cap, &len, "; per-client rate not known yet (no complete %d s window)", RATES_WINDOW_S);
    else
        add(out, cap, &len, "; per-client rate p50 %.1f/s, p99 %.1f/s, max %.1f/s", v->rates.p50, v->rates.p99,
            v->rates.max);
    return len;
}

/* ---- the process's detector ------------------------------------------------------------------ */

const struct surge_status *surge_status(void)
{
    return &status;
}

void surge_tick(const struct config_surge *cfg, uint64_t now_ms, time_t wall)
{
    if (!cfg->enabled) {
        /* `surge off`: no anatomy comes in and no surge is declared; one
         * under way at a reload that turned detection off stops without an
         * event (the detector starts afresh when it is turned on again). */
        memset(&status, 0, sizeof status);
        surge_detector_init(&status.det, cfg);
        status_init = 1;
        status.off = 1;
        return;
    }
    status.off = 0;
    if (!status_init) {
        surge_detector_init(&status.det, cfg);
        status_init = 1;
    } else {
        surge_detector_configure(&status.det, cfg);
    }
    traffic_tick(now_ms, &status.view);
    status.rate_10s = rate_ring_rate(&metrics.rate, now_ms, TRAFFIC_WINDOW_S);
    status.ticks++;
    /* One step per whole second, whatever the timer's phase: a tick that
     * lands in the same second as the last one adds nothing, one that
     * comes late catches up (a few seconds at most), so `surge hold`
     * counts seconds, not ticks. */
    uint64_t last = now_ms / 1000;
    last = last ? last - 1 : 0;
    if (status.last_sec && last <= status.last_sec)
        return;
    unsigned n = status.last_sec && last - status.last_sec < SURGE_CATCH_UP_S ? (unsigned)(last - status.last_sec) : 1;
    uint32_t counts[SURGE_CATCH_UP_S];
    rate_ring_history(&metrics.rate, now_ms, counts, n);
    status.last_sec = last;
    enum surge_change change = SURGE_SAME;
    for (unsigned i = 0; i < n; i++) {
        enum surge_change c = surge_detector_step(&status.det, counts[i], now_ms);
        if (c != SURGE_SAME)
            change = change == SURGE_SAME ? c : SURGE_SAME; /* a start and an end at once: nothing */
    }
    if (change == SURGE_SAME)
        return;
    char detail[1400];
    size_t len = surge_describe(&status, detail, sizeof detail);
    if (change == SURGE_STARTED) {
        status.since = wall;
    } else if (len < sizeof detail) {
        snprintf(detail + len, sizeof detail - len, "; lasted %llds", (long long)(wall - status.since));
    }
    event_emit(change == SURGE_STARTED ? EVT_SURGE_START : EVT_SURGE_END, NULL, NULL, detail);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    struct runtime *rt = runtime_acquire();
    if (!rt)
        return;
    surge_tick(&rt->cfg->surge, now_ms(), time(NULL));
    runtime_release(rt);
}

/* A tenth of a second before each tick: busy workers answer within
 * microseconds, so the tick's top lists run to 0.1 s ago. */
static void handover_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)t;
    (void)revents;
    traffic_handover();
}

void surge_start(struct ev_loop *loop)
{
    tick_loop = loop;
    ev_timer_init(&handover_timer, handover_cb, 1.0 - SURGE_HANDOVER_LEAD_S, 1.0);
    ev_timer_init(&tick_timer, tick_cb, 1.0, 1.0);
    ev_timer_start(loop, &handover_timer);
    ev_timer_start(loop, &tick_timer);
    /* They only measure: they must not keep the loop alive at stop. */
    ev_unref(loop);
    ev_unref(loop);
}

void surge_stop(void)
{
    if (!tick_loop)
        return;
    ev_ref(tick_loop);
    ev_ref(tick_loop);
    ev_timer_stop(tick_loop, &handover_timer);
    ev_timer_stop(tick_loop, &tick_timer);
    tick_loop = NULL;
}

void surge_reset(void)
{
    memset(&status, 0, sizeof status);
    status_init = 0;
}
