//! `--output-format github`: GitHub Actions workflow commands, one annotation per diagnostic:
//! `::error file=app.py,line=4,col=10,endLine=4,endColumn=41,title=CL101 (with-does-not-close)::message`.
//! The help line, when there is one, is the annotation's second line.

use crate::diagnostic::{Diagnostic, LineIndex, Severity};

use super::Region;

pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let index = LineIndex::new(source);
    let path = if cfg!(windows) { path.replace('\\', "/") } else { path.to_string() };
    let file = escape_property(&path);
    let mut out = String::new();
    for d in diagnostics {
        let Region { start, end } = Region::of(&index, source, d.span);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let title = escape_property(&format!("{} ({})", d.rule.code(), d.rule.name()));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={file},line={},col={},endLine={},endColumn={},title={title}::{}\n",
            start.line,
            start.column,
            end.line,
            end.column,
            escape_data(&message)
        ));
    }
    out
}

/// Escapes a command's message: `%`, carriage return and line feed.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: as a message, and also `:` and `,`, which end a property.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::tests::{SOURCE, full_diagnostic};

    #[test]
    fn one_annotation_per_diagnostic_with_properties_and_message_escaped() {
        let mut warning = full_diagnostic();
        warning.severity = Severity::Warning;
        warning.help = None;
        warning.message = "line one\r\nline two".to_string();
        let mut info = full_diagnostic();
        info.severity = Severity::Info;
        info.help = None;
        let text = render("dir,1/a:b%.py", SOURCE, &[full_diagnostic(), warning, info]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "::error file=dir%2C1/a%3Ab%25.py,line=5,col=10,endLine=5,endColumn=28,\
                 title=CL101 (with-does-not-close)::leaks, 100%25, a:b%0Ahelp: use `closing`",
                "::warning file=dir%2C1/a%3Ab%25.py,line=5,col=10,endLine=5,endColumn=28,\
                 title=CL101 (with-does-not-close)::line one%0D%0Aline two",
                "::notice file=dir%2C1/a%3Ab%25.py,line=5,col=10,endLine=5,endColumn=28,\
                 title=CL101 (with-does-not-close)::leaks, 100%25, a:b",
            ]
        );
    }
}
