//! Bad inputs, as real trees and editors produce them: every one gets a clear message or a
//! diagnostic, nothing panics or aborts, and the other files of the run are still checked.
//! Exit status: 0 clean, 1 findings, 2 error. `docs/reliability.md` lists which test covers
//! which input class.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn connlint(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connlint")).args(args).current_dir(cwd).output().expect("connlint runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh folder (readable by everyone: one test runs connlint as another user) with the
/// given files; removed when the test is done, whatever modes the test gave its files.
fn project(files: &[(&str, &[u8])]) -> Project {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "connlint-inputs-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    Project(dir)
}

/// A test folder, removed on drop (the 50 MB one too).
struct Project(PathBuf);

impl std::ops::Deref for Project {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Project {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        /// Gives back the modes a test took away (never following a link), so that it can go.
        fn open_up(path: &Path) {
            use std::os::unix::fs::PermissionsExt;
            let Ok(metadata) = std::fs::symlink_metadata(path) else { return };
            if metadata.is_dir() {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).ok();
                for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                    open_up(&entry.path());
                }
            }
        }
        open_up(&self.0);
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A Python file with one CL101 on line 4, column 10: the witness that the run went on.
const LEAKY: &[u8] = b"import sqlite3\n\ndef f(p):\n    with sqlite3.connect(p) as conn:\n        conn.execute('x')\n";
const LEAKY_AT: &str = "leaky.py:4:10: CL101";

/// Runs `connlint check --output-format concise` on `args` in `dir` and checks what every
/// bad-input run must satisfy: no panic, no abort, the witness file still reported.
fn check_concise(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["check", "--output-format", "concise"];
    all.extend_from_slice(args);
    let output = connlint(&all, dir);
    let err = stderr(&output);
    assert!(output.status.code().is_some(), "connlint was killed by a signal: {:?}\n{err}", output.status);
    assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
    assert!(stdout(&output).contains(LEAKY_AT), "the other file is still checked:\n{}", stdout(&output));
    output
}

#[test]
fn non_utf8_files_get_cl000_where_the_bad_byte_is() {
    let dir = project(&[
        ("leaky.py", LEAKY),
        ("latin1.py", b"import sqlite3\ns = 'caf\xe9'\nsqlite3.connect(s)\n"),
        ("latin1.rs", b"use sqlx;\n// caf\xe9\nfn f() {}\n"),
    ]);
    let output = check_concise(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("latin1.py:2:9: CL000 this file is not valid UTF-8"), "{text}");
    assert!(text.contains("latin1.rs:2:7: CL000 this file is not valid UTF-8"), "{text}");
}

#[test]
fn nul_bytes_are_a_syntax_error_shown_escaped() {
    let dir = project(&[
        ("leaky.py", LEAKY),
        // In a statement connlint reads (one that names sqlite3): errors elsewhere in a Python
        // file are not reported, as nothing there can leak (rules/CL000.md).
        ("nul.py", b"import sqlite3\nx = sqlite3.connect('a\0b')\n"),
        ("nul.rs", b"use sqlx;\nfn f() {}\n\0\n"),
    ]);
    let output = check_concise(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("nul.py:2:21: CL000 syntax error near `'a\\0b'`"), "{text}");
    assert!(text.contains("nul.rs:3:1: CL000 syntax error"), "{text}");
    assert!(!text.contains('\0'), "a NUL byte is never printed");
}

#[test]
fn a_file_above_the_size_limit_is_skipped_with_a_notice() {
    // 50 MB of generated code that would be a finding if it were read.
    let line = b"import sqlite3\nc = sqlite3.connect('x')\n";
    let generated = line.repeat(50 * 1024 * 1024 / line.len());
    let dir = project(&[("leaky.py", LEAKY), ("generated.py", &generated)]);
    let output = check_concise(&dir, &[]);
    assert_eq!(output.status.code(), Some(1), "a notice is not an error");
    let limit = connlint::run::MAX_FILE_BYTES / (1024 * 1024);
    let expected = format!("connlint: notice: generated.py: skipped, larger than {limit} MiB (probably generated)");
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
    assert!(!stdout(&output).contains("generated.py"), "{}", stdout(&output));
}

