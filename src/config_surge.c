/*
 * config_surge: the `surge` directives (CONTRACT 10): when a rise of the
 * request rate is declared a surge, or `surge off`: no detection at all
 * (the workers skip the anatomy's per-request work).  Only the words are read here; surge.c
 * applies them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_parser.h"

/* Bounds that keep the detector meaningful: a factor of 1 or less would
 * call ordinary traffic a surge, and rates or times beyond these are typos. */
#define SURGE_FACTOR_MAX 1000.0
#define SURGE_RATE_MAX 10000000.0
#define SURGE_HOLD_MAX_MS (3600ull * 1000)
#define SURGE_BASELINE_MAX_MS (30ull * 86400 * 1000)

void config_surge_defaults(struct config_surge *surge)
{
    surge->threshold = 3.0;
    surge->hold_ms = 10000;
    surge->min_rate = 20.0;
    surge->baseline_ms = 30ull * 60 * 1000;
    surge->enabled = 1;
}

/* A decimal number followed by exactly `suffix` (which may be left out
 * when `optional`): 0, or -1 when `w` is not of that form. */
static int number_with_suffix(const char *w, const char *suffix, int optional, double *out)
{
    char *end;

    if (w[0] == '\0' || w[0] == '-' || w[0] == '+' || w[0] == ' ')
        return -1;
    double v = strtod(w, &end);
    if (end == w || !isfinite(v))
        return -1;
    if (strcmp(end, suffix) != 0 && !(optional && *end == '\0'))
        return -1;
    *out = v;
    return 0;
}

static int do_threshold(struct config_parser *p, int line, const char *w)
{
    double v;

    if (number_with_suffix(w, "x", 1, &v) < 0) {
        config_perr(p, line, "surge threshold: expected a factor such as 3x, got \"%s\"", w);
        return -1;
    }
    if (v <= 1.0 || v > SURGE_FACTOR_MAX) {
        config_perr(p, line, "surge threshold: %s is out of range (more than 1x, at most %gx)", w,
                    SURGE_FACTOR_MAX);
        return -1;
    }
    p->cfg->surge.threshold = v;
    return 0;
}

static int do_min_rate(struct config_parser *p, int line, const char *w)
{
    double v;

    if (number_with_suffix(w, "/s", 0, &v) < 0) {
        config_perr(p, line, "surge min-rate: expected requests per second such as 20/s, got \"%s\"", w);
        return -1;
    }
    if (v <= 0.0 || v > SURGE_RATE_MAX) {
        config_perr(p, line, "surge min-rate: %s is out of range (more than 0/s, at most %.0f/s)", w,
                    SURGE_RATE_MAX);
        return -1;
    }
    p->cfg->surge.min_rate = v;
    return 0;
}

/* hold and baseline: whole seconds at least, since the detector looks
 * once a second. */
static int do_seconds(struct config_parser *p, int line, const char *what, const char *w, uint64_t max_ms,
                      uint64_t *dst)
{
    uint64_t ms;

    if (config_get_duration(p, line, what, w, &ms) < 0)
        return -1;
    if (ms < 1000 || ms > max_ms) {
        config_perr(p, line, "%s: %s is out of range (1s to %llus; the rate is looked at once a second)",
                    what, w, (unsigned long long)(max_ms / 1000));
        return -1;
    }
    *dst = ms;
    return 0;
}

int config_do_surge(struct config_parser *p, int line, int argc, char **argv)
{
    /* `surge off`: the one setting without a value (the others may stay,
     * for when it is turned on again). */
    if (strcmp(argv[1], "off") == 0) {
        if (argc != 2) {
            config_perr(p, line, "surge off: takes no value, got \"%s\" (detection is on unless turned off)",
                        argv[2]);
            return -1;
        }
        p->cfg->surge.enabled = 0;
        return 0;
    }
    if (argc != 3 && (strcmp(argv[1], "threshold") == 0 || strcmp(argv[1], "min-rate") == 0 ||
                      strcmp(argv[1], "hold") == 0 || strcmp(argv[1], "baseline") == 0)) {
        config_perr(p, line, "surge: wrong number of arguments (expected \"%s\")", SURGE_USAGE);
        return -1;
    }
    if (strcmp(argv[1], "threshold") == 0)
        return do_threshold(p, line, argv[2]);
    if (strcmp(argv[1], "min-rate") == 0)
        return do_min_rate(p, line, argv[2]);
    if (strcmp(argv[1], "hold") == 0)
        return do_seconds(p, line, "surge hold", argv[2], SURGE_HOLD_MAX_MS, &p->cfg->surge.hold_ms);
    if (strcmp(argv[1], "baseline") == 0)
        return do_seconds(p, line, "surge baseline", argv[2], SURGE_BASELINE_MAX_MS,
                          &p->cfg->surge.baseline_ms);
    config_perr(p, line, "surge: unknown setting \"%s\" (expected off, threshold, hold, min-rate or baseline)",
                argv[1]);
    return -1;
}
