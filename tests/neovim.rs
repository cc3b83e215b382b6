//! A real editor speaks to `connlint server`: Neovim, headless, runs `tests/nvim/init.lua`, which
//! opens `tests/nvim/leaky.py` with connlint as its language server, reads the diagnostics back
//! through `vim.diagnostic.get()`, applies two quick fixes and writes what it saw to a file.
//!
//! Neovim must be installed (`apt-get install neovim`; `.ci/run` does it): without it this test
//! fails rather than skips, so that CI cannot pass without having run it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn neovim_shows_the_diagnostics_and_applies_quick_fixes() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim");
    let dir = common::project(&[]);
    let file = dir.join("leaky.py");
    std::fs::copy(scripts.join("leaky.py"), &file).expect("copy the fixture");
    let out = dir.join("seen.txt");
    let log = dir.join("nvim.log");
    let mut nvim = match Command::new("nvim")
        .args(["--headless", "--clean", "-u"])
        .arg(scripts.join("init.lua"))
        .env("CONNLINT_BIN", env!("CARGO_BIN_EXE_connlint"))
        .env("CONNLINT_FILE", &file)
        .env("CONNLINT_OUT", &out)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => panic!("cannot run `nvim` ({err}): install Neovim (`apt-get install neovim`) to run this test"),
    };
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = nvim.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            nvim.kill().ok();
            panic!("Neovim did not finish within {TIMEOUT:?}; its output: {}", read(&log));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seen = read(&out);
    assert!(status.success(), "Neovim failed ({status}): {seen}\n{}", read(&log));
    let expected = "\
diagnostic: CL001 9:38 the suppression of CL102 (never-closed) suppresses nothing here
diagnostic: CL101 5:10 `with` on this connection only commits or rolls back; the connection is never closed
applied: Fix CL001: Remove the unused suppression
applied: Ignore CL101 on this line
text: import sqlite3
text: 
text: 
text: def count(path):
text:     with sqlite3.connect(path) as conn:  # connlint: ignore[CL101]
text:         return conn.execute(\"select 1\").fetchone()
text: 
text: 
text: def total(path):
text:     return 0
";
    assert_eq!(seen, expected);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| format!("({}: {err})", path.display()))
}
