/*
 * test_wait.c — the waiter record and fair queue (wait.c), through a toy
 * one-token primitive built the way mutex.c and friends are: FIFO
 * hand-off, timeouts and cancellation that never lose or duplicate a grant.
 */
#include <stdatomic.h>

#include "rt_test.h"
#include "../../runtime/src/scheduler.h"

struct token {
	tangle_spinlock lock;
	struct tangle_waitq q;
	int available;
	int aborts; /* after_abort calls */
};

/* Waiters in tok's queue, counted under its lock. */
static uint32_t queued(struct token *tok)
{
	uint32_t n = 0;
	tangle__spin_lock(&tok->lock);
	for (struct tangle_waiter *w = tok->q.head; w; w = w->next)
		n++;
	tangle__spin_unlock(&tok->lock);
	return n;
}

static void on_abort(struct tangle_waitq *q)
{
	struct token *tok = (struct token *)((char *)q - offsetof(struct token, q));
	tok->aborts++;
}

static void token_init(struct token *tok, int available)
{
	tok->lock.locked = 0;
	tangle__waitq_init(&tok->q, &tok->lock, on_abort);
	tok->available = available;
	tok->aborts = 0;
}

static void token_give(struct token *tok)
{
	tangle__spin_lock(&tok->lock);
	struct tangle_waiter *w = tok->q.head;
	if (w) {
		tangle__waitq_remove(&tok->q, w);
		tangle__waiter_grant(w, TANGLE_DEBUG_WAITER_GRANTED);
	} else {
		tok->available = 1;
	}
	tangle__spin_unlock(&tok->lock);
}

static int token_take(struct token *tok, int64_t timeout_ms)
{
	int err = tangle__wait_check();
	if (err)
		return err;
	tangle__spin_lock(&tok->lock);
	if (tok->available) {
		tok->available = 0;
		tangle__spin_unlock(&tok->lock);
		return TANGLE_OK;
	}
	struct tangle_waiter *w = tangle__waiter_begin(
		TANGLE_DEBUG_WAIT_MUTEX, TANGLE_DEBUG_OP_LOCK, tok, 1, timeout_ms,
		TANGLE_SITE_HERE);
	tangle__waitq_push(&tok->q, w);
	tangle__spin_unlock(&tok->lock);
	uint8_t s = tangle__waiter_wait(w);
	if (s == TANGLE_DEBUG_WAITER_GRANTED) {
		if (tangle__waiter_must_pass_on(w, &err)) {
			token_give(tok);
			return err;
		}
		return TANGLE_OK;
	}
	return s == TANGLE_DEBUG_WAITER_TIMEDOUT ? TANGLE_ETIMEDOUT : TANGLE_ECANCELED;
}

struct taker {
	struct token *tok;
	int64_t timeout_ms;
	_Atomic int *order;
	int got_at;
	int rc;
};

static void *take_and_give(void *arg)
{
	struct taker *k = arg;
	k->rc = token_take(k->tok, k->timeout_ms);
	if (k->rc == TANGLE_OK) {
		k->got_at = atomic_fetch_add(k->order, 1);
		tangle_yield();
		token_give(k->tok);
	}
	return NULL;
}

static void *fifo_body(void *arg)
{
	(void)arg;
	struct token tok;
	token_init(&tok, 0);
	_Atomic int order = 0;
	struct taker k[5];
	tangle_task *t[5];
	for (int i = 0; i < 5; i++) {
		k[i] = (struct taker){&tok, -1, &order, -1, -1};
		t[i] = tangle_spawn("taker", take_and_give, &k[i]);
		/* let it queue before the next one */
		while (queued(&tok) < (uint32_t)i + 1)
			tangle_yield();
	}
	token_give(&tok);
	for (int i = 0; i < 5; i++) {
		tangle_join(t[i], NULL);
		assert_int_equal(k[i].rc, TANGLE_OK);
		assert_int_equal(k[i].got_at, i);
	}
	assert_int_equal(tok.available, 1);
	assert_int_equal(queued(&tok), 0);
	return NULL;
}

static void waiters_are_served_in_arrival_order(void **state)
{
	(void)state;
	rt_test_both(fifo_body, NULL);
}

static void *timeout_body(void *arg)
{
	(void)arg;
	struct token tok;
	token_init(&tok, 0);
	tangle_task *self = tangle_task_current();
	uint64_t t0 = rt_test_now_ns();
	assert_int_equal(token_take(&tok, 20), TANGLE_ETIMEDOUT);
	uint64_t took = rt_test_now_ns() - t0;
	assert_true(took >= 20000000u);
	assert_true(took < 2000000000u);
	assert_int_equal(queued(&tok), 0);
	assert_null(tok.q.head);
	assert_int_equal(tok.aborts, 1);
	assert_null(self->wait.queue);
	assert_int_equal(atomic_load(&self->wakers), 0);
	/* A zero timeout fails at once when it would have to wait. */
	assert_int_equal(token_take(&tok, 0), TANGLE_ETIMEDOUT);
	token_give(&tok);
	assert_int_equal(token_take(&tok, 0), TANGLE_OK);
	return NULL;
}

