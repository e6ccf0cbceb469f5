/*
 * test_select.c — tangle_select, as a specification.
 *
 * The first ready op wins (in index order); otherwise the select waits for
 * the first op to become possible, a deadline, cancellation or a close.
 * One select completes exactly one op: values are never lost or taken
 * twice, even with many selects and senders racing.
 */
#include "sync_helpers.h"

#include <pthread.h>

static tangle_select_op recv_op(tangle_chan *ch, void *out)
{
	return (tangle_select_op){ch, TANGLE_SELECT_RECV, out, -99};
}

static tangle_select_op send_op(tangle_chan *ch, void *in)
{
	return (tangle_select_op){ch, TANGLE_SELECT_SEND, in, -99};
}

/* ---- ready ops ---------------------------------------------------------------------- */

static void *first_ready_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	tangle_chan *b = tangle_chan_new(sizeof(int), 1, "b");
	tangle_chan *c = tangle_chan_new(sizeof(int), 1, "c");
	int vb = 2, vc = 3, out[3] = {0, 0, 0};
	CHECK_OK(tangle_chan_send(b, &vb));
	CHECK_OK(tangle_chan_send(c, &vc));
	tangle_select_op ops[3] = {recv_op(a, &out[0]), recv_op(b, &out[1]),
	                           recv_op(c, &out[2])};
	CHECK_EQ(tangle_select(ops, 3, -1), 1);
	CHECK_EQ(ops[1].result, TANGLE_OK);
	CHECK_EQ(out[1], 2);
	CHECK_EQ(out[0], 0);              /* the other ops touched nothing */
	CHECK_EQ(out[2], 0);
	CHECK_EQ(tangle_chan_len(c), 1);
	/* A send with room comes first when it is first. */
	int v = 9;
	tangle_select_op ops2[2] = {send_op(a, &v), recv_op(c, &out[2])};
	CHECK_EQ(tangle_select(ops2, 2, 0), 0);
	CHECK_EQ(ops2[0].result, TANGLE_OK);
	CHECK_EQ(tangle_chan_len(a), 1);
	CHECK_OK(tangle_chan_recv(a, &v));
	CHECK_EQ(v, 9);
	CHECK_OK(tangle_chan_free(a));
	CHECK_OK(tangle_chan_free(b));
	CHECK_OK(tangle_chan_free(c));
	return NULL;
}

static void test_first_ready_op_wins(void **state)
{
	(void)state;
	run_rt(1, 1, first_ready_main, NULL);
}

/* ---- waiting ------------------------------------------------------------------------------ */

struct later {
	tangle_chan *ch;
	int value;
	int sleep_ms;
	int recv;              /* receive instead of send */
};

static void *later_op(void *p)
{
	struct later *l = p;
	tangle_sleep_ms((uint64_t)l->sleep_ms);
	return INT_PTR(l->recv ? tangle_chan_recv(l->ch, &l->value)
	                       : tangle_chan_send(l->ch, &l->value));
}

static void *wait_recv_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	tangle_chan *b = tangle_chan_new(sizeof(int), 1, "b");
	struct later l = {b, 42, 10, 0};
	tangle_task *t = tangle_spawn("sender", later_op, &l);
	int out[2] = {0, 0};
	tangle_select_op ops[2] = {recv_op(a, &out[0]), recv_op(b, &out[1])};
	CHECK_EQ(tangle_select(ops, 2, 5000), 1);
	CHECK_EQ(ops[1].result, TANGLE_OK);
	CHECK_EQ(out[1], 42);
	CHECK_EQ(out[0], 0);
	CHECK_EQ(join_int(t), TANGLE_OK);
	/* No waiter of the select is left behind on either channel. */
	CHECK_OK(tangle_chan_free(a));
	CHECK_OK(tangle_chan_free(b));
	return NULL;
}

static void test_waits_for_a_receive(void **state)
{
	(void)state;
	run_rt(2, 0, wait_recv_main, NULL);
}

static void *wait_send_main(void *p)
{
	(void)p;
	tangle_chan *full = tangle_chan_new(sizeof(int), 1, "full");
	tangle_chan *empty = tangle_chan_new(sizeof(int), 1, "empty");
	int v = 1, out = 0, mine = 77;
	CHECK_OK(tangle_chan_send(full, &v));
	struct later l = {full, 0, 10, 1};
	tangle_task *t = tangle_spawn("receiver", later_op, &l);
	tangle_select_op ops[2] = {recv_op(empty, &out), send_op(full, &mine)};
	CHECK_EQ(tangle_select(ops, 2, 5000), 1);
	CHECK_EQ(ops[1].result, TANGLE_OK);
	CHECK_EQ(join_int(t), TANGLE_OK);
	CHECK_EQ(l.value, 1);
	CHECK_OK(tangle_chan_recv(full, &v));
	CHECK_EQ(v, 77); /* our value went in behind the one taken */
	CHECK_OK(tangle_chan_free(full));
	CHECK_OK(tangle_chan_free(empty));
	return NULL;
}

