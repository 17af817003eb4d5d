/*
 * rehearse: the run of `proxy rehearse`, step after step (see rehearse.h).
 *
 * One libev loop carries everything: a timerfd wakes the scheduler at the
 * next due time (libev's own timers round to the millisecond through
 * epoll_wait, which would add up to 1 ms to every latency at high rates),
 * the client's connections, the stats sampler and a 100 ms housekeeping
 * timer that enforces timeouts, draws the progress bar and ends steps.
 *
 * A step sends its requests for --step-time, then drains: it ends when
 * every one of its requests is answered or timed out, so each step is
 * judged on its own requests and the next one starts from an empty queue.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "rehearse.h"
#include "rehearse_types.h"
#include "rehearse_client.h"
#include "rehearse_opts.h"
#include "rehearse_report.h"
#include "rehearse_sched.h"
#include "rehearse_stats.h"
#include "rehearse_verdict.h"

/* Requests due within this much of now go out in the same wake-up: a
 * wake-up per request would cost more than the 20 us they are early. */
#define RH_SLACK_NS 20000ull
#define RH_MIN_GAP_NS 100000ull

enum { PH_WARM, PH_RUN, PH_DRAIN };

/* Connections opened before the first step: a handful, so that its first
 * requests measure the pool rather than TCP handshakes. */
#define RH_WARM_MAX 64
#define RH_WARM_NS 1000000000ull

struct rh_run {
    struct ev_loop *loop;
    const struct rh_opts *o;
    struct rh_client client;
    struct rh_stats stats;
    struct rh_acc acc;
    struct rh_sched sched;
    struct rh_step *steps;
    int nsteps, k, phase, done, interrupted, tty;
    int tfd;
    uint64_t warm_end_ns;
    ev_io tfd_io;
    ev_timer house;
    ev_signal sigint, sigterm;
};

static void arm_timerfd(struct rh_run *r, uint64_t now)
{
    uint64_t next = rh_sched_next_due(&r->sched);
    /* At most one wake-up per RH_MIN_GAP_NS: above 10k req/s requests go
     * out in small batches, late by under 0.1 ms (counted: latency runs
     * from the due time), instead of a wake-up each. */
    if (next != UINT64_MAX && next < now + RH_MIN_GAP_NS)
        next = now + RH_MIN_GAP_NS;
    struct itimerspec its = { 0 };
    if (next != UINT64_MAX) {
        if (next == 0)
            next = 1; /* 0 would disarm */
        its.it_value.tv_sec = (time_t)(next / 1000000000ull);
        its.it_value.tv_nsec = (long)(next % 1000000000ull);
    }
    timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void tfd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct rh_run *r = w->data;
    /* No read(2) of the expiration count: timerfd_settime() in
     * arm_timerfd() clears it, one system call fewer per wake-up. */
    if (r->phase != PH_RUN) {
        struct itimerspec off = { 0 };
        timerfd_settime(r->tfd, 0, &off, NULL);
        return;
    }
    uint64_t now = rh_now_ns(), due;
    while (rh_sched_next(&r->sched, now + RH_SLACK_NS, &due))
        rh_client_issue(&r->client, due);
    arm_timerfd(r, now);
}

static void step_begin(struct rh_run *r)
{
    const struct rh_opts *o = r->o;
    struct rh_step *s = &r->steps[r->k];
    memset(s, 0, sizeof *s);
    s->rate = rh_opts_step_rate(o, r->k);
    memset(&r->acc, 0, sizeof r->acc);
    uint64_t now = rh_now_ns();
    r->acc.window_end_ns = now + o->step_ms * 1000000ull;
    rh_sched_init(&r->sched, now, s->rate, o->step_ms);
    r->phase = PH_RUN;
    r->stats.step = o->have_stats ? s : NULL;
    arm_timerfd(r, 0);
}

