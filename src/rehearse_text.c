/*
 * rehearse_text: how every output of a rehearsal writes a step's figures
 * and the suggested settings (see rehearse_text.h).
 */
#include "rehearse_text.h"

#include <stdio.h>

/* Here, with the writers that name them, not in rehearse.c: the report
 * and the text are below the run, which calls them. */
const char *const rh_err_names[RH_ERR_KINDS] = { "connect", "timeout", "closed", "bad", "5xx",
                                                 "4xx" };

void rh_fmt_ms(char *out, size_t cap, double ms)
{
    if (ms >= 10000)
        snprintf(out, cap, "%.1fs", ms / 1000.0);
    else if (ms >= 100)
        snprintf(out, cap, "%.0fms", ms);
    else
        snprintf(out, cap, "%.2fms", ms);
}

void rh_errors_text(char *out, size_t cap, const struct rh_step *s)
{
    size_t n = (size_t)snprintf(out, cap, "%llu", (unsigned long long)s->errors);
    const char *sep = " (";
    for (int i = 0; i < RH_ERR_KINDS && n < cap; i++) {
        if (!s->err[i])
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s %llu", sep, rh_err_names[i],
                              (unsigned long long)s->err[i]);
        sep = ", ";
    }
    if (*sep == ',' && n < cap)
        snprintf(out + n, cap - n, ")");
}

void rh_step_text(struct rh_step_text *out, const struct rh_step *s)
{
    rh_fmt_ms(out->p50, sizeof out->p50, s->p50_ms);
    rh_fmt_ms(out->p99, sizeof out->p99, s->p99_ms);
    rh_fmt_ms(out->max, sizeof out->max, s->max_ms);
    rh_errors_text(out->errors, sizeof out->errors, s);
}

void rh_suggestions_text(FILE *out, const char *indent, const struct rh_suggest *sg,
                         const struct rh_step *steps)
{
    if (sg->capacity == 0) {
        fprintf(out, "%sno step held: start lower (--rate FROM) to find the capacity\n", indent);
        return;
    }
    const struct rh_step *k = &steps[sg->knee >= 0 ? sg->knee : 0];
    for (unsigned i = 0; i < sg->nservers; i++) {
        const struct rh_suggest_server *s = &sg->servers[i];
        fprintf(out, "%s# pool %s, server %s: the most it had in flight at %u req/s, before "
                "latency turned", indent, s->pool, s->name, k->rate);
        if (s->limit_reached)
            fprintf(out, " (its max-conns %u was reached: rehearse with more to see if it "
                    "takes them)", s->current);
        fprintf(out, "\n%sserver %s ... max-conns %u\n", indent, s->name, s->max_conns);
    }
    if (sg->nservers == 0)
        fprintf(out, "%s# Little's law at %u req/s, over the pool's servers (split it by "
                "weight; --stats gives each server's own)\n%smax-conns %u in total\n", indent,
                k->rate, indent, sg->pool_conns);
    fprintf(out, "%s# 90%% of the capacity (%u req/s), per client address\n"
            "%slimit rate %u/s burst %u\n", indent, sg->capacity, indent, sg->limit_rate,
            sg->limit_burst);
    fprintf(out, "%s# what %u req/s drains within the acceptable wait (%.0fms, the SLO's p99)\n"
            "%smax-queue %u\n%stimeout queue %.0fms\n", indent, sg->capacity, sg->queue_wait_ms,
            indent, sg->max_queue, indent, sg->queue_wait_ms);
}
