//! The fuzz targets' seeds (`fuzz/seeds/TARGET`) and the inputs that once crashed a target
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

/// Every seed and regression input of `target`, by path (a folder's README.md is not one).
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut found = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else { continue };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_file() && !path.ends_with("README.md") {
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
