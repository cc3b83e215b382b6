//! Work spread over the cores: the one place the analysis starts threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Analysis threads get a large stack so deeply nested input cannot overflow it.
pub(crate) const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Maps `f` over `items` on as many threads as there are cores, keeping the order. Threads get
/// large stacks; if a thread cannot be started, the work is done on this one.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let spawned = std::thread::Builder::new().stack_size(ANALYSIS_STACK_BYTES).spawn_scoped(scope, || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let value = f(item);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(value);
                    }
                }
            });
            if spawned.is_err() {
                break;
            }
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    slots.into_iter().zip(items).map(|(slot, item)| slot.unwrap_or_else(|| f(item))).collect()
}

/// Drops `value` on a thread of its own. Freeing the lowered modules of a large run takes tens
/// of milliseconds on one thread (CPython's `Lib`: ~40 ms, every statement and call site its
/// own allocations), and it would come between the check and the report; this way the report
/// is written while the other core frees. A process that exits does not wait for it. If the
/// thread cannot be started, `value` is dropped here.
#[cfg(feature = "python")]
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().name("connlint-free".to_string()).spawn(move || drop(value));
}

/// Calls `f` on every item, on as many threads as there are cores (like [`parallel_map`],
/// for work that changes the items in place). Items are handed out in small runs, so that a
/// run of large files does not leave one thread with all the work.
pub(crate) fn parallel_for_each_mut<T: Send>(items: &mut [T], f: impl Fn(&mut T) + Sync) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let runs = Mutex::new(items.chunks_mut(16));
    let work = || {
        while let Some(run) = runs.lock().ok().and_then(|mut runs| runs.next()) {
            run.iter_mut().for_each(&f);
        }
    };
    std::thread::scope(|scope| {
        // This thread works too; the others only if they can be started.
        for _ in 1..workers {
            let _ = std::thread::Builder::new().stack_size(ANALYSIS_STACK_BYTES).spawn_scoped(scope, work);
        }
        work();
    });
}