static void test_waits_for_room_to_send(void **state)
{
	(void)state;
	run_rt(2, 0, wait_send_main, NULL);
}

/* The same channel twice, and a send and a receive on one channel. */
static void *same_channel_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	int o1 = 0, o2 = 0;
	struct later l = {a, 5, 5, 0};
	tangle_task *t = tangle_spawn("sender", later_op, &l);
	tangle_select_op ops[2] = {recv_op(a, &o1), recv_op(a, &o2)};
	int r = tangle_select(ops, 2, 5000);
	CHECK_EQ(r, 0);
	CHECK_EQ(o1, 5);
	CHECK_EQ(o2, 0);
	CHECK_EQ(join_int(t), TANGLE_OK);
	int v = 6;
	tangle_select_op ops2[2] = {recv_op(a, &o1), send_op(a, &v)};
	CHECK_EQ(tangle_select(ops2, 2, 0), 1); /* empty: only the send can go */
	CHECK_EQ(tangle_select(ops2, 2, 0), 0); /* full: only the receive */
	CHECK_EQ(o1, 6);
	CHECK_OK(tangle_chan_free(a));
	return NULL;
}

static void test_same_channel_twice(void **state)
{
	(void)state;
	run_rt(1, 1, same_channel_main, NULL);
}

/* ---- timeouts, close, cancellation ------------------------------------------------------------ */

static void *timeout_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	tangle_chan *b = tangle_chan_new(sizeof(int), 1, "b");
	int out = 0, v = 1;
	CHECK_OK(tangle_chan_send(b, &v));
	tangle_select_op ops[2] = {recv_op(a, &out), send_op(b, &v)};
	CHECK_EQ(tangle_select(ops, 2, 0), TANGLE_ETIMEDOUT);
	uint64_t t0 = now_ms();
	CHECK_EQ(tangle_select(ops, 2, 20), TANGLE_ETIMEDOUT);
	CHECK(now_ms() - t0 >= 15);
	CHECK_EQ(ops[0].result, -99); /* untouched */
	CHECK_EQ(tangle_chan_len(b), 1);
	CHECK_OK(tangle_chan_free(a));
	CHECK_OK(tangle_chan_free(b));
	return NULL;
}

static void test_timeout(void **state)
{
	(void)state;
	run_rt(1, 1, timeout_main, NULL);
}

struct closer {
	tangle_chan *ch;
	int sleep_ms;
};

static void *close_later(void *p)
{
	struct closer *c = p;
	tangle_sleep_ms((uint64_t)c->sleep_ms);
	return INT_PTR(tangle_chan_close(c->ch));
}

static void *closed_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	tangle_chan *b = tangle_chan_new(sizeof(int), 1, "b");
	int out = 0, v = 3;
	/* Closed and drained: the receive is ready, with ECLOSED. */
	CHECK_OK(tangle_chan_close(b));
	tangle_select_op ops[2] = {recv_op(a, &out), recv_op(b, &out)};
	CHECK_EQ(tangle_select(ops, 2, -1), 1);
	CHECK_EQ(ops[1].result, TANGLE_ECLOSED);
	/* A send on a closed channel is ready too, with ECLOSED. */
	tangle_select_op ops2[2] = {recv_op(a, &out), send_op(b, &v)};
	CHECK_EQ(tangle_select(ops2, 2, -1), 1);
	CHECK_EQ(ops2[1].result, TANGLE_ECLOSED);
	/* Closing a channel a select waits on ends the select. */
	struct closer c = {a, 10};
	tangle_task *t = tangle_spawn("closer", close_later, &c);
	tangle_select_op ops3[1] = {recv_op(a, &out)};
	CHECK_EQ(tangle_select(ops3, 1, 5000), 0);
	CHECK_EQ(ops3[0].result, TANGLE_ECLOSED);
	CHECK_EQ(join_int(t), TANGLE_OK);
	CHECK_OK(tangle_chan_free(a));
	CHECK_OK(tangle_chan_free(b));
	return NULL;
}

static void test_closed_channel(void **state)
{
	(void)state;
	run_rt(1, 1, closed_main, NULL);
}

