//! An open document: its text as the editor has it, kept in sync by incremental edits, and the
//! conversion between connlint's byte offsets and LSP positions in the negotiated encoding.

use std::sync::Arc;

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

use crate::SourceKind;
use crate::diagnostic::{Diagnostic, LineIndex, Span};

/// How a position's `character` counts: UTF-16 code units (the LSP default) or bytes, when the
/// client offers `utf-8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// What the analysis found for one revision of a document.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub revision: u64,
    pub diagnostics: Arc<Vec<Diagnostic>>,
}

#[derive(Debug)]
pub struct Document {
    /// The language, when connlint reads it; other documents are kept but never analysed.
    pub kind: Option<SourceKind>,
    /// The editor's version of the text.
    pub version: i32,
    /// The server's own counter: it changes with every text (and every configuration reload), so
    /// a result computed for an older text is recognised and dropped.
    pub revision: u64,
    text: Arc<str>,
    lines: LineIndex,
    /// The last analysis published, possibly of an older revision.
    pub analysis: Option<Analysis>,
    /// The file, for a `file:` document (canonical, as the analysis names it).
    pub path: Option<std::path::PathBuf>,
}

impl Document {
    pub fn new(kind: Option<SourceKind>, version: i32, revision: u64, text: String) -> Document {
        let lines = LineIndex::new(&text);
        Document { kind, version, revision, text: Arc::from(text), lines, analysis: None, path: None }
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// The diagnostics of the current text, if its analysis has come back.
    pub fn current_diagnostics(&self) -> Option<&[Diagnostic]> {
        self.analysis.as_ref().filter(|a| a.revision == self.revision).map(|a| a.diagnostics.as_slice())
    }

    /// Applies the edits of one `didChange`, in order.
    pub fn apply_changes(&mut self, changes: Vec<TextDocumentContentChangeEvent>, encoding: Encoding) {
        let mut text = self.text.to_string();
        for change in changes {
            match change {
                TextDocumentContentChangeEvent::TextDocumentContentChangeWholeDocument(whole) => text = whole.text,
                TextDocumentContentChangeEvent::TextDocumentContentChangePartial(partial) => {
                    let start = offset_in(&text, &self.lines, partial.range.start, encoding);
                    let end = offset_in(&text, &self.lines, partial.range.end, encoding).max(start);
                    text.replace_range(start..end, &partial.text);
                }
            }
            self.lines = LineIndex::new(&text);
        }
        self.text = Arc::from(text);
    }

    /// The byte offset of an LSP position, clamped to its line and to the text.
    pub fn offset(&self, position: Position, encoding: Encoding) -> usize {
        offset_in(&self.text, &self.lines, position, encoding)
    }

    /// The LSP position of a byte offset (clamped to the text, and back to a character boundary).
    pub fn position(&self, offset: usize, encoding: Encoding) -> Position {
        let text = &*self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (line, _) = self.lines.line_col(text, offset);
        let start = self.lines.line_start(line).unwrap_or(0);
        let character: usize = text[start..offset].chars().map(|c| encoding.width(c)).sum();
        Position { line: saturate(line - 1), character: saturate(character) }
    }

    pub fn range(&self, span: Span, encoding: Encoding) -> Range {
        Range { start: self.position(span.start as usize, encoding), end: self.position(span.end as usize, encoding) }
    }

    /// The byte span of an LSP range.
    pub fn span(&self, range: Range, encoding: Encoding) -> Span {
        let start = self.offset(range.start, encoding);
        Span::new(start, self.offset(range.end, encoding).max(start))
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Lines end at `\n` (a `\r` before it belongs to the line break); a position past the end of its
/// line means the end of the line, and a line past the end of the text means the end of the text.
fn offset_in(text: &str, lines: &LineIndex, position: Position, encoding: Encoding) -> usize {
    let line = position.line as usize + 1;
    let Some(start) = lines.line_start(line) else { return text.len() };
    let end = lines.line_start(line + 1).map_or(text.len(), |next| next - 1);
    let end = if text[start..end].ends_with('\r') { end - 1 } else { end };
    let mut remaining = position.character as usize;
    for (i, c) in text[start..end].char_indices() {
        let width = encoding.width(c);
        if remaining < width {
            return start + i;
        }
        remaining -= width;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{TextDocumentContentChangePartial, TextDocumentContentChangeWholeDocument};

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[allow(deprecated)]
    fn replace(range: (Position, Position), text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent::TextDocumentContentChangePartial(TextDocumentContentChangePartial {
            range: Range { start: range.0, end: range.1 },
            range_length: None,
            text: text.to_string(),
        })
    }

    #[test]
    fn positions_count_utf16_units_or_bytes() {
        // `é` is 2 bytes and 1 UTF-16 unit; `😀` is 4 bytes and 2 UTF-16 units.
        let doc = Document::new(None, 1, 1, "a = 'é😀'\r\nconn = x\n".to_string());
        let conn = doc.text().find("conn").unwrap();
        assert_eq!(doc.position(conn, Encoding::Utf16), at(1, 0));
        let x = doc.text().find('x').unwrap();
        assert_eq!(doc.position(x, Encoding::Utf8), at(1, 7));
        let quote = doc.text().rfind('\'').unwrap();
        assert_eq!(doc.position(quote, Encoding::Utf16), at(0, 8));
        assert_eq!(doc.position(quote, Encoding::Utf8), at(0, 11));
        assert_eq!(doc.offset(at(0, 8), Encoding::Utf16), quote);
        assert_eq!(doc.offset(at(0, 11), Encoding::Utf8), quote);
        // Past the end of a line: the end of the line, before its `\r\n`; past the text: its end.
        assert_eq!(doc.offset(at(0, 99), Encoding::Utf16), doc.text().find('\r').unwrap());
        assert_eq!(doc.offset(at(9, 0), Encoding::Utf16), doc.text().len());
        // Inside a surrogate pair: the start of the character.
        assert_eq!(doc.offset(at(0, 7), Encoding::Utf16), doc.text().find('😀').unwrap());
        // Inside a multi-byte character: back to its start.
        assert_eq!(doc.position(doc.text().find('é').unwrap() + 1, Encoding::Utf16), at(0, 5));
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let mut doc = Document::new(None, 1, 1, "import sqlite3\nconn = None\n".to_string());
        doc.apply_changes(
            vec![
                replace((at(1, 7), at(1, 11)), "sqlite3.connect('😀')"),
                replace((at(1, 28), at(1, 28)), "\nconn.close()"),
                replace((at(0, 0), at(0, 0)), "# é\n"),
            ],
            Encoding::Utf16,
        );
        assert_eq!(&**doc.text(), "# é\nimport sqlite3\nconn = sqlite3.connect('😀')\nconn.close()\n");
        doc.apply_changes(
            vec![TextDocumentContentChangeEvent::TextDocumentContentChangeWholeDocument(
                TextDocumentContentChangeWholeDocument { text: "x = 1\n".to_string() },
            )],
            Encoding::Utf16,
        );
        assert_eq!(&**doc.text(), "x = 1\n");
    }
}
