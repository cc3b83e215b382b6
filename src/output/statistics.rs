//! `--statistics`: how many findings each rule has, most first, instead of the findings.

use serde::Serialize;

use super::json::{Fixable, Summary, TOOL, Tool, to_pretty};
use super::{Run, count_fixes};
use crate::rule::Rule;

#[derive(Serialize)]
struct Row {
    code: &'static str,
    name: &'static str,
    count: usize,
    fixable: Fixable,
}

fn rows(run: &Run) -> Vec<Row> {
    let mut rows: Vec<Row> = Rule::ALL
        .iter()
        .filter_map(|&rule| {
            let of_rule = || run.diagnostics().map(|(_, d)| d).filter(move |d| d.rule == rule);
            let count = of_rule().count();
            let (safe, unsafe_) = count_fixes(of_rule());
            (count > 0).then_some(Row {
                code: rule.code(),
                name: rule.name(),
                count,
                fixable: Fixable { safe, unsafe_ },
            })
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    rows
}

/// A table: count, code, name, and how many have a safe and an unsafe fix.
pub fn table(run: &Run) -> String {
    let rows = rows(run);
    if rows.is_empty() {
        return String::new();
    }
    let header = ["count", "code", "name", "fixable", "unsafe-fixable"].map(String::from);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let (safe, unsafe_) = (r.fixable.safe, r.fixable.unsafe_);
            [r.count.to_string(), r.code.to_string(), r.name.to_string(), safe.to_string(), unsafe_.to_string()]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| cells.iter().chain([&header]).map(|c| c[i].len()).max().unwrap_or_default())
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| if i == 1 || i == 2 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct Document {
    version: u32,
    tool: Tool,
    statistics: Vec<Row>,
    summary: Summary,
}

/// The statistics as a JSON document (docs/json-output.md).
pub fn json(run: &Run) -> String {
    to_pretty(&Document {
        version: super::json::SCHEMA_VERSION,
        tool: TOOL,
        statistics: rows(run),
        summary: Summary::of(run),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Span};
    use crate::output::tests::{full_diagnostic, run_of};

    #[test]
    fn rows_are_counted_per_rule_most_first() {
        let never_closed = Diagnostic::new(Rule::NeverClosed, Span::new(0, 1), "x");
        let diagnostics = [never_closed.clone(), full_diagnostic(), never_closed, full_diagnostic()];
        let mut diagnostics = diagnostics.to_vec();
        diagnostics.push(Diagnostic::new(Rule::NeverClosed, Span::new(0, 1), "y"));
        let text = table(&run_of(&diagnostics));
        assert_eq!(
            text,
            "count  code   name                 fixable  unsafe-fixable\n\
             \x20   3  CL102  never-closed               0               0\n\
             \x20   2  CL101  with-does-not-close        2               0\n"
        );
        let value: serde_json::Value = serde_json::from_str(&json(&run_of(&diagnostics))).expect("JSON");
        assert_eq!(
            value["statistics"][1],
            serde_json::json!({"code": "CL101", "name": "with-does-not-close", "count": 2, "fixable": {"safe": 2, "unsafe": 0}})
        );
        assert_eq!(value["summary"]["diagnostics"], 5);
    }

    #[test]
    fn no_findings_no_table() {
        assert_eq!(table(&run_of(&[])), "");
    }
}