static void *selector(void *p)
{
	tangle_chan **chs = p;
	int o1, o2;
	tangle_select_op ops[2] = {recv_op(chs[0], &o1), recv_op(chs[1], &o2)};
	return INT_PTR(tangle_select(ops, 2, -1));
}

static void *cancel_main(void *p)
{
	(void)p;
	tangle_chan *chs[2] = {tangle_chan_new(sizeof(int), 1, "a"),
	                       tangle_chan_new(sizeof(int), 1, "b")};
	tangle_task *t = tangle_spawn("selector", selector, chs);
	settle();
	CHECK_EQ(tangle_chan_free(chs[0]), TANGLE_EBUSY);
	CHECK_OK(tangle_cancel(t));
	CHECK_EQ(join_int(t), TANGLE_ECANCELED);
	int v = 1;
	CHECK_OK(tangle_chan_send(chs[1], &v)); /* buffered: nobody took it */
	CHECK_EQ(tangle_chan_len(chs[1]), 1);
	CHECK_OK(tangle_chan_free(chs[0]));
	CHECK_OK(tangle_chan_free(chs[1]));
	return NULL;
}

static void test_cancel(void **state)
{
	(void)state;
	run_rt(1, 1, cancel_main, NULL);
}

/* ---- exactly once ----------------------------------------------------------------------------------- */

#define NCH 3
#define SENDERS 4
#define PER_SENDER 3000

struct fan {
	tangle_chan *ch[NCH];
	_Atomic long sum;
	_Atomic int count;
	_Atomic int next_sender;
	int64_t timeout_ms;      /* of each select; timeouts just retry */
};

static void *fan_sender(void *p)
{
	struct fan *f = p;
	int id = atomic_fetch_add(&f->next_sender, 1);
	for (int i = 1; i <= PER_SENDER; i++) {
		int v = i;
		CHECK_OK(tangle_chan_send(f->ch[(i + id) % NCH], &v));
	}
	return NULL;
}

/* Receive with select until every channel is closed and drained. */
static void *fan_receiver(void *p)
{
	struct fan *f = p;
	bool closed[NCH] = {false};
	int open = NCH;
	while (open > 0) {
		tangle_select_op ops[NCH];
		int outs[NCH], map[NCH], n = 0;
		for (int i = 0; i < NCH; i++)
			if (!closed[i]) {
				map[n] = i;
				ops[n] = recv_op(f->ch[i], &outs[n]);
				n++;
			}
		int r = tangle_select(ops, (size_t)n, f->timeout_ms);
		if (r == TANGLE_ETIMEDOUT)
			continue;
		CHECK(r >= 0 && r < n);
		if (r < 0)
			return NULL;
		if (ops[r].result == TANGLE_ECLOSED) {
			closed[map[r]] = true;
			open--;
			continue;
		}
		CHECK_EQ(ops[r].result, TANGLE_OK);
		atomic_fetch_add(&f->sum, outs[r]);
		atomic_fetch_add(&f->count, 1);
	}
	return NULL;
}

static void *fan_main(void *p)
{
	struct fan *f = p;
	for (int i = 0; i < NCH; i++)
		f->ch[i] = tangle_chan_new(sizeof(int), 1 + (size_t)i, "fan");
	tangle_task *rx[3], *tx[SENDERS];
	for (int i = 0; i < 3; i++)
		rx[i] = tangle_spawn("rx", fan_receiver, f);
	for (int i = 0; i < SENDERS; i++)
		tx[i] = tangle_spawn("tx", fan_sender, f);
	for (int i = 0; i < SENDERS; i++)
		join_int(tx[i]);
	for (int i = 0; i < NCH; i++)
		CHECK_OK(tangle_chan_close(f->ch[i]));
	for (int i = 0; i < 3; i++)
		join_int(rx[i]);
	CHECK_EQ(atomic_load(&f->count), SENDERS * PER_SENDER);
	CHECK_EQ(atomic_load(&f->sum), (long)SENDERS * PER_SENDER * (PER_SENDER + 1) / 2);
	for (int i = 0; i < NCH; i++)
		CHECK_OK(tangle_chan_free(f->ch[i]));
	return NULL;
}

static void test_exactly_once_many_selects(void **state)
{
	(void)state;
	struct fan f = {.timeout_ms = -1};
	run_rt(2, 0, fan_main, &f);
}

static void test_exactly_once_with_timeouts(void **state)
{
	(void)state;
	struct fan f = {.timeout_ms = 1};
	run_rt(2, 0, fan_main, &f);
}

