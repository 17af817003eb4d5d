/*
 * rehearse_html: report.html, one file with everything inline - styles,
 * SVG charts drawn here, no script, no font, no external reference - so
 * that it can be mailed, attached to a ticket or opened without network.
 */
#include "rehearse_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        struct rh_step_text tx;
        rh_step_text(&tx, s);
        fprintf(f, "<tr class=\"%s\"><td>%u/s</td><td>%.1f/s%s</td><td>%llu</td><td>%s</td>"
                "<td>%s</td><td>%s</td><td>%s</td><td>%.2fms</td><td>%s</td><td>",
                s->held ? "ok" : "bad", s->rate, s->achieved,
                s->behind ? " (behind schedule)" : "", (unsigned long long)s->sent, tx.p50, tx.p99,
                tx.max, tx.errors, s->lag_p99_ms, s->held ? "held" : "broke");
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

void rh_html_write(FILE *f, const struct rh_run_info *ri)
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
    rh_suggestions_text(f, "", sg, ri->steps);
    fputs("</pre>\n<h2>Charts</h2>\n", f);
    html_charts(f, ri);
    fputs("<h2>Steps</h2>\n", f);
    html_table(f, ri);
    fputs("<p>Written by <code>proxy rehearse</code>; the same figures are in report.json.</p>\n"
          "</body></html>\n", f);
}
