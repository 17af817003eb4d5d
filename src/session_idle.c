/*
 * session_idle: each worker's keep-alive client sessions in the order they
 * went idle (head = longest idle), and closing the longest idle ones to make
 * room for new clients at max-conns or out of descriptors (issue 11 item 4).
 *
 * Without it, idle keep-alive connections held every slot for up to
 * `timeout keep-alive` while new clients waited in the listen backlog.
 * Closing a connection idle between requests is safe by HTTP semantics: a
 * client whose reused connection is closed retries on a new one (RFC 9112
 * 9.3.1); nginx drains its reusable connections the same way.
 */
#include <poll.h>
#include <sys/socket.h>

#include "metrics.h"
#include "session.h"
#include "session_priv.h"
#include "worker.h"

void sess_idle_enter(struct session *s)
{
    struct worker *w = s->w;

    if (s->idle_listed)
        return;
    s->idle_next = NULL;
    s->idle_prev = w->idle_tail;
    if (w->idle_tail)
        w->idle_tail->idle_next = s;
    else
        w->idle_head = s;
    w->idle_tail = s;
    s->idle_listed = 1;
    atomic_fetch_add_explicit(&w->nidle, 1, memory_order_relaxed);
}

void sess_idle_leave(struct session *s)
{
    struct worker *w = s->w;

    if (!s->idle_listed)
        return;
    if (s->idle_prev)
        s->idle_prev->idle_next = s->idle_next;
    else
        w->idle_head = s->idle_next;
    if (s->idle_next)
        s->idle_next->idle_prev = s->idle_prev;
    else
        w->idle_tail = s->idle_prev;
    s->idle_prev = s->idle_next = NULL;
    s->idle_listed = 0;
    atomic_fetch_sub_explicit(&w->nidle, 1, memory_order_relaxed);
}

/* A request the loop has not read yet makes the session busy, not idle:
 * closing it would drop that request. */
static int has_unread_bytes(const struct session *s)
{
    char c;
    return recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Looks at a few more than it closes, so that sessions with a request just
 * arrived cannot make a call walk the whole list. */
#define IDLE_SCAN_EXTRA 8

unsigned session_close_longest_idle(struct worker *w, unsigned n)
{
    unsigned closed = 0, looked = 0;
    struct session *s = w->idle_head;

    while (s && closed < n && looked < n + IDLE_SCAN_EXTRA) {
        struct session *next = s->idle_next;
        looked++;
        if (s->state == SESS_IDLE && !s->t && !has_unread_bytes(s)) {
            session_close(s);
            session_free(s);
            closed++;
        }
        s = next;
    }
    if (closed)
        atomic_fetch_add_explicit(&metrics.idle_closed_for_room, closed, memory_order_relaxed);
    return closed;
}
