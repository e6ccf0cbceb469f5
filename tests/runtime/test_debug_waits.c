/*
 * test_debug_waits.c — what the debug table says about blocked tasks.
 *
 * The table is read in-process the way the tools read it: from the root
 * symbol, decoding every record by the layout it carries (record and field
 * ids -> offset and size), never by the runtime's structs. For a mutex, a
 * semaphore, a channel, an rwlock and a select it checks the blocked
 * task's wait (kind, op, object, call site, state), the holder's holds
 * (mode, count, since, site; a mutex's on the mutex), and the object's
 * record (owner, waiters in
 * order, hand-off). Everything runs on the single-threaded flavour, so the
 * table is quiet while the main task reads it.
 */
#include "sync_helpers.h"

#include "tangle_debug.h"

extern const struct tangle_debug_header tangle_debug_root;

/* ---- a small reader -------------------------------------------------------------- */

static const struct tangle_debug_layout *layout_of(uint16_t rec, uint16_t field)
{
	const struct tangle_debug_header *h = &tangle_debug_root;
	const struct tangle_debug_layout *l =
		(const void *)((const char *)h + h->layout_offset);
	for (uint32_t i = 0; i < h->layout_count; i++)
		if (l[i].record == rec && l[i].field == field)
			return &l[i];
	return NULL;
}

/* An unsigned field of the record at base (little-endian, up to 8 bytes). */
static uint64_t get(const void *base, uint16_t rec, uint16_t field)
{
	const struct tangle_debug_layout *l = layout_of(rec, field);
	CHECK(l != NULL);
	if (!l || !base || l->size > 8)
		return 0;
	uint64_t v = 0;
	memcpy(&v, (const char *)base + l->offset, l->size);
	return v;
}

static const void *getp(const void *base, uint16_t rec, uint16_t field)
{
	return (const void *)(uintptr_t)get(base, rec, field);
}

/* The address of an inline field (a record or an array inside a record). */
static const void *at(const void *base, uint16_t rec, uint16_t field)
{
	const struct tangle_debug_layout *l = layout_of(rec, field);
	CHECK(l != NULL);
	return l ? (const char *)base + l->offset : NULL;
}

static uint32_t size_of(uint16_t rec)
{
	const struct tangle_debug_layout *l = layout_of(rec, TANGLE_DF_RECORD);
	return l ? l->size : 0;
}

/* The TASK record with this id, through runtimes and slabs. */
static const void *task_record(uint64_t id)
{
	const void *root = &tangle_debug_root;
	const void *rt = getp(root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_RUNTIMES);
	for (int r = 0; rt && r < 64; r++) {
		const void *slab = getp(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_SLABS);
		for (int s = 0; slab && s < 1024; s++) {
			const char *tasks = getp(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_TASKS);
			uint64_t cap = get(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_CAPACITY);
			uint64_t stride = get(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_STRIDE);
			for (uint64_t i = 0; tasks && i < cap; i++) {
				const void *t = tasks + i * stride;
				if (get(t, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE) !=
				            TANGLE_DEBUG_TASK_FREE &&
				    get(t, TANGLE_DR_TASK, TANGLE_DF_TASK_ID) == id)
					return t;
			}
			slab = getp(slab, TANGLE_DR_SLAB, TANGLE_DF_SLAB_NEXT);
		}
		rt = getp(rt, TANGLE_DR_RUNTIME, TANGLE_DF_RUNTIME_NEXT);
	}
	return NULL;
}

/* Whether the object registry lists the object at addr. */
static bool registered(const void *addr)
{
	const void *o = getp(&tangle_debug_root, TANGLE_DR_ROOT, TANGLE_DF_ROOT_OBJECTS);
	for (int i = 0; o && i < 100000; i++) {
		if (o == addr)
			return true;
		o = getp(o, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NEXT);
	}
	return false;
}

static const void *wait_of(const void *task)
{
	return at(task, TANGLE_DR_TASK, TANGLE_DF_TASK_WAIT);
}

static const void *hold_of(const void *task, unsigned i)
{
	const char *holds = at(task, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLDS);
	return holds ? holds + i * size_of(TANGLE_DR_HOLD) : NULL;
}

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A timestamp from the last minute (the table's clock is cached: allow
 * for it lagging or leading a little). */
