//! Rendering diagnostics for people and machines.
//!
//! A format is one of two kinds. The per-file formats (`full`, `concise`, `github`) render each
//! file's diagnostics on their own, in path order. The document formats (`json`, `sarif`) need
//! the whole run and print one document for it. Both kinds get the whole [`Run`] from
//! [`write_run`], which also decides what else is printed: the summary line (people's formats
//! only, never in a machine format) or the statistics table instead of the diagnostics.

mod concise;
mod full;
mod github;
mod json;
mod rules;
mod sarif;
mod statistics;

use std::io::{self, Write};
use std::path::PathBuf;

use crate::diagnostic::{Applicability, Diagnostic, LineIndex, Span};

pub use rules::{rules_json, rules_table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Each diagnostic with the code it points at and a help line.
    Full,
    /// One line per diagnostic: `path:line:col: CODE message`.
    Concise,
    /// One JSON document for the whole run (see docs/json-output.md).
    Json,
    /// One SARIF 2.1.0 log for the whole run, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: one `::error file=…` annotation per diagnostic.
    Github,
}

impl OutputFormat {
    /// Whether the format prints one document for the whole run rather than a part per file.
    pub fn is_document(self) -> bool {
        matches!(self, OutputFormat::Json | OutputFormat::Sarif)
    }

    /// Whether the format is read by people: it may be coloured and ends with a summary line.
    /// The others are read by programs, and print nothing but their own syntax.
    pub fn is_for_people(self) -> bool {
        matches!(self, OutputFormat::Full | OutputFormat::Concise)
    }

    /// Whether `--statistics` can print in this format (a table, or JSON for `json`).
    pub fn has_statistics(self) -> bool {
        matches!(self, OutputFormat::Full | OutputFormat::Concise | OutputFormat::Json)
    }
}

/// One file's findings, with the text their spans point into.
#[derive(Debug, Clone, Copy)]
pub struct FileReport<'a> {
    /// The path as shown to the user (relative to the current directory when given so).
    pub path: &'a str,
    pub source: &'a str,
    pub diagnostics: &'a [Diagnostic],
}

/// A path the run could not check, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub path: String,
    pub message: String,
}

/// Everything a run found, in path order.
#[derive(Debug, Clone, Default)]
pub struct Run<'a> {
    /// Every file the run looked at, with or without findings.
    pub files: Vec<FileReport<'a>>,
    pub errors: Vec<RunError>,
    /// The folder relative paths start from (the current directory), absolute. SARIF names it
    /// `%SRCROOT%`; without it, SARIF locations are plain relative references.
    pub base: Option<PathBuf>,
}

impl Run<'_> {
    pub fn diagnostic_count(&self) -> usize {
        self.files.iter().map(|f| f.diagnostics.len()).sum()
    }

    fn diagnostics(&self) -> impl Iterator<Item = (&FileReport<'_>, &Diagnostic)> {
        self.files.iter().flat_map(|file| file.diagnostics.iter().map(move |d| (file, d)))
    }

    /// How many findings carry a fix of each applicability: `(safe, unsafe)`.
    fn fixable(&self) -> (usize, usize) {
        count_fixes(self.diagnostics().map(|(_, d)| d))
    }
}

/// The message as the text formats show it: `[*] ` before it when `--fix` fixes the finding (a
/// safe fix), as ruff marks its fixable findings.
pub fn marked_message(diagnostic: &Diagnostic) -> std::borrow::Cow<'_, str> {
    match &diagnostic.fix {
        Some(fix) if fix.applicability == Applicability::Safe => format!("[*] {}", diagnostic.message).into(),
        _ => diagnostic.message.as_str().into(),
    }
}

fn count_fixes<'d>(diagnostics: impl Iterator<Item = &'d Diagnostic>) -> (usize, usize) {
    diagnostics.filter_map(|d| d.fix.as_ref()).fold((0, 0), |(safe, unsafe_), fix| match fix.applicability {
        Applicability::Safe => (safe + 1, unsafe_),
        Applicability::Unsafe => (safe, unsafe_ + 1),
    })
}

/// How to print a run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: OutputFormat,
    /// Colour, when the format is one for people (machine formats are never coloured).
    pub color: bool,
    /// No summary line: only the diagnostics (or the statistics table).
    pub quiet: bool,
    /// A table of counts per rule instead of the diagnostics.
    pub statistics: bool,
    /// The run fixed (`--fix`) and applied this many fixes: the summary says so.
    pub fixed: Option<usize>,
    /// `--unsafe-fixes` was given: the hint after the summary counts unsafe fixes too.
    pub unsafe_fixes: bool,
}

