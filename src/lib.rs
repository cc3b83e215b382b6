//! connlint: finds connection-lifecycle leaks in Python and Rust code.
//!
//! The core (`ir`, `checker`, the frontends) takes source text and returns diagnostics; it does
//! no I/O and knows no output format. The edge (`walk`, `output`, `cli`) reads files and prints.

pub mod checker;
pub mod cli;
pub mod diagnostic;
pub mod ir;
pub mod output;
#[cfg(feature = "python")]
pub mod python;
pub mod rule;
pub mod walk;

use diagnostic::Diagnostic;

/// The languages connlint reads, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Python,
}

impl SourceKind {
    pub fn of_path(path: &std::path::Path) -> Option<SourceKind> {
        match path.extension()?.to_str()? {
            "py" if cfg!(feature = "python") => Some(SourceKind::Python),
            _ => None,
        }
    }
}

/// Analyses one source text. `package` is the dotted package of a Python module, for relative
/// imports.
pub fn check_source(kind: SourceKind, source: &str, package: Option<&str>) -> Vec<Diagnostic> {
    match kind {
        #[cfg(feature = "python")]
        SourceKind::Python => python::analyze(
            source,
            python::PythonContext { knowledge: python::knowledge::Knowledge::builtin(), package },
        ),
        #[cfg(not(feature = "python"))]
        SourceKind::Python => {
            let _ = (source, package);
            Vec::new()
        }
    }
}
