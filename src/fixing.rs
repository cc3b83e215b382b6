//! `connlint check --fix`, `--unsafe-fixes` and `--diff`: the edge of fixing. The fixed texts
//! come from the run ([`crate::run::check_files_fixing`]); this writes them
//! ([`crate::write`]) or prints them as a diff, renders what remains, and says how it went.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::diagnostic::{Applicability, Diagnostic};
use crate::output::{self, OutputFormat};
use crate::rule::Rule;
use crate::run::FileResult;

/// The fixing options of `connlint check`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FixArgs {
    /// Apply the safe fixes (the ones that keep behaviour).
    #[arg(long)]
    pub fix: bool,
    /// Also apply the unsafe fixes (they need review), with `--fix` or `--diff`.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 if there is one).
    #[arg(long)]
    pub diff: bool,
}

impl FixArgs {
    /// The fixes the run applies, if it fixes at all.
    pub fn applies(&self) -> Option<Applicability> {
        (self.fix || self.diff).then_some(self.allowed())
    }

    fn allowed(&self) -> Applicability {
        if self.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe }
    }
}

/// Writes the fixed files (or prints their diff), renders what remains, prints the summary.
/// Exit status: 2 on an error, else 1 if a problem remains (`--fix`) or there is a diff
/// (`--diff`), else 0.
pub fn finish(
    args: &FixArgs,
    results: &[FileResult],
    format: OutputFormat,
    color: bool,
    mut had_error: bool,
) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let (mut fixed, mut remaining, mut diffs) = (0, 0, 0);
    let mut by_rule: BTreeMap<Rule, usize> = BTreeMap::new();
    for result in results {
        if let Some(error) = &result.error {
            eprintln!("connlint: error: {}: {error}", result.path);
            had_error = true;
        }
        if let Some(notice) = &result.notice {
            eprintln!("connlint: notice: {}: {notice}", result.path);
        }
        let original = result.source.as_deref().unwrap_or_default();
        let (text, diagnostics, count) = match &result.fixed {
            Some(outcome) if outcome.error.is_none() && outcome.changed(original) => {
                if args.diff {
                    diffs += 1;
                    let diff = crate::diff::unified(&result.path, original, &outcome.text);
                    if stdout.write_all(diff.as_bytes()).is_err() {
                        return ExitCode::from(2);
                    }
                } else if let Err(error) = crate::write::replace_file(Path::new(&result.path), original, &outcome.text)
                {
                    eprintln!("connlint: error: {}: {error}", result.path);
                    had_error = true;
                    remaining += result.diagnostics.len();
                    continue;
                }
                for (rule, n) in &outcome.fixed {
                    *by_rule.entry(*rule).or_default() += n;
                }
                (outcome.text.as_str(), &outcome.remaining, outcome.fixed_count())
            }
            Some(outcome) => {
                if let Some(error) = &outcome.error {
                    eprintln!("connlint: error: {}: {error}", result.path);
                    had_error = true;
                }
                (original, &result.diagnostics, 0)
            }
            None => (original, &result.diagnostics, 0),
        };
        fixed += count;
        remaining += diagnostics.len();
        if !args.diff && !diagnostics.is_empty() {
            let rendered = output::render_file(format, &result.path, text, diagnostics, color);
            if stdout.write_all(rendered.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
        }
    }
    stdout.flush().ok();
    if args.diff {
        let verb = if fixed == 1 { "problem" } else { "problems" };
        eprintln!("connlint: would fix {fixed} {verb} in {diffs} file(s); {remaining} would remain");
    } else {
        writeln!(stdout, "{}", summary(fixed, remaining)).ok();
    }
    if !by_rule.is_empty() {
        let counts: Vec<String> = by_rule.iter().map(|(rule, n)| format!("{n} {rule}")).collect();
        let verb = if args.diff { "Would fix" } else { "Fixed" };
        eprintln!("connlint: {verb}: {}", counts.join(", "));
    }
    if had_error {
        ExitCode::from(2)
    } else if (args.diff && diffs > 0) || (!args.diff && remaining > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The closing line of a `--fix` run: "Found 3 problems (2 fixed, 1 remaining)."
pub fn summary(fixed: usize, remaining: usize) -> String {
    match fixed + remaining {
        0 => "All checks passed!".to_string(),
        1 => format!("Found 1 problem ({fixed} fixed, {remaining} remaining)."),
        n => format!("Found {n} problems ({fixed} fixed, {remaining} remaining)."),
    }
}

/// The line after the summary of a run that does not fix: how many problems `--fix` (and
/// `--unsafe-fixes`) would fix. `None` when no problem has a fix.
pub fn fixable_hint(results: &[FileResult], unsafe_fixes: bool) -> Option<String> {
    let count = |applicability: Applicability| {
        results
            .iter()
            .flat_map(|r| &r.diagnostics)
            .filter(|d: &&Diagnostic| d.fix.as_ref().is_some_and(|f| f.applicability == applicability))
            .count()
    };
    let (safe, risky) = (count(Applicability::Safe), count(Applicability::Unsafe));
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