/// `depth` levels of Python blocks. Indentation is by tabs (8 columns) and spaces so that the
/// file stays a few megabytes.
fn python_blocks(depth: usize) -> String {
    let indent = |level: usize| "\t".repeat(level / 8) + &" ".repeat(level % 8);
    let mut text = String::from("import sqlite3\n");
    for level in 0..depth {
        text.push_str(&indent(level));
        text.push_str("if x:\n");
    }
    text.push_str(&indent(depth));
    text.push_str("c = sqlite3.connect(p)\n");
    text
}

#[test]
fn ten_thousand_deep_nesting_is_refused_with_cl000_not_a_crash() {
    let n = 10_000;
    let dir = project(&[
        ("leaky.py", LEAKY),
        ("parens.py", format!("import sqlite3\nx = {}sqlite3.connect(p){}\n", "(".repeat(n), ")".repeat(n)).as_bytes()),
        ("blocks.py", python_blocks(n).as_bytes()),
        ("calls.py", format!("import sqlite3\nx = sqlite3.connect(p){}\n", ".cursor()".repeat(n)).as_bytes()),
        ("parens.rs", format!("use sqlx;\nfn f() {{ let x = {}1{}; }}\n", "(".repeat(n), ")".repeat(n)).as_bytes()),
        ("blocks.rs", format!("use sqlx;\nfn f() {}{}\n", "{".repeat(n), "}".repeat(n)).as_bytes()),
        ("types.rs", format!("use sqlx;\ntype T = {}u8;\n", "&".repeat(n)).as_bytes()),
    ]);
    let output = check_concise(&dir, &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    // tree-sitter-python's indentation stack holds 511 levels; deeper blocks make the whole
    // file a syntax error (CPython itself stops at 100 levels).
    assert!(text.contains("blocks.py:1:1: CL000 syntax error"), "{text}");
    for file in ["parens.py", "calls.py"] {
        let expected = format!("{file}:2:");
        let line = text.lines().find(|l| l.starts_with(&expected)).unwrap_or_default();
        assert!(line.contains("CL000 nesting too deep: connlint reads Python nested up to 3000 levels"), "{text}");
    }
    for file in ["parens.rs", "blocks.rs", "types.rs"] {
        let expected = format!("{file}:2:");
        let line = text.lines().find(|l| l.starts_with(&expected)).unwrap_or_default();
        assert!(line.contains("CL000 nesting too deep: connlint reads Rust nested up to 3000 levels"), "{text}");
    }
}

#[test]
fn long_chains_are_refused_with_cl000_not_a_crash() {
    // Postfix and prefix chains nest the tree without nesting brackets (300,000 links overflowed
    // a debug build's 256 MiB stack before the bounds).
    let n = 300_000;
    let dir = project(&[
        ("leaky.py", LEAKY),
        ("chain.py", format!("import sqlite3\nx = sqlite3.connect(p){}\n", ".b()".repeat(n)).as_bytes()),
        ("chain.rs", format!("use sqlx;\nfn f() {{ let x = {}1; }}\n", "- ".repeat(n)).as_bytes()),
    ]);
    let output = check_concise(&dir, &[]);
    let text = stdout(&output);
    assert!(text.contains("chain.py:2:") && text.contains("CL000 nesting too deep"), "{text}");
    assert!(text.contains("chain.rs:2:") && text.contains("CL000 nesting too deep"), "{text}");
}

#[test]
fn nesting_below_the_bounds_is_checked() {
    // Deep, but within what connlint reads: checked, and the leaks inside are found.
    let python = format!(
        "import sqlite3\n\ndef f(p):\n    x = {}1{}\n    with sqlite3.connect(p) as conn:\n        pass\n",
        "(".repeat(150),
        ")".repeat(150)
    );
    let rust = format!(
        "async fn f(pool: &sqlx::PgPool) {{\n    let x = {}1{};\n    let tx = pool.begin().await.unwrap();\n    tx.commit();\n}}\n",
        "(".repeat(2500),
        ")".repeat(2500)
    );
    let dir = project(&[("leaky.py", LEAKY), ("deep.py", python.as_bytes()), ("deep.rs", rust.as_bytes())]);
    let text = stdout(&check_concise(&dir, &[]));
    assert!(text.contains("deep.py:5:10: CL101"), "{text}");
    assert!(text.contains("deep.rs:4:5: CL204"), "{text}");
    assert!(!text.contains("CL000"), "{text}");
}

#[test]
fn a_function_too_deep_to_lower_is_reported_and_the_others_are_checked() {
    let source = format!(
        "import sqlite3\n\ndef deep(p):\n    c = sqlite3.connect(p)\n    x = {}1{}\n\ndef shallow(p):\n    with sqlite3.connect(p) as conn:\n        pass\n",
        "(".repeat(300),
        ")".repeat(300)
    );
    let dir = project(&[("leaky.py", LEAKY), ("deep.py", source.as_bytes())]);
    let text = stdout(&check_concise(&dir, &[]));
    assert!(
        text.contains("deep.py:3:5: CL000 nesting too deep: this function nests more than 200 blocks or expressions"),
        "{text}"
    );
    assert!(text.contains("deep.py:8:10: CL101"), "{text}");
}

#[test]
fn very_long_lines_are_checked_and_not_printed_whole() {
    let n = 50_000;
    let before = format!("import sqlite3\nx = [{}]\n", "1, ".repeat(n));
    let before = before + "\ndef f(p):\n    with sqlite3.connect(p) as conn:\n        pass\n";
    let on = format!("import sqlite3\n\ndef f(p):\n    x = [{}]; c = sqlite3.connect(p)\n", "1, ".repeat(n));
    let rust = format!(
        "use sqlx;\nconst X: [u8; {n}] = [{}];\nfn f() {{ std::mem::forget(sqlx::PgPool::connect_lazy(\"\")); }}\n",
        "1, ".repeat(n)
    );
    let dir = project(&[
        ("leaky.py", LEAKY),
        ("before.py", before.as_bytes()),
        ("on.py", on.as_bytes()),
        ("long.rs", rust.as_bytes()),
    ]);
    let text = stdout(&check_concise(&dir, &[]));
    assert!(text.contains("before.py:5:10: CL101"), "{text}");
    assert!(text.contains("on.py:4:150017: CL102"), "{text}");
    assert!(text.contains("long.rs:3:10: CL201"), "{text}");
    // The full format shows the place, not 150 kB of the line.
    let full = connlint(&["check", "on.py"], &dir);
    assert_eq!(full.status.code(), Some(1));
    let full = stdout(&full);
    assert!(full.len() < 2000, "{} bytes of output", full.len());
    assert!(full.contains("at on.py:4:150017 (not shown") && full.contains("error[CL102]"), "{full}");
}

#[test]
fn symlink_loops_are_not_followed_and_a_named_one_is_an_error() {
    let dir = project(&[("leaky.py", LEAKY)]);
    std::os::unix::fs::symlink(".", dir.join("loop")).expect("symlink");
    std::os::unix::fs::symlink("b.py", dir.join("a.py")).expect("symlink");
    std::os::unix::fs::symlink("a.py", dir.join("b.py")).expect("symlink");
    let walked = check_concise(&dir, &["."]);
    assert_eq!(walked.status.code(), Some(1), "{}", stderr(&walked));
    assert_eq!(stdout(&walked).matches(LEAKY_AT).count(), 1, "the loop is not walked: {}", stdout(&walked));
    let named = check_concise(&dir, &["a.py", "leaky.py"]);
    assert_eq!(named.status.code(), Some(2));
    assert!(stderr(&named).contains("connlint: error: a.py: Too many levels of symbolic links"), "{}", stderr(&named));
}

/// Whether this process runs as root (then permissions do not stop it from reading).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = project(&[("probe", b"")]);
    std::fs::metadata(probe.join("probe")).is_ok_and(|m| m.uid() == 0)
}