static void check_recent(uint64_t t)
{
	uint64_t now = mono_now();
	CHECK(t != 0);
	CHECK(t <= now + 100000000u);
	CHECK(t + 60000000000u > now);
}

static void check_site(const void *site, int line, const char *function)
{
	CHECK(site != NULL);
	if (!site)
		return;
	const char *file = getp(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FILE);
	const char *fn = getp(site, TANGLE_DR_SITE, TANGLE_DF_SITE_FUNCTION);
	CHECK(file && strstr(file, "test_debug_waits.c") != NULL);
	CHECK(fn && strcmp(fn, function) == 0);
	CHECK_EQ(get(site, TANGLE_DR_SITE, TANGLE_DF_SITE_LINE), line);
}

/* A task's wait: state, kind, op, object and site. */
static void check_wait(const void *task, uint8_t state, uint8_t kind, uint8_t op,
                       const void *object, int line, const char *function)
{
	const void *w = wait_of(task);
	CHECK_EQ(get(task, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE),
	         TANGLE_DEBUG_TASK_WAITING);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_STATE), state);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND), kind);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP), op);
	CHECK(getp(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OBJECT) == object);
	CHECK(getp(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_TASK) == task);
	check_recent(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SINCE));
	check_site(getp(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE), line, function);
}

/* The task's hold i: object, mode, count, since and site. */
static void check_hold(const void *task, unsigned i, const void *object,
                       uint8_t mode, uint32_t count, int line,
                       const char *function)
{
	CHECK(get(task, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT) > i);
	const void *h = hold_of(task, i);
	CHECK(getp(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_OBJECT) == object);
	CHECK_EQ(get(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_MODE), mode);
	CHECK_EQ(get(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_COUNT), count);
	check_recent(get(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_SINCE));
	check_site(getp(h, TANGLE_DR_HOLD, TANGLE_DF_HOLD_SITE), line, function);
}

/* A mutex's hold is on the mutex, not in its owner's holds: owner id,
 * since and the site of the lock call. */
static void check_mutex_hold(const void *m, uint64_t owner, int line,
                             const char *function)
{
	CHECK_EQ(get(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID), owner);
	check_recent(get(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_SINCE));
	check_site(getp(m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HELD_SITE), line,
	           function);
}

/* ---- mutex ------------------------------------------------------------------------------ */

struct scene {
	tangle_mutex m;
	tangle_sem s;
	tangle_rwlock rw;
	tangle_chan *full, *empty;
	_Atomic int release;
	uint64_t holder_id, waiter_id;
};

static int holder_line, waiter_line;

static void *mutex_holder(void *p)
{
	struct scene *sc = p;
	holder_line = __LINE__ + 1;
	CHECK_OK(tangle_mutex_lock(&sc->m));
	while (!atomic_load(&sc->release))
		tangle_yield();
	CHECK_OK(tangle_mutex_unlock(&sc->m));

	/* Handed to the waiter, which has not run yet (this task holds the
	 * only worker): the waiter's record says GRANTED, the object says
	 * to whom it was handed, and nobody owns it yet. */
	const void *waiter = task_record(sc->waiter_id);
	const void *w = wait_of(waiter);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_STATE),
	         TANGLE_DEBUG_WAITER_GRANTED);
	/* 3.0: an untimed grant's time is its wake-up, by this task */
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_GRANTED_AT), 0);
	check_recent(get(waiter, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_AT));
	CHECK_EQ(get(waiter, TANGLE_DR_TASK, TANGLE_DF_TASK_WOKEN_BY),
	         tangle_task_id(tangle_task_current()));
	CHECK_EQ(get(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HANDED_TO),
	         sc->waiter_id);
	check_recent(get(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HANDED_AT));
	CHECK_EQ(get(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID), 0);
	CHECK(getp(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS) == NULL);
	const void *me = task_record(tangle_task_id(tangle_task_current()));
	CHECK_EQ(get(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 0);
	return NULL;
}

