use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::Buffer};

use crate::diagnostic::{Diagnostic, LineIndex};

/// Source lines longer than this are not shown (minified or generated code): the diagnostic
/// gives the place instead of megabytes of one line.
const MAX_SHOWN_LINE_BYTES: usize = 1000;

pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic], color: bool) -> String {
    let file = SimpleFile::new(path, source);
    let config = term::Config::default();
    let mut buffer = if color { Buffer::ansi() } else { Buffer::no_color() };
    let index = LineIndex::new(source);
    for diagnostic in diagnostics {
        let mut labels =
            vec![Label::primary((), clamp(diagnostic.span.range(), source)).with_message(diagnostic.rule.name())];
        labels.extend(
            diagnostic
                .labels
                .iter()
                .map(|l| Label::secondary((), clamp(l.span.range(), source)).with_message(&l.message)),
        );
        let mut notes = Vec::new();
        if let Some(long) = labels.iter().map(|l| longest_line(&index, source, &l.range)).max()
            && long > MAX_SHOWN_LINE_BYTES
        {
            let (line, column) = index.line_col(source, diagnostic.span.start as usize);
            notes.push(format!("at {path}:{line}:{column} (not shown: the line is {long} bytes long)"));
            labels.clear();
        }
        notes.extend(
            diagnostic
                .related
                .iter()
                .map(|r| format!("note: {} ({}:{})", r.message, r.path, r.line))
                .chain(diagnostic.help.iter().map(|h| format!("help: {h}")))
                .chain(diagnostic.fix.iter().map(|f| f.note())),
        );
        let message = super::marked_message(diagnostic).into_owned();
        let report = Report::error()
            .with_code(diagnostic.rule.code())
            .with_message(message)
            .with_labels(labels)
            .with_notes(notes);
        if term::emit_to_write_style(&mut buffer, &config, &file, &report).is_err() {
            // A span the renderer cannot place: fall back to one line rather than lose it.
            let line = format!("error[{}]: {}: {}\n", diagnostic.rule.code(), path, diagnostic.message);
            std::io::Write::write_all(&mut buffer, line.as_bytes()).ok();
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

/// The length in bytes of the longest line that `range` touches.
fn longest_line(index: &LineIndex, source: &str, range: &std::ops::Range<usize>) -> usize {
    let first = index.line_col(source, range.start).0;
    let last = index.line_col(source, range.end).0;
    (first..=last)
        .filter_map(|line| {
            let start = index.line_start(line)?;
            let end = index.line_start(line + 1).unwrap_or(source.len());
            Some(end - start)
        })
        .max()
        .unwrap_or(0)
}

/// Keeps a range inside the text and on character boundaries.
fn clamp(range: std::ops::Range<usize>, source: &str) -> std::ops::Range<usize> {
    let mut start = range.start.min(source.len());
    let mut end = range.end.min(source.len()).max(start);
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}
