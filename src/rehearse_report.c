/*
 * rehearse_report: the live lines, the summary, report.json and writing
 * --report DIR (see rehearse_report.h); report.html is drawn by
 * rehearse_html.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rehearse_report.h"
#include "rehearse_html.h"
#include "rehearse_text.h"
#include "rehearse_verdict.h"

/* ---- the terminal ---------------------------------------------------------------- */

void rh_report_line(FILE *out, const struct rh_step *s, int k, int nsteps)
{
    struct rh_step_text tx;
    rh_step_text(&tx, s);
    fprintf(out, "step %d/%d  rate %u/s  achieved %.1f/s  sent %llu  p50 %s  p99 %s  max %s  "
            "errors %s  %s%s\n", k + 1, nsteps, s->rate, s->achieved,
            (unsigned long long)s->sent, tx.p50, tx.p99, tx.max, tx.errors, s->held ? "held" : "BROKE",
            s->behind ? "  (behind schedule)" : "");
}

void rh_report_progress(FILE *out, int k, int nsteps, unsigned rate, double frac, uint64_t sent,
                        uint64_t errors)
{
    char bar[31];
    int full = (int)(frac * 30 + 0.5);
    if (full > 30)
        full = 30;
    if (full < 0)
        full = 0;
    memset(bar, '#', (size_t)full);
    memset(bar + full, '.', (size_t)(30 - full));
    bar[30] = '\0';
    fprintf(out, "\r\033[Kstep %d/%d  rate %u/s  [%s] %3.0f%%  sent %llu  errors %llu", k + 1,
            nsteps, rate, bar, frac * 100, (unsigned long long)sent, (unsigned long long)errors);
    fflush(out);
}

/* The suggestions as configuration lines, for the summary and the HTML. */
void rh_report_summary(FILE *out, const struct rh_opts *o, const struct rh_step *steps, int n,
                       const struct rh_suggest *sg)
{
    if (n == 0)
        return;
    const struct rh_step *last = &steps[n - 1];
    if (sg->capacity)
        fprintf(out, "capacity: %u req/s (the last step that held the SLO)\n", sg->capacity);
    else
        fprintf(out, "capacity: below %u req/s (the first step broke the SLO)\n", steps[0].rate);
    if (!last->held) {
        char p99[16];
        rh_fmt_ms(p99, sizeof p99, last->p99_ms);
        fprintf(out, "broke at %u req/s: p99 %s (SLO %.0fms), errors %llu of %llu (SLO %g%%)\n",
                last->rate, p99, o->slo_p99_ms, (unsigned long long)last->errors,
                (unsigned long long)last->sent, o->slo_errors * 100);
    } else {
        fprintf(out, "every step held: the capacity is at least %u req/s (raise --rate TO)\n",
                last->rate);
    }
    if (sg->knee >= 0)
        fprintf(out, "knee: %u req/s (the last step before latency turned)\n",
                steps[sg->knee].rate);
    for (int i = 0; i < n; i++)
        if (steps[i].behind)
            fprintf(out, "note: at %u req/s the generator could not keep to the schedule "
                    "(achieved %.1f/s, %.1f%%): %s\n", steps[i].rate, steps[i].achieved,
                    100 * steps[i].achieved / steps[i].rate,
                    steps[i].conn_waits ? "every connection (--conns) was busy waiting on the pool, so later "
                                          "requests waited for one (their wait is in the latencies)"
                                        : "it fell behind the due times (CPU-bound)");
    for (int i = 0; i < n; i++)
        if (rh_step_lagged(&steps[i], o->slo_p99_ms))
            fprintf(out, "note: at %u req/s the generator itself was up to %.1fms late (p99 of "
                    "its schedule lag): its machine was busy, and that much of the latency is "
                    "its own\n", steps[i].rate, steps[i].lag_p99_ms);
    fprintf(out, "suggested settings:\n");
    rh_suggestions_text(out, "  ", sg, steps);
}