#[test]
fn unreadable_files_and_folders_are_errors_that_name_them() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = project(&[("leaky.py", LEAKY), ("secret.py", LEAKY), ("closed/inner.py", LEAKY)]);
    std::fs::set_permissions(dir.join("secret.py"), std::fs::Permissions::from_mode(0o000)).expect("chmod");
    std::fs::set_permissions(dir.join("closed"), std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let mut command = Command::new(env!("CARGO_BIN_EXE_connlint"));
    command.args(["check", "--output-format", "concise"]).current_dir(&dir);
    let as_root = running_as_root();
    if as_root {
        // Root reads whatever the mode says: run connlint as `nobody`, for whom the modes hold.
        eprintln!("running as root, which reads whatever the mode says: connlint runs as nobody (uid 65534)");
        command.uid(65534).gid(65534);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(err) if as_root => {
            // A container without CAP_SETUID: root cannot be denied a read, so nothing to test.
            eprintln!("SKIPPED: running as root and cannot run connlint as nobody ({err})");
            return;
        }
        Err(err) => panic!("connlint runs: {err}"),
    };
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("connlint: error: secret.py: permission denied"), "{err}");
    assert!(err.contains("closed: permission denied"), "{err}");
    assert!(!out.contains("inner.py"), "{out}");
    assert!(out.contains(LEAKY_AT), "{out}");
}