static void step_finish(struct rh_run *r)
{
    const struct rh_opts *o = r->o;
    struct rh_step *s = &r->steps[r->k];
    const struct rh_acc *a = &r->acc;
    /* Every request the step attempted, so that errors (a refused connect
     * never reaches the wire) are a share of it; achieved counts only what
     * went on the wire in time. */
    s->sent = a->issued;
    s->done = a->done;
    s->errors = a->errors;
    memcpy(s->err, a->err, sizeof s->err);
    s->conn_waits = a->conn_waits;
    s->retried = a->retried;
    s->achieved = (double)a->sent_in_window * 1000.0 / (double)o->step_ms;
    s->p50_ms = (double)rh_hist_percentile(&a->lat, 50) / 1000.0;
    s->p90_ms = (double)rh_hist_percentile(&a->lat, 90) / 1000.0;
    s->p99_ms = (double)rh_hist_percentile(&a->lat, 99) / 1000.0;
    s->p999_ms = (double)rh_hist_percentile(&a->lat, 99.9) / 1000.0;
    s->max_ms = (double)a->lat.max_us / 1000.0;
    s->mean_ms = rh_hist_mean(&a->lat) / 1000.0;
    s->lag_p99_ms = (double)rh_hist_percentile(&a->lag, 99) / 1000.0;
    /* Requests that never got an answer have no latency, but they count
     * against the SLO as errors, and a step with none answered cannot hold. */
    s->held = a->lat.count > 0 && rh_step_held(s, o->slo_p99_ms, o->slo_errors);
    s->behind = rh_step_behind(s);
    r->stats.step = NULL;
    if (r->tty && !o->quiet)
        fputs("\r\033[K", stdout);
    if (!o->quiet)
        rh_report_line(stdout, s, r->k, r->nsteps);
    fflush(stdout);
    r->k++;
    if (!s->held || r->k >= r->nsteps) {
        r->done = 1;
        ev_break(r->loop, EVBREAK_ALL);
        return;
    }
    step_begin(r);
}

static void house_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct rh_run *r = w->data;
    uint64_t now = rh_now_ns();
    if (r->phase == PH_WARM) {
        if (rh_client_connecting(&r->client) == 0 || now > r->warm_end_ns)
            step_begin(r);
        return;
    }
    rh_client_sweep(&r->client, now);
    if (r->phase == PH_RUN && r->sched.issued >= r->sched.total && now >= r->acc.window_end_ns)
        r->phase = PH_DRAIN;
    if (r->phase == PH_DRAIN && rh_client_outstanding(&r->client) == 0) {
        step_finish(r);
        return;
    }
    if (r->tty && !r->o->quiet) {
        double frac = 1.0 - (double)(r->acc.window_end_ns > now ? r->acc.window_end_ns - now : 0) /
                                ((double)r->o->step_ms * 1e6);
        rh_report_progress(stdout, r->k, r->nsteps, r->steps[r->k].rate, frac, r->acc.issued,
                           r->acc.errors);
    }
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)revents;
    struct rh_run *r = w->data;
    r->interrupted = 1;
    ev_break(loop, EVBREAK_ALL);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static unsigned long long nofile_now(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 1024;
}

/* Checks before the first request, so that a typo fails in a second with
 * a message instead of as a step full of connect errors. */
