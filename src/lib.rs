//! connlint: finds connection-lifecycle leaks in Python and Rust code.
//!
//! The core (`ir`, `checker`, the frontends) takes source text and returns diagnostics; it does
//! no I/O and knows no output format. The edge (`walk`, `output`, `cli`, `lsp`) reads files and
//! prints, or speaks to an editor.

pub mod baseline;
pub mod checker;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod fix;
pub mod fixing;
pub mod hash;
pub mod identifiers;
pub mod ir;
pub mod lsp;
pub mod output;
mod parallel;
pub mod python;
pub mod rule;
pub mod run;
pub mod rust;
pub mod settings;
pub mod suppress;
pub mod walk;
pub mod write;

use diagnostic::Diagnostic;

/// The languages connlint reads, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Python,
    Rust,
}

impl SourceKind {
    pub fn of_path(path: &std::path::Path) -> Option<SourceKind> {
        match path.extension()?.to_str()? {
            "py" if cfg!(feature = "python") => Some(SourceKind::Python),
            "rs" => Some(SourceKind::Rust),
            _ => None,
        }
    }
}

/// Which module a Python source text is.
#[derive(Debug, Clone, Copy)]
pub struct ModuleInfo<'a> {
    /// The dotted module name (`app.db`); a file outside any package is named by its stem.
    pub name: &'a str,
    /// The package, for relative imports (`app` for `app/db.py`).
    pub package: Option<&'a str>,
}

/// Analyses one source text on its own, with the shipped knowledge. `path` is only a label.
pub fn check_source(kind: SourceKind, path: &str, source: &str, module: ModuleInfo) -> Vec<Diagnostic> {
    match kind {
        #[cfg(feature = "python")]
        SourceKind::Python => python::analyze(path, source, module, python::knowledge::Knowledge::builtin()),
        #[cfg(not(feature = "python"))]
        SourceKind::Python => {
            let _ = module;
            Vec::new()
        }
        SourceKind::Rust => rust::analyze(path, source, rust::knowledge::Knowledge::builtin()),
    }
}
