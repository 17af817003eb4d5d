/*
 * health: whether each server may take traffic.
 *
 * Owns active checks (HTTP GET or TCP connect on the main loop, every
 * `interval`, spread over the interval), passive failure detection (errors
 * seen by workers on live traffic), the rise/fall hysteresis, a pool's
 * standby state, slow start, and the events these produce.
 *
 * Threads: health_report_failure(), health_report_success() and
 * health_effective_weight() are called by workers; everything else runs on
 * the main thread.  Workers only touch servers' atomics; anything that
 * emits an event or recomputes a pool is handed to the main loop through
 * an ev_async.
 */
#ifndef PROXY_HEALTH_H
#define PROXY_HEALTH_H

#include <stdint.h>

#include "health_state.h"
#include "runtime.h"

struct ev_loop;

/* Main thread.  Starts the checker on `main_loop` (also starts the event
 * module's child reaper there).  Returns 0, or -1 when called twice. */
int health_start(struct ev_loop *main_loop);

/* Main thread, right after runtime_publish(rt) (start-up and each reload),
 * before returning to the loop.  Starts checking servers of rt that are not
 * checked yet (spread over the interval at start-up, at once when a reload
 * adds them, which also starts their slow start), stops checking servers no
 * longer in rt, applies changed check settings and recomputes each pool's
 * standby state.  Holds a reference on rt until the next call or
 * health_stop(). */
void health_apply(struct runtime *rt);

/* Main thread: stops every check and frees the checker's state. */
void health_stop(void);
/* Main thread: `hook` runs after any server is marked down (by a check or
 * by live traffic), for the workers to act on their requests to it. */
void health_on_server_down(void (*hook)(void));

/* Any worker thread: a failure on live traffic (connect refused or timed
 * out, reset, server timeout).  `fall` consecutive ones mark an up server
 * down at once; the event is emitted from the main loop.  A passive-down
 * server comes back through `rise` passing active checks; with `check off`
 * it is put back after `interval` (nothing else could ever bring it back,
 * and a server that is still dead is marked down again after `fall` more
 * failures, which retries hide from clients).  Does not count
 * server->failures: the caller keeps the statistics. */
void health_report_failure(const struct pool *pool, struct server *srv, const char *reason);

/* Any worker thread: a good response from srv resets its passive failure
 * count (a load and no store in the common case). */
void health_report_success(struct server *srv);

/* Main thread (stats port admin actions): ADMIN_DRAIN stops new requests,
 * ADMIN_DISABLE also stops its checks, ADMIN_NONE (enable) checks it again
 * at once.  Recomputes its pool's standby state. */
void health_server_admin(struct server *srv, enum server_admin admin);

/* Main thread (resolve.c): srv's address or state changed outside the
 * checks.  A check in progress is dropped; with an address it is checked
 * at once (a down server then comes up through `rise` passes); the pool's
 * standby and pool-down state are recomputed; `went_down` runs the
 * server-down hook. */
void health_server_moved(struct server *srv, int went_down);

/* "none", "pass", "fail" (stats port). */
const char *health_check_status_name(int status);

#endif
