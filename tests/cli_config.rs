//! Configuration, suppressions and the baseline, as a user meets them on the command line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{LEAKY, connlint, project, stderr, stdout};

/// `path:line:col: CODE` of every finding, from the concise format.
fn findings(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter(|l| l.contains(": CL"))
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn check(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--output-format", "concise"];
    args.extend_from_slice(extra);
    connlint(&args, dir)
}

const NEVER_CLOSED: &str =
    "import sqlite3\n\ndef g(p):\n    conn = sqlite3.connect(p)\n    return conn.execute('x').fetchone()\n";

#[test]
fn select_ignore_and_extend_select_from_the_command_line() {
    let dir = project(&[("a.py", LEAKY), ("b.py", NEVER_CLOSED)]);
    assert_eq!(findings(&check(&dir, &[])), ["a.py:4:10: CL101", "b.py:4:12: CL102"]);
    assert_eq!(findings(&check(&dir, &["--select", "CL102"])), ["b.py:4:12: CL102"]);
    assert_eq!(findings(&check(&dir, &["--ignore", "with-does-not-close"])), ["b.py:4:12: CL102"]);
    assert_eq!(findings(&check(&dir, &["--select", "CL2", "--extend-select", "CL101"])), ["a.py:4:10: CL101"]);
    let clean = check(&dir, &["--select", "CL2"]);
    assert_eq!(clean.status.code(), Some(0));
    let bad = check(&dir, &["--select", "CL9"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--select: `CL9` matches no rule"), "{}", stderr(&bad));
}

#[test]
fn configuration_is_found_upward_in_each_supported_file() {
    let cases: &[(&str, &str)] = &[
        ("connlint.toml", "ignore = [\"CL101\"]\n"),
        (".connlint.toml", "ignore = [\"CL101\"]\n"),
        ("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.connlint]\nignore = [\"CL101\"]\n"),
        ("Cargo.toml", "[package]\nname = \"x\"\n\n[package.metadata.connlint]\nignore = [\"CL101\"]\n"),
        ("Cargo.toml", "[workspace]\n\n[workspace.metadata.connlint]\nignore = [\"CL101\"]\n"),
    ];
    for (name, text) in cases {
        let dir = project(&[(name, text), ("src/app/a.py", LEAKY), ("src/app/b.py", NEVER_CLOSED)]);
        let output = check(&dir, &[]);
        assert_eq!(findings(&output), ["src/app/b.py:4:12: CL102"], "{name}: {}", stdout(&output));
        // The nearest configuration wins.
        std::fs::write(dir.join("src/connlint.toml"), "ignore = [\"CL102\"]\n").expect("write");
        assert_eq!(findings(&check(&dir, &[])), ["src/app/a.py:4:10: CL101"], "{name}");
    }
}

#[test]
fn a_pyproject_without_a_connlint_section_is_passed_over() {
    let dir = project(&[
        ("connlint.toml", "ignore = [\"CL101\"]\n"),
        ("sub/pyproject.toml", "[project]\nname = \"x\"\n"),
        ("sub/a.py", LEAKY),
    ]);
    assert_eq!(findings(&check(&dir, &[])), Vec::<String>::new());
}

#[test]
fn configuration_errors_name_the_file_the_key_and_the_line_and_exit_2() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "connlint.toml",
            "select = [\"CL101\"]\nignor = [\"CL102\"]\n",
            &["connlint.toml", "line 2", "unknown field `ignor`"],
        ),
        ("connlint.toml", "select = [\"CL101\", \"CL9\"]\n", &["line 1", "`CL9` matches no rule"]),
        ("connlint.toml", "[severity]\nCL101 = \"fatal\"\n", &["line 2", "unknown variant `fatal`"]),
        ("connlint.toml", "[per-file-ignores]\n\"a[\" = [\"CL101\"]\n", &["line 2", "bad glob `a[`"]),
        (
            "pyproject.toml",
            "[tool.connlint]\nforce-exclude = \"yes\"\n",
            &["pyproject.toml", "line 2", "force-exclude"],
        ),
        ("connlint.toml", "select = [\n", &["connlint.toml", "line"]),
    ];
    for (name, text, expected) in cases {
        let dir = project(&[(name, text), ("a.py", LEAKY)]);
        let output = check(&dir, &[]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        for needle in *expected {
            assert!(stderr(&output).contains(needle), "{text}: `{needle}` not in {}", stderr(&output));
        }
        assert!(stdout(&output).is_empty(), "no findings from a run with a broken configuration");
    }
}

#[test]
fn per_file_ignores_severity_and_excludes() {
    let config = "extend-exclude = [\"generated\"]\n\n[per-file-ignores]\n\"tests/**\" = [\"CL102\"]\n\n[severity]\nCL101 = \"info\"\n";
    let dir = project(&[
        ("connlint.toml", config),
        ("tests/test_a.py", NEVER_CLOSED),
        ("app/a.py", LEAKY),
        ("generated/b.py", NEVER_CLOSED),
        (".venv/lib/c.py", NEVER_CLOSED),
    ]);
    let output = check(&dir, &[]);
    assert_eq!(findings(&output), ["app/a.py:4:10: CL101"]);
    // Named on the command line, an excluded file is checked, unless --force-exclude (pre-commit).
    assert_eq!(findings(&check(&dir, &["generated/b.py"])), ["generated/b.py:4:12: CL102"]);
    let forced = check(&dir, &["--force-exclude", "generated/b.py"]);
    assert_eq!(findings(&forced), Vec::<String>::new());
    assert_eq!(forced.status.code(), Some(0));

    let settings = connlint(&["check", "--show-settings", "tests/test_a.py"], &dir);
    assert_eq!(settings.status.code(), Some(0));
    let text = stdout(&settings);
    assert!(text.contains("connlint.toml"), "{text}");
    assert!(text.contains("per-file-ignores: `tests/**` turns off CL102"), "{text}");
    assert!(text.contains("CL101 with-does-not-close") && text.contains("info"), "{text}");
    assert!(!text.contains("CL102 never-closed"), "{text}");

    // `exclude` replaces the default list: `.venv` is checked again.
    std::fs::write(dir.join("connlint.toml"), "exclude = [\"generated\", \"tests\"]\n").expect("write");
    let output = check(&dir, &[]);
    assert_eq!(findings(&output), [".venv/lib/c.py:4:12: CL102", "app/a.py:4:10: CL101"]);
}

#[test]
fn exclude_patterns_match_folders_deep_inside_a_tree_reached_through_a_link() {
    // The walk works out the canonical path of each folder from its parent's, without asking
    // the system: a path pattern must still match, also below a root named through a link.
    let dir = project(&[
        ("connlint.toml", "extend-exclude = [\"src/gen\", \"src/app/old/*.py\"]\n"),
        ("src/gen/deep/er/a.py", NEVER_CLOSED),
        ("src/app/old/b.py", NEVER_CLOSED),
        ("src/app/old/keep/c.py", NEVER_CLOSED),
        ("src/app/d.py", NEVER_CLOSED),
    ]);
    assert_eq!(findings(&check(&dir, &[])), ["src/app/d.py:4:12: CL102", "src/app/old/keep/c.py:4:12: CL102"]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("src"), dir.join("alias")).expect("symlink");
        assert_eq!(
            findings(&check(&dir, &["alias"])),
            ["alias/app/d.py:4:12: CL102", "alias/app/old/keep/c.py:4:12: CL102"]
        );
    }
}