static void *mutex_waiter(void *p)
{
	struct scene *sc = p;
	waiter_line = __LINE__ + 1;
	CHECK_OK(tangle_mutex_lock(&sc->m));
	/* Running now: it holds the mutex, and the hand-off is claimed. */
	const void *me = task_record(sc->waiter_id);
	check_mutex_hold(&sc->m, sc->waiter_id, waiter_line, "mutex_waiter");
	CHECK_EQ(get(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 0);
	CHECK_EQ(get(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_HANDED_TO), 0);
	CHECK_OK(tangle_mutex_unlock(&sc->m));
	CHECK_EQ(get(&sc->m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID), 0);
	CHECK_EQ(get(me, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 0);
	return NULL;
}

static int mutex_init_line;

static void *mutex_main(void *p)
{
	(void)p;
	static struct scene sc;
	memset(&sc, 0, sizeof sc);
	mutex_init_line = __LINE__ + 1;
	CHECK_OK(tangle_mutex_init(&sc.m, "ledger"));
	const struct tangle_debug_header *h = &tangle_debug_root;
	CHECK(memcmp(h->magic, TANGLE_DEBUG_MAGIC, 8) == 0);
	CHECK_EQ(h->abi_major, TANGLE_DEBUG_ABI_MAJOR);
	CHECK(registered(&sc.m));
	CHECK_EQ(get(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_KIND),
	         TANGLE_DEBUG_OBJ_MUTEX);
	CHECK(strcmp(getp(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_NAME),
	             "ledger") == 0);
	check_site(getp(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CREATED_AT),
	           mutex_init_line, "mutex_main");

	tangle_task *holder = tangle_spawn("holder", mutex_holder, &sc);
	sc.holder_id = tangle_task_id(holder);
	settle();
	tangle_task *waiter = tangle_spawn("waiter", mutex_waiter, &sc);
	sc.waiter_id = tangle_task_id(waiter);
	settle();

	/* The waiter waits for the mutex at its call site... */
	const void *wt = task_record(sc.waiter_id);
	const void *ht = task_record(sc.holder_id);
	CHECK(wt != NULL && ht != NULL);
	check_wait(wt, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_MUTEX,
	           TANGLE_DEBUG_OP_LOCK, &sc.m, waiter_line, "mutex_waiter");
	CHECK_EQ(get(wait_of(wt), TANGLE_DR_WAITER, TANGLE_DF_WAITER_DEADLINE), 0);
	/* ...the mutex names its owner, the hold's site (the holder's own
	 * hold list stays empty)... */
	check_mutex_hold(&sc.m, sc.holder_id, holder_line, "mutex_holder");
	CHECK_EQ(get(ht, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 0);
	/* ...and its queue of waiters. */
	CHECK(getp(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS) == wait_of(wt));
	CHECK(getp(wait_of(wt), TANGLE_DR_WAITER, TANGLE_DF_WAITER_NEXT) == NULL);
	CHECK_EQ(get(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CONTENTIONS), 1);
	/* Its queue is its live waker (QUEUE: the mutex's WAITERS field);
	 * WAKERS counts only user wakers and pool jobs. */
	CHECK(getp(wait_of(wt), TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) ==
	      at(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS));
	CHECK_EQ(get(wt, TANGLE_DR_TASK, TANGLE_DF_TASK_WAKERS), 0);
	CHECK(getp(wait_of(ht), TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) == NULL);

	atomic_store(&sc.release, 1);
	CHECK_OK(tangle_join(holder, NULL));
	CHECK_OK(tangle_join(waiter, NULL));
	CHECK_EQ(get(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ACQUISITIONS), 2);
	CHECK_EQ(get(&sc.m, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID), 0);
	CHECK_OK(tangle_mutex_destroy(&sc.m));
	CHECK(!registered(&sc.m));
	return NULL;
}

static void test_mutex_wait_and_hold(void **state)
{
	(void)state;
	run_rt(1, 1, mutex_main, NULL);
}

/* Self-deadlock: the task holds the mutex and waits for it. */
static int self_lock_line, self_relock_line;

static void *self_locker(void *p)
{
	tangle_mutex *m = p;
	self_lock_line = __LINE__ + 1;
	CHECK_OK(tangle_mutex_lock(m));
	self_relock_line = __LINE__ + 1;
	CHECK_EQ(tangle_mutex_lock(m), TANGLE_ECANCELED);
	CHECK_OK(tangle_mutex_unlock(m));
	return NULL;
}

static void *self_main(void *p)
{
	(void)p;
	tangle_mutex m;
	CHECK_OK(tangle_mutex_init(&m, "self"));
	tangle_task *t = tangle_spawn("self", self_locker, &m);
	settle();
	const void *rec = task_record(tangle_task_id(t));
	check_wait(rec, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_MUTEX,
	           TANGLE_DEBUG_OP_LOCK, &m, self_relock_line, "self_locker");
	check_mutex_hold(&m, tangle_task_id(t), self_lock_line, "self_locker");
	CHECK_OK(tangle_cancel(t));
	CHECK_OK(tangle_join(t, NULL));
	CHECK_OK(tangle_mutex_destroy(&m));
	return NULL;
}

static void test_self_deadlock_visible(void **state)
{
	(void)state;
	run_rt(1, 1, self_main, NULL);
}

/* ---- semaphore --------------------------------------------------------------------------- */

static int sem_hold_line, sem_wait_line;

static void *sem_holder(void *p)
{
	struct scene *sc = p;
	sem_hold_line = __LINE__ + 1;
	CHECK_OK(tangle_sem_acquire(&sc->s, 2));
	while (!atomic_load(&sc->release))
		tangle_yield();
	CHECK_OK(tangle_sem_release(&sc->s, 2));
	return NULL;
}

static void *sem_waiter(void *p)
{
	struct scene *sc = p;
	sem_wait_line = __LINE__ + 1;
	CHECK_OK(tangle_sem_acquire_timeout(&sc->s, 1, 60000));
	CHECK_OK(tangle_sem_release(&sc->s, 1));
	return NULL;
}

static void *sem_main(void *p)
{
	(void)p;
	static struct scene sc;
	memset(&sc, 0, sizeof sc);
	CHECK_OK(tangle_sem_init(&sc.s, 2, "pool"));
	tangle_task *holder = tangle_spawn("holder", sem_holder, &sc);
	settle();
	tangle_task *waiter = tangle_spawn("waiter", sem_waiter, &sc);
	settle();
	const void *wt = task_record(tangle_task_id(waiter));
	const void *ht = task_record(tangle_task_id(holder));
	check_wait(wt, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_SEM,
	           TANGLE_DEBUG_OP_ACQUIRE, &sc.s, sem_wait_line, "sem_waiter");
	CHECK_EQ(get(wait_of(wt), TANGLE_DR_WAITER, TANGLE_DF_WAITER_COUNT), 1);
	CHECK(get(wait_of(wt), TANGLE_DR_WAITER, TANGLE_DF_WAITER_DEADLINE) != 0);
	check_hold(ht, 0, &sc.s, TANGLE_DEBUG_HOLD_PERMITS, 2, sem_hold_line,
	           "sem_holder");
	CHECK_EQ(get(&sc.s, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_KIND),
	         TANGLE_DEBUG_OBJ_SEM);
	CHECK_EQ(get(&sc.s, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_VALUE), 0);
	CHECK_EQ(get(&sc.s, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CAPACITY), 2);
	CHECK(getp(&sc.s, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS) == wait_of(wt));
	atomic_store(&sc.release, 1);
	CHECK_OK(tangle_join(holder, NULL));
	CHECK_OK(tangle_join(waiter, NULL));
	CHECK_EQ(get(ht, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT), 0);
	CHECK_EQ(get(&sc.s, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_VALUE), 2);
	CHECK_OK(tangle_sem_destroy(&sc.s));
	return NULL;
}

static void test_sem_wait_and_hold(void **state)
{
	(void)state;
	run_rt(1, 1, sem_main, NULL);
}

/* Permits of one semaphore stay one entry, whatever else is held on top;
 * releases subtract from it and drop it at zero. */
static int sem_first_line;

static uint64_t hold_count(const void *rec)
{
	return get(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_HOLD_COUNT);
}

static void *sem_mix_main(void *p)
{
	(void)p;
	tangle_sem a;
	tangle_rwlock m; /* write-locked: a hold in the task's list */
	CHECK_OK(tangle_sem_init(&a, 4, "a"));
	CHECK_OK(tangle_rwlock_init(&m, "m"));
	const void *rec = task_record(tangle_task_id(tangle_task_current()));
	sem_first_line = __LINE__ + 1;
	CHECK_OK(tangle_sem_acquire(&a, 1));
	int lock_line = __LINE__ + 1;
	CHECK_OK(tangle_rwlock_write(&m));
	CHECK_OK(tangle_sem_acquire(&a, 2)); /* merges below the lock */
	CHECK_EQ(hold_count(rec), 2);
	check_hold(rec, 0, &a, TANGLE_DEBUG_HOLD_PERMITS, 3, sem_first_line,
	           "sem_mix_main");
	check_hold(rec, 1, &m, TANGLE_DEBUG_HOLD_EXCLUSIVE, 1, lock_line,
	           "sem_mix_main");
	CHECK_OK(tangle_sem_release(&a, 1)); /* below the lock */
	CHECK_EQ(hold_count(rec), 2);
	check_hold(rec, 0, &a, TANGLE_DEBUG_HOLD_PERMITS, 2, sem_first_line,
	           "sem_mix_main");
	CHECK_OK(tangle_rwlock_unlock(&m));
	CHECK_EQ(hold_count(rec), 1);
	CHECK_OK(tangle_sem_release(&a, 1)); /* the latest entry, part of it */
	CHECK_EQ(hold_count(rec), 1);
	check_hold(rec, 0, &a, TANGLE_DEBUG_HOLD_PERMITS, 1, sem_first_line,
	           "sem_mix_main");
	CHECK_OK(tangle_sem_release(&a, 1)); /* the latest entry, all of it */
	CHECK_EQ(hold_count(rec), 0);
	CHECK_OK(tangle_sem_try_acquire(&a, 4));
	CHECK_EQ(hold_count(rec), 1);
	CHECK_OK(tangle_sem_release(&a, 4));
	CHECK_EQ(hold_count(rec), 0);
	CHECK_OK(tangle_rwlock_destroy(&m));
	CHECK_OK(tangle_sem_destroy(&a));
	return NULL;
}

static void test_sem_holds_merge(void **state)
{
	(void)state;
	run_rt(1, 1, sem_mix_main, NULL);
}

/* ---- channels ------------------------------------------------------------------------------- */

static int send_line, recv_line;

static void *chan_sender(void *p)
{
	struct scene *sc = p;
	int v = 2;
	send_line = __LINE__ + 1;
	CHECK_OK(tangle_chan_send(sc->full, &v));
	return NULL;
}

static void *chan_receiver(void *p)
{
	struct scene *sc = p;
	int v;
	recv_line = __LINE__ + 1;
	CHECK_OK(tangle_chan_recv(sc->empty, &v));
	CHECK_EQ(v, 3);
	return NULL;
}

static void *chan_main(void *p)
{
	(void)p;
	static struct scene sc;
	memset(&sc, 0, sizeof sc);
	sc.full = tangle_chan_new(sizeof(int), 1, "jobs");
	sc.empty = tangle_chan_new(sizeof(int), TANGLE_CHAN_UNBOUNDED, "results");
	int v = 1;
	CHECK_OK(tangle_chan_send(sc.full, &v));
	tangle_task *tx = tangle_spawn("sender", chan_sender, &sc);
	tangle_task *rx = tangle_spawn("receiver", chan_receiver, &sc);
	settle();
	const void *txr = task_record(tangle_task_id(tx));
	const void *rxr = task_record(tangle_task_id(rx));
	check_wait(txr, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_CHAN,
	           TANGLE_DEBUG_OP_SEND, sc.full, send_line, "chan_sender");
	check_wait(rxr, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_CHAN,
	           TANGLE_DEBUG_OP_RECV, sc.empty, recv_line, "chan_receiver");
	/* Senders queue in WAITERS, receivers in WAITERS2. */
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_KIND),
	         TANGLE_DEBUG_OBJ_CHAN);
	CHECK(getp(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS) == wait_of(txr));
	CHECK(getp(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2) == NULL);
	CHECK(getp(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2) == wait_of(rxr));
	CHECK(getp(wait_of(rxr), TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) ==
	      at(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2));
	CHECK(getp(wait_of(txr), TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) ==
	      at(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS));
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_VALUE), 1);
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CAPACITY), 1);
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_ELEM_SIZE), sizeof(int));
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_FLAGS), 0);
	CHECK_EQ(get(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_FLAGS),
	         TANGLE_DEBUG_OBJF_UNBOUNDED);
	CHECK_EQ(get(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_CAPACITY), 0);

	/* Transfers name their last sender and receiver. */
	v = 3;
	CHECK_OK(tangle_chan_send(sc.empty, &v));
	uint64_t me = tangle_task_id(tangle_task_current());
	CHECK_EQ(get(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_SENDER), me);
	CHECK_EQ(get(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_RECEIVER),
	         tangle_task_id(rx));
	CHECK_OK(tangle_chan_recv(sc.full, &v));
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_RECEIVER), me);
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_LAST_SENDER),
	         tangle_task_id(tx));
	CHECK_OK(tangle_join(tx, NULL));
	CHECK_OK(tangle_join(rx, NULL));
	CHECK_OK(tangle_chan_close(sc.full));
	CHECK_EQ(get(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_FLAGS),
	         TANGLE_DEBUG_OBJF_CLOSED);
	CHECK_OK(tangle_chan_free(sc.full));
	CHECK_OK(tangle_chan_free(sc.empty));
	return NULL;
}