static int preflight(const struct rh_opts *o)
{
    if (rh_probe(&o->addr, o->addr_len, 2000) < 0) {
        fprintf(stderr, "proxy rehearse: cannot connect to %s: %s\n", o->url, strerror(errno));
        return -1;
    }
    if (o->have_stats && rh_probe(&o->stats_addr, o->stats_addr_len, 2000) < 0) {
        fprintf(stderr, "proxy rehearse: --stats %s: cannot connect: %s\n", o->stats_text,
                strerror(errno));
        return -1;
    }
    if (o->report_dir && mkdir(o->report_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "proxy rehearse: --report %s: %s\n", o->report_dir, strerror(errno));
        return -1;
    }
    if (o->report_dir && access(o->report_dir, W_OK) < 0) {
        fprintf(stderr, "proxy rehearse: --report %s: %s\n", o->report_dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_steps(struct rh_run *r, const struct rh_entry *entries, int nentries,
                     unsigned conns)
{
    r->loop = ev_default_loop(0);
    r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!r->loop || r->tfd < 0 ||
        rh_client_init(&r->client, r->loop, r->o, entries, nentries, conns) < 0) {
        fprintf(stderr, "proxy rehearse: cannot set up the event loop: %s\n", strerror(errno));
        return -1;
    }
    r->client.acc = &r->acc;
    ev_io_init(&r->tfd_io, tfd_cb, r->tfd, EV_READ);
    r->tfd_io.data = r;
    ev_io_start(r->loop, &r->tfd_io);
    ev_timer_init(&r->house, house_cb, 0.1, 0.1);
    r->house.data = r;
    ev_timer_start(r->loop, &r->house);
    ev_signal_init(&r->sigint, signal_cb, SIGINT);
    ev_signal_init(&r->sigterm, signal_cb, SIGTERM);
    r->sigint.data = r->sigterm.data = r;
    ev_signal_start(r->loop, &r->sigint);
    ev_signal_start(r->loop, &r->sigterm);
    if (r->o->have_stats)
        rh_stats_start(&r->stats, r->loop, r->o);
    unsigned warm = r->o->rate_from / 20;
    rh_client_preconnect(&r->client, warm < 2 ? 2 : warm > RH_WARM_MAX ? RH_WARM_MAX : warm);
    r->phase = PH_WARM;
    r->warm_end_ns = rh_now_ns() + RH_WARM_NS;
    ev_run(r->loop, 0);
    rh_stats_stop(&r->stats);
    rh_client_free(&r->client);
    close(r->tfd);
    return 0;
}

int rehearse_main(int argc, char **argv)
{
    static struct rh_opts o;
    char err[512];
    int rc = rh_opts_parse(&o, argc, argv, err, sizeof err);
    if (rc == 2 && strcmp(err, "help") == 0) {
        rh_usage(stdout);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "proxy rehearse: %s\n", err);
        if (rc == 2)
            rh_usage(stderr);
        return rc;
    }
    struct rh_entry *entries;
    int nentries = rh_entries_load(&o, &entries, err, sizeof err);
    if (nentries < 0) {
        fprintf(stderr, "proxy rehearse: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    if (preflight(&o) < 0) {
        rh_entries_free(entries, nentries);
        return 1;
    }

    static struct rh_run r;
    r.o = &o;
    r.nsteps = rh_opts_nsteps(&o);
    r.steps = calloc((size_t)r.nsteps, sizeof *r.steps);
    r.tty = isatty(STDOUT_FILENO);
    unsigned conns = rh_opts_conns(&o, nofile_now());
    char started[32];
    time_t t = time(NULL);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    if (!o.quiet)
        printf("rehearsing %s: %u to %u req/s by %u, %.1fs a step, up to %u connections, "
               "SLO p99 <= %.0fms and errors <= %g%%\n", o.url, o.rate_from, o.rate_to,
               o.rate_step, (double)o.step_ms / 1000.0, conns, o.slo_p99_ms,
               o.slo_errors * 100.0);
    fflush(stdout);
    if (!r.steps || run_steps(&r, entries, nentries, conns) < 0) {
        rh_entries_free(entries, nentries);
        return 1;
    }

    int n = r.k; /* finished steps */
    struct rh_suggest sg;
    rh_suggest(r.steps, n, o.slo_p99_ms, &sg);
    if (!o.quiet || o.report_dir)
        rh_report_summary(stdout, &o, r.steps, n, &sg);
    /* Said, not left to an empty server list (and advice that points at
     * the --stats that was given). */
    if (o.have_stats && r.stats.failed)
        fprintf(stderr, "proxy rehearse: --stats %s: %u of %u samples could not be read as /api/stats "
                "(not the stats port, or not a 200 answer): %s\n", o.stats_text, r.stats.failed,
                r.stats.failed + r.stats.samples,
                r.stats.samples ? "the per-server figures miss those seconds" : "no per-server figures");
    struct rh_run_info ri = { .o = &o, .steps = r.steps, .n = n, .nsteps_planned = r.nsteps,
                              .conns = conns, .sg = &sg, .started = started,
                              .interrupted = r.interrupted };
    rc = 0;
    if (o.report_dir) {
        if (rh_report_write(o.report_dir, &ri) < 0) {
            fprintf(stderr, "proxy rehearse: --report %s: %s\n", o.report_dir, strerror(errno));
            rc = 1;
        } else {
            printf("report: %s/report.json, %s/report.html\n", o.report_dir, o.report_dir);
        }
    }
    if (r.interrupted) {
        fprintf(stderr, "proxy rehearse: interrupted after %d step(s)\n", n);
        rc = 1;
    } else if (rc == 0 && n > 0 && !r.steps[n - 1].held) {
        rc = 3;
    }
    free(r.steps);
    rh_entries_free(entries, nentries);
    return rc;
}