/* Selects that send, racing plain receivers: each value arrives once. */
struct fan_out {
	tangle_chan *ch[2];
	_Atomic long sum;
	_Atomic int count;
};

static void *select_sender(void *p)
{
	struct fan_out *f = p;
	for (int i = 1; i <= PER_SENDER; i++) {
		int v = i;
		tangle_select_op ops[2] = {send_op(f->ch[0], &v), send_op(f->ch[1], &v)};
		int r = tangle_select(ops, 2, -1);
		CHECK(r == 0 || r == 1);
		if (r >= 0)
			CHECK_EQ(ops[r].result, TANGLE_OK);
	}
	return NULL;
}

static void *plain_receiver(void *p)
{
	struct fan_out *f = p;
	static _Atomic int which;
	tangle_chan *ch = f->ch[atomic_fetch_add(&which, 1) % 2];
	int v;
	while (tangle_chan_recv(ch, &v) == TANGLE_OK) {
		atomic_fetch_add(&f->sum, v);
		atomic_fetch_add(&f->count, 1);
	}
	return NULL;
}

static void *fan_out_main(void *p)
{
	(void)p;
	struct fan_out f = {{tangle_chan_new(sizeof(int), 1, "x"),
	                     tangle_chan_new(sizeof(int), 2, "y")}, 0, 0};
	tangle_task *rx[4], *tx[3];
	for (int i = 0; i < 4; i++)
		rx[i] = tangle_spawn("rx", plain_receiver, &f);
	for (int i = 0; i < 3; i++)
		tx[i] = tangle_spawn("tx", select_sender, &f);
	for (int i = 0; i < 3; i++)
		join_int(tx[i]);
	CHECK_OK(tangle_chan_close(f.ch[0]));
	CHECK_OK(tangle_chan_close(f.ch[1]));
	for (int i = 0; i < 4; i++)
		join_int(rx[i]);
	CHECK_EQ(atomic_load(&f.count), 3 * PER_SENDER);
	CHECK_EQ(atomic_load(&f.sum), 3L * PER_SENDER * (PER_SENDER + 1) / 2);
	CHECK_OK(tangle_chan_free(f.ch[0]));
	CHECK_OK(tangle_chan_free(f.ch[1]));
	return NULL;
}

static void test_exactly_once_select_senders(void **state)
{
	(void)state;
	run_rt(2, 0, fan_out_main, NULL);
}

/* ---- bad use -------------------------------------------------------------------------------------------- */

static void *errors_main(void *p)
{
	(void)p;
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	int v = 0;
	tangle_select_op ops[TANGLE_SELECT_MAX + 1];
	for (int i = 0; i <= TANGLE_SELECT_MAX; i++)
		ops[i] = recv_op(a, &v);
	CHECK_EQ(tangle_select(NULL, 1, 0), TANGLE_EINVAL);
	CHECK_EQ(tangle_select(ops, 0, 0), TANGLE_EINVAL);
	CHECK_EQ(tangle_select(ops, TANGLE_SELECT_MAX + 1, 0), TANGLE_EINVAL);
	CHECK_EQ(tangle_select(ops, TANGLE_SELECT_MAX, 0), TANGLE_ETIMEDOUT);
	ops[1].chan = NULL;
	CHECK_EQ(tangle_select(ops, 2, 0), TANGLE_EINVAL);
	ops[1] = recv_op(a, NULL);
	CHECK_EQ(tangle_select(ops, 2, 0), TANGLE_EINVAL);
	ops[1] = recv_op(a, &v);
	ops[1].kind = (tangle_select_kind)7;
	CHECK_EQ(tangle_select(ops, 2, 0), TANGLE_EINVAL);
	CHECK_OK(tangle_chan_free(a));
	return NULL;
}

static void test_errors(void **state)
{
	(void)state;
	run_rt(1, 1, errors_main, NULL);
	tangle_chan *a = tangle_chan_new(sizeof(int), 1, "a");
	int v = 0;
	tangle_select_op ops[1] = {recv_op(a, &v)};
	assert_int_equal(tangle_select(ops, 1, 0), TANGLE_ENOTASK);
	assert_int_equal(tangle_chan_free(a), TANGLE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_ready_op_wins),
		cmocka_unit_test(test_waits_for_a_receive),
		cmocka_unit_test(test_waits_for_room_to_send),
		cmocka_unit_test(test_same_channel_twice),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_closed_channel),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_exactly_once_many_selects),
		cmocka_unit_test(test_exactly_once_with_timeouts),
		cmocka_unit_test(test_exactly_once_select_senders),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
