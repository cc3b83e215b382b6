//! The command line as a user meets it: exit codes, formats, errors that name the path.

mod common;

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
    assert!(first.starts_with("leaky.py:4:10: CL101 "), "{first}");
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
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
    std::fs::write(dir.join("latin1.py"), b"x = '\xe9t\xe9'\nimport sqlite3\n").expect("write");
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

#[test]
fn a_file_in_a_declared_encoding_gets_a_notice_not_a_finding() {
    let dir = project(&[]);
    std::fs::write(dir.join("koi8.py"), b"# -*- coding: koi8-r -*-\nx = '\xd4\xc5\xd3\xd4'\nimport sqlite3\n")
        .expect("write");
    let output = connlint(&["check", "--output-format", "concise"], &dir);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stderr(&output).contains("koi8.py: not checked: encoded as koi8-r"), "{}", stderr(&output));
}
