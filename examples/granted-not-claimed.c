/*
 * granted-not-claimed: a one-worker runtime. The session collector holds
 * the "sessions" mutex while four logins queue for it. It unlocks, which
 * hands the mutex to login-1 and makes login-1 runnable, then backs off
 * with a plain sleep(), a blocking call on the only worker. login-1 never
 * runs, so it never takes the mutex it was given; the other logins wait
 * behind a mutex that nobody is using.
 *
 * Expected: granted-not-claimed (mutex "sessions" handed to login-1, which
 * has not run since) and blocked-executor (session-gc in sleep()).
 * Fix: tangle_sleep_ms() instead of sleep().
 */
#include <unistd.h>

#include "example.h"

#define LOGINS 4
#define PAST_THRESHOLD_MS 2500 /* the tools' threshold: 1000 ms */

struct sessions {
	tangle_mutex lock; /* "sessions" */
	int live, expired;
};

static void back_off(void)
{
	sleep(3600); /* wait: sleep */
}

static void *collect(void *arg)
{
	struct sessions *s = arg;
	tangle_mutex_lock(&s->lock);
	tangle_sleep_ms(100); /* scan the table; the logins queue meanwhile */
	s->expired += s->live / 2;
	tangle_mutex_unlock(&s->lock); /* hands the mutex to login-1 */
	back_off();
	return NULL;
}

static void *login(void *arg)
{
	struct sessions *s = arg;
	tangle_mutex_lock(&s->lock); /* wait: sessions */
	s->live++;
	tangle_mutex_unlock(&s->lock);
	return NULL;
}

static void *main_task(void *arg)
{
	struct sessions *s = arg;
	example_check(tangle_mutex_init(&s->lock, "sessions"), "mutex");
	tangle_task *gc = example_ptr(tangle_spawn("session-gc", collect, s), "spawn");
	for (int i = 1; i <= LOGINS; i++) {
		char name[32];
		snprintf(name, sizeof name, "login-%d", i);
		example_check(tangle_detach(example_ptr(tangle_spawn(name, login, s),
		                                        "spawn")), "detach");
	}
	example_hung_after("granted-not-claimed", PAST_THRESHOLD_MS);
	tangle_join(gc, NULL); /* an hour */
	return NULL;
}

int main(void)
{
	static struct sessions s = {.live = 10};
	return example_run("sessions", 1, main_task, &s);
}
