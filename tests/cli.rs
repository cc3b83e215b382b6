//! The command line as a user meets it: exit codes, formats, errors that name the path.

mod common;

use std::path::Path;

use common::{CLEAN, LEAKY, connlint, project, stderr, stdout};

#[test]
fn exit_codes() {
    let dir = project(&[("clean.py", CLEAN), ("leaky/app.py", LEAKY)]);
    let clean = connlint(&["check", "clean.py"], &dir);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(stdout(&clean).contains("All checks passed!"));

    let leaky = connlint(&["check"], &dir);
    assert_eq!(leaky.status.code(), Some(1));
    assert!(stdout(&leaky).contains("error[CL101]"), "{}", stdout(&leaky));
    assert!(stdout(&leaky).contains("leaky/app.py:4:10"), "{}", stdout(&leaky));
    assert!(stdout(&leaky).contains("Found 1 problem."));

    let usage = connlint(&["check", "--output-format", "xml"], &dir);
    assert_eq!(usage.status.code(), Some(2));

    let no_command = connlint(&[], &dir);
    assert_eq!(no_command.status.code(), Some(2));
}

#[test]
fn a_missing_path_is_an_error_that_names_it_and_the_run_goes_on() {
    let dir = project(&[("leaky.py", LEAKY)]);
    let output = connlint(&["check", "does-not-exist", "leaky.py"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("does-not-exist: no such file or directory"), "{}", stderr(&output));
    assert!(stdout(&output).contains("error[CL101]"), "the other file is still checked");
}

#[test]
fn concise_format_is_one_line_per_diagnostic() {
    let dir = project(&[("leaky.py", LEAKY)]);
    let output = connlint(&["check", "--output-format", "concise", "leaky.py"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let first = text.lines().next().expect("a line");
    assert!(first.starts_with("leaky.py:4:10: CL101 [*] "), "a safe fix is marked: {first}");
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
}

/// Only a safe fix is marked: an unsafe one needs `--unsafe-fixes`, a finding without a fix
/// nothing.
#[test]
fn concise_format_marks_only_safe_fixes() {
    let unsafe_fix =
        "import sqlite3\n\ndef f(p):\n    conn = sqlite3.connect(p)\n    return conn.execute('x').fetchone()\n";
    let dir = project(&[("unsafe.py", unsafe_fix)]);
    let output = connlint(&["check", "--output-format", "concise", "unsafe.py"], &dir);
    let text = stdout(&output);
    let first = text.lines().next().expect("a line");
    assert!(first.starts_with("unsafe.py:4:12: CL102 "), "{first}");
    assert!(!first.contains("[*]"), "{first}");
}

#[test]
fn a_file_that_does_not_parse_gets_cl000_and_the_run_goes_on() {
    let broken = "import sqlite3\n\ndef broken(:\n    return sqlite3.connect(\x27x\x27)\n";
    let dir = project(&[("broken.py", broken), ("leaky.py", LEAKY)]);
    let output = connlint(&["check", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("broken.py:3:") && text.contains("CL000"), "{text}");
    assert!(text.contains("leaky.py:4:10: CL101"), "{text}");
}

#[test]
fn gitignored_files_virtualenvs_and_build_output_are_skipped() {
    let dir = project(&[
        (".gitignore", "generated/\n"),
        ("generated/leaky.py", LEAKY),
        (".venv/lib/leaky.py", LEAKY),
        ("env2/pyvenv.cfg", "home = /usr\n"),
        ("env2/lib/leaky.py", LEAKY),
        ("target/leaky.py", LEAKY),
        ("src/clean.py", CLEAN),
    ]);
    let output = connlint(&["check"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // A file named explicitly is checked even when ignored.
    let explicit = connlint(&["check", "generated/leaky.py"], &dir);
    assert_eq!(explicit.status.code(), Some(1));
}

#[test]
fn non_utf8_files_get_a_diagnostic_and_the_run_goes_on() {
    let dir = project(&[("leaky.py", LEAKY)]);
    std::fs::write(dir.join("latin1.py"), b"x = '\xe9t\xe9'\nimport sqlite3\nsqlite3.connect(x)\n").expect("write");
    let output = connlint(&["check", "--output-format", "concise"], &dir);
    let text = stdout(&output);
    assert!(
        text.contains("\nlatin1.py:1:6: CL000 this file is not valid UTF-8")
            || text.starts_with("latin1.py:1:6: CL000"),
        "{text}"
    );
    assert!(text.contains("leaky.py:4:10: CL101"), "{text}");
}

#[test]
fn rule_and_rules_print_the_docs() {
    let dir = project(&[]);
    let rule = connlint(&["rule", "CL101"], &dir);
    assert_eq!(rule.status.code(), Some(0));
    assert!(stdout(&rule).contains("## Why is this bad"));
    let unknown = connlint(&["rule", "CL999"], &dir);
    assert_eq!(unknown.status.code(), Some(2));
    let rules = connlint(&["rules"], &dir);
    assert!(stdout(&rules).contains("CL101  with-does-not-close"), "{}", stdout(&rules));
}

#[test]
fn rust_files_are_checked_and_a_rust_syntax_error_is_cl000() {
    let leaky = "async fn f(pool: &sqlx::PgPool) {\n    let tx = pool.begin().await.unwrap();\n    tx.commit();\n}\n";
    let dir = project(&[("src/lib.rs", leaky), ("src/broken.rs", "use sqlx;\nfn broken( {\n")]);
    let output = connlint(&["check", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("src/lib.rs:3:5: CL204"), "{text}");
    assert!(text.contains("src/broken.rs:") && text.contains("CL000"), "{text}");
}

const UNSAFE_ONLY: &str =
    "import sqlite3\r\n\r\ndef f(p):\r\n    conn = sqlite3.connect(p)\r\n    return conn.execute('x').fetchall()\r\n";

#[test]
fn fix_writes_safe_fixes_and_says_what_remains() {
    let dir = project(&[("leaky.py", LEAKY), ("risky.py", UNSAFE_ONLY)]);
    let check = connlint(&["check"], &dir);
    assert!(stdout(&check).contains("help: Wrap it in `closing(...)`"), "{}", stdout(&check));
    assert!(stdout(&check).contains("[*] 1 fixable with `--fix` (1 more with `--unsafe-fixes`"), "{}", stdout(&check));

    let fixed = connlint(&["check", "--fix"], &dir);
    assert_eq!(fixed.status.code(), Some(1), "one problem remains: {}", stdout(&fixed));
    assert!(stdout(&fixed).contains("Found 2 problems (1 fixed, 1 remaining)."), "{}", stdout(&fixed));
    assert!(stdout(&fixed).contains("risky.py:4:12"), "the remaining one is shown: {}", stdout(&fixed));
    let leaky = std::fs::read_to_string(dir.join("leaky.py")).expect("read");
    assert!(leaky.contains("from contextlib import closing\n"), "{leaky}");
    assert!(leaky.contains("with closing(sqlite3.connect(p)) as conn, conn:"), "{leaky}");
    assert_eq!(std::fs::read_to_string(dir.join("risky.py")).expect("read"), UNSAFE_ONLY, "unsafe fixes wait");

    let all = connlint(&["check", "--fix", "--unsafe-fixes"], &dir);
    assert_eq!(all.status.code(), Some(0), "{}", stdout(&all));
    assert!(stdout(&all).contains("Found 1 problem (1 fixed, 0 remaining)."), "{}", stdout(&all));
    let risky = std::fs::read_to_string(dir.join("risky.py")).expect("read");
    assert!(risky.contains("    with closing(sqlite3.connect(p)) as conn:\r\n        return"), "CRLF kept: {risky:?}");
    assert!(!risky.replace("\r\n", "").contains('\n'), "no bare line feed: {risky:?}");

    let again = connlint(&["check", "--fix", "--unsafe-fixes"], &dir);
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).contains("All checks passed!"), "{}", stdout(&again));
}

#[test]
fn diff_prints_the_fixes_and_writes_nothing() {
    let dir = project(&[("leaky.py", LEAKY), ("clean.py", CLEAN)]);
    let output = connlint(&["check", "--diff"], &dir);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let diff = stdout(&output);
    assert!(diff.starts_with("--- leaky.py\n+++ leaky.py\n@@ -1,5 +1,6 @@\n"), "{diff}");
    assert!(
        diff.contains("-    with sqlite3.connect(p) as conn:\n+    with closing(sqlite3.connect(p)) as conn, conn:\n")
    );
    assert!(!diff.contains("clean.py"), "{diff}");
    assert!(stderr(&output).contains("would fix 1 problem"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(dir.join("leaky.py")).expect("read"), LEAKY);

    let nothing = connlint(&["check", "--diff", "clean.py"], &dir);
    assert_eq!(nothing.status.code(), Some(0));
    assert_eq!(stdout(&nothing), "");
}

#[cfg(unix)]
#[test]
fn fix_keeps_permissions_and_a_byte_order_mark() {
    use std::os::unix::fs::PermissionsExt;
    let with_bom = format!("\u{feff}{LEAKY}");
    let dir = project(&[("bom.py", &with_bom)]);
    let path = dir.join("bom.py");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o754)).expect("chmod");
    let output = connlint(&["check", "--fix"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with("\u{feff}import sqlite3\nfrom contextlib import closing\n"), "{text:?}");
    assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o754);
}

/// A read-only file is not fixed (an error names it, it keeps its text) and the run goes on:
/// the writable file beside it is fixed.
#[test]
fn fix_leaves_a_read_only_file_alone_and_fixes_the_others() {
    let dir = project(&[("locked.py", LEAKY), ("open.py", LEAKY)]);
    let locked = dir.join("locked.py");
    let mut permissions = std::fs::metadata(&locked).expect("meta").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&locked, permissions).expect("chmod");
    let output = connlint(&["check", "--fix", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stderr(&output).contains("locked.py: the file is read-only; it was not fixed"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&locked).expect("read"), LEAKY);
    assert!(stdout(&output).contains("locked.py:"), "the unfixed finding is still reported: {}", stdout(&output));
    let fixed = std::fs::read_to_string(dir.join("open.py")).expect("read");
    assert!(fixed.contains("closing("), "{fixed}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A real full disk: a 64 KiB tmpfs, filled up, with the leaky file on it. Mounting needs root
/// (CI containers run as root); elsewhere the test says SKIPPED and why. The unit tests of
/// `src/write.rs` inject the same failure on any machine.
#[cfg(target_os = "linux")]
#[test]
fn fix_on_a_full_disk_leaves_the_file_as_it_was_and_no_partial_file() {
    use std::io::Write;
    use std::process::Command;
    struct Mounted(std::path::PathBuf);
    impl Drop for Mounted {
        fn drop(&mut self) {
            Command::new("umount").arg(&self.0).status().ok();
        }
    }
    let dir = project(&[]);
    let mount =
        |point: &Path| Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"]).arg(point).output();
    let mounted = match mount(&dir) {
        Ok(output) if output.status.success() => Mounted(dir.clone()),
        Ok(output) => return eprintln!("SKIPPED: cannot mount a tmpfs: {}", stderr(&output).trim()),
        Err(err) => return eprintln!("SKIPPED: cannot run mount: {err}"),
    };
    std::fs::write(dir.join("leaky.py"), LEAKY).expect("write");
    let mut filler = std::fs::File::create(dir.join("filler")).expect("create");
    let full = (0..1024).find_map(|_| filler.write_all(&[b'x'; 4096]).err()).expect("the tmpfs fills up");
    assert_eq!(full.raw_os_error(), Some(28), "ENOSPC: {full}");
    drop(filler);
    let output = connlint(&["check", "--fix", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("leaky.py: cannot write the fixed file: no space left on device"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(dir.join("leaky.py")).expect("read"), LEAKY);
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    names.sort();
    assert_eq!(names, ["filler", "leaky.py"], "a temporary file was left");
    drop(mounted);
}

#[test]
fn a_file_in_a_declared_encoding_gets_a_notice_not_a_finding() {
    let dir = project(&[]);
    std::fs::write(
        dir.join("koi8.py"),
        b"# -*- coding: koi8-r -*-\nx = '\xd4\xc5\xd3\xd4'\nimport sqlite3\nsqlite3.connect(x)\n",
    )
    .expect("write");
    let output = connlint(&["check", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stderr(&output).contains("koi8.py: not checked: encoded as koi8-r"), "{}", stderr(&output));
}

#[test]
fn fix_leaves_suppressed_and_baselined_findings_and_removes_unused_suppressions() {
    let old = "import sqlite3\n\n\ndef old(p):\n    with sqlite3.connect(p) as conn:\n        return conn.execute('x').fetchone()\n";
    let kept = "import sqlite3\n\n\ndef kept(p):\n    with sqlite3.connect(p) as conn:  # connlint: ignore[CL101]\n        return conn.execute('x').fetchone()\n\n\ndef stale(p):\n    return p  # connlint: ignore[CL102]\n";
    let dir = project(&[("old.py", old), ("kept.py", kept), ("new.py", LEAKY)]);
    let write = connlint(&["check", "--write-baseline", "baseline.json", "old.py"], &dir);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));

    let diff = connlint(&["check", "--diff", "--baseline", "baseline.json"], &dir);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(!stdout(&diff).contains("old.py"), "the baseline's finding is not fixed: {}", stdout(&diff));
    assert!(stderr(&diff).contains("would fix 2 problems in 2 files; 0 would remain"), "{}", stderr(&diff));

    let fixed = connlint(&["check", "--fix", "--baseline", "baseline.json"], &dir);
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
    assert!(stdout(&fixed).contains("Found 2 problems (2 fixed, 0 remaining)."), "{}", stdout(&fixed));
    assert!(stderr(&fixed).contains("Fixed: 1 CL001, 1 CL101"), "{}", stderr(&fixed));
    assert_eq!(std::fs::read_to_string(dir.join("old.py")).expect("read"), old, "recorded in the baseline");
    let kept_now = std::fs::read_to_string(dir.join("kept.py")).expect("read");
    assert!(
        kept_now.contains("    with sqlite3.connect(p) as conn:  # connlint: ignore[CL101]\n"),
        "suppressed, so not fixed: {kept_now}"
    );
    assert!(kept_now.ends_with("    return p\n"), "the unused suppression is removed: {kept_now}");
    let new_now = std::fs::read_to_string(dir.join("new.py")).expect("read");
    assert!(new_now.contains("with closing(sqlite3.connect(p)) as conn, conn:"), "{new_now}");

    // Without the baseline the recorded finding is fixed too; a JSON run reports what remains.
    let json = connlint(&["check", "--fix", "--output-format", "json"], &dir);
    assert_eq!(json.status.code(), Some(0), "{}", stdout(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one JSON document");
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
    assert!(std::fs::read_to_string(dir.join("old.py")).expect("read").contains("with closing("));
}

#[test]
fn the_readme_example_finds_its_three_leaks() {
    // The README's first set-up command: `cargo run --release -- check examples`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = connlint(&["check", "examples"], root);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("Found 3 problems."), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("examples/leaky_app/store.py:21:10"),
        "the README shows this one: {}",
        stdout(&output)
    );
}