/// Prints a run. For a document format, the document is all that is written.
pub fn write_run(out: &mut dyn Write, run: &Run, options: &Options) -> io::Result<()> {
    let format = options.format;
    if options.statistics {
        if format == OutputFormat::Json {
            return out.write_all(statistics::json(run).as_bytes());
        }
        out.write_all(statistics::table(run).as_bytes())?;
    } else if format.is_document() {
        out.write_all(render_run(format, run).as_bytes())?;
    } else {
        let color = options.color && format.is_for_people();
        for file in run.files.iter().filter(|f| !f.diagnostics.is_empty()) {
            out.write_all(render_file(format, file.path, file.source, file.diagnostics, color).as_bytes())?;
        }
    }
    if format.is_for_people() && !options.quiet {
        let found = run.diagnostic_count();
        match options.fixed {
            Some(fixed) => writeln!(out, "{}", fix_summary(fixed, found))?,
            None => writeln!(out, "{}", summary(found))?,
        }
        let (safe, risky) = run.fixable();
        if let Some(hint) = fixable_hint(safe, risky, options.unsafe_fixes, options.fixed.is_some()) {
            writeln!(out, "{hint}")?;
        }
    }
    Ok(())
}

/// Renders one file's diagnostics. A document format renders a document for a run of just this
/// file.
pub fn render_file(format: OutputFormat, path: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    match format {
        OutputFormat::Full => full::render(path, source, diagnostics, color),
        OutputFormat::Concise => concise::render(path, source, diagnostics, color),
        OutputFormat::Github => github::render(path, source, diagnostics),
        OutputFormat::Json | OutputFormat::Sarif => {
            let run = Run { files: vec![FileReport { path, source, diagnostics }], ..Run::default() };
            render_run(format, &run)
        }
    }
}

/// Renders a whole run as one text: the document of a document format, or every file's part.
pub fn render_run(format: OutputFormat, run: &Run) -> String {
    match format {
        OutputFormat::Json => json::render(run),
        OutputFormat::Sarif => sarif::render(run),
        OutputFormat::Full | OutputFormat::Concise | OutputFormat::Github => {
            run.files.iter().map(|f| render_file(format, f.path, f.source, f.diagnostics, false)).collect()
        }
    }
}

/// The closing line of a human-readable run.
pub fn summary(found: usize) -> String {
    match found {
        0 => "All checks passed!".to_string(),
        1 => "Found 1 problem.".to_string(),
        n => format!("Found {n} problems."),
    }
}

/// The closing line of a `--fix` run: "Found 3 problems (2 fixed, 1 remaining)."
pub fn fix_summary(fixed: usize, remaining: usize) -> String {
    match fixed + remaining {
        0 => "All checks passed!".to_string(),
        1 => format!("Found 1 problem ({fixed} fixed, {remaining} remaining)."),
        n => format!("Found {n} problems ({fixed} fixed, {remaining} remaining)."),
    }
}

/// The line after the summary: how many of the problems shown `--fix` (or `--unsafe-fixes`)
/// would fix, given how many have a safe and an unsafe fix. `fixing`: the run fixed, with the
/// unsafe fixes or not (then only the fixes it left out are mentioned). `None` when there is
/// nothing to say.
pub fn fixable_hint(safe: usize, risky: usize, unsafe_fixes: bool, fixing: bool) -> Option<String> {
    if fixing {
        return (!unsafe_fixes && risky > 0)
            .then(|| format!("{risky} more fixable with `--fix --unsafe-fixes` (unsafe fixes: review them)."));
    }
    match (safe, risky, unsafe_fixes) {
        (0, 0, _) => None,
        (_, _, true) => Some(format!("[*] {} fixable with `--fix --unsafe-fixes`.", safe + risky)),
        (0, risky, false) => Some(format!("{risky} fixable with `--fix --unsafe-fixes` (unsafe fixes: review them).")),
        (safe, 0, false) => Some(format!("[*] {safe} fixable with `--fix`.")),
        (safe, risky, false) => {
            Some(format!("[*] {safe} fixable with `--fix` ({risky} more with `--unsafe-fixes`: review them)."))
        }
    }
}

/// A one-based line and column; columns count characters (Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where a span starts and ends; `end` is the position just after the last character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub start: Position,
    pub end: Position,
}

impl Region {
    pub fn of(index: &LineIndex, source: &str, span: Span) -> Region {
        let position = |offset: u32| {
            let (line, column) = index.line_col(source, offset as usize);
            Position { line, column }
        };
        Region { start: position(span.start), end: position(span.end) }
    }
}

