/*
 * rehearse_verdict: what the steps mean - which held the SLO, where the
 * latency turned (the knee), the capacity, and the settings to suggest.
 * Pure functions over step results, so that they are unit-tested alone.
 */
#ifndef PROXY_REHEARSE_VERDICT_H
#define PROXY_REHEARSE_VERDICT_H

#include "rehearse_types.h"

/* A step held when it sent something, its p99 is within the SLO and its
 * errors are within the SLO's share of what it sent. */
int rh_step_held(const struct rh_step *s, double slo_p99_ms, double slo_errors);

/* The requests that got an answer (any status): done, less those that
 * failed to connect, timed out, were cut by a close or got no valid HTTP. */
uint64_t rh_step_answered(const struct rh_step *s);

/* The generator could not keep to the schedule: under 98% of the target
 * rate at a step without errors (with errors, a shortfall is the server's). */
int rh_step_behind(const struct rh_step *s);

/* The generator's own lateness (its schedule lag's p99) is a real part of
 * the step's latency: over a quarter of the SLO's p99 (and over 1 ms). */
int rh_step_lagged(const struct rh_step *s, double slo_p99_ms);

/* The index of the knee: the last step before the latency turned - its
 * p99 more than doubled (and by over 5 ms) from the lowest step's - or
 * broke the SLO.  -1 when the first step already had. */
int rh_knee(const struct rh_step *steps, int n);

struct rh_suggest_server {
    char pool[RH_NAME_MAX], name[RH_NAME_MAX];
    unsigned max_conns;     /* suggested */
    unsigned current;       /* what the proxy had, 0 = unlimited */
    int limit_reached;      /* the knee step hit the current max_conns */
};

struct rh_suggest {
    unsigned capacity;      /* rate of the last step that held; 0 = none */
    int knee;               /* index into steps, -1 */
    unsigned limit_rate;    /* per client address, req/s (90% of capacity) */
    unsigned limit_burst;
    unsigned max_queue;     /* capacity * acceptable wait */
    double queue_wait_ms;   /* the acceptable wait: the SLO's p99 */
    unsigned pool_conns;    /* without --stats: Little's law at the knee */
    unsigned nservers;
    struct rh_suggest_server servers[RH_MAX_SERVERS];
};

/* Capacity and suggestions from steps[0..n) (their `held` already set). */
void rh_suggest(const struct rh_step *steps, int n, double slo_p99_ms, struct rh_suggest *out);

#endif
