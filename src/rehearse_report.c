/*
 * rehearse_report: the live lines, the summary and --report DIR (see
 * rehearse_report.h).
 *
 * report.html is one file with everything inline (styles and SVG drawn
 * here, no script, no font, no external reference), so that it can be
 * mailed, attached to a ticket or opened on a machine without network.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rehearse_report.h"

/* ---- the terminal ---------------------------------------------------------------- */

static void fmt_ms(char *out, size_t cap, double ms)
{
    if (ms >= 10000)
        snprintf(out, cap, "%.1fs", ms / 1000.0);
    else if (ms >= 100)
        snprintf(out, cap, "%.0fms", ms);
    else
        snprintf(out, cap, "%.2fms", ms);
}

static void errors_text(char *out, size_t cap, const struct rh_step *s)
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

void rh_report_line(FILE *out, const struct rh_step *s, int k, int nsteps)
{
    char p50[16], p99[16], mx[16], errs[160];
    fmt_ms(p50, sizeof p50, s->p50_ms);
    fmt_ms(p99, sizeof p99, s->p99_ms);
    fmt_ms(mx, sizeof mx, s->max_ms);
    errors_text(errs, sizeof errs, s);
    fprintf(out, "step %d/%d  rate %u/s  achieved %.1f/s  sent %llu  p50 %s  p99 %s  max %s  "
            "errors %s  %s%s\n", k + 1, nsteps, s->rate, s->achieved,
            (unsigned long long)s->sent, p50, p99, mx, errs, s->held ? "held" : "BROKE",
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
static void suggestions_text(FILE *out, const char *indent, const struct rh_suggest *sg,
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
        fmt_ms(p99, sizeof p99, last->p99_ms);
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
    suggestions_text(out, "  ", sg, steps);
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
            (unsigned long long)s->done);
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

/* ---- report.html -------------------------------------------------------------------- */

static void html_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

#define CH_W 680
#define CH_H 260
#define CH_L 64 /* margins: room for the axis labels */
#define CH_R 16
#define CH_T 44
#define CH_B 40

struct series {
    const char *label, *color;
    int dashed;
    const double *v;
};

/* 1, 2 or 5 times a power of ten, at or above v: round axis labels. */
static double nice_max(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static double y_of(double v, double lo, double hi, int logy)
{
    double span = CH_H - CH_T - CH_B, f;
    if (logy) {
        v = v < lo ? lo : v;
        f = (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
    } else {
        f = hi > lo ? (v - lo) / (hi - lo) : 0;
    }
    return CH_H - CH_B - f * span;
}

static double x_of(int i, int n)
{
    double span = CH_W - CH_L - CH_R;
    return n <= 1 ? CH_L + span / 2 : CH_L + span * i / (n - 1);
}

/* A line chart over the steps (x: the target rates), log or linear y;
 * hline >= 0 draws a dashed threshold (the SLO). */
static void svg_chart(FILE *f, const char *title, const char *unit, const struct rh_step *steps,
                      int n, const struct series *ss, int ns, int logy, double hline)
{
    double lo = logy ? 1e9 : 0, hi = hline > 0 ? hline : 0;
    for (int s = 0; s < ns; s++)
        for (int i = 0; i < n; i++) {
            if (ss[s].v[i] > hi)
                hi = ss[s].v[i];
            if (logy && ss[s].v[i] > 0 && ss[s].v[i] < lo)
                lo = ss[s].v[i];
        }
    if (logy) {
        if (hline > 0 && hline < lo)
            lo = hline;
        lo = lo >= 1e9 ? 0.1 : pow(10, floor(log10(lo)));
        hi = pow(10, ceil(log10(hi > lo ? hi : lo * 10)));
        if (hi <= lo)
            hi = lo * 10;
    } else {
        hi = nice_max(hi);
    }
    fprintf(f, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\"><title>", CH_W, CH_H, CH_W, CH_H);
    html_str(f, title);
    fprintf(f, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
            "<text x=\"%d\" y=\"16\" class=\"t\">", CH_W, CH_H, CH_L);
    html_str(f, title);
    fprintf(f, "</text>");
    /* Grid: decades on a log axis, fifths on a linear one. */
    if (logy) {
        for (double g = lo; g <= hi * 1.0001; g *= 10)
            fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                    "<text x=\"%d\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%g %s</text>",
                    CH_L, CH_W - CH_R, y_of(g, lo, hi, 1), y_of(g, lo, hi, 1), CH_L - 6,
                    y_of(g, lo, hi, 1) + 4, g, unit);
    } else {
        for (int i = 0; i <= 5; i++) {
            double g = hi * i / 5;
            fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
                    "<text x=\"%d\" y=\"%.1f\" class=\"a\" text-anchor=\"end\">%.4g %s</text>",
                    CH_L, CH_W - CH_R, y_of(g, lo, hi, 0), y_of(g, lo, hi, 0), CH_L - 6,
                    y_of(g, lo, hi, 0) + 4, g, unit);
        }
    }
    for (int i = 0; i < n; i++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"a\" text-anchor=\"middle\">%u/s</text>",
                x_of(i, n), CH_H - CH_B + 16, steps[i].rate);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"a\" text-anchor=\"middle\">target rate "
            "(requests/s)</text>", (CH_L + CH_W - CH_R) / 2, CH_H - 6);
    if (hline > 0)
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                "stroke-dasharray=\"2 3\"/><text x=\"%d\" y=\"%.1f\" class=\"a\" "
                "text-anchor=\"end\" fill=\"#d62728\">SLO</text>", CH_L, CH_W - CH_R,
                y_of(hline, lo, hi, logy), y_of(hline, lo, hi, logy), CH_W - CH_R,
                y_of(hline, lo, hi, logy) - 4);
    for (int s = 0; s < ns; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                ss[s].color, ss[s].dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (int i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", x_of(i, n), y_of(ss[s].v[i], lo, hi, logy));
        fprintf(f, "\"/>");
        for (int i = 0; i < n; i++) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", x_of(i, n),
                    y_of(ss[s].v[i], lo, hi, logy), ss[s].color);
            html_str(f, ss[s].label);
            fprintf(f, " at %u/s: %.4g %s</title></circle>", steps[i].rate, ss[s].v[i], unit);
        }
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\" class=\"a\">", CH_L + s * 130, 30, ss[s].color,
                CH_L + 14 + s * 130, 34);
        html_str(f, ss[s].label);
        fprintf(f, "</text>");
    }
    fprintf(f, "</svg></figure>\n");
}

