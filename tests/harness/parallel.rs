//! Spreading independent jobs over the host's cores: each worker takes the
//! next unclaimed item until none is left.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Calls `job` on every item, on as many threads as the host has cores (or
/// `TRANSIT_TEST_JOBS`), and returns the results in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = jobs().min(items.len()).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let result = job(item);
                results.lock().unwrap()[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|result| result.expect("every item was claimed by a worker"))
        .collect()
}

/// How many jobs run at once: `TRANSIT_TEST_JOBS`, or the host's cores.
pub fn jobs() -> usize {
    std::env::var("TRANSIT_TEST_JOBS")
        .ok()
        .and_then(|jobs| jobs.parse().ok())
        .filter(|&jobs| jobs > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
