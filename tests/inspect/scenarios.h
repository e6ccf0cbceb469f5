/*
 * scenarios.h — the hang patterns as synthetic tables, shared by the
 * finding, signature and output tests. Each builds into `b` with task ids
 * from `id` upwards; `swap` creates the tasks in the other order (so the
 * same cycle is entered from another task). Times: now is TB_S(100).
 */
#ifndef SCENARIOS_H
#define SCENARIOS_H

#include <stdio.h>

#include "tb.h"

#define NOW TB_S(100)

static inline void sc_lock_order(tb *b, uint64_t id, int swap, const char *m1,
                                 const char *m2)
{
	uint64_t acc = tb_mutex(b, m1), led = tb_mutex(b, m2);
	uint64_t take = tb_site(b, "/src/bank.c", "transfer", 80);
	uint64_t wa = tb_site(b, "/src/bank.c", "transfer", 88);
	uint64_t wb = tb_site(b, "/src/bank.c", "transfer", 82);
	uint64_t ta, tbk;
	if (swap) {
		tbk = tb_task(b, id + 1, "transfer-b", TANGLE_DEBUG_TASK_WAITING);
		ta = tb_task(b, id, "transfer-a", TANGLE_DEBUG_TASK_WAITING);
	} else {
		ta = tb_task(b, id, "transfer-a", TANGLE_DEBUG_TASK_WAITING);
		tbk = tb_task(b, id + 1, "transfer-b", TANGLE_DEBUG_TASK_WAITING);
	}
	tb_hold(b, ta, acc, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(95) + TB_MS(800), take);
	tb_hold(b, tbk, led, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(95) + TB_MS(900), take);
	tb_wait(b, ta, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, led,
	        TB_S(95) + TB_MS(900), wa, 1);
	tb_wait(b, tbk, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, acc,
	        TB_S(95) + TB_MS(950), wb, 1);
}

static inline void sc_self(tb *b, uint64_t id)
{
	uint64_t m = tb_mutex(b, "state");
	uint64_t t = tb_task(b, id, "worker", TANGLE_DEBUG_TASK_WAITING);
	tb_hold(b, t, m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, TB_S(90),
	        tb_site(b, "app.c", "update", 10));
	tb_wait(b, t, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, m, TB_S(90),
	        tb_site(b, "app.c", "helper", 30), 1);
}

static inline void sc_ring(tb *b, uint64_t id)
{
	const char *names[3] = {"a->b", "b->c", "c->a"};
	uint64_t ch[3], t[3];
	for (int i = 0; i < 3; i++)
		ch[i] = tb_chan(b, names[i], 1, 1);
	uint64_t site = tb_site(b, "ring.c", "stage", 30);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "stage-%d", i);
		t[i] = tb_task(b, id + (uint64_t)i, name, TANGLE_DEBUG_TASK_WAITING);
	}
	for (int i = 0; i < 3; i++) {
		/* stage i sends on ch[i]; stage i+1 receives from it */
		tb_set(b, TANGLE_DR_OBJECT, ch[i], TANGLE_DF_OBJECT_LAST_RECEIVER, id + (uint64_t)((i + 1) % 3));
		tb_set(b, TANGLE_DR_OBJECT, ch[i], TANGLE_DF_OBJECT_LAST_SENDER, id + (uint64_t)i);
		tb_wait(b, t[i], TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_SEND, ch[i], TB_S(97),
		        site, 1);
	}
}

/* A select's arm: a WAITER on the task's stack queued on a channel. */
static inline uint64_t sc_arm(tb *b, uint64_t task, uint64_t group, int op,
                              uint64_t chan, uint64_t since, uint64_t site)
{
	const int W = TANGLE_DR_WAITER;
	uint64_t w = tb_alloc(b, tb_size(b, W));
	tb_set(b, W, w, TANGLE_DF_WAITER_TASK, task);
	tb_set(b, W, w, TANGLE_DF_WAITER_STATE, TANGLE_DEBUG_WAITER_WAITING);
	tb_set(b, W, w, TANGLE_DF_WAITER_KIND, TANGLE_DEBUG_WAIT_CHAN);
	tb_set(b, W, w, TANGLE_DF_WAITER_OP, (uint64_t)op);
	tb_set(b, W, w, TANGLE_DF_WAITER_OBJECT, chan);
	tb_set(b, W, w, TANGLE_DF_WAITER_SINCE, since);
	tb_set(b, W, w, TANGLE_DF_WAITER_SITE, site);
	tb_set(b, W, w, TANGLE_DF_WAITER_SELECT, group);
	tb_enqueue(b, chan, op == TANGLE_DEBUG_OP_SEND ? 1 : 2, w);
	return w;
}