static const char *const palette[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                       "#e377c2", "#17becf", "#bcbd22" };

static void html_charts(FILE *f, const struct rh_run_info *ri)
{
    int n = ri->n;
    const struct rh_step *st = ri->steps;
    double *v = calloc((size_t)(n > 0 ? n : 1) * 6, sizeof *v);
    if (!v)
        return;
    double *p50 = v, *p99 = v + n, *ach = v + 2 * n, *tgt = v + 3 * n, *err = v + 4 * n;
    for (int i = 0; i < n; i++) {
        p50[i] = st[i].p50_ms;
        p99[i] = st[i].p99_ms;
        ach[i] = st[i].achieved;
        tgt[i] = st[i].rate;
        err[i] = st[i].sent ? 100.0 * (double)st[i].errors / (double)st[i].sent : 0;
    }
    struct series lat[] = { { "p50", "#1f77b4", 0, p50 }, { "p99", "#d62728", 0, p99 } };
    svg_chart(f, "Latency against rate (from the due time, log scale)", "ms", st, n, lat, 2, 1,
              ri->o->slo_p99_ms);
    struct series rate[] = { { "target", "#7f7f7f", 1, tgt }, { "achieved", "#2ca02c", 0, ach } };
    svg_chart(f, "Achieved rate (requests written within the step's time)", "/s", st, n, rate, 2, 0, -1);
    struct series errs[] = { { "errors", "#d62728", 0, err } };
    svg_chart(f, "Errors (share of requests sent)", "%", st, n, errs, 1, 0,
              ri->o->slo_errors * 100);
    free(v);

    /* Per server: the most in flight and the pool's queue, step by step. */
    unsigned nsrv = 0;
    const struct rh_step *names = NULL;
    for (int i = 0; i < n; i++)
        if (st[i].nservers > nsrv) {
            nsrv = st[i].nservers;
            names = &st[i];
        }
    if (!names)
        return;
    if (nsrv > 8)
        nsrv = 8; /* a chart stays readable: the table has them all */
    double *sv = calloc((size_t)nsrv * 2 * (size_t)n, sizeof *sv);
    struct series ss[16];
    char labels[16][RH_NAME_MAX * 2 + 16];
    if (!sv)
        return;
    for (unsigned s = 0; s < nsrv; s++) {
        const struct rh_server_step *want = &names->servers[s];
        for (int i = 0; i < n; i++)
            for (unsigned j = 0; j < st[i].nservers; j++)
                if (strcmp(st[i].servers[j].pool, want->pool) == 0 &&
                    strcmp(st[i].servers[j].name, want->name) == 0) {
                    sv[(2 * s) * (size_t)n + (size_t)i] = st[i].servers[j].active_max;
                    sv[(2 * s + 1) * (size_t)n + (size_t)i] = st[i].servers[j].queued_max;
                }
        snprintf(labels[2 * s], sizeof labels[0], "%s/%s", want->pool, want->name);
        snprintf(labels[2 * s + 1], sizeof labels[0], "pool %s", want->pool);
        ss[s] = (struct series){ labels[2 * s], palette[s % 8], 0, sv + 2 * s * (size_t)n };
        ss[8 + s] = (struct series){ labels[2 * s + 1], palette[s % 8], 1,
                                     sv + (2 * s + 1) * (size_t)n };
    }
    svg_chart(f, "Per server: most requests in flight during the step (--stats)", "", st, n, ss,
              (int)nsrv, 0, -1);
    svg_chart(f, "Per pool: longest queue during the step (--stats)", "", st, n, ss + 8,
              (int)nsrv, 0, -1);
    free(sv);
}

