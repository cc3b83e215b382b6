//! Rendering diagnostics for people and machines. Each format renders one file's diagnostics
//! into text; the CLI prints them in path order.

mod concise;
mod full;

use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Each diagnostic with the code it points at and a help line.
    Full,
    /// One line per diagnostic: `path:line:col: CODE message`.
    Concise,
}

/// Renders one file's diagnostics.
pub fn render_file(format: OutputFormat, path: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    match format {
        OutputFormat::Full => full::render(path, source, diagnostics, color),
        OutputFormat::Concise => concise::render(path, source, diagnostics, color),
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
