//! The fixture harness. Every fixture under `fixtures/` is a real-looking source file whose
//! expected diagnostics sit beside the code: `# error: CL101` (Python) or `// error: CL201`
//! (Rust) on the line the diagnostic must land on. The harness fails on any missing or extra
//! diagnostic, and compares the rendered output with `NAME.stdout` beside the fixture.
//!
//! A fixture whose fixes change it has a twin with the expected result, `NAME.fixed.py` (or
//! `.fixed.rs`): the harness applies the fixes (unsafe ones too, unless the fixture's first
//! lines say `fixture: safe fixes only`), compares the result with the twin, checks that it
//! parses, that fixing it again changes nothing, and that what is still reported matches the
//! twin's markers: a marker followed by `fixed` (`# error: CL101 fixed`) is a finding the fix
//! removes.
//!
//! Bless the rendered output and the twins after an intended change with
//! `CONNLINT_BLESS=1 cargo test`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use connlint::SourceKind;
use connlint::diagnostic::{Applicability, Diagnostic, LineIndex};
use connlint::output::{self, OutputFormat};
use connlint::rule::Rule;
use connlint::run::{Fixing, Lint, ParseMode};
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

/// `(line, code)` pairs from `# error: CL101, CL102` markers. In a `.fixed` twin
/// (`after_fix`), markers followed by `fixed` are findings the fix removed, and are left out.
fn expected_markers(source: &str, kind: SourceKind, after_fix: bool) -> BTreeSet<(usize, String)> {
    let prefix = format!("{} error:", marker_prefix(kind));
    let mut expected = BTreeSet::new();
    for (i, line) in source.lines().enumerate() {
        if let Some(at) = line.find(&prefix) {
            for marker in line[at + prefix.len()..].split(',') {
                let mut words = marker.split_whitespace();
                let code = words.next().unwrap_or_default();
                assert!(code.starts_with("CL"), "line {}: malformed marker `{line}`", i + 1);
                if !(after_fix && words.next() == Some("fixed")) {
                    expected.insert((i + 1, code.to_string()));
                }
            }
        }
    }
    expected
}

/// The `(line, code)` pairs of diagnostics in `source`.
fn reported(source: &str, diagnostics: &[Diagnostic]) -> BTreeSet<(usize, String)> {
    let index = LineIndex::new(source);
    diagnostics.iter().map(|d| (index.line_col(source, d.span.start as usize).0, d.rule.code().to_string())).collect()
}

/// What differs between the expected and the reported `(line, code)` pairs.
fn marker_differences(
    name: &str,
    expected: &BTreeSet<(usize, String)>,
    actual: &BTreeSet<(usize, String)>,
) -> Vec<String> {
    let missing =
        expected.difference(actual).map(|(line, code)| format!("{name}:{line}: expected {code}, not reported"));
    let extra = actual.difference(expected).map(|(line, code)| format!("{name}:{line}: unexpected {code}"));
    missing.chain(extra).collect()
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
            let expected = expected_markers(&source, kind, false);
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

/// `NAME.fixed.py` beside `NAME.py`.
fn fixed_twin(path: &Path) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let extension = path.extension().and_then(|s| s.to_str()).unwrap_or_default();
    path.with_file_name(format!("{stem}.fixed.{extension}"))
}

/// Unsafe fixes too, unless every file of the group says `fixture: safe fixes only`.
fn allowed_fixes(sources: &[String]) -> Applicability {
    let safe_only = |source: &String| source.lines().take(3).any(|l| l.contains("fixture: safe fixes only"));
    if sources.iter().all(safe_only) { Applicability::Safe } else { Applicability::Unsafe }
}

