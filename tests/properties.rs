//! Properties that hold for any input, checked on inputs derived from the fixtures: each one
//! truncated after every line (what an editor sees while code is typed) and with random byte
//! edits (what a fuzzer would try, reproducibly). On every variant the analysis must not panic
//! and every span it reports must lie inside the text, on character boundaries. Python is
//! analysed both whole and the way `connlint check` reads it (only what can matter is parsed).
//! Fixing every variant (unsafe fixes too) must not panic either; a fix's edits lie inside the
//! text, and a text the fixes change still parses and is left alone by fixing it again.
//!
//! The analysis runs on a thread with the CLI's 256 MiB stack, so deep input is tested the way
//! it runs. The random edits come from a fixed seed: a failure names the fixture, the seed and
//! the edits, and reproduces on every run.

use std::path::{Path, PathBuf};

use connlint::diagnostic::{Applicability, Diagnostic, Span};
use connlint::{ModuleInfo, SourceKind};

/// The analysis threads' stack size in `connlint::run`.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Random variants per fixture.
const EDITED_VARIANTS: usize = 24;

/// How many variants the fixes changed (and were checked), so that the property is not vacuous.
static FIXED_VARIANTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// SplitMix64: small, fast, and good enough to pick edits. Deterministic by construction.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Fragments worth inserting: delimiters, quotes, comment and string starts, indentation, line
/// ends, control and multi-byte characters, an invalid byte, and the tokens the rules look for.
const FRAGMENTS: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"'",
    b"\"\"\"",
    b"#",
    b"//",
    b"/*",
    b"*/",
    b"\n",
    b"\n    ",
    b"\t",
    b":",
    b",",
    b";",
    b".",
    b"\\",
    b"\0",
    b"\r",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\xff",
    b"\xe2\x80",
    b"with ",
    b"def ",
    b"async ",
    b"await ",
    b"lambda: ",
    b"yield ",
    b"return ",
    b"fn ",
    b"let ",
    b"move ",
    b"|",
    b"&",
    b"?",
    b"::",
    b"r#\"",
    b"b'",
    b"'a",
    b"#!",
    b"#![",
    b"\\u{",
    b"sqlite3.connect(p)",
    b".close()",
    b".commit()",
    b"std::mem::forget(",
    b"pool.begin().await?",
    b"\xef\xbb\xbf",
];

/// One random edit of `bytes`, described for the failure message.
fn edit(bytes: &mut Vec<u8>, rng: &mut Rng) -> String {
    let at = rng.below(bytes.len() + 1);
    match rng.below(4) {
        0 if !bytes.is_empty() => {
            let end = (at + 1 + rng.below(16)).min(bytes.len());
            let at = at.min(end);
            bytes.drain(at..end);
            format!("delete {at}..{end}")
        }
        1 => {
            let byte = rng.below(256) as u8;
            bytes.insert(at, byte);
            format!("insert byte {byte:#04x} at {at}")
        }
        2 if !bytes.is_empty() => {
            let from = rng.below(bytes.len());
            let to = (from + 1 + rng.below(64)).min(bytes.len());
            let slice = bytes[from..to].to_vec();
            bytes.splice(at..at, slice);
            format!("copy {from}..{to} to {at}")
        }
        _ => {
            let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
            bytes.splice(at..at, fragment.iter().copied());
            format!("insert {:?} at {at}", String::from_utf8_lossy(fragment))
        }
    }
}

/// Every fixture source file, sorted.
fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("readable fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if SourceKind::of_path(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Why a span is not a valid range of `source`, if it is not.
fn bad_span(span: Span, source: &str) -> Option<String> {
    let (start, end) = (span.start as usize, span.end as usize);
    if start > end || end > source.len() {
        return Some(format!("{start}..{end} is outside the text of {} bytes", source.len()));
    }
    if !source.is_char_boundary(start) || !source.is_char_boundary(end) {
        return Some(format!("{start}..{end} splits a character"));
    }
    None
}

/// Analyses `source`; returns what is wrong with the result (a panic, a bad span), if anything.
fn violation(kind: SourceKind, path: &str, source: &str) -> Option<String> {
    let module = ModuleInfo { name: "fixture", package: None };
    // Python both ways: whole (as a lone module and the language server read it) and selected
    // (only the statements that can matter, as `connlint check` reads it by default).
    let result = std::panic::catch_unwind(|| {
        let whole = connlint::check_source(kind, path, source, module);
        #[cfg(feature = "python")]
        if kind == SourceKind::Python {
            let knowledge = connlint::python::knowledge::Knowledge::builtin();
            let selected = connlint::python::analyze_selected(path, source, module, knowledge);
            return (whole, selected);
        }
        (whole, Vec::new())
    });
    let (whole, selected): (Vec<Diagnostic>, Vec<Diagnostic>) = match result {
        Ok(diagnostics) => diagnostics,
        Err(panic) => return Some(format!("panicked: {}", panic_message(&panic))),
    };
    let bad = whole.iter().chain(&selected).find_map(|d| {
        let spans = std::iter::once(d.span)
            .chain(d.labels.iter().map(|l| l.span))
            .chain(d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span)));
        spans.filter_map(|span| bad_span(span, source)).next().map(|why| format!("{} span {why}", d.rule.code()))
    });
    bad.or_else(|| fix_violation(kind, path, source, whole))
}

