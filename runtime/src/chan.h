/*
 * chan.h — the channel's state, shared by chan.c and select.c only.
 */
#ifndef TANGLE_CHAN_H
#define TANGLE_CHAN_H

#include "internal.h"

/* A channel (see chan.c for its invariants). obj.waiters holds blocked
 * senders, obj.waiters2 blocked receivers. */
struct tangle_chan {
	struct tangle_object obj;        /* first: the debug record */
	size_t elem_size;
	size_t cap;                      /* 0 = unbounded */
	size_t len;                      /* values buffered (read relaxed by
	                                    tangle_chan_len) */
	size_t head;                     /* slot of the oldest value */
	size_t slots;                    /* buffer size, in values */
	unsigned char *buf;
	bool closed;
};

/* Complete a send or receive now if it can be, under ch's lock:
 * TANGLE_OK, TANGLE_ECLOSED, TANGLE_EAGAIN (it would wait) or
 * TANGLE_ENOMEM (an unbounded channel could not grow). `self` points
 * to the caller's task id (a task's own ID field, read only if a value
 * moves), or to tangle__thread_id for a plain thread. */
TANGLE_HIDDEN int tangle__chan_send_locked(struct tangle_chan *ch,
                                           const void *value,
                                           const uint64_t *self);
TANGLE_HIDDEN int tangle__chan_recv_locked(struct tangle_chan *ch, void *out,
                                           const uint64_t *self);
/* The id of a plain thread (0). */
TANGLE_HIDDEN extern const uint64_t tangle__thread_id;

#endif /* TANGLE_CHAN_H */