/// What the machine formats call the tool.
pub(crate) const TOOL_NAME: &str = "connlint";
pub(crate) const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostic::{Edit, Fix, Severity};
    use crate::rule::Rule;

    /// A source with a multi-byte character before the finding, and a diagnostic with every part
    /// filled in: a label, a related place, help, and a fix of two edits.
    pub const SOURCE: &str =
        "import sqlite3\n\ndef f(p):\n    é = 1\n    with sqlite3.connect(p) as conn:\n        pass\n";

    /// A run of one file, `app/db.py` with [`SOURCE`], and no errors.
    pub fn run_of(diagnostics: &[Diagnostic]) -> Run<'_> {
        Run { files: vec![FileReport { path: "app/db.py", source: SOURCE, diagnostics }], ..Run::default() }
    }

    pub fn full_diagnostic() -> Diagnostic {
        let open = SOURCE.find("sqlite3.connect(p)").expect("in source");
        let with = SOURCE.find("with ").expect("in source");
        Diagnostic::new(Rule::WithDoesNotClose, Span::new(open, open + "sqlite3.connect(p)".len()), "leaks, 100%, a:b")
            .with_label(Span::new(with, with + 4), "only commits")
            .with_related("db/helpers.py", 3, "opened here")
            .with_help("use `closing`")
            .with_fix(Fix::new(
                "Wrap in `closing`",
                Applicability::Safe,
                vec![
                    Edit::insert(open + "sqlite3.connect(p)".len(), ")"),
                    Edit::insert(open, "closing("),
                    Edit::insert(0, "from contextlib import closing\n"),
                ],
            ))
    }

    #[test]
    fn regions_count_characters_and_end_after_the_last_one() {
        let d = full_diagnostic();
        let index = LineIndex::new(SOURCE);
        let region = Region::of(&index, SOURCE, d.span);
        assert_eq!(region.start, Position { line: 5, column: 10 });
        assert_eq!(region.end, Position { line: 5, column: 28 });
        let e = SOURCE.find('=').expect("in source");
        // `    é ` is six characters but seven bytes.
        assert_eq!(Region::of(&index, SOURCE, Span::new(e, e + 1)).start, Position { line: 4, column: 7 });
    }

    #[test]
    fn machine_formats_are_never_coloured_and_end_with_no_summary() {
        let diagnostics = [full_diagnostic()];
        let run = run_of(&diagnostics);
        for format in [OutputFormat::Json, OutputFormat::Sarif, OutputFormat::Github] {
            let mut out = Vec::new();
            let options =
                Options { format, color: true, quiet: false, statistics: false, fixed: None, unsafe_fixes: false };
            write_run(&mut out, &run, &options).expect("written");
            let text = String::from_utf8(out).expect("UTF-8");
            assert!(!text.contains('\x1b'), "{format:?}: {text}");
            assert!(!text.contains("Found 1 problem"), "{format:?}: {text}");
        }
    }

    #[test]
    fn fixes_are_counted_by_applicability() {
        let mut unsafe_fix = full_diagnostic();
        if let Some(fix) = unsafe_fix.fix.as_mut() {
            fix.applicability = Applicability::Unsafe;
        }
        let mut no_fix = full_diagnostic();
        no_fix.fix = None;
        no_fix.severity = Severity::Info;
        let diagnostics = [full_diagnostic(), unsafe_fix, no_fix];
        let run = run_of(&diagnostics);
        assert_eq!(run.fixable(), (1, 1));
        assert_eq!(run.diagnostic_count(), 3);
    }

    #[test]
    fn summaries_count_fixed_and_remaining_and_hints_name_the_flags_that_would_fix() {
        assert_eq!(fix_summary(0, 0), "All checks passed!");
        assert_eq!(fix_summary(1, 0), "Found 1 problem (1 fixed, 0 remaining).");
        assert_eq!(fix_summary(2, 1), "Found 3 problems (2 fixed, 1 remaining).");
        assert_eq!(fixable_hint(0, 0, false, false), None);
        assert_eq!(fixable_hint(2, 0, false, false).as_deref(), Some("[*] 2 fixable with `--fix`."));
        assert!(fixable_hint(1, 1, false, false).is_some_and(|h| h.contains("1 more with `--unsafe-fixes`")));
        assert_eq!(fixable_hint(1, 1, true, false).as_deref(), Some("[*] 2 fixable with `--fix --unsafe-fixes`."));
        assert!(fixable_hint(1, 1, false, true).is_some_and(|h| h.starts_with("1 more fixable")));
        assert_eq!(fixable_hint(0, 3, true, true), None);
    }
}
