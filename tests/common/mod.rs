//! What the CLI tests share: running the binary, and fresh project folders.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn connlint(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connlint")).args(args).current_dir(cwd).output().expect("connlint runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh folder with the given files; its canonical path (as an editor names files).
pub fn project(files: &[(&str, &str)]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "connlint-cli-{}-{}-{}",
        std::process::id(),
        env!("CARGO_CRATE_NAME"),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    std::fs::canonicalize(&dir).expect("canonical")
}

pub const LEAKY: &str =
    "import sqlite3\n\ndef f(p):\n    with sqlite3.connect(p) as conn:\n        conn.execute('x')\n";
pub const CLEAN: &str = "import sqlite3\nfrom contextlib import closing\n\ndef f(p):\n    with closing(sqlite3.connect(p)) as conn:\n        conn.execute('x')\n";