#[test]
fn a_configuration_deep_in_the_tree_decides_what_is_excluded_below_it() {
    // The walk looks for configuration files in each folder it enters (before it takes the
    // lock that the settings are cached under): one found deep down must still govern the
    // folders below it, and only those.
    let dir = project(&[
        ("services/api/pyproject.toml", "[tool.connlint]\nextend-exclude = [\"generated\"]\n"),
        ("services/api/generated/a.py", NEVER_CLOSED),
        ("services/api/handlers/b.py", NEVER_CLOSED),
        ("services/web/generated/c.py", NEVER_CLOSED),
    ]);
    assert_eq!(
        findings(&check(&dir, &[])),
        ["services/api/handlers/b.py:4:12: CL102", "services/web/generated/c.py:4:12: CL102"]
    );
    // Checked from inside the service, the same configuration applies.
    assert_eq!(findings(&check(&dir.join("services/api"), &[])), ["handlers/b.py:4:12: CL102"]);
}

#[test]
fn suppressions_and_unused_suppressions() {
    let source = "import sqlite3\n\ndef f(p):\n    with sqlite3.connect(p) as conn:  # connlint: ignore[CL101]\n        conn.execute('x')\n\ndef g(p):\n    # noqa: CL102\n    conn = sqlite3.connect(p)\n    return conn.execute('x').fetchone()\n\ndef h(p):\n    x = 1  # connlint: ignore[CL102]\n    return x\n";
    let dir = project(&[("a.py", source)]);
    let output = check(&dir, &[]);
    assert_eq!(findings(&output), ["a.py:13:31: CL001"]);
    assert!(stdout(&output).contains("suppression of CL102 (never-closed) suppresses nothing"), "{}", stdout(&output));
    // A rule that did not run does not make its suppressions unused.
    assert_eq!(findings(&check(&dir, &["--ignore", "CL102"])), Vec::<String>::new());
    // CL001 itself can be turned off, by its code.
    assert_eq!(check(&dir, &["--ignore", "CL001"]).status.code(), Some(0));
}

