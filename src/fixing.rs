//! `connlint check --fix`, `--unsafe-fixes` and `--diff`: the edge of fixing. The fixed texts
//! come from the run ([`crate::run::lint_fixing`]); this writes them ([`crate::write`]) or
//! collects them as a diff, and counts what was fixed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Applicability;
use crate::output::RunError;
use crate::rule::Rule;
use crate::run::Lint;

/// The fixing options of `connlint check`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FixArgs {
    /// Apply the safe fixes (the ones that keep behaviour).
    #[arg(long, conflicts_with = "write_baseline")]
    pub fix: bool,
    /// Also apply the unsafe fixes (they need review), with `--fix` or `--diff`.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 if there is one).
    #[arg(long, conflicts_with = "write_baseline")]
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

/// What applying the fixes of a run came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// How many fixes were applied (or, with `--diff`, would be), by rule.
    pub by_rule: BTreeMap<Rule, usize>,
    /// How many files changed (or would).
    pub files: usize,
    /// With `--diff`: the diff of every file that would change, in path order.
    pub diff: String,
}

impl Applied {
    pub fn fixed(&self) -> usize {
        self.by_rule.values().sum()
    }

    /// "Fixed: 2 CL101, 1 CL102" (or "Would fix: ..."), when anything was.
    pub fn by_rule_line(&self, diff: bool) -> Option<String> {
        if self.by_rule.is_empty() {
            return None;
        }
        let counts: Vec<String> = self.by_rule.iter().map(|(rule, n)| format!("{n} {rule}")).collect();
        let verb = if diff { "Would fix" } else { "Fixed" };
        Some(format!("{verb}: {}", counts.join(", ")))
    }
}

/// Writes each fixed file (or, with `diff`, adds its diff to [`Applied::diff`] and writes
/// nothing). A file written (or that would be) then stands for its fixed text: its source and
/// diagnostics become those of the fixed text, so that what is printed next is what remains.
/// A file that cannot be written, or whose fixes failed, keeps its text and diagnostics and
/// gets an error.
pub fn apply(lint: &mut Lint, diff: bool, errors: &mut Vec<RunError>) -> Applied {
    let mut applied = Applied::default();
    for result in &mut lint.results {
        let Some(outcome) = result.fixed.take() else { continue };
        if let Some(error) = &outcome.error {
            eprintln!("connlint: error: {}: {error}", result.path);
            errors.push(RunError { path: result.path.clone(), message: error.clone() });
            continue;
        }
        let original = result.source.as_deref().unwrap_or_default();
        if !outcome.changed(original) {
            continue;
        }
        if diff {
            applied.diff.push_str(&crate::diff::unified(&result.path, original, &outcome.text));
        } else if let Err(error) = crate::write::replace_file(Path::new(&result.path), original, &outcome.text) {
            eprintln!("connlint: error: {}: {error}", result.path);
            errors.push(RunError { path: result.path.clone(), message: error });
            continue;
        }
        applied.files += 1;
        for (rule, n) in &outcome.fixed {
            *applied.by_rule.entry(*rule).or_default() += n;
        }
        let outcome = *outcome;
        result.source = Some(Arc::from(outcome.text));
        result.diagnostics = outcome.remaining;
    }
    applied
}

/// The line of a `--diff` run, for stderr: "would fix 3 problems in 2 files; 1 would remain".
pub fn diff_summary(applied: &Applied, remaining: usize) -> String {
    let problems = if applied.fixed() == 1 { "problem" } else { "problems" };
    let files = if applied.files == 1 { "file" } else { "files" };
    format!("would fix {} {problems} in {} {files}; {remaining} would remain", applied.fixed(), applied.files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_summary_counts_problems_and_files() {
        let applied = Applied { by_rule: BTreeMap::from([(Rule::WithDoesNotClose, 1)]), files: 1, diff: String::new() };
        assert_eq!(diff_summary(&applied, 2), "would fix 1 problem in 1 file; 2 would remain");
        assert_eq!(applied.by_rule_line(false).as_deref(), Some("Fixed: 1 CL101"));
    }
}