#[test]
fn special_files_are_never_read() {
    // A FIFO would block a read forever. Walked, it is not a file; named, it is an error.
    let dir = project(&[("leaky.py", LEAKY)]);
    let status = Command::new("mkfifo").arg(dir.join("pipe.py")).status().expect("mkfifo runs");
    assert!(status.success());
    let walked = check_concise(&dir, &[]);
    assert_eq!(walked.status.code(), Some(1), "{}", stderr(&walked));
    let named = check_concise(&dir, &["pipe.py", "leaky.py"]);
    assert_eq!(named.status.code(), Some(2));
    assert!(stderr(&named).contains("connlint: error: pipe.py: not a regular file"), "{}", stderr(&named));
}

/// Files that the walk lists and that are deleted, or replaced by a FIFO, before they are read:
/// what a run meets when files change under it. The walk and the read are driven through the
/// library, with the change made between them, so that the timing is exact.
#[test]
fn files_deleted_or_changed_during_the_run_are_errors() {
    use connlint::SourceKind;
    let dir = project(&[("leaky.py", LEAKY), ("became_a_pipe.py", b"x = 1\n"), ("deleted.py", LEAKY)]);
    let exclude: connlint::walk::Exclude = std::sync::Arc::new(|_, _| false);
    let (files, errors) = connlint::walk::collect(&[dir.to_path_buf()], exclude);
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<_> = files.iter().map(|f| f.path.file_name().expect("name").to_owned()).collect();
    assert_eq!(names, ["became_a_pipe.py", "deleted.py", "leaky.py"]);
    assert!(files.iter().all(|f| f.kind == SourceKind::Python));
    // The walk is done; now the tree changes.
    std::fs::remove_file(dir.join("deleted.py")).expect("rm");
    std::fs::remove_file(dir.join("became_a_pipe.py")).expect("rm");
    let status = Command::new("mkfifo").arg(dir.join("became_a_pipe.py")).status().expect("mkfifo runs");
    assert!(status.success());
    // On a thread with a deadline: reading the FIFO would block forever.
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let knowledge = connlint::python::knowledge::Knowledge::builtin();
        send.send(connlint::run::check_files(&files, knowledge, connlint::run::ParseMode::default())).ok();
    });
    let results = receive.recv_timeout(std::time::Duration::from_secs(60)).expect("the run finishes");
    assert_eq!(results[0].error.as_deref(), Some("not a regular file"));
    assert_eq!(results[1].error.as_deref(), Some("no such file or directory"));
    assert_eq!(results[2].error, None);
    assert_eq!(results[2].diagnostics.len(), 1);
}