static void test_chan_waits(void **state)
{
	(void)state;
	run_rt(1, 1, chan_main, NULL);
}

/* ---- rwlock and select ------------------------------------------------------------------------- */

static int read_line, write_line, select_line;

static void *rw_reader(void *p)
{
	struct scene *sc = p;
	read_line = __LINE__ + 1;
	CHECK_OK(tangle_rwlock_read(&sc->rw));
	while (!atomic_load(&sc->release))
		tangle_yield();
	CHECK_OK(tangle_rwlock_unlock(&sc->rw));
	return NULL;
}

static void *rw_writer(void *p)
{
	struct scene *sc = p;
	write_line = __LINE__ + 1;
	CHECK_OK(tangle_rwlock_write(&sc->rw));
	CHECK_OK(tangle_rwlock_unlock(&sc->rw));
	return NULL;
}

static void *selector(void *p)
{
	struct scene *sc = p;
	int a, b;
	tangle_select_op ops[2] = {
		{sc->empty, TANGLE_SELECT_RECV, &a, 0},
		{sc->full, TANGLE_SELECT_RECV, &b, 0},
	};
	select_line = __LINE__ + 1;
	return INT_PTR(tangle_select(ops, 2, -1));
}

static void *rw_select_main(void *p)
{
	(void)p;
	static struct scene sc;
	memset(&sc, 0, sizeof sc);
	CHECK_OK(tangle_rwlock_init(&sc.rw, "config"));
	tangle_task *r = tangle_spawn("reader", rw_reader, &sc);
	settle();
	tangle_task *w = tangle_spawn("writer", rw_writer, &sc);
	settle();
	const void *rr = task_record(tangle_task_id(r));
	const void *wr = task_record(tangle_task_id(w));
	check_hold(rr, 0, &sc.rw, TANGLE_DEBUG_HOLD_SHARED, 1, read_line, "rw_reader");
	check_wait(wr, TANGLE_DEBUG_WAITER_WAITING, TANGLE_DEBUG_WAIT_RWLOCK,
	           TANGLE_DEBUG_OP_WRITE, &sc.rw, write_line, "rw_writer");
	CHECK_EQ(get(&sc.rw, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_VALUE), 1);
	CHECK_EQ(get(&sc.rw, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_OWNER_ID), 0);
	atomic_store(&sc.release, 1);
	CHECK_OK(tangle_join(r, NULL));
	CHECK_OK(tangle_join(w, NULL));
	CHECK_OK(tangle_rwlock_destroy(&sc.rw));

	/* A select: the task waits on SELECT; each channel queues one of its
	 * waiters, pointing back at the task and sharing one select group. */
	sc.full = tangle_chan_new(sizeof(int), 1, "a");
	sc.empty = tangle_chan_new(sizeof(int), 1, "b");
	tangle_task *s = tangle_spawn("selector", selector, &sc);
	settle();
	const void *sr = task_record(tangle_task_id(s));
	const void *inl = wait_of(sr);
	CHECK_EQ(get(inl, TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND),
	         TANGLE_DEBUG_WAIT_SELECT);
	CHECK_EQ(get(inl, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP),
	         TANGLE_DEBUG_OP_SELECT);
	check_site(getp(inl, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE),
	           select_line, "selector");
	const void *wa = getp(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2);
	const void *wb = getp(sc.full, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2);
	CHECK(wa != NULL && wb != NULL);
	CHECK(getp(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_TASK) == sr);
	CHECK(getp(wb, TANGLE_DR_WAITER, TANGLE_DF_WAITER_TASK) == sr);
	CHECK_EQ(get(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND),
	         TANGLE_DEBUG_WAIT_CHAN);
	CHECK_EQ(get(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP), TANGLE_DEBUG_OP_RECV);
	CHECK(getp(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OBJECT) == sc.empty);
	const void *group = getp(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SELECT);
	CHECK(group != NULL);
	CHECK(getp(wb, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SELECT) == group);
	CHECK(getp(inl, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SELECT) == group);
	/* the arms are queued, the select's own record is not */
	CHECK(getp(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) ==
	      at(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2));
	CHECK(getp(inl, TANGLE_DR_WAITER, TANGLE_DF_WAITER_QUEUE) == NULL);
	check_site(getp(wa, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE), select_line,
	           "selector");
	int v = 4;
	CHECK_OK(tangle_chan_send(sc.full, &v));
	CHECK_EQ(join_int(s), 1);
	CHECK(getp(sc.empty, TANGLE_DR_OBJECT, TANGLE_DF_OBJECT_WAITERS2) == NULL);
	CHECK_OK(tangle_chan_free(sc.full));
	CHECK_OK(tangle_chan_free(sc.empty));
	return NULL;
}