/// Fixes `source` (with `diagnostics`, its findings) as `connlint check --fix --unsafe-fixes`
/// does; returns what is wrong with the result, if anything: a panic, a changed text that does
/// not parse, or one that fixing again changes.
fn fix_violation(kind: SourceKind, path: &str, source: &str, diagnostics: Vec<Diagnostic>) -> Option<String> {
    let module = ModuleInfo { name: "fixture", package: None };
    let mut analyze = |text: &str| connlint::check_source(kind, path, text, module);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let outcome = connlint::fix::fix_text(kind, source, diagnostics, Applicability::Unsafe, &mut analyze);
        if outcome.error.is_some() || !outcome.changed(source) {
            return None;
        }
        if !connlint::fix::parses(kind, &outcome.text) {
            return Some("the fixed text does not parse".to_string());
        }
        FIXED_VARIANTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // `remaining` is the analysis of the fixed text.
        let found = outcome.remaining.clone();
        let again = connlint::fix::fix_text(kind, &outcome.text, found, Applicability::Unsafe, &mut analyze);
        (again.changed(&outcome.text) || again.fixed_count() > 0)
            .then(|| format!("fixing the fixed text again changes it ({:?})", again.fixed))
    }));
    result.unwrap_or_else(|panic| Some(format!("fixing panicked: {}", panic_message(&panic))))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Checks every variant of one fixture; returns the failures.
fn check_fixture(path: &Path, seed: u64) -> Vec<String> {
    let kind = SourceKind::of_path(path).expect("a fixture of a known language");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("fixture").to_string();
    let original = std::fs::read(path).expect("readable fixture");
    let mut failures = Vec::new();

    // Truncated before every line end, and whole.
    let mut cut_points: Vec<usize> =
        original.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
    cut_points.push(original.len());
    for cut in cut_points {
        let text = String::from_utf8_lossy(&original[..cut]);
        if let Some(why) = violation(kind, &name, &text) {
            failures.push(format!("{name} truncated at byte {cut}: {why}"));
        }
    }

    let mut rng = Rng(seed);
    for variant in 0..EDITED_VARIANTS {
        let mut bytes = original.clone();
        let edits: Vec<String> = (0..1 + rng.below(4)).map(|_| edit(&mut bytes, &mut rng)).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Some(why) = violation(kind, &name, &text) {
            failures.push(format!("{name} variant {variant} (seed {seed:#x}, edits {edits:?}): {why}"));
        }
    }
    failures
}

#[test]
fn truncated_and_edited_fixtures_never_panic_or_report_a_span_outside_the_text() {
    let files = fixture_files();
    assert!(files.len() >= 10, "expected the fixture suite, found {} files", files.len());
    // One big-stack thread per core, taking fixtures in turn.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            std::thread::Builder::new()
                .stack_size(ANALYSIS_STACK_BYTES)
                .spawn_scoped(scope, || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        // A seed per fixture, fixed: the same variants on every run.
                        let found = check_fixture(path, 0x636f_6e6e_6c69_6e74 ^ i as u64);
                        failures.lock().expect("no poisoned lock").extend(found);
                    }
                })
                .expect("an analysis thread starts");
        }
    });
    let failures = failures.into_inner().expect("no poisoned lock");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    let fixed = FIXED_VARIANTS.load(std::sync::atomic::Ordering::Relaxed);
    assert!(fixed >= 500, "the fixes changed only {fixed} variants");
}

#[test]
fn the_span_check_catches_bad_spans() {
    // The property above is only as good as this check.
    let text = "é = 1";
    assert_eq!(bad_span(Span::new(0, 2), text), None);
    assert!(bad_span(Span::new(0, 1), text).is_some_and(|w| w.contains("splits a character")));
    assert!(bad_span(Span::new(3, 99), text).is_some_and(|w| w.contains("outside the text")));
}

#[test]
fn edits_are_reproducible() {
    let mut a = Rng(7);
    let mut b = Rng(7);
    let (mut x, mut y) = (b"def f(): pass\n".to_vec(), b"def f(): pass\n".to_vec());
    for _ in 0..50 {
        assert_eq!(edit(&mut x, &mut a), edit(&mut y, &mut b));
    }
    assert_eq!(x, y);
}
