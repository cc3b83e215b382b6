//! `--output-format json`: one document for the whole run, in the schema documented field by
//! field in docs/json-output.md. Change a field's meaning or remove one only with a new
//! [`SCHEMA_VERSION`]; adding fields does not change it.

use serde::Serialize;

use super::{FileReport, Position, Region, Run, TOOL_NAME, TOOL_VERSION};
use crate::diagnostic::{Diagnostic, Edit, Fix, LineIndex, Span};

/// The version of the JSON schema (docs/json-output.md), not of connlint.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub(super) struct Tool {
    name: &'static str,
    version: &'static str,
}

pub(super) const TOOL: Tool = Tool { name: TOOL_NAME, version: TOOL_VERSION };

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    errors: Vec<JsonError<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    path: &'a str,
    start: Position,
    end: Position,
    range: ByteRange,
    labels: Vec<JsonLabel<'a>>,
    related: Vec<JsonRelated<'a>>,
    help: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
    scope: Option<&'a str>,
}

#[derive(Serialize)]
struct ByteRange {
    start: u32,
    end: u32,
}

impl From<Span> for ByteRange {
    fn from(span: Span) -> ByteRange {
        ByteRange { start: span.start, end: span.end }
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: &'a str,
    start: Position,
    end: Position,
    range: ByteRange,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    message: &'a str,
    applicability: &'static str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    start: Position,
    end: Position,
    range: ByteRange,
    content: &'a str,
}

#[derive(Serialize)]
struct JsonError<'a> {
    path: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
pub(super) struct Summary {
    files: usize,
    diagnostics: usize,
    errors: usize,
    fixable: Fixable,
}

#[derive(Serialize)]
pub(super) struct Fixable {
    pub safe: usize,
    #[serde(rename = "unsafe")]
    pub unsafe_: usize,
}

impl Summary {
    pub(super) fn of(run: &Run) -> Summary {
        let (safe, unsafe_) = run.fixable();
        Summary {
            files: run.files.len(),
            diagnostics: run.diagnostic_count(),
            errors: run.errors.len(),
            fixable: Fixable { safe, unsafe_ },
        }
    }
}

pub fn render(run: &Run) -> String {
    let mut diagnostics = Vec::with_capacity(run.diagnostic_count());
    for file in &run.files {
        let index = LineIndex::new(file.source);
        diagnostics.extend(file.diagnostics.iter().map(|d| diagnostic(file, &index, d)));
    }
    let document = Document {
        version: SCHEMA_VERSION,
        tool: TOOL,
        diagnostics,
        errors: run.errors.iter().map(|e| JsonError { path: &e.path, message: &e.message }).collect(),
        summary: Summary::of(run),
    };
    to_pretty(&document)
}

/// Pretty JSON ending with a newline.
pub(super) fn to_pretty(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

fn diagnostic<'a>(file: &FileReport<'a>, index: &LineIndex, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let region = |span| Region::of(index, file.source, span);
    let Region { start, end } = region(d.span);
    JsonDiagnostic {
        code: d.rule.code(),
        name: d.rule.name(),
        severity: d.severity.as_str(),
        message: &d.message,
        path: file.path,
        start,
        end,
        range: d.span.into(),
        labels: d
            .labels
            .iter()
            .map(|l| {
                let Region { start, end } = region(l.span);
                JsonLabel { message: &l.message, start, end, range: l.span.into() }
            })
            .collect(),
        related: d.related.iter().map(|r| JsonRelated { path: &r.path, line: r.line, message: &r.message }).collect(),
        help: d.help.as_deref(),
        fix: d.fix.as_ref().map(|fix: &'a Fix| JsonFix {
            message: &fix.message,
            applicability: fix.applicability.as_str(),
            edits: fix
                .edits
                .iter()
                .map(|e: &'a Edit| {
                    let Region { start, end } = region(e.span);
                    JsonEdit { start, end, range: e.span.into(), content: &e.content }
                })
                .collect(),
        }),
        scope: d.scope.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::RunError;
    use crate::output::tests::{SOURCE, full_diagnostic, run_of};

    #[test]
    fn every_field_of_a_diagnostic_is_in_the_document() {
        let diagnostics = [full_diagnostic()];
        let errors = vec![RunError { path: "gone.py".into(), message: "no such file or directory".into() }];
        let run = Run { errors, ..run_of(&diagnostics) };
        let value: serde_json::Value = serde_json::from_str(&render(&run)).expect("valid JSON");
        let open = SOURCE.find("sqlite3.connect").expect("in source");
        let expected = serde_json::json!({
            "version": 1,
            "tool": {"name": "connlint", "version": env!("CARGO_PKG_VERSION")},
            "diagnostics": [{
                "code": "CL101",
                "name": "with-does-not-close",
                "severity": "error",
                "message": "leaks, 100%, a:b",
                "path": "app/db.py",
                "start": {"line": 5, "column": 10},
                "end": {"line": 5, "column": 28},
                "range": {"start": open, "end": open + 18},
                "labels": [{
                    "message": "only commits",
                    "start": {"line": 5, "column": 5},
                    "end": {"line": 5, "column": 9},
                    "range": {"start": open - 5, "end": open - 1},
                }],
                "related": [{"path": "db/helpers.py", "line": 3, "message": "opened here"}],
                "help": "use `closing`",
                "fix": {
                    "message": "Wrap in `closing`",
                    "applicability": "safe",
                    "edits": [
                        {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 1},
                         "range": {"start": 0, "end": 0}, "content": "from contextlib import closing\n"},
                        {"start": {"line": 5, "column": 10}, "end": {"line": 5, "column": 10},
                         "range": {"start": open, "end": open}, "content": "closing("},
                        {"start": {"line": 5, "column": 28}, "end": {"line": 5, "column": 28},
                         "range": {"start": open + 18, "end": open + 18}, "content": ")"},
                    ],
                },
                "scope": null,
            }],
            "errors": [{"path": "gone.py", "message": "no such file or directory"}],
            "summary": {"files": 1, "diagnostics": 1, "errors": 1, "fixable": {"safe": 1, "unsafe": 0}},
        });
        assert_eq!(value, expected);
    }

    #[test]
    fn an_empty_run_is_a_document_too() {
        let value: serde_json::Value = serde_json::from_str(&render(&Run::default())).expect("valid JSON");
        assert_eq!(value["diagnostics"], serde_json::json!([]));
        assert_eq!(value["summary"]["diagnostics"], 0);
    }
}
