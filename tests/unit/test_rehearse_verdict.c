/*
 * Unit tests of rehearse_verdict.c (SLO, knee, capacity, suggestions) and
 * of rehearse_stats.c's folding of /api/stats into a step.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "rehearse_stats.h"
#include "rehearse_verdict.h"

static struct rh_step steps[8];

static void step(int i, unsigned rate, double p99, uint64_t sent, uint64_t errors)
{
    memset(&steps[i], 0, sizeof steps[i]);
    steps[i].rate = rate;
    steps[i].achieved = rate;
    steps[i].p99_ms = p99;
    steps[i].p50_ms = p99 / 2;
    steps[i].mean_ms = p99 / 2;
    steps[i].sent = sent;
    steps[i].errors = errors;
    steps[i].held = rh_step_held(&steps[i], 100, 0.001);
}

Test(rehearse_verdict, slo_on_p99_and_error_share)
{
    step(0, 100, 99.9, 1000, 1);
    cr_assert(steps[0].held, "p99 under, 1 error in 1000 = 0.1%%: held");
    step(0, 100, 100.1, 1000, 0);
    cr_assert_not(steps[0].held, "p99 over");
    step(0, 100, 50, 1000, 2);
    cr_assert_not(steps[0].held, "0.2%% errors");
    step(0, 100, 50, 0, 0);
    cr_assert_not(steps[0].held, "nothing sent proves nothing");
}

Test(rehearse_verdict, behind_schedule_only_without_errors)
{
    step(0, 1000, 5, 1000, 0);
    steps[0].achieved = 979;
    cr_assert(rh_step_behind(&steps[0]));
    steps[0].achieved = 981;
    cr_assert_not(rh_step_behind(&steps[0]));
    steps[0].achieved = 500;
    steps[0].errors = 3;
    cr_assert_not(rh_step_behind(&steps[0]), "the server's shortfall, not the generator's");
}

Test(rehearse_verdict, generator_lag_is_flagged_when_it_matters)
{
    step(0, 1000, 50, 1000, 0);
    steps[0].lag_p99_ms = 20;
    cr_assert_not(rh_step_lagged(&steps[0], 100), "20 ms of a 100 ms SLO");
    steps[0].lag_p99_ms = 30;
    cr_assert(rh_step_lagged(&steps[0], 100));
    steps[0].lag_p99_ms = 0.9;
    cr_assert_not(rh_step_lagged(&steps[0], 2), "under a millisecond never");
}

Test(rehearse_verdict, knee_is_where_latency_turned_or_the_slo_broke)
{
    step(0, 100, 22, 300, 0);
    step(1, 200, 25, 600, 0);
    step(2, 300, 80, 900, 0);   /* held, but p99 more than doubled */
    step(3, 400, 900, 1200, 0); /* broke */
    cr_assert_eq(rh_knee(steps, 4), 1);
    struct rh_suggest sg;
    rh_suggest(steps, 4, 100, &sg);
    cr_assert_eq(sg.capacity, 300, "capacity is the last step that held");
    cr_assert_eq(sg.knee, 1);

    step(2, 300, 30, 900, 0);
    cr_assert_eq(rh_knee(steps, 4), 2, "a few ms more is not a turn");
    step(0, 100, 1.0, 300, 0);
    step(1, 200, 4.0, 600, 0);
    cr_assert_eq(rh_knee(steps, 2), 1, "4x of a 1 ms p99 is under the 5 ms floor");
    step(0, 100, 500, 300, 0);
    cr_assert_eq(rh_knee(steps, 1), -1, "the first step broke");
    rh_suggest(steps, 1, 100, &sg);
    cr_assert_eq(sg.capacity, 0);
    cr_assert_eq(sg.max_queue, 0, "no suggestion without a capacity");
}

Test(rehearse_verdict, suggestions_from_capacity_and_the_knee_concurrency)
{
    step(0, 100, 25, 300, 0);
    step(1, 150, 28, 450, 0);
    step(2, 200, 600, 600, 0);
    strcpy(steps[1].servers[0].pool, "web");
    strcpy(steps[1].servers[0].name, "app1");
    steps[1].servers[0].active_max = 4;
    steps[1].servers[0].max_conns = 4;
    strcpy(steps[1].servers[1].pool, "web");
    strcpy(steps[1].servers[1].name, "app2");
    steps[1].servers[1].active_max = 2;
    steps[1].nservers = 2;
    struct rh_suggest sg;
    rh_suggest(steps, 3, 100, &sg);
    cr_assert_eq(sg.capacity, 150);
    cr_assert_eq(sg.knee, 1);
    cr_assert_eq(sg.limit_rate, 135, "90%% of the capacity");
    cr_assert_eq(sg.limit_burst, 135);
    cr_assert_eq(sg.max_queue, 15, "150/s x 100 ms");
    cr_assert_float_eq(sg.queue_wait_ms, 100, 1e-9);
    cr_assert_eq(sg.nservers, 2);
    cr_assert_str_eq(sg.servers[0].name, "app1");
    cr_assert_eq(sg.servers[0].max_conns, 4);
    cr_assert(sg.servers[0].limit_reached, "4 of max-conns 4");
    cr_assert_eq(sg.servers[1].max_conns, 2);
    cr_assert_not(sg.servers[1].limit_reached, "unlimited");
    /* Little's law without --stats: 150/s x 14 ms mean = 2.1 -> 3. */
    cr_assert_eq(sg.pool_conns, 3);
}

static const char stats1[] =
    "{\"version\":\"0.1.0\",\"pools\":[{\"name\":\"web\",\"queued\":7,\"servers\":["
    "{\"name\":\"app\",\"state\":\"up\",\"active\":3,\"max_conns\":4,\"failures\":10}]}]}";
static const char stats2[] =
    "{\"version\":\"0.1.0\",\"pools\":[{\"name\":\"web\",\"queued\":2,\"servers\":["
    "{\"name\":\"app\",\"state\":\"down\",\"active\":4,\"max_conns\":4,\"failures\":13}]}]}";

Test(rehearse_stats, samples_fold_into_the_step)
{
    struct rh_step *st = calloc(1, sizeof *st);
    struct rh_seen seen[RH_MAX_SERVERS];
    unsigned nseen = 0;
    cr_assert_eq(rh_stats_apply(st, seen, &nseen, stats1, strlen(stats1)), 0);
    cr_assert_eq(rh_stats_apply(st, seen, &nseen, stats2, strlen(stats2)), 0);
    cr_assert_eq(st->nservers, 1);
    struct rh_server_step *s = &st->servers[0];
    cr_assert_str_eq(s->pool, "web");
    cr_assert_str_eq(s->name, "app");
    cr_assert_eq(s->active_max, 4);
    cr_assert_eq(s->queued_max, 7);
    cr_assert_eq(s->max_conns, 4);
    cr_assert_eq(s->failures_last - s->failures_base, 3, "failures during the step only");
    cr_assert_str_eq(s->state, "down");
    cr_assert_str_eq(s->states, "up>down");
    cr_assert_eq(s->samples, 2);

    /* The next step counts from where the last sample left off. */
    memset(st, 0, sizeof *st);
    cr_assert_eq(rh_stats_apply(st, seen, &nseen, stats2, strlen(stats2)), 0);
    cr_assert_eq(st->servers[0].failures_last - st->servers[0].failures_base, 0);
    cr_assert_eq(rh_stats_apply(st, seen, &nseen, "{\"pools\":3}", 11), -1);
    cr_assert_eq(rh_stats_apply(st, seen, &nseen, "not json", 8), -1);
    free(st);
}
