/*
 * h2_round: an HTTP/2 connection's frames reach its socket once per loop
 * round, not once per entry into the session.
 *
 * A stream's response comes from its own server connection, so in one
 * round of h2load -c10 -m10 a client connection is entered by up to ten
 * server callbacks, and each leave used to write its frames at once: one
 * TLS record and one write(2) per response (strace: write 1.00 per request
 * on the client side).  Instead a leave inside the round drives its
 * streams and queues the session here; a prepare watcher, just before the
 * loop waits, leaves each queued session once more with writing allowed.
 * Its priority puts it before sendq's own prepare, so on a plain socket
 * the frames join the round's io_uring batch.
 *
 * `written` is set from that prepare until the loop has polled again: an
 * entry in between (sendq waking an owner from its own prepare, after
 * ours) writes at once rather than wait for a round that may not come.
 */
#include "h2_session.h"

#include <string.h>

#include "conn.h"
#include "worker_ctx.h"

static _Thread_local struct {
    struct ev_loop *loop;
    ev_prepare prepare;
    ev_check check;
    struct h2_session *head;
    int written;
} h2r;

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    h2r.written = 1;
    while (h2r.head) {
        struct h2_session *h = h2r.head;
        h2_round_unqueue(h);
        h2_session_enter(h);
        h2_session_leave(h); /* writes now: h2r.written */
    }
}

static void check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    h2r.written = 0;
}

int h2_round_queue(struct h2_session *h)
{
    struct ev_loop *loop = h->c->w->loop;
    if (h2r.written || (h2r.loop && h2r.loop != loop))
        return 0;
    if (!h2r.loop) {
        h2r.loop = loop;
        ev_prepare_init(&h2r.prepare, prepare_cb);
        ev_set_priority(&h2r.prepare, EV_MAXPRI); /* before sendq's prepare */
        ev_prepare_start(loop, &h2r.prepare);
        ev_unref(loop); /* the watchers alone do not keep the loop running */
        ev_check_init(&h2r.check, check_cb);
        ev_set_priority(&h2r.check, EV_MAXPRI); /* before any callback of the round */
        ev_check_start(loop, &h2r.check);
        ev_unref(loop);
    }
    if (!h->round_link) {
        h->round_next = h2r.head;
        if (h2r.head)
            h2r.head->round_link = &h->round_next;
        h2r.head = h;
        h->round_link = &h2r.head;
    }
    return 1;
}

void h2_round_unqueue(struct h2_session *h)
{
    if (!h->round_link)
        return;
    *h->round_link = h->round_next;
    if (h->round_next)
        h->round_next->round_link = h->round_link;
    h->round_next = NULL;
    h->round_link = NULL;
}

void h2_round_clear(void)
{
    if (h2r.loop) {
        ev_ref(h2r.loop);
        ev_prepare_stop(h2r.loop, &h2r.prepare);
        ev_ref(h2r.loop);
        ev_check_stop(h2r.loop, &h2r.check);
    }
    memset(&h2r, 0, sizeof h2r);
}