static void html_table(FILE *f, const struct rh_run_info *ri)
{
    fprintf(f, "<table><tr><th>rate</th><th>achieved</th><th>sent</th><th>p50</th><th>p99</th>"
            "<th>max</th><th>errors</th><th>generator lag p99</th><th>verdict</th><th>servers: in flight (max) / queue "
            "(max) / failures / state</th></tr>\n");
    for (int i = 0; i < ri->n; i++) {
        const struct rh_step *s = &ri->steps[i];
        char p50[16], p99[16], mx[16], errs[160];
        fmt_ms(p50, sizeof p50, s->p50_ms);
        fmt_ms(p99, sizeof p99, s->p99_ms);
        fmt_ms(mx, sizeof mx, s->max_ms);
        errors_text(errs, sizeof errs, s);
        fprintf(f, "<tr class=\"%s\"><td>%u/s</td><td>%.1f/s%s</td><td>%llu</td><td>%s</td>"
                "<td>%s</td><td>%s</td><td>%s</td><td>%.2fms</td><td>%s</td><td>",
                s->held ? "ok" : "bad", s->rate, s->achieved,
                s->behind ? " (behind schedule)" : "", (unsigned long long)s->sent, p50, p99, mx,
                errs, s->lag_p99_ms, s->held ? "held" : "broke");
        for (unsigned j = 0; j < s->nservers; j++) {
            const struct rh_server_step *v = &s->servers[j];
            html_str(f, v->pool);
            fputc('/', f);
            html_str(f, v->name);
            fprintf(f, ": %u / %u / %llu / ", v->active_max, v->queued_max,
                    (unsigned long long)(v->failures_last - v->failures_base));
            html_str(f, v->states);
            fputs("<br>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void html_write(FILE *f, const struct rh_run_info *ri)
{
    const struct rh_opts *o = ri->o;
    const struct rh_suggest *sg = ri->sg;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>Rehearsal report</title><style>"
          "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}"
          "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}"
          ".big{font-size:1.3em}.t{font:bold 13px sans-serif}.a{font:11px sans-serif;fill:#555}"
          ".g{stroke:#e5e5e5}figure{margin:1em 0}"
          "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;"
          "padding:3px 7px;text-align:right;vertical-align:top}td:last-child{text-align:left}"
          "tr.bad{background:#fdecea}pre{background:#f6f6f6;padding:.8em;overflow:auto}"
          ".note{background:#fff6d5;padding:.5em .8em}</style></head><body>\n", f);
    fputs("<h1>Rehearsal of ", f);
    html_str(f, o->url);
    fprintf(f, "</h1>\n<p>Started %s; %u to %u requests/s by %u, %.1f s a step, up to %u "
            "connections, open loop (latency from each request's due time). SLO: p99 &le; "
            "%.0f ms and errors &le; %g%%.</p>\n", ri->started ? ri->started : "", o->rate_from,
            o->rate_to, o->rate_step, (double)o->step_ms / 1000.0, ri->conns, o->slo_p99_ms,
            o->slo_errors * 100);
    fputs("<p class=\"big\">", f);
    if (sg->capacity)
        fprintf(f, "Capacity found: <b>%u requests/s</b> (the last step that held).", sg->capacity);
    else if (ri->n)
        fprintf(f, "Capacity: <b>below %u requests/s</b> (the first step broke).",
                ri->steps[0].rate);
    if (ri->n && !ri->steps[ri->n - 1].held)
        fprintf(f, " The SLO broke at %u requests/s (p99 %.1f ms).", ri->steps[ri->n - 1].rate,
                ri->steps[ri->n - 1].p99_ms);
    else if (ri->n)
        fprintf(f, " Every step held: the pool takes at least %u requests/s.",
                ri->steps[ri->n - 1].rate);
    fputs("</p>\n", f);
    if (ri->interrupted)
        fputs("<p class=\"note\">The run was interrupted: later steps are missing.</p>\n", f);
    for (int i = 0; i < ri->n; i++)
        if (ri->steps[i].behind)
            fprintf(f, "<p class=\"note\">At %u requests/s the generator could not keep to the "
                    "schedule (achieved %.1f/s, under 98%% of the target, with no errors): %s. "
                    "Latencies are still measured from the due times.</p>\n",
                    ri->steps[i].rate, ri->steps[i].achieved,
                    ri->steps[i].conn_waits ? "every one of the --conns connections was busy waiting on the "
                                              "pool, so later requests waited for a free one (raise "
                                              "--conns to send them anyway)"
                                            : "it fell behind its own schedule (CPU-bound)");
    for (int i = 0; i < ri->n; i++)
        if (rh_step_lagged(&ri->steps[i], o->slo_p99_ms))
            fprintf(f, "<p class=\"note\">At %u requests/s the generator itself was up to %.1f ms "
                    "late (p99 of its schedule lag): its machine was busy, and that much of the "
                    "latency is its own.</p>\n", ri->steps[i].rate, ri->steps[i].lag_p99_ms);
    fputs("<h2>Suggested settings</h2>\n<pre>", f);
    suggestions_text(f, "", sg, ri->steps);
    fputs("</pre>\n<h2>Charts</h2>\n", f);
    html_charts(f, ri);
    fputs("<h2>Steps</h2>\n", f);
    html_table(f, ri);
    fputs("<p>Written by <code>proxy rehearse</code>; the same figures are in report.json.</p>\n"
          "</body></html>\n", f);
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
        html_write(f, ri);
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
