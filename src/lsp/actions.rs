//! Code actions and hover, computed from the diagnostics of the document's current text.
//!
//! - "Fix CLxxx: …": one diagnostic's fix (an unsafe fix says so in its title).
//! - "Fix all CLxxx in this file": every safe fix of one rule, when there are several.
//! - "Ignore CLxxx on this line": the suppression comment (not for CL000, which cannot be
//!   suppressed, nor CL001, which reports suppressions).
//! - `source.fixAll.connlint`: every safe fix in the file, for fix-on-save.
//!
//! Fixes applied together never overlap: they are taken in order of position, and a fix that
//! would touch what an earlier one changed is left for the next round, as `connlint check --fix`
//! does.

use lsp_types::{CodeAction, CodeActionKind, Contents, Hover, MarkupContent, MarkupKind};

use super::convert;
use super::document::{Document, Encoding};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Span};
use crate::rule::Rule;
use crate::suppress;

/// The kind of the fix-on-save action.
pub const FIX_ALL_KIND: &str = "source.fixAll.connlint";

/// What a code-action request needs besides the document.
pub struct Request<'a> {
    pub uri: &'a str,
    pub path: Option<&'a std::path::Path>,
    pub span: Span,
    /// The diagnostics the client named (`context.diagnostics`): they count wherever they are.
    pub named: Vec<(Rule, Span)>,
    /// The kinds the client asked for (`context.only`); `None` for all.
    pub only: Option<Vec<String>>,
    pub encoding: Encoding,
    /// Send versioned `documentChanges`.
    pub versioned: bool,
}

pub fn code_actions(doc: &Document, request: &Request) -> Vec<CodeAction> {
    let (Some(diagnostics), Some(kind)) = (doc.current_diagnostics(), doc.kind) else { return Vec::new() };
    let wanted = |action_kind: &str| {
        request.only.as_ref().is_none_or(|only| {
            only.iter()
                .any(|k| action_kind == k || action_kind.strip_prefix(k.as_str()).is_some_and(|r| r.starts_with('.')))
        })
    };
    let action = |title: String, kind: &str, edits: Vec<&Edit>, fixed: &[&Diagnostic], preferred: bool| CodeAction {
        title,
        kind: Some(CodeActionKind::from(kind.to_string())),
        diagnostics: (!fixed.is_empty()).then(|| {
            fixed.iter().map(|d| convert::diagnostic(doc, request.uri, d, request.encoding, request.path)).collect()
        }),
        is_preferred: preferred.then_some(true),
        disabled: None,
        edit: Some(convert::workspace_edit(doc, request.uri, edits, request.encoding, request.versioned)),
        command: None,
        data: None,
        tags: None,
    };
    let here: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| {
            (d.span.start <= request.span.end && request.span.start <= d.span.end)
                || request.named.contains(&(d.rule, d.span))
        })
        .collect();
    let mut actions = Vec::new();
    if wanted("quickfix") {
        for d in &here {
            if let Some(fix) = &d.fix {
                let safe = fix.applicability == Applicability::Safe;
                let note = if safe { "" } else { " (unsafe: review the change)" };
                let title = format!("Fix {}: {}{note}", d.rule.code(), fix.message);
                actions.push(action(title, "quickfix", fix.edits.iter().collect(), &[*d], safe));
            }
        }
        let mut rules: Vec<Rule> = here.iter().map(|d| d.rule).collect();
        rules.sort();
        rules.dedup();
        for rule in rules {
            let of_rule: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.rule == rule && is_safe(d)).collect();
            if of_rule.len() > 1 {
                let title = format!("Fix all {} ({}) in this file", rule.code(), rule.name());
                actions.push(action(title, "quickfix", non_overlapping(&of_rule), &of_rule, false));
            }
        }
        let mut ignored: Vec<(Rule, usize)> = Vec::new();
        for d in &here {
            let before = doc.text().get(..d.span.start as usize).unwrap_or_default();
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            if matches!(d.rule, Rule::ParseError | Rule::UnusedSuppression) || ignored.contains(&(d.rule, line_start)) {
                continue;
            }
            ignored.push((d.rule, line_start));
            let edit = suppress::ignore_edit(doc.text(), kind, d.span.start as usize, d.rule);
            actions.push(action(
                format!("Ignore {} on this line", d.rule.code()),
                "quickfix",
                vec![&edit],
                &[*d],
                false,
            ));
        }
    }
    let safe: Vec<&Diagnostic> = diagnostics.iter().filter(|d| is_safe(d)).collect();
    if !safe.is_empty() && wanted(FIX_ALL_KIND) {
        actions.push(action(
            "Fix all safe connlint fixes".to_string(),
            FIX_ALL_KIND,
            non_overlapping(&safe),
            &[],
            false,
        ));
    }
    actions
}

fn is_safe(d: &Diagnostic) -> bool {
    d.fix.as_ref().is_some_and(|fix| fix.applicability == Applicability::Safe)
}

/// The edits of the fixes that can be applied together: in order of position, each fix whole or
/// not at all, none touching what an earlier one changed, each distinct fix once.
pub fn non_overlapping<'a>(diagnostics: &[&'a Diagnostic]) -> Vec<&'a Edit> {
    let mut fixes: Vec<&Fix> =
        diagnostics.iter().filter_map(|d| d.fix.as_ref()).filter(|f| !f.edits.is_empty()).collect();
    fixes.sort_by_key(|fix| fix.edits[0].span);
    fixes.dedup_by(|a, b| a.edits == b.edits);
    let mut end_of_last: Option<u32> = None;
    let mut edits = Vec::new();
    for fix in fixes {
        if end_of_last.is_some_and(|end| fix.edits[0].span.start <= end) {
            continue;
        }
        end_of_last = fix.edits.iter().map(|e| e.span.end).max();
        edits.extend(&fix.edits);
    }
    edits
}

/// The docs of the rules flagged at `offset`.
pub fn hover(doc: &Document, offset: usize, encoding: Encoding) -> Option<Hover> {
    let diagnostics = doc.current_diagnostics()?;
    let at: Vec<&Diagnostic> =
        diagnostics.iter().filter(|d| (d.span.start as usize..=d.span.end as usize).contains(&offset)).collect();
    let first = at.first()?;
    let mut rules: Vec<Rule> = at.iter().map(|d| d.rule).collect();
    rules.dedup();
    let docs: Vec<&str> = rules.iter().map(|r| r.doc().trim_end()).collect();
    Some(Hover {
        contents: Contents::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: docs.join("\n\n---\n\n"),
        }),
        range: Some(doc.range(first.span, encoding)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(start: usize, end: usize, applicability: Applicability) -> Diagnostic {
        let fix = Fix::new("fix", applicability, vec![Edit::delete(Span::new(start, end))]);
        Diagnostic::new(Rule::UnusedSuppression, Span::new(start, end), "x").with_fix(fix)
    }

    #[test]
    fn overlapping_and_repeated_fixes_are_applied_once() {
        let a = fixed(10, 20, Applicability::Safe);
        let b = fixed(15, 25, Applicability::Safe);
        let c = fixed(0, 5, Applicability::Safe);
        let c_again = fixed(0, 5, Applicability::Safe);
        let d = fixed(20, 22, Applicability::Safe);
        let e = fixed(30, 31, Applicability::Safe);
        let edits = non_overlapping(&[&a, &b, &c, &c_again, &d, &e]);
        let spans: Vec<(u32, u32)> = edits.iter().map(|e| (e.span.start, e.span.end)).collect();
        assert_eq!(spans, [(0, 5), (10, 20), (30, 31)]);
    }
}