/// A fresh folder under the system's temporary folder.
fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("connlint-fixtures-{}-{n}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The group's project folder (with its configuration), or its one file, copied under `dir`
/// at the same relative path.
fn copy_group(root: &Path, dir: &Path) {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("readable dir") {
                stack.push(entry.expect("entry").path());
            }
        } else if !path.to_string_lossy().contains(".fixed.")
            && path.extension().is_some_and(|e| e == "py" || e == "rs" || e == "toml")
        {
            let target = dir.join(path.strip_prefix(package).expect("in the package"));
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// Checks a fixture group's folder (or file) the way `connlint check --fix` does.
fn lint_fixing(root: &Path, allowed: Applicability) -> Lint {
    let fixing = Fixing { allowed, baseline: None };
    let lint =
        connlint::run::lint_fixing(&[root.to_path_buf()], Overrides::default(), ParseMode::Selective, Some(fixing))
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(lint.walk_errors.is_empty(), "{:?}", lint.walk_errors);
    lint
}

#[test]
fn fixes_give_the_fixed_twins_which_parse_are_clean_and_stay_fixed() {
    let bless = std::env::var_os("CONNLINT_BLESS").is_some();
    let mut failures = Vec::new();
    let mut twins = 0;
    let mut rules_fixed = BTreeSet::new();
    let mut rules_reported = BTreeSet::new();
    for (root, group) in fixture_groups() {
        let sources: Vec<String> =
            group.iter().map(|p| std::fs::read_to_string(p).expect("fixture is UTF-8")).collect();
        let allowed = allowed_fixes(&sources);
        let lint = lint_fixing(Path::new(&relative(&root)), allowed);
        let unchecked = connlint::run::FileResult::new(String::new());
        let results: Vec<&connlint::run::FileResult> = group
            .iter()
            .map(|path| lint.results.iter().find(|r| r.path == relative(path)).unwrap_or(&unchecked))
            .collect();
        let scratch = scratch_dir();
        copy_group(&root, &scratch);
        let mut any_change = false;
        for ((path, source), result) in group.iter().zip(&sources).zip(&results) {
            let name = relative(path);
            let kind = SourceKind::of_path(path).expect("known language");
            rules_reported.extend(result.diagnostics.iter().map(|d| d.rule));
            for diagnostic in &result.diagnostics {
                let Some(fix) = &diagnostic.fix else { continue };
                match diagnostic.rule.fix_availability() {
                    Some(strongest) if fix.applicability >= strongest => {}
                    declared => failures.push(format!(
                        "{name}: {} offers a {} fix, but its fix_availability() is {declared:?}",
                        diagnostic.rule,
                        fix.applicability.as_str()
                    )),
                }
            }
            let twin = fixed_twin(path);
            // A file that mentions no resource is not even parsed: nothing to fix.
            let Some(outcome) = result.fixed.as_ref() else {
                if twin.exists() {
                    failures.push(format!("{name}: nothing is fixed, but {} exists", relative(&twin)));
                }
                continue;
            };
            if let Some(error) = &outcome.error {
                failures.push(format!("{name}: {error}"));
                continue;
            }
            if !outcome.changed(source) {
                if twin.exists() {
                    failures.push(format!("{name}: nothing is fixed, but {} exists", relative(&twin)));
                }
                continue;
            }
            any_change = true;
            rules_fixed.extend(outcome.fixed.keys().copied());
            if bless {
                std::fs::write(&twin, &outcome.text).expect("write the twin");
            }
            twins += 1;
            std::fs::write(scratch.join(relative(path)), &outcome.text).expect("write the fixed copy");
            let kept = std::fs::read_to_string(&twin).unwrap_or_default();
            if kept != outcome.text {
                failures.push(format!(
                    "{name}: the fixed text differs from {} (bless with CONNLINT_BLESS=1):\n{}",
                    relative(&twin),
                    first_difference(&kept, &outcome.text)
                ));
                continue;
            }
            if !connlint::fix::parses(kind, &outcome.text) {
                failures.push(format!("{}: does not parse", relative(&twin)));
            }
            let expected = expected_markers(&kept, kind, true);
            failures.extend(marker_differences(&relative(&twin), &expected, &reported(&kept, &outcome.remaining)));
        }
        if !any_change {
            std::fs::remove_dir_all(&scratch).ok();
            continue;
        }
        // The fixed group, checked and fixed again: nothing changes, and what is reported is
        // what the twins' markers say.
        let again = lint_fixing(&scratch.join(relative(&root)), allowed);
        for path in &group {
            let copy = scratch.join(relative(path));
            let Some(result) = again.results.iter().find(|r| Path::new(&r.path) == copy) else { continue };
            let kind = SourceKind::of_path(path).expect("known language");
            let name = relative(&fixed_twin(path));
            let text = std::fs::read_to_string(&copy).expect("fixed copy");
            let Some(outcome) = result.fixed.as_ref() else { continue };
            if outcome.changed(&text) || outcome.fixed_count() > 0 || outcome.error.is_some() {
                failures.push(format!("{name}: fixing it again changes it ({:?}, {:?})", outcome.fixed, outcome.error));
            }
            if fixed_twin(path).exists() {
                let expected = expected_markers(&text, kind, true);
                failures.extend(marker_differences(&name, &expected, &reported(&text, &result.diagnostics)));
            }
        }
        std::fs::remove_dir_all(&scratch).ok();
    }
    assert!(twins >= 5, "expected the fix fixtures, found {twins} twins");
    for rule in Rule::ALL.iter().filter(|r| r.fix_availability().is_some() && rules_reported.contains(r)) {
        if !rules_fixed.contains(rule) {
            failures.push(format!("{rule} offers fixes, but no fixture with a .fixed twin shows one"));
        }
    }
    assert!(failures.is_empty(), "{} fix fixture failures:\n{}", failures.len(), failures.join("\n"));
}

/// A way to write the same source differently, which fixing must keep.
#[derive(Debug, Clone, Copy)]
enum Variant {
    /// `\r\n` line endings.
    Crlf,
    /// A byte-order mark first.
    Bom,
    /// A tab for each four spaces of indentation.
    Tabs,
}

impl Variant {
    /// The text written this way, if it can be (it is not already, and for tabs, every line's
    /// indentation is whole levels of four spaces).
    fn apply(self, text: &str) -> Option<String> {
        match self {
            Variant::Crlf => (!text.contains('\r')).then(|| text.replace('\n', "\r\n")),
            Variant::Bom => (!text.starts_with('\u{feff}')).then(|| format!("\u{feff}{text}")),
            Variant::Tabs => {
                let mut out = String::with_capacity(text.len());
                for line in text.split_inclusive('\n') {
                    let spaces = line.len() - line.trim_start_matches(' ').len();
                    if spaces % 4 != 0 || line[spaces..].starts_with('\t') {
                        return None;
                    }
                    out.push_str(&"\t".repeat(spaces / 4));
                    out.push_str(&line[spaces..]);
                }
                (!text.contains('\t')).then_some(out)
            }
        }
    }
}

/// Every fixture with a twin, written with CRLF line endings, with a byte-order mark, and
/// indented with tabs, fixes to its twin written the same way: the fixes only edit the text
/// between the line endings, after the mark, in the file's own indentation.
#[test]
fn fixes_keep_line_endings_a_byte_order_mark_and_tabs() {
    let mut failures = Vec::new();
    let mut checked = [0; 3];
    for (root, group) in fixture_groups() {
        if !group.iter().any(|path| fixed_twin(path).exists()) {
            continue;
        }
        let sources: Vec<String> =
            group.iter().map(|p| std::fs::read_to_string(p).expect("fixture is UTF-8")).collect();
        let allowed = allowed_fixes(&sources);
        for (v, variant) in [Variant::Crlf, Variant::Bom, Variant::Tabs].into_iter().enumerate() {
            let Some(written) = sources.iter().map(|s| variant.apply(s)).collect::<Option<Vec<String>>>() else {
                continue;
            };
            let scratch = scratch_dir();
            copy_group(&root, &scratch);
            for (path, text) in group.iter().zip(&written) {
                std::fs::write(scratch.join(relative(path)), text).expect("write the variant");
            }
            let lint = lint_fixing(&scratch.join(relative(&root)), allowed);
            for (path, text) in group.iter().zip(&written) {
                let copy = scratch.join(relative(path));
                let fixed = lint
                    .results
                    .iter()
                    .find(|r| Path::new(&r.path) == copy)
                    .and_then(|r| r.fixed.as_ref())
                    .filter(|o| o.error.is_none())
                    .map_or(text.as_str(), |o| o.text.as_str());
                let twin = fixed_twin(path);
                let expected = match std::fs::read_to_string(&twin) {
                    Ok(kept) => variant.apply(&kept),
                    Err(_) => Some(text.clone()),
                };
                match expected {
                    Some(expected) if expected == fixed => {}
                    Some(expected) => failures.push(format!(
                        "{} ({variant:?}): the fixed text is not the twin written the same way:\n{}",
                        relative(path),
                        first_difference(&expected, fixed)
                    )),
                    None => failures.push(format!("{} ({variant:?}): the twin cannot be written so", relative(&twin))),
                }
            }
            checked[v] += 1;
            std::fs::remove_dir_all(&scratch).ok();
        }
    }
    assert!(checked.iter().all(|&n| n >= 5), "variants checked (CRLF, BOM, tabs): {checked:?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_fixed_twin_belongs_to_a_fixture() {
    let mut orphans = Vec::new();
    let mut stack = vec![fixture_root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            let name = path.to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(original) = name
                .strip_suffix(".fixed.py")
                .map(|s| format!("{s}.py"))
                .or_else(|| name.strip_suffix(".fixed.rs").map(|s| format!("{s}.rs")))
                && !Path::new(&original).exists()
            {
                orphans.push(relative(&path));
            }
        }
    }
    assert!(orphans.is_empty(), "fixed twins without a fixture: {orphans:?}");
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
