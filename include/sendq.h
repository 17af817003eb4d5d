/*
 * sendq: batched sends.  While a worker handles one round of events, the
 * sends its sessions make are queued (the bytes stay where they are); just
 * before the loop waits again they go to the kernel together in one
 * io_uring_enter.  Profiling showed the proxy's CPU going to the kernel's
 * per-call costs and to context switches: a server woken by the first of
 * twenty requests preempted us and ran for that one request.  Submitting
 * the round at once saves the calls and hands each peer the whole batch.
 *
 * Where io_uring is missing or forbidden (old kernels, container seccomp
 * profiles, PROXY_IO_URING=0) every send is an ordinary send(2) made at
 * once, with the same interface.
 *
 * Contract for an owner (a session):
 *  - *sent advances only when bytes reach the kernel: inside sendq_write
 *    (plain sends) or at the end of the round (batched); the ops' progress
 *    hook is told of every advance, and the wake hook runs once per owner
 *    after a round so the owner can go on.
 *  - While sendq_pending(), the bytes buf[*sent..end) must not move or
 *    change, and the owner should not wait for EV_WRITE.
 *  - sendq_settle() or sendq_cancel() before the fd closes or the buffer
 *    goes; sendq_forget() before the owner is freed.
 */
#ifndef PROXY_SENDQ_H
#define PROXY_SENDQ_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

struct sendq_ops {
    void (*progress)(void *owner, size_t bytes); /* bytes went out (called before wake) */
    void (*wake)(void *owner);                   /* a batched send finished: go on */
};

/* One per socket, embedded in what owns it; all zero is a valid start. */
struct sendq_conn {
    const struct sendq_ops *ops;
    void *owner;
    uint16_t slot;        /* 1 + index in the round's queue; 0: nothing queued */
    uint8_t blocked;      /* the last batched send hit a full socket: send plainly */
    int err;              /* errno of a failed batched send, reported by the next write */
};

/* Sets up batching for the calling worker thread (its own ring).  Returns
 * 1 when batching is on, 0 when sends stay plain. */
int sendq_thread_init(struct ev_loop *loop);
void sendq_thread_free(void);
/* Whether the calling thread batches. */
int sendq_batching(void);

/* Sends buf[*sent..end) on fd.  Returns 0 (all of it sent, queued, or the
 * socket is full and the owner should wait for EV_WRITE), or -1 with errno
 * when the connection failed. */
int sendq_write(struct sendq_conn *c, int fd, const char *buf, size_t *sent, size_t end);
static inline int sendq_pending(const struct sendq_conn *c)
{
    return c->slot != 0;
}
/* Drops c's queued send, if any (nothing of it was sent). */
void sendq_cancel(struct sendq_conn *c);
/* Sends c's queued bytes now, as far as the socket takes them (before a
 * close: what was ready to go should still reach the peer). */
void sendq_settle(struct sendq_conn *c);
/* The owner is going away: no wake for it from the round being finished. */
void sendq_forget(void *owner);
/* How many sends the calling thread queued, or made plainly with bytes
 * out, since the last call (0 when the round sent nothing). */
unsigned sendq_take_round_sends(void);
/* Submits the round now (the loop does this itself before it waits). */
void sendq_flush(void);

#endif
