//! tokio's side of tangle's benchmarks: the same operations as bench/*.c,
//! the same harness (calibrate to BENCH_TARGET_MS per run, BENCH_REPS runs,
//! report median and min) and the same output line:
//!
//!     bench <name> median_ns=<x> min_ns=<y> reps=<r> iters=<n>
//!
//! Every benchmark body runs inside a spawned task, as tangle's run inside
//! tasks; "_ct" benchmarks use a current-thread runtime, "_mt" ones a
//! multi-thread runtime with BENCH_WORKERS (default 2) workers.
//! Usage: tangle-peer-tokio [--list] [name-substring...]

use std::env;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{mpsc, Mutex, Semaphore};
use tokio::task::yield_now;

fn env_u64(name: &str, default: u64) -> u64 {
    env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().expect("runtime")
}

fn multi_thread() -> Runtime {
    let workers = env_u64("BENCH_WORKERS", 2) as usize;
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime")
}

/// Runs `body(n)` as a task on `rt` and returns the time it measured.
fn run_task<F, Fut>(rt: &Runtime, body: &F, n: u64) -> Duration
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Duration> + Send + 'static,
{
    let fut = body(n);
    rt.block_on(async move { tokio::spawn(fut).await.expect("bench task") })
}

/// Grows n until a run takes >= 20 ms (these runs are the warm-up), then
/// scales it so that one run takes about target_ns.
fn calibrate<F, Fut>(rt: &Runtime, body: &F, target_ns: f64) -> u64
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Duration> + Send + 'static,
{
    let mut n: u64 = 16;
    loop {
        let t = run_task(rt, body, n).as_nanos() as f64;
        if t >= 20e6 || n >= 1 << 36 {
            return ((n as f64) * target_ns / t.max(1.0)).max(16.0) as u64;
        }
        n *= if t < 2e6 { 10 } else { 2 };
    }
}

/// Calibrates n so one run takes about BENCH_TARGET_MS (or takes
/// BENCH_ITERS), runs BENCH_REPS times and prints the line.
fn measure<F, Fut>(name: &str, rt: &Runtime, body: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Duration> + Send + 'static,
{
    let target_ns = env_u64("BENCH_TARGET_MS", 300) as f64 * 1e6;
    let reps = env_u64("BENCH_REPS", 5).max(1) as usize;
    let fixed = env_u64("BENCH_ITERS", 0);
    let mut n = if fixed == 0 { calibrate(rt, &body, target_ns) } else { fixed };
    let mut per_op: Vec<f64> = Vec::with_capacity(reps);
    let mut rescales = 0;
    while per_op.len() < reps {
        let t = run_task(rt, &body, n).as_nanos() as f64;
        per_op.push(t / n as f64);
        // A run far from the target: the calibration saw another mode
        // than the runs do; scale n and start again (as harness.c).
        if fixed == 0 && (t < target_ns / 4.0 || t > target_ns * 4.0) && rescales < 3 {
            // Up by 4x at most: the other mode may be far slower.
            n = ((n as f64) * (target_ns / t.max(1.0)).min(4.0)).max(16.0) as u64;
            rescales += 1;
            per_op.clear();
        }
    }
    per_op.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = if reps % 2 == 1 {
        per_op[reps / 2]
    } else {
        (per_op[reps / 2 - 1] + per_op[reps / 2]) / 2.0
    };
    println!(
        "bench {} median_ns={:.1} min_ns={:.1} reps={} iters={}",
        name, median, per_op[0], reps, n
    );
}

// ---- the benchmarks; each returns the time of n operations ----------------

/// One task yielding in a loop: ns per yield.
async fn yield_loop(n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        yield_now().await;
    }
    start.elapsed()
}

/// Two tasks yielding to each other: ns per yield (n yields in all).
async fn yield_pingpong(n: u64) -> Duration {
    let start = Instant::now();
    let other = tokio::spawn(async move {
        for _ in 0..n / 2 {
            yield_now().await;
        }
    });
    for _ in 0..n - n / 2 {
        yield_now().await;
    }
    other.await.expect("join");
    start.elapsed()
}

