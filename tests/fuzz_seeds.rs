//! The fuzz targets' seeds (the fixtures for the targets that read source, `fuzz/seeds/TARGET` for the others) and the inputs that once crashed a target
//! (`fuzz/regressions/TARGET`), replayed through the targets' own code
//! (`fuzz/fuzz_targets/common.rs`) on stable, in `cargo test`: no input may panic, even where
//! the code catches the panic (the language server answers it with an internal error). The long
//! fuzz runs themselves need nightly and are not part of `cargo test` (docs/reliability.md).
#![cfg(feature = "python")]

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../fuzz/fuzz_targets/common.rs"]
mod common;

/// Panics seen anywhere in this test binary (on any thread), with their messages.
static PANICS: AtomicUsize = AtomicUsize::new(0);
static MESSAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut messages) = MESSAGES.lock() {
                messages.push(info.to_string());
            }
            default(info);
        }));
    });
}

/// The folders a target's fuzz run starts from (`fuzz/run-all`): the fixtures for the targets
/// that read source, `fuzz/seeds/TARGET` for the others; and `fuzz/regressions/TARGET`.
fn input_folders(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = match target {
        "python" => root.join("fixtures/python"),
        "rust" => root.join("fixtures/rust"),
        "fix" => root.join("fixtures"),
        _ => root.join("fuzz/seeds").join(target),
    };
    vec![seeds, root.join("fuzz/regressions").join(target)]
}

/// Every seed and regression input of `target`, by path, in the folders and below them, as
/// libFuzzer reads them (a folder's README.md is not one).
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut folders = input_folders(target);
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.is_file() && !path.ends_with("README.md") {
                let bytes = std::fs::read(&path).expect("readable");
                found.push((path, bytes));
            }
        }
    }
    found.sort();
    found
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    count_panics();
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no seeds for {target}");
    for (path, bytes) in &inputs {
        let before = PANICS.load(Ordering::SeqCst);
        run(bytes);
        let messages = MESSAGES.lock().map(|m| m.join("\n")).unwrap_or_default();
        assert_eq!(PANICS.load(Ordering::SeqCst), before, "{} panicked:\n{messages}", path.display());
    }
}

#[test]
fn python_seeds_and_regressions_run_clean() {
    replay("python", |bytes| common::check(connlint::SourceKind::Python, bytes));
}

#[test]
fn rust_seeds_and_regressions_run_clean() {
    replay("rust", |bytes| common::check(connlint::SourceKind::Rust, bytes));
}

#[test]
fn config_seeds_and_regressions_run_clean() {
    replay("config", common::config);
}

/// The fix target's seeds are the fixtures; the fixable single-file ones (those with a `.fixed`
/// twin; a project's modules are fixed with the rest of the project) must reach the fixes on
/// their own, or the target would fuzz the analysis alone.
#[test]
fn fix_seeds_and_regressions_run_clean_and_reach_the_fixes() {
    replay("fix", common::fix);
    let fixable: Vec<PathBuf> = inputs("fix")
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| {
            let single_file = path.parent().and_then(|p| p.parent()).is_some_and(|p| p.ends_with("fixtures"));
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let twin = match name.rsplit_once('.') {
                Some((stem, extension)) if !stem.ends_with(".fixed") => format!("{stem}.fixed.{extension}"),
                _ => return false,
            };
            single_file && path.with_file_name(twin).exists()
        })
        .collect();
    // Suppressions are the run's business, not the analysis's: the fixtures whose only fix
    // removes an unused suppression (CL001) are not fixed here.
    let mut missed = Vec::new();
    for path in &fixable {
        let source = std::fs::read_to_string(path).expect("a UTF-8 fixture");
        let kind = connlint::SourceKind::of_path(path).expect("a Python or Rust fixture");
        if !common::fix_as(kind, &source) {
            missed.push(path.display().to_string());
        }
    }
    let suppression_only = missed.iter().filter(|path| path.contains("suppressions")).count();
    assert!(fixable.len() >= 20, "expected the fixable fixtures, found {}", fixable.len());
    assert_eq!(missed.len(), suppression_only, "the fixes changed nothing in {missed:#?}");
}

#[test]
fn lsp_seeds_and_regressions_run_clean() {
    replay("lsp", |bytes| {
        common::lsp(bytes, false);
    });
}

/// Every session in the seeds but the malformed one ends with `shutdown` and `exit`, so the
/// server exits 0: the seeds reach the handlers, not only the framing.
#[test]
fn lsp_seed_sessions_shut_down_cleanly() {
    count_panics();
    for (path, bytes) in inputs("lsp") {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if path.parent().is_some_and(|p| p.ends_with("seeds/lsp")) && name != "raw_malformed" {
            assert_eq!(common::lsp(&bytes, false), 0, "{name}");
        }
    }
}
