//! The deep sweep: every `.py` and `.rs` file under the given trees through the analysis, with
//! no prefilter. `connlint check` (and `scripts/sweep`) parses only the files, and in Python the
//! statements, that can matter; this reads every file whole the way the fuzz targets do (and
//! Python also the selective way), so that real code nobody here wrote reaches every parser and
//! lowering. No file may panic, and every span must lie inside its text.
//!
//! Not part of `cargo test` (it needs the downloaded trees); run it with
//!
//! ```sh
//! CONNLINT_SWEEP=DIR[:DIR...] cargo test --release --test deep_sweep -- --ignored --nocapture
//! ```
//!
//! It prints the files, bytes, diagnostics, CL000s, panics and bad spans (each with its file),
//! the slowest files, and the time. A file still being analysed after a minute is printed as it
//! happens (a hang would otherwise be silent); the run fails on any panic or bad span.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use connlint::diagnostic::Diagnostic;
use connlint::{ModuleInfo, SourceKind};

/// The CLI's analysis stack (`connlint::run::ANALYSIS_STACK_BYTES`).
const STACK: usize = 256 * 1024 * 1024;

/// Folders the CLI never walks into.
const SKIPPED: &[&str] = &[".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".venv", "venv"];

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !SKIPPED.iter().any(|s| path.file_name().is_some_and(|n| n == *s)) {
                collect(&path, files);
            }
        } else if kind.is_file() && SourceKind::of_path(&path).is_some() {
            files.push(path);
        }
    }
}

fn analyse(kind: SourceKind, source: &str) -> Vec<Diagnostic> {
    let module = ModuleInfo { name: "swept", package: None };
    let whole = connlint::check_source(kind, "swept", source, module);
    #[cfg(feature = "python")]
    if kind == SourceKind::Python {
        let knowledge = connlint::python::knowledge::Knowledge::builtin();
        return [whole, connlint::python::analyze_selected("swept", source, module, knowledge)].concat();
    }
    whole
}

fn bad_span(diagnostics: &[Diagnostic], source: &str) -> Option<String> {
    diagnostics.iter().find_map(|d| {
        std::iter::once(d.span).chain(d.labels.iter().map(|l| l.span)).find_map(|span| {
            let (start, end) = (span.start as usize, span.end as usize);
            let inside = start <= end && end <= source.len();
            (!inside || !source.is_char_boundary(start) || !source.is_char_boundary(end))
                .then(|| format!("{} span {start}..{end} in {} bytes", d.rule.code(), source.len()))
        })
    })
}

#[derive(Default)]
struct Tally {
    bytes: u64,
    diagnostics: usize,
    cl000: usize,
    skipped_large: usize,
    failures: Vec<String>,
    slowest: Vec<(Duration, PathBuf)>,
}

#[test]
#[ignore = "needs downloaded trees: CONNLINT_SWEEP=DIR[:DIR...] cargo test --release --test deep_sweep -- --ignored"]
fn every_file_is_analysed_without_a_panic_or_a_bad_span() {
    let Some(dirs) = std::env::var_os("CONNLINT_SWEEP") else {
        panic!("set CONNLINT_SWEEP to the trees to sweep, separated by `:`");
    };
    let mut files = Vec::new();
    for dir in std::env::split_paths(&dirs) {
        assert!(dir.exists(), "{}: no such folder", dir.display());
        collect(&dir, &mut files);
    }
    files.sort();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let tally = Mutex::new(Tally::default());
    // What each worker is analysing and since when, for the watchdog.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let current: Vec<Mutex<Option<(Instant, PathBuf)>>> = (0..workers).map(|_| Mutex::new(None)).collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut reported = std::collections::HashSet::new();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(5));
                for slot in &current {
                    if let Some((since, path)) = slot.lock().expect("lock").clone()
                        && since.elapsed() > Duration::from_secs(60)
                        && reported.insert(path.clone())
                    {
                        eprintln!("still analysing after {:?}: {}", since.elapsed(), path.display());
                    }
                }
            }
        });
        let handles: Vec<_> = current
            .iter()
            .map(|slot| {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, || {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(path) = files.get(i) else { break };
                            let Ok(bytes) = std::fs::read(path) else { continue };
                            if bytes.len() as u64 > connlint::run::MAX_FILE_BYTES {
                                tally.lock().expect("lock").skipped_large += 1;
                                continue;
                            }
                            let kind = SourceKind::of_path(path).expect("a source file");
                            let source = String::from_utf8_lossy(&bytes);
                            let start = Instant::now();
                            *slot.lock().expect("lock") = Some((start, path.clone()));
                            let result = std::panic::catch_unwind(|| analyse(kind, &source));
                            *slot.lock().expect("lock") = None;
                            let took = start.elapsed();
                            let mut tally = tally.lock().expect("lock");
                            tally.bytes += bytes.len() as u64;
                            match result {
                                Ok(diagnostics) => {
                                    tally.diagnostics += diagnostics.len();
                                    tally.cl000 += diagnostics.iter().filter(|d| d.rule.code() == "CL000").count();
                                    if let Some(why) = bad_span(&diagnostics, &source) {
                                        tally.failures.push(format!("{}: {why}", path.display()));
                                    }
                                }
                                Err(_) => tally.failures.push(format!("{}: panicked", path.display())),
                            }
                            tally.slowest.push((took, path.clone()));
                            tally.slowest.sort_by_key(|(took, _)| std::cmp::Reverse(*took));
                            tally.slowest.truncate(5);
                        }
                    })
                    .expect("a sweep thread starts")
            })
            .collect();
        for handle in handles {
            handle.join().ok();
        }
        done.store(true, Ordering::Relaxed);
    });
    let tally = tally.into_inner().expect("lock");
    let python = files.iter().filter(|f| SourceKind::of_path(f) == Some(SourceKind::Python)).count();
    println!(
        "deep sweep: {} files ({python} .py, {} .rs), {:.1} MB, {} diagnostics ({} CL000), {} skipped above {} MiB, \
         {} panics or bad spans, {:.1} s",
        files.len(),
        files.len() - python,
        tally.bytes as f64 / 1e6,
        tally.diagnostics,
        tally.cl000,
        tally.skipped_large,
        connlint::run::MAX_FILE_BYTES / (1024 * 1024),
        tally.failures.len(),
        started.elapsed().as_secs_f64()
    );
    for (took, path) in &tally.slowest {
        println!("  slowest: {:.2} s {}", took.as_secs_f64(), path.display());
    }
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
}
