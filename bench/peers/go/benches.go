// The benchmarks, one per row of bench/*.c; each runs n operations and
// returns how long they took. ctx_switch_raw (a bare stack switch without
// the scheduler) has no Go counterpart: Go does not expose one.
package main

import (
	"runtime"
	"sync"
	"time"
)

type bench struct {
	name        string
	multiThread bool // false: GOMAXPROCS(1); true: GOMAXPROCS(BENCH_WORKERS)
	fn          func(n uint64) time.Duration
}

var benches = []bench{
	{"yield_ct", false, yieldLoop},
	{"yield_pingpong_ct", false, yieldPingpong},
	{"spawn_join_ct", false, spawnJoin},
	{"spawn_join_mt", true, spawnJoin},
	{"chan_pingpong_ct", false, chanPingpong},
	{"chan_pingpong_mt", true, chanPingpong},
	{"mutex_uncontended_ct", false, mutexUncontended},
	{"mutex_contended_mt", true, mutexContended},
	{"mutex_handoff_ct", false, mutexHandoff},
	{"sem_uncontended_ct", false, semUncontended},
}

// sink keeps results alive as far as the compiler is concerned.
var sink uint64

// yieldLoop: one goroutine calling runtime.Gosched in a loop: ns per yield.
func yieldLoop(n uint64) time.Duration {
	start := time.Now()
	for i := uint64(0); i < n; i++ {
		runtime.Gosched()
	}
	return time.Since(start)
}

// yieldPingpong: two goroutines yielding to each other: ns per yield (n
// yields in all). The other goroutine is joined through a channel close.
func yieldPingpong(n uint64) time.Duration {
	start := time.Now()
	done := make(chan struct{})
	go func() {
		for i := uint64(0); i < n/2; i++ {
			runtime.Gosched()
		}
		close(done)
	}()
	for i := uint64(0); i < n-n/2; i++ {
		runtime.Gosched()
	}
	<-done
	return time.Since(start)
}

// spawnJoin: start a goroutine that returns a value, then join it: ns per
// spawn+join. Go has no join; the value comes back over a channel of
// capacity 1 (created once, as a WaitGroup would not carry the value), and
// receiving it is the join (the goroutine may still be exiting then).
func spawnJoin(n uint64) time.Duration {
	result := make(chan uint64, 1)
	var sum uint64
	start := time.Now()
	for i := uint64(0); i < n; i++ {
		go func(v uint64) { result <- v }(i)
		sum += <-result
	}
	t := time.Since(start)
	sink = sum
	return t
}

// chanPingpong: two capacity-1 channels and an echo goroutine: ns per
// round trip.
func chanPingpong(n uint64) time.Duration {
	in, out := make(chan uint64, 1), make(chan uint64, 1)
	done := make(chan struct{})
	go func() {
		for v := range in {
			out <- v
		}
		close(done)
	}()
	start := time.Now()
	for i := uint64(0); i < n; i++ {
		in <- i
		sink = <-out
	}
	t := time.Since(start)
	close(in)
	<-done
	return t
}

// mutexUncontended: lock and unlock a sync.Mutex nobody else touches: ns
// per lock+unlock.
func mutexUncontended(n uint64) time.Duration {
	var m sync.Mutex
	var counter uint64
	start := time.Now()
	for i := uint64(0); i < n; i++ {
		m.Lock()
		counter++
		m.Unlock()
	}
	t := time.Since(start)
	sink = counter
	return t
}

// hammer: `tasks` goroutines share n lock+unlock operations on one
// sync.Mutex (yielding while they hold it if yieldInside); returns the time
// from the first spawn to the last join (a WaitGroup). Exits if the count
// is off.
func hammer(n, tasks uint64, yieldInside bool) time.Duration {
	var m sync.Mutex
	var counter uint64
	var wg sync.WaitGroup
	start := time.Now()
	for k := uint64(0); k < tasks; k++ {
		share := n / tasks
		if k < n%tasks {
			share++
		}
		wg.Add(1)
		go func(share uint64) {
			defer wg.Done()
			for i := uint64(0); i < share; i++ {
				m.Lock()
				counter++
				if yieldInside {
					runtime.Gosched()
				}
				m.Unlock()
			}
		}(share)
	}
	wg.Wait()
	t := time.Since(start)
	if counter != n {
		fail("mutex count %d, want %d", counter, n)
	}
	return t
}

// mutexContended: BENCH_MUTEX_TASKS (default 4) goroutines hammering one
// mutex with GOMAXPROCS(BENCH_WORKERS): ns per lock+unlock (n in all).
func mutexContended(n uint64) time.Duration {
	tasks := envU64("BENCH_MUTEX_TASKS", 4)
	if tasks < 1 {
		tasks = 1
	}
	if tasks > 64 {
		tasks = 64
	}
	return hammer(n, tasks, false)
}

// mutexHandoff: two goroutines that yield while holding the mutex: ns per
// lock+unlock (n in all). Unlike tangle's and tokio's FIFO mutexes,
// sync.Mutex lets the unlocking goroutine take the lock again before the
// woken waiter runs, until a waiter has waited 1 ms (starvation mode, then
// hand-off): so most locks here do not wait, and the waiter is woken and
// parks again on most operations. The same program, not the same schedule.
func mutexHandoff(n uint64) time.Duration {
	return hammer(n, 2, true)
}

// semUncontended: acquire and release one permit nobody else wants: ns per
// pair. The standard library has no semaphore (golang.org/x/sync is a
// module we do not fetch), so this is the usual channel-based one: a
// channel with capacity = permits (1), acquire = send, release = receive.
func semUncontended(n uint64) time.Duration {
	sem := make(chan struct{}, 1)
	start := time.Now()
	for i := uint64(0); i < n; i++ {
		sem <- struct{}{}
		<-sem
	}
	return time.Since(start)
}