#[test]
fn a_path_that_does_not_exist_is_an_error_and_the_others_are_checked() {
    let dir = project(&[("leaky.py", LEAKY)]);
    let output = check_concise(&dir, &["missing.py", "no/such/folder", "leaky.py"]);
    assert_eq!(output.status.code(), Some(2), "an error wins over findings");
    let err = stderr(&output);
    assert!(err.contains("connlint: error: missing.py: no such file or directory"), "{err}");
    assert!(err.contains("connlint: error: no/such/folder: no such file or directory"), "{err}");
}

#[test]
fn empty_and_comment_only_files_are_clean() {
    let dir = project(&[
        ("empty.py", b""),
        ("empty.rs", b""),
        ("comments.py", b"# sqlite3.connect(p) in a comment\n# nothing else\n"),
        ("comments.rs", b"// sqlx::PgPool in a comment\n/* std::mem::forget(conn) */\n//! inner doc\n"),
    ]);
    let output = connlint(&["check"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output), "All checks passed!\n");
    // The same texts through the library: nothing to report, no panic.
    for (kind, source) in [
        (connlint::SourceKind::Python, ""),
        (connlint::SourceKind::Rust, ""),
        (connlint::SourceKind::Python, "# sqlite3.connect(p)\n"),
        (connlint::SourceKind::Rust, "// sqlx::PgPool\n"),
    ] {
        let module = connlint::ModuleInfo { name: "m", package: None };
        assert!(connlint::check_source(kind, "x", source, module).is_empty(), "{source:?}");
    }
}

#[test]
fn python_2_code_is_read_and_checked() {
    // tree-sitter-python reads Python 2 (`print` and `exec` statements, backticks, `<>`,
    // `except E, e`, `raise E, "m"`): its leaks are found like any other.
    let py2 = b"import sqlite3\nprint \"hello\"\n\ndef f(p):\n    exec \"x = 1\"\n    with sqlite3.connect(p) as c:\n        print >>sys.stderr, `c`\n\ndef g(p):\n    conn = sqlite3.connect(p)\n    try:\n        conn.execute(\"select 0777, 10L where 1 <> 2\")\n    except Exception, e:\n        raise ValueError, \"bad\"\n";
    let dir = project(&[("leaky.py", LEAKY), ("py2.py", py2)]);
    let output = check_concise(&dir, &[]);
    let text = stdout(&output);
    assert!(text.contains("py2.py:6:10: CL101"), "{text}");
    assert!(text.contains("py2.py:10:12: CL102"), "{text}");
    assert!(!text.contains("CL000"), "{text}");
}

#[test]
fn unstable_rust_and_macros_parse_or_get_cl000() {
    // syn reads some unstable syntax (`try` blocks, `macro` items, any macro's tokens) and not
    // the rest (`do yeet`): what it cannot read is CL000 at the place, the rest is checked.
    let unstable = b"#![feature(try_blocks, yeet_expr)]\nuse sqlx;\n\nfn f() -> Option<u8> {\n    let x: Option<u8> = try { 1 };\n    do yeet;\n    x\n}\n";
    let macros = b"use sqlx::PgPool;\n\nmacro_rules! leak {\n    ($p:expr) => { std::mem::forget($p) };\n}\n\nmacro m($x:expr) { $x }\n\nasync fn f(pool: &PgPool) {\n    leak!(pool.acquire().await.unwrap());\n    sqlx::query!(\"select 1\" ,,, =>).fetch_one(pool);\n    std::mem::forget(pool.acquire().await.unwrap());\n}\n";
    let dir = project(&[("leaky.py", LEAKY), ("unstable.rs", unstable), ("macros.rs", macros)]);
    let output = check_concise(&dir, &[]);
    let text = stdout(&output);
    assert!(text.contains("unstable.rs:6:5: CL000 syntax error"), "{text}");
    assert!(text.contains("macros.rs:12:5: CL201"), "{text}");
    assert!(!text.contains("macros.rs:") || !text.contains("macros.rs:7:"), "{text}");
}