static void test_rwlock_and_select_waits(void **state)
{
	(void)state;
	run_rt(1, 1, rw_select_main, NULL);
}

/* ---- yield ------------------------------------------------------------------------------ */

/* A task that yielded to another is RUNNABLE with a yield record: where
 * it yielded and since when (readers show it for runnable tasks). */
static int yield_line;

static void *yielder(void *p)
{
	_Atomic int *release = p;
	while (!atomic_load(release)) {
		yield_line = __LINE__ + 1;
		tangle_yield();
	}
	return NULL;
}

static void *yield_main(void *p)
{
	(void)p;
	static _Atomic int release;
	atomic_store(&release, 0);
	tangle_task *t = tangle_spawn("yielder", yielder, &release);
	settle();
	const void *rec = task_record(tangle_task_id(t));
	CHECK(rec != NULL);
	CHECK_EQ(get(rec, TANGLE_DR_TASK, TANGLE_DF_TASK_STATE),
	         TANGLE_DEBUG_TASK_RUNNABLE);
	const void *w = wait_of(rec);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_KIND), TANGLE_DEBUG_WAIT_YIELD);
	CHECK_EQ(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OP), TANGLE_DEBUG_OP_YIELD);
	CHECK(getp(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_OBJECT) == NULL);
	check_recent(get(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SINCE));
	check_site(getp(w, TANGLE_DR_WAITER, TANGLE_DF_WAITER_SITE), yield_line, "yielder");
	atomic_store(&release, 1);
	CHECK_OK(tangle_join(t, NULL));
	return NULL;
}

static void test_yield_record(void **state)
{
	(void)state;
	run_rt(1, 1, yield_main, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_wait_and_hold),
		cmocka_unit_test(test_self_deadlock_visible),
		cmocka_unit_test(test_sem_wait_and_hold),
		cmocka_unit_test(test_sem_holds_merge),
		cmocka_unit_test(test_chan_waits),
		cmocka_unit_test(test_rwlock_and_select_waits),
		cmocka_unit_test(test_yield_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
