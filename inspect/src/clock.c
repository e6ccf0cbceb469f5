/*
 * clock.c — "now" for durations. Live targets give CLOCK_MONOTONIC
 * directly; a core gives the wall-clock time of the dump, mapped onto the
 * monotonic clock with the table's latest (SYNC_MONO, SYNC_REAL) pair (or
 * the start-up pair); without either, now is the latest time the table
 * records, so durations are at least not negative. With "now" known, each
 * object's longest hold takes in the holds still going on.
 */
#include "ti.h"

static uint64_t latest(const tangle_session *s)
{
	uint64_t m = s->sync_mono > s->start_mono ? s->sync_mono : s->start_mono;
#define MAX(v) do { if ((v) > m) m = (v); } while (0)
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		MAX(t->spawned_at);
		MAX(t->last_ran_at);
		MAX(t->woken_at);
		MAX(t->finished_at);
		MAX(t->wait.since);
		MAX(t->wait.granted_at);
		for (uint32_t h = 0; h < t->nholds; h++)
			MAX(t->holds[h].since);
		for (uint32_t k = 0; k < t->nspans; k++)
			MAX(t->spans[k].entered_at);
	}
	for (uint32_t i = 0; i < s->nworkers; i++) {
		MAX(s->workers[i].running_since);
		MAX(s->workers[i].idle_since);
	}
	for (uint32_t i = 0; i < s->nobjs; i++) {
		MAX(s->objs[i].owner_since);
		MAX(s->objs[i].handed_at);
	}
	for (uint32_t i = 0; i < s->nrts; i++)
		MAX(s->rts[i].created_at);
#undef MAX
	return m;
}

static uint64_t map_real(const tangle_session *s, uint64_t real,
                         uint64_t pair_mono, uint64_t pair_real)
{
	uint64_t now = pair_mono;
	if (real >= pair_real)
		now = pair_mono + (real - pair_real);
	/* a coarse mtime or a skewed clock must not make durations negative */
	uint64_t last = latest(s);
	return now > last ? now : last;
}

static void set_now(tangle_session *s);

/* An object's longest hold counts the current ones too: the table records
 * a hold's length only when it ends, so a mutex held for an hour showed 0. */
static void current_holds(tangle_session *s)
{
	for (uint32_t i = 0; i < s->nobjs; i++) {
		ti_object *o = &s->objs[i];
		uint64_t age = o->owner_id ? ti_age(s, o->owner_since) : 0;
		if (age > o->longest_hold)
			o->longest_hold = age;
	}
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const ti_task *t = &s->tasks[i];
		for (uint32_t h = 0; h < t->nholds; h++) {
			uint64_t age = ti_age(s, t->holds[h].since);
			if (t->holds[h].obj != TI_NONE && age > s->objs[t->holds[h].obj].longest_hold)
				s->objs[t->holds[h].obj].longest_hold = age;
		}
	}
}

void ti_clock(tangle_session *s)
{
	set_now(s);
	current_holds(s);
}

static void set_now(tangle_session *s)
{
	switch (s->opt.now_kind) {
	case TANGLE_NOW_MONO:
		if (s->opt.now) {
			s->now = s->opt.now;
			s->now_source = "mono";
			return;
		}
		break;
	case TANGLE_NOW_REAL:
		if (s->opt.now && s->sync_mono && s->sync_real) {
			s->now = map_real(s, s->opt.now, s->sync_mono, s->sync_real);
			s->now_source = "real";
			return;
		}
		if (s->opt.now && s->start_mono && s->start_real) {
			s->now = map_real(s, s->opt.now, s->start_mono, s->start_real);
			s->now_source = "real";
			return;
		}
		break;
	default:
		break;
	}
	s->now = latest(s);
	s->now_source = "table";
}