#[test]
fn the_baseline_hides_recorded_findings_even_when_the_code_moves() {
    let dir = project(&[("app.py", LEAKY), ("other.py", NEVER_CLOSED)]);
    let write = connlint(&["check", "--write-baseline", "baseline.json"], &dir);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    assert!(stderr(&write).contains("wrote 2 findings"), "{}", stderr(&write));
    let recorded = std::fs::read_to_string(dir.join("baseline.json")).expect("baseline written");
    assert!(recorded.find("\"app.py\"").unwrap() < recorded.find("\"other.py\"").unwrap(), "{recorded}");

    let same = check(&dir, &["--baseline", "baseline.json"]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));

    // Code added above, the function moved down and its call re-wrapped: still recorded.
    let shifted = "import os\nimport sqlite3\n\ndef first():\n    return os.getcwd()\n\n\ndef f(p):\n    with sqlite3.connect(\n        p\n    ) as conn:\n        conn.execute('x')\n";
    std::fs::write(dir.join("app.py"), shifted).expect("write");
    let moved = check(&dir, &["--baseline", "baseline.json"]);
    assert_eq!(moved.status.code(), Some(0), "{}", stdout(&moved));

    // A new leak in another function is reported.
    let added = format!("{shifted}\n\ndef k(p):\n    with sqlite3.connect(p) as conn:\n        conn.execute('y')\n");
    std::fs::write(dir.join("app.py"), added).expect("write");
    let new = check(&dir, &["--baseline", "baseline.json"]);
    assert_eq!(findings(&new), ["app.py:16:10: CL101"]);
    assert_eq!(new.status.code(), Some(1));

    // Fixed findings are left over in the baseline: the user is told.
    std::fs::write(dir.join("other.py"), "x = 1\n").expect("write");
    let fixed = check(&dir, &["--baseline", "baseline.json"]);
    assert!(stderr(&fixed).contains("1 findings of the baseline"), "{}", stderr(&fixed));

    // The baseline is found relative to itself, not to where connlint runs.
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let from_sub = check(&sub, &["--baseline", "../baseline.json", "../app.py"]);
    assert_eq!(findings(&from_sub), ["../app.py:16:10: CL101"]);

    let missing = check(&dir, &["--baseline", "nope.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.json: cannot read the baseline"), "{}", stderr(&missing));
    std::fs::write(dir.join("bad.json"), "{\"version\": 1, \"findings\": [\n  {\"path\": 3}\n]}").expect("write");
    let bad = check(&dir, &["--baseline", "bad.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("bad.json") && stderr(&bad).contains("line 2"), "{}", stderr(&bad));
}

#[test]
fn unused_suppressions_are_reported_in_files_that_mention_no_opener() {
    let dir = project(&[
        ("plain.py", "def f():\n    return 1  # connlint: ignore[CL102]\n"),
        ("lib.rs", "fn f() {} // connlint: ignore[CL201]\n"),
    ]);
    let output = check(&dir, &[]);
    assert_eq!(findings(&output), ["lib.rs:1:31: CL001", "plain.py:2:34: CL001"]);
}