/* ---- report.json ------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_step(FILE *f, const struct rh_step *s)
{
    fprintf(f, "{\"rate\":%u,\"achieved\":%.1f,\"sent\":%llu,\"errors\":%llu,\"p50_ms\":%.3f,"
            "\"p99_ms\":%.3f,\"held\":%s,\"p90_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
            "\"mean_ms\":%.3f,\"answered\":%llu,\"errors_by_kind\":{", s->rate, s->achieved,
            (unsigned long long)s->sent, (unsigned long long)s->errors, s->p50_ms, s->p99_ms,
            s->held ? "true" : "false", s->p90_ms, s->p999_ms, s->max_ms, s->mean_ms,
            (unsigned long long)rh_step_answered(s));
    for (int i = 0; i < RH_ERR_KINDS; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", rh_err_names[i], (unsigned long long)s->err[i]);
    fprintf(f, "},\"behind_schedule\":%s,\"schedule_lag_p99_ms\":%.3f,\"conn_waits\":%llu,"
            "\"retried\":%llu,\"servers\":[", s->behind ? "true" : "false", s->lag_p99_ms,
            (unsigned long long)s->conn_waits, (unsigned long long)s->retried);
    for (unsigned i = 0; i < s->nservers; i++) {
        const struct rh_server_step *v = &s->servers[i];
        fprintf(f, "%s{\"pool\":", i ? "," : "");
        json_str(f, v->pool);
        fprintf(f, ",\"name\":");
        json_str(f, v->name);
        fprintf(f, ",\"active_max\":%u,\"queued_max\":%u,\"errors\":%llu,\"active_mean\":%.2f,"
                "\"max_conns\":%u,\"samples\":%u,\"state\":", v->active_max, v->queued_max,
                (unsigned long long)(v->failures_last - v->failures_base),
                v->samples ? v->active_sum / v->samples : 0.0, v->max_conns, v->samples);
        json_str(f, v->state);
        fprintf(f, ",\"states\":");
        json_str(f, v->states);
        fputc('}', f);
    }
    fprintf(f, "]}");
}

static void json_suggest(FILE *f, const struct rh_run_info *ri)
{
    const struct rh_suggest *sg = ri->sg;
    fprintf(f, "\"knee_rate\":");
    if (sg->knee >= 0)
        fprintf(f, "%u", ri->steps[sg->knee].rate);
    else
        fprintf(f, "null");
    fprintf(f, ",\"suggest\":{");
    if (sg->capacity) {
        fprintf(f, "\"limit_rate\":%u,\"limit_burst\":%u,\"max_queue\":%u,\"timeout_queue_ms\":%.0f,"
                "\"pool_conns\":%u,\"max_conns\":[", sg->limit_rate, sg->limit_burst,
                sg->max_queue, sg->queue_wait_ms, sg->pool_conns);
        for (unsigned i = 0; i < sg->nservers; i++) {
            fprintf(f, "%s{\"pool\":", i ? "," : "");
            json_str(f, sg->servers[i].pool);
            fprintf(f, ",\"name\":");
            json_str(f, sg->servers[i].name);
            fprintf(f, ",\"max_conns\":%u,\"current\":%u,\"limit_reached\":%s}",
                    sg->servers[i].max_conns, sg->servers[i].current,
                    sg->servers[i].limit_reached ? "true" : "false");
        }
        fprintf(f, "]");
    }
    fprintf(f, "}");
}

char *rh_report_json(const struct rh_run_info *ri)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    const struct rh_opts *o = ri->o;
    fprintf(f, "{\"url\":");
    json_str(f, o->url);
    fprintf(f, ",\"slo\":{\"p99_ms\":%.3f,\"errors\":%g},\"capacity\":%u,\"steps\":[",
            o->slo_p99_ms, o->slo_errors, ri->sg->capacity);
    for (int i = 0; i < ri->n; i++) {
        if (i)
            fputs(",\n", f);
        json_step(f, &ri->steps[i]);
    }
    fprintf(f, "],\n\"started\":");
    json_str(f, ri->started ? ri->started : "");
    fprintf(f, ",\"rate\":{\"from\":%u,\"to\":%u,\"step\":%u},\"step_time_s\":%.3f,\"conns\":%u,"
            "\"timeout_s\":%.3f,\"steps_planned\":%d,\"interrupted\":%s,\"stats\":",
            o->rate_from, o->rate_to, o->rate_step, (double)o->step_ms / 1000.0, ri->conns,
            (double)o->timeout_ms / 1000.0, ri->nsteps_planned, ri->interrupted ? "true" : "false");
    if (o->have_stats)
        json_str(f, o->stats_text);
    else
        fputs("null", f);
    fputc(',', f);
    json_suggest(f, ri);
    fprintf(f, "}\n");
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int write_file(const char *dir, const char *name, const struct rh_run_info *ri, int html)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    if (html) {
        rh_html_write(f, ri);
    } else {
        char *j = rh_report_json(ri);
        if (j)
            fputs(j, f);
        free(j);
    }
    if (fclose(f) != 0)
        return -1;
    /* Whole or not at all: a reader never sees half a report. */
    return rename(tmp, path);
}

int rh_report_write(const char *dir, const struct rh_run_info *ri)
{
    if (write_file(dir, "report.json", ri, 0) < 0)
        return -1;
    return write_file(dir, "report.html", ri, 1);
}
