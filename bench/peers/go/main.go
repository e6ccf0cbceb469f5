// Go's side of tangle's benchmarks: the same operations as bench/*.c and
// bench/peers/tokio, the same harness (calibration runs grow n until a run
// takes >= 20 ms, n scaled to BENCH_TARGET_MS per run, BENCH_REPS runs,
// rescale and restart when a run lands far from the target) and the same
// output line:
//
//	bench <name> median_ns=<x> min_ns=<y> reps=<r> iters=<n>
//
// "_ct" benchmarks run with runtime.GOMAXPROCS(1), "_mt" ones with
// GOMAXPROCS(BENCH_WORKERS) (default 2), set before each benchmark. The
// whole measurement of a benchmark runs in one goroutine started for it,
// as harness.c runs it in the runtime's main task. Only the standard
// library is used (no modules to fetch). The garbage collector stays on:
// it is part of what goroutines cost.
//
// Usage: tangle-peer-go [--list] [name-substring...]
// Environment: BENCH_TARGET_MS, BENCH_REPS, BENCH_WORKERS,
// BENCH_MUTEX_TASKS, BENCH_ITERS (as bench/harness.h).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

const maxReps = 101

// envU64 reads an environment variable as an unsigned number, or def.
func envU64(name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s=%s is not a number, using %d\n", name, s, def)
		return def
	}
	return v
}

// fail reports a benchmark that did not do what it says and exits: such a
// benchmark must not print a figure.
func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

// calibrate grows n until a run takes >= 20 ms (these runs are the
// warm-up), then scales it so one run takes about targetNs.
func calibrate(fn func(uint64) time.Duration, targetNs float64) uint64 {
	n := uint64(16)
	for {
		t := float64(fn(n))
		if t >= 20e6 || n >= 1<<36 {
			scaled := float64(n) * targetNs / maxf(t, 1)
			if scaled < 16 {
				return 16
			}
			return uint64(scaled)
		}
		if t < 2e6 {
			n *= 10
		} else {
			n *= 2
		}
	}
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// measure calibrates n (or takes BENCH_ITERS), runs BENCH_REPS times and
// prints the line.
func measure(name string, fn func(uint64) time.Duration) {
	targetNs := float64(envU64("BENCH_TARGET_MS", 300)) * 1e6
	reps := envU64("BENCH_REPS", 5)
	if reps < 1 {
		reps = 1
	}
	if reps > maxReps {
		reps = maxReps
	}
	fixed := envU64("BENCH_ITERS", 0)
	n := fixed
	if fixed == 0 {
		n = calibrate(fn, targetNs)
	}
	perOp := make([]float64, 0, reps)
	for rescales := 0; uint64(len(perOp)) < reps; {
		t := float64(fn(n))
		perOp = append(perOp, t/float64(n))
		// A run far from the target: the calibration saw another mode
		// than the runs do; scale n and start again (as harness.c).
		if fixed == 0 && (t < targetNs/4 || t > targetNs*4) && rescales < 3 {
			// Up by 4x at most: the other mode may be far slower.
			f := targetNs / maxf(t, 1)
			if f > 4 {
				f = 4
			}
			n = uint64(float64(n) * f)
			if n < 16 {
				n = 16
			}
			rescales++
			perOp = perOp[:0]
		}
	}
	sort.Float64s(perOp)
	median := perOp[reps/2]
	if reps%2 == 0 {
		median = (perOp[reps/2-1] + perOp[reps/2]) / 2
	}
	fmt.Printf("bench %s median_ns=%.1f min_ns=%.1f reps=%d iters=%d\n",
		name, median, perOp[0], reps, n)
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--list" {
		for _, b := range benches {
			fmt.Println(b.name)
		}
		return
	}
	wanted := func(name string) bool {
		if len(args) == 0 {
			return true
		}
		for _, a := range args {
			if strings.Contains(name, a) {
				return true
			}
		}
		return false
	}
	fmt.Printf("# go %s (Debian golang-go)\n", runtime.Version())
	workers := int(envU64("BENCH_WORKERS", 2))
	if workers < 1 {
		workers = 1
	}
	for _, b := range benches {
		if !wanted(b.name) {
			continue
		}
		if b.multiThread {
			runtime.GOMAXPROCS(workers)
		} else {
			runtime.GOMAXPROCS(1)
		}
		done := make(chan struct{})
		go func(b bench) {
			measure(b.name, b.fn)
			close(done)
		}(b)
		<-done
	}
}
