//! What the analysis reports: diagnostics with byte spans, labels and an optional help line.
//! Nothing here knows an output format; `crate::output` renders them.

use crate::rule::Rule;

/// A byte range in one source text, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: clamp_u32(start), end: clamp_u32(end.max(start)) }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A secondary place that explains the diagnostic ("closed here only on the normal path").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// A place in another file that explains the diagnostic (where a factory opens the resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub path: String,
    /// One-based line.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: Rule,
    /// The primary span: the open call, for resource rules.
    pub span: Span,
    /// One sentence: what is wrong.
    pub message: String,
    pub labels: Vec<Label>,
    pub related: Vec<Related>,
    /// How to fix it, as a suggestion the user can copy.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(rule: Rule, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { rule, span, message: message.into(), labels: Vec::new(), related: Vec::new(), help: None }
    }
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into() });
        self
    }
    pub fn with_related(mut self, path: impl Into<String>, line: usize, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related { path: path.into(), line, message: message.into() });
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

/// Maps byte offsets to one-based lines and columns (columns count characters).
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// One-based line and column of `offset` (clamped to the text).
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = text.get(start..offset).map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The byte offset where one-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        line.checked_sub(1).and_then(|i| self.line_starts.get(i)).copied()
    }
}