/* dispatch selects on sending to "jobs" (full; worker receives it) or to
 * "audit" (full; auditor receives it); worker and auditor both wait to
 * send on "results" (full), which only dispatch receives. auditor_free:
 * 0 auditor is stuck too (a deadlock through the select); 1 it sleeps
 * with a deadline, so the audit arm can still complete (no deadlock). A
 * "ticker" sleeping with a deadline keeps the quiescence check quiet. */
static inline void sc_select(tb *b, uint64_t id, int auditor_free)
{
	const int O = TANGLE_DR_OBJECT, W = TANGLE_DR_WAITER;
	uint64_t jobs = tb_chan(b, "jobs", 1, 1), audit = tb_chan(b, "audit", 1, 1);
	uint64_t results = tb_chan(b, "results", 1, 1);
	uint64_t d = tb_task(b, id, "dispatch", TANGLE_DEBUG_TASK_WAITING);
	uint64_t w = tb_task(b, id + 1, "worker", TANGLE_DEBUG_TASK_WAITING);
	uint64_t a = tb_task(b, id + 2, "auditor", TANGLE_DEBUG_TASK_WAITING);
	uint64_t t = tb_task(b, id + 3, "ticker", TANGLE_DEBUG_TASK_WAITING);
	tb_set(b, O, jobs, TANGLE_DF_OBJECT_LAST_RECEIVER, id + 1);
	tb_set(b, O, audit, TANGLE_DF_OBJECT_LAST_RECEIVER, id + 2);
	tb_set(b, O, results, TANGLE_DF_OBJECT_LAST_RECEIVER, id);
	uint64_t site = tb_site(b, "disp.c", "dispatch", 40);
	uint64_t group = tb_alloc(b, 16);
	uint64_t dw = tb_wait(b, d, TANGLE_DEBUG_WAIT_SELECT, TANGLE_DEBUG_OP_SELECT, 0,
	                      TB_S(96), site, 0);
	tb_set(b, W, dw, TANGLE_DF_WAITER_COUNT, 2);
	tb_set(b, W, dw, TANGLE_DF_WAITER_SELECT, group);
	sc_arm(b, d, group, TANGLE_DEBUG_OP_SEND, jobs, TB_S(96), site);
	sc_arm(b, d, group, TANGLE_DEBUG_OP_SEND, audit, TB_S(96), site);
	tb_wait(b, w, TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_SEND, results, TB_S(96),
	        tb_site(b, "disp.c", "work", 60), 1);
	if (auditor_free) {
		uint64_t aw = tb_wait(b, a, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0,
		                      TB_S(99), 0, 0);
		tb_set(b, W, aw, TANGLE_DF_WAITER_DEADLINE, TB_S(101));
	} else {
		tb_wait(b, a, TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_SEND, results, TB_S(96),
		        tb_site(b, "disp.c", "audit", 80), 1);
	}
	uint64_t tw = tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0,
	                      TB_S(99), 0, 0);
	tb_set(b, W, tw, TANGLE_DF_WAITER_DEADLINE, TB_S(101));
}

static inline void sc_permits(tb *b, uint64_t id)
{
	uint64_t s = tb_sem(b, "pool", 2);
	uint64_t site = tb_site(b, "pool.c", "grab", 12);
	uint64_t a = tb_task(b, id, "job-a", TANGLE_DEBUG_TASK_WAITING);
	uint64_t c = tb_task(b, id + 1, "job-b", TANGLE_DEBUG_TASK_WAITING);
	tb_hold(b, a, s, TANGLE_DEBUG_HOLD_PERMITS, 1, TB_S(90), site);
	tb_hold(b, c, s, TANGLE_DEBUG_HOLD_PERMITS, 1, TB_S(90), site);
	uint64_t wa = tb_wait(b, a, TANGLE_DEBUG_WAIT_SEM, TANGLE_DEBUG_OP_ACQUIRE, s, TB_S(91),
	                      tb_site(b, "pool.c", "grab_more", 20), 1);
	uint64_t wc = tb_wait(b, c, TANGLE_DEBUG_WAIT_SEM, TANGLE_DEBUG_OP_ACQUIRE, s, TB_S(91),
	                      tb_site(b, "pool.c", "grab_more", 20), 1);
	tb_set(b, TANGLE_DR_WAITER, wa, TANGLE_DF_WAITER_COUNT, 2);
	tb_set(b, TANGLE_DR_WAITER, wc, TANGLE_DF_WAITER_COUNT, 2);
}