/// Spawn a task that returns a value, then join it: ns per spawn+join.
async fn spawn_join(n: u64) -> Duration {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..n {
        sum += tokio::spawn(async move { black_box(i) }).await.expect("join");
    }
    black_box(sum);
    start.elapsed()
}

/// Two capacity-1 channels and an echo task: ns per round trip.
async fn chan_pingpong(n: u64) -> Duration {
    let (to_echo, mut echo_rx) = mpsc::channel::<u64>(1);
    let (echo_tx, mut from_echo) = mpsc::channel::<u64>(1);
    let echo = tokio::spawn(async move {
        while let Some(v) = echo_rx.recv().await {
            if echo_tx.send(v).await.is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    for i in 0..n {
        to_echo.send(i).await.expect("send");
        black_box(from_echo.recv().await.expect("recv"));
    }
    let t = start.elapsed();
    drop(to_echo);
    echo.await.expect("join");
    t
}

/// Lock and unlock a mutex nobody else touches: ns per lock+unlock.
async fn mutex_uncontended(n: u64) -> Duration {
    let m = Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *m.lock().await += 1;
    }
    black_box(*m.lock().await);
    start.elapsed()
}

/// `tasks` tasks share n lock+unlock operations on one mutex (yielding
/// while they hold it if `yield_inside`); returns the time from the first
/// spawn to the last join. Panics if the count is off.
async fn hammer(n: u64, tasks: u64, yield_inside: bool) -> Duration {
    let m = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|k| {
            let m = m.clone();
            let share = n / tasks + u64::from(k < n % tasks);
            tokio::spawn(async move {
                for _ in 0..share {
                    let mut g = m.lock().await;
                    *g += 1;
                    if yield_inside {
                        yield_now().await;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("join");
    }
    let t = start.elapsed();
    assert_eq!(*m.lock().await, n);
    t
}

/// BENCH_MUTEX_TASKS (default 4) tasks hammering one mutex on a
/// multi-thread runtime: ns per lock+unlock (n in all).
async fn mutex_contended(n: u64) -> Duration {
    hammer(n, env_u64("BENCH_MUTEX_TASKS", 4).clamp(1, 64), false).await
}

/// Two tasks that yield while holding the mutex, so every lock waits and
/// is handed off (FIFO): ns per lock+unlock (n in all).
async fn mutex_handoff(n: u64) -> Duration {
    hammer(n, 2, true).await
}

/// Acquire and release one permit nobody else wants: ns per pair.
async fn sem_uncontended(n: u64) -> Duration {
    let s = Semaphore::new(1);
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(s.acquire().await.expect("acquire")));
    }
    start.elapsed()
}

const NAMES: &[&str] = &[
    "yield_ct",
    "yield_pingpong_ct",
    "spawn_join_ct",
    "spawn_join_mt",
    "chan_pingpong_ct",
    "chan_pingpong_mt",
    "mutex_uncontended_ct",
    "mutex_contended_mt",
    "mutex_handoff_ct",
    "sem_uncontended_ct",
];

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for name in NAMES {
            println!("{name}");
        }
        return;
    }
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| name.contains(a.as_str()));
    println!("# tokio 1.24 (Debian librust-tokio-dev)");
    let ct = current_thread();
    let mt = multi_thread();
    for &name in NAMES.iter().filter(|n| wanted(n)) {
        match name {
            "yield_ct" => measure(name, &ct, yield_loop),
            "yield_pingpong_ct" => measure(name, &ct, yield_pingpong),
            "spawn_join_ct" => measure(name, &ct, spawn_join),
            "spawn_join_mt" => measure(name, &mt, spawn_join),
            "chan_pingpong_ct" => measure(name, &ct, chan_pingpong),
            "chan_pingpong_mt" => measure(name, &mt, chan_pingpong),
            "mutex_uncontended_ct" => measure(name, &ct, mutex_uncontended),
            "mutex_contended_mt" => measure(name, &mt, mutex_contended),
            "mutex_handoff_ct" => measure(name, &ct, mutex_handoff),
            "sem_uncontended_ct" => measure(name, &ct, sem_uncontended),
            _ => unreachable!(),
        }
    }
}
