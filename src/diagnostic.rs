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
    /// Edits that fix it, when the rewrite is mechanical.
    pub fix: Option<Fix>,
    /// How serious it is: the rule's default, unless the configuration overrides it.
    pub severity: Severity,
    /// The qualified name of the enclosing function or class (`Store.connect`), if any: the
    /// baseline keys findings by it so that moving a function does not orphan its entries.
    pub scope: Option<String>,
}

/// How serious a finding is. Every reported finding fails the run (exit 1); the severity is
/// what editors, SARIF (`level`) and GitHub annotations show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Whether applying a fix keeps behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Applicability {
    /// Keeps behaviour; `--fix` applies it.
    Safe,
    /// Changes behaviour in a corner case or needs review; only `--unsafe-fixes` applies it.
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// Replace the bytes of `span` with `content` (an insertion when the span is empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

impl Edit {
    pub fn replace(span: Span, content: impl Into<String>) -> Edit {
        Edit { span, content: content.into() }
    }
    pub fn insert(at: usize, content: impl Into<String>) -> Edit {
        Edit { span: Span::new(at, at), content: content.into() }
    }
    pub fn delete(span: Span) -> Edit {
        Edit { span, content: String::new() }
    }
}

/// A mechanical rewrite: edits that are applied together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, imperative ("Wrap the connection in `contextlib.closing`").
    pub message: String,
    pub applicability: Applicability,
    /// Non-overlapping edits, sorted by position.
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(message: impl Into<String>, applicability: Applicability, mut edits: Vec<Edit>) -> Fix {
        edits.sort();
        Fix { message: message.into(), applicability, edits }
    }
}

impl Diagnostic {
    pub fn new(rule: Rule, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            rule,
            span,
            message: message.into(),
            labels: Vec::new(),
            related: Vec::new(),
            help: None,
            fix: None,
            severity: rule.default_severity(),
            scope: None,
        }
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
    /// Sets the enclosing function, unless the rule already named a scope.
    pub fn in_scope(mut self, scope: &str) -> Diagnostic {
        if self.scope.is_none() {
            self.scope = Some(scope.to_string());
        }
        self
    }
    pub fn with_fix(mut self, fix: Fix) -> Diagnostic {
        self.fix = Some(fix);
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