static inline void sc_join(tb *b, uint64_t id)
{
	uint64_t a = tb_task(b, id, "left", TANGLE_DEBUG_TASK_WAITING);
	uint64_t c = tb_task(b, id + 1, "right", TANGLE_DEBUG_TASK_WAITING);
	uint64_t site = tb_site(b, "join.c", "partner", 8);
	tb_wait(b, a, TANGLE_DEBUG_WAIT_JOIN, TANGLE_DEBUG_OP_JOIN, c, TB_S(95), site, 0);
	tb_wait(b, c, TANGLE_DEBUG_WAIT_JOIN, TANGLE_DEBUG_OP_JOIN, a, TB_S(95), site, 0);
}

/* A server at rest: idle connections, idle receivers, sleepers, a notify. */
static inline void sc_idle_server(tb *b, uint64_t id, int n)
{
	uint64_t acc = tb_task(b, id++, "acceptor", TANGLE_DEBUG_TASK_WAITING);
	uint64_t reqs = tb_chan(b, "requests", 64, 0);
	uint64_t cache = tb_mutex(b, "cache");
	uint64_t ready = tb_notify(b, "ready");
	tb_set(b, TANGLE_DR_OBJECT, reqs, TANGLE_DF_OBJECT_LAST_SENDER, tb_task_id(b, acc));
	uint64_t w = tb_wait(b, acc, TANGLE_DEBUG_WAIT_IO, TANGLE_DEBUG_OP_IO_READ, 0, TB_S(10),
	                     tb_site(b, "server.c", "accept_loop", 40), 0);
	tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_COUNT, 3);
	uint64_t s_io = tb_site(b, "server.c", "handle_conn", 60);
	uint64_t s_rx = tb_site(b, "server.c", "worker", 80);
	uint64_t s_sl = tb_site(b, "server.c", "ticker", 90);
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "conn-%d", i);
		uint64_t t = tb_task(b, id++, name, TANGLE_DEBUG_TASK_WAITING);
		w = tb_wait(b, t, TANGLE_DEBUG_WAIT_IO, TANGLE_DEBUG_OP_IO_READ, 0, TB_S(2), s_io, 0);
		tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_COUNT, 10 + (uint64_t)i);
		snprintf(name, sizeof(name), "worker-%d", i);
		t = tb_task(b, id++, name, TANGLE_DEBUG_TASK_WAITING);
		tb_wait(b, t, TANGLE_DEBUG_WAIT_CHAN, TANGLE_DEBUG_OP_RECV, reqs, TB_S(3), s_rx, 2);
		if (i % 10 == 0) {
			snprintf(name, sizeof(name), "ticker-%d", i);
			t = tb_task(b, id++, name, TANGLE_DEBUG_TASK_WAITING);
			w = tb_wait(b, t, TANGLE_DEBUG_WAIT_SLEEP, TANGLE_DEBUG_OP_SLEEP, 0, TB_S(50), s_sl, 0);
			tb_set(b, TANGLE_DR_WAITER, w, TANGLE_DF_WAITER_DEADLINE, TB_S(500));
			snprintf(name, sizeof(name), "waiter-%d", i);
			t = tb_task(b, id++, name, TANGLE_DEBUG_TASK_WAITING);
			tb_wait(b, t, TANGLE_DEBUG_WAIT_NOTIFY, TANGLE_DEBUG_OP_WAIT, ready, TB_S(5), s_sl, 1);
		}
	}
	/* a short critical section in progress: held briefly, one waiter */
	uint64_t h = tb_task(b, id++, "updater", TANGLE_DEBUG_TASK_RUNNABLE);
	tb_hold(b, h, cache, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, NOW - TB_MS(2),
	        tb_site(b, "server.c", "update", 100));
	uint64_t q = tb_task(b, id++, "reader", TANGLE_DEBUG_TASK_WAITING);
	tb_wait(b, q, TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, cache, NOW - TB_MS(1),
	        tb_site(b, "server.c", "lookup", 110), 1);
}

#endif
