//! The fixture harness. Every fixture under `fixtures/` is a real-looking source file whose
//! expected diagnostics sit beside the code: `# error: CL101` (Python) or `// error: CL201`
//! (Rust) on the line the diagnostic must land on. The harness fails on any missing or extra
//! diagnostic, and compares the rendered output with `NAME.stdout` beside the fixture.
//!
//! Bless the rendered output after an intended change with `CONNLINT_BLESS=1 cargo test`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use connlint::SourceKind;
use connlint::output::{self, OutputFormat};
use connlint::run::ParseMode;
use connlint::settings::Overrides;

/// A fixture that expects no diagnostic at all says so on its first line, so that a missing
/// marker is never mistaken for an intended silence.
const CLEAN_HEADER: &str = "expect: clean";

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every fixture source file (not the `.fixed` twins), sorted.
pub fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![fixture_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("readable fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if SourceKind::of_path(&path).is_some() && !path.to_string_lossy().contains(".fixed.") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn marker_prefix(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Python => "#",
        SourceKind::Rust => "//",
    }
}

/// `(line, code)` pairs from `# error: CL101, CL102` markers.
fn expected_markers(source: &str, kind: SourceKind) -> BTreeSet<(usize, String)> {
    let prefix = format!("{} error:", marker_prefix(kind));
    let mut expected = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        if let Some(at) = line.find(&prefix) {
            for code in line[at + prefix.len()..].split(',') {
                let code = code.split_whitespace().next().unwrap_or_default();
                assert!(code.starts_with("CL"), "line {}: malformed marker `{line}`", i + 1);
                expected.insert((i + 1, code.to_string()));
            }
        }
    }
    expected
}

/// The path relative to the package root, which is where `cargo test` runs.
fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path).display().to_string()
}

/// The fixtures checked together: each file directly under `fixtures/<language>/` on its own,
/// and each folder below that as one project (for helpers in other modules).
fn fixture_groups() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut groups: std::collections::BTreeMap<PathBuf, Vec<PathBuf>> = std::collections::BTreeMap::new();
    let root = fixture_root();
    for path in fixture_files() {
        let relative = path.strip_prefix(&root).expect("under fixtures/");
        let mut parts = relative.components();
        let language = parts.next().expect("a language folder");
        let key = match (parts.next(), parts.next()) {
            (Some(project), Some(_)) => root.join(language).join(project),
            _ => path.clone(),
        };
        groups.entry(key).or_default().push(path);
    }
    groups.into_iter().collect()
}

#[test]
fn every_marker_is_hit_and_nothing_else_is_reported() {
    let files = fixture_files();
    assert!(files.len() >= 5, "expected the fixture suite, found {} files", files.len());
    let bless = std::env::var_os("CONNLINT_BLESS").is_some();
    let mut failures = Vec::new();
    for (root, group) in fixture_groups() {
        // A project is checked as a folder, the way a user runs it, so its configuration's
        // exclusions apply; a file that is excluded gets no result and must be marked clean.
        let lint = connlint::run::lint(&[PathBuf::from(relative(&root))], Overrides::default(), ParseMode::Selective)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(lint.walk_errors.is_empty(), "{:?}", lint.walk_errors);
        for path in &group {
            let kind = SourceKind::of_path(path).expect("fixture of a known language");
            let source = std::fs::read_to_string(path).expect("fixture is UTF-8");
            let name = relative(path);
            let unchecked = connlint::run::FileResult::new(name.clone());
            let result = lint.results.iter().find(|r| r.path == name).unwrap_or(&unchecked);
            if let Some(error) = &result.error {
                failures.push(format!("{name}: {error}"));
            }
            let expected = expected_markers(&source, kind);
            let clean = source.lines().next().is_some_and(|l| l.contains(CLEAN_HEADER));
            if expected.is_empty() && !clean {
                failures.push(format!("{name}: no `error:` marker and no `{CLEAN_HEADER}` header"));
            }
            if !expected.is_empty() && clean {
                failures.push(format!("{name}: says `{CLEAN_HEADER}` but has markers"));
            }
            let diagnostics = &result.diagnostics;
            let index = connlint::diagnostic::LineIndex::new(&source);
            let actual: BTreeSet<(usize, String)> = diagnostics
                .iter()
                .map(|d| (index.line_col(&source, d.span.start as usize).0, d.rule.code().to_string()))
                .collect();
            for (line, code) in expected.difference(&actual) {
                failures.push(format!("{name}:{line}: expected {code}, not reported"));
            }
            for (line, code) in actual.difference(&expected) {
                let message = diagnostics
                    .iter()
                    .find(|d| d.rule.code() == code && index.line_col(&source, d.span.start as usize).0 == *line)
                    .map(|d| d.message.as_str())
                    .unwrap_or_default();
                failures.push(format!("{name}:{line}: unexpected {code}: {message}"));
            }
            let rendered = output::render_file(OutputFormat::Full, &name, &source, diagnostics, false);
            let snapshot = path.with_extension("stdout");
            if bless {
                if rendered.is_empty() {
                    std::fs::remove_file(&snapshot).ok();
                } else {
                    std::fs::write(&snapshot, &rendered).expect("write snapshot");
                }
            } else {
                let kept = std::fs::read_to_string(&snapshot).unwrap_or_default();
                if kept != rendered {
                    failures.push(format!(
                        "{name}: rendered output differs from {} (bless with CONNLINT_BLESS=1):\n{}",
                        relative(&snapshot),
                        first_difference(&kept, &rendered)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let mut orphans = Vec::new();
    let mut stack = vec![fixture_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "stdout") {
                let has_source = ["py", "rs"].iter().any(|ext| path.with_extension(ext).exists());
                if !has_source {
                    orphans.push(relative(&path));
                }
            }
        }
    }
    assert!(orphans.is_empty(), "snapshots without a fixture: {orphans:?}");
}

fn first_difference(kept: &str, rendered: &str) -> String {
    for (i, (a, b)) in kept.lines().zip(rendered.lines()).enumerate() {
        if a != b {
            return format!("  line {}:\n    kept:     {a}\n    rendered: {b}", i + 1);
        }
    }
    format!("  kept {} lines, rendered {} lines", kept.lines().count(), rendered.lines().count())
}

/// Parsing only the parts of a module that can matter gives the same findings as parsing it
/// whole, on every fixture.
#[test]
fn selective_parsing_finds_what_whole_parsing_finds() {
    let mut compared = 0;
    for (root, _) in fixture_groups() {
        let paths = [PathBuf::from(relative(&root))];
        let whole =
            connlint::run::lint(&paths, Overrides::default(), ParseMode::Whole).unwrap_or_else(|e| panic!("{e}"));
        let selective =
            connlint::run::lint(&paths, Overrides::default(), ParseMode::Selective).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole.results.len(), selective.results.len());
        for (w, s) in whole.results.iter().zip(&selective.results) {
            assert_eq!(w.path, s.path);
            let summary = |r: &connlint::run::FileResult| {
                r.diagnostics.iter().map(|d| (d.rule, d.span, d.message.clone(), d.help.clone())).collect::<Vec<_>>()
            };
            assert_eq!(summary(w), summary(s), "{}: whole and selective parsing differ", w.path);
            compared += w.diagnostics.len();
        }
    }
    assert!(compared > 100, "the fixtures have findings to compare ({compared})");
}
