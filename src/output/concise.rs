use crate::diagnostic::{Diagnostic, LineIndex};
use crate::output::marked_message;

pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (line, column) = index.line_col(source, diagnostic.span.start as usize);
        let code = diagnostic.rule.code();
        let message = marked_message(diagnostic);
        if color {
            out.push_str(&format!("\x1b[1m{path}\x1b[0m:{line}:{column}: \x1b[1;31m{code}\x1b[0m {message}\n"));
        } else {
            out.push_str(&format!("{path}:{line}:{column}: {code} {message}\n"));
        }
    }
    out
}