static void a_wait_times_out_and_leaves_the_queue(void **state)
{
	(void)state;
	rt_test_both(timeout_body, NULL);
}

static void *cancel_body(void *arg)
{
	(void)arg;
	struct token tok;
	token_init(&tok, 0);
	_Atomic int order = 0;
	struct taker k = {&tok, -1, &order, -1, -1};
	tangle_task *t = tangle_spawn("taker", take_and_give, &k);
	while (queued(&tok) < 1)
		tangle_yield();
	assert_int_equal(tangle_cancel(t), TANGLE_OK);
	assert_int_equal(tangle_cancel(t), TANGLE_OK); /* idempotent */
	tangle_join(t, NULL);
	assert_int_equal(k.rc, TANGLE_ECANCELED);
	assert_int_equal(queued(&tok), 0);
	assert_int_equal(tok.available, 0);
	return NULL;
}

static void a_cancelled_wait_returns_ecanceled(void **state)
{
	(void)state;
	rt_test_both(cancel_body, NULL);
}

static void *pass_on_cancel_body(void *arg)
{
	(void)arg;
	/* Current-thread: A is granted the token, then cancelled before it
	 * runs; it must pass the token on to B. */
	struct token tok;
	token_init(&tok, 0);
	_Atomic int order = 0;
	struct taker a = {&tok, -1, &order, -1, -1}, b = a;
	tangle_task *ta = tangle_spawn("a", take_and_give, &a);
	while (queued(&tok) < 1)
		tangle_yield();
	tangle_task *tb = tangle_spawn("b", take_and_give, &b);
	while (queued(&tok) < 2)
		tangle_yield();
	token_give(&tok);       /* granted to a, which has not run yet */
	tangle_cancel(ta);
	tangle_join(ta, NULL);
	tangle_join(tb, NULL);
	assert_int_equal(a.rc, TANGLE_ECANCELED);
	assert_int_equal(b.rc, TANGLE_OK);
	assert_int_equal(tok.available, 1); /* not lost, not duplicated */
	return NULL;
}

static void a_grant_to_a_cancelled_waiter_is_passed_on(void **state)
{
	(void)state;
	rt_test_run(0, pass_on_cancel_body, NULL);
}

static void *pass_on_late_body(void *arg)
{
	(void)arg;
	/* Current-thread: the worker is busy past A's deadline (its timer
	 * cannot fire), then grants A: the grant came late, A passes it on
	 * and reports the timeout. */
	struct token tok;
	token_init(&tok, 0);
	_Atomic int order = 0;
	struct taker a = {&tok, 10, &order, -1, -1};
	tangle_task *ta = tangle_spawn("a", take_and_give, &a);
	while (queued(&tok) < 1)
		tangle_yield();
	uint64_t until = rt_test_now_ns() + 30000000u;
	while (rt_test_now_ns() < until)
		;
	token_give(&tok);
	tangle_join(ta, NULL);
	assert_int_equal(a.rc, TANGLE_ETIMEDOUT);
	assert_int_equal(tok.available, 1);
	return NULL;
}

static void a_grant_after_the_deadline_is_passed_on(void **state)
{
	(void)state;
	rt_test_run(0, pass_on_late_body, NULL);
}

static void *waiter_record_body(void *arg)
{
	(void)arg;
	struct token tok;
	token_init(&tok, 0);
	_Atomic int order = 0;
	struct taker k = {&tok, -1, &order, -1, -1};
	tangle_task *t = tangle_spawn("rec", take_and_give, &k);
	while (queued(&tok) < 1)
		tangle_yield();
	tangle__spin_lock(&tok.lock);
	struct tangle_waiter *w = tok.q.head;
	tangle__spin_unlock(&tok.lock);
	assert_ptr_equal(w, &t->wait);
	assert_ptr_equal(w->task, t);
	assert_int_equal(atomic_load(&w->state), TANGLE_DEBUG_WAITER_WAITING);
	assert_int_equal(w->kind, TANGLE_DEBUG_WAIT_MUTEX);
	assert_int_equal(w->op, TANGLE_DEBUG_OP_LOCK);
	assert_ptr_equal(w->object, &tok);
	assert_int_equal(w->deadline, 0);
	assert_non_null(w->site);
	/* queued: that is its live waker (not counted in wakers) */
	assert_ptr_equal(__atomic_load_n(&w->queue, __ATOMIC_RELAXED), &tok.q);
	assert_int_equal(atomic_load(&t->wakers), 0);
	assert_int_equal(atomic_load(&t->sched.state), TANGLE_DEBUG_TASK_WAITING);
	token_give(&tok);
	tangle_join(t, NULL);
	return NULL;
}

static void the_waiter_is_the_tasks_debug_record(void **state)
{
	(void)state;
	rt_test_both(waiter_record_body, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(waiters_are_served_in_arrival_order),
		cmocka_unit_test(a_wait_times_out_and_leaves_the_queue),
		cmocka_unit_test(a_cancelled_wait_returns_ecanceled),
		cmocka_unit_test(a_grant_to_a_cancelled_waiter_is_passed_on),
		cmocka_unit_test(a_grant_after_the_deadline_is_passed_on),
		cmocka_unit_test(the_waiter_is_the_tasks_debug_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
