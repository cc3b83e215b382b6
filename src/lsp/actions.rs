//! Code actions and hover, computed from the diagnostics of the document's current text.
//!
//! - "Fix CLxxx: …": one diagnostic's fix (an unsafe fix says so in its title).
//! - "Fix all CLxxx in this file": every safe fix of one rule, when there are several.
//! - "Ignore CLxxx on this line": the suppression comment (not for CL000, which cannot be
//!   suppressed, nor CL001, which reports suppressions).
//! - `source.fixAll.connlint`: every safe fix in the file, for fix-on-save.
//!
//! Fixes applied together never overlap: they are taken in order of position, an edit several
//! fixes share (the `import` they need) is made once, and a fix that would touch what an earlier
//! one changed is left for the next round: one pass of `connlint check --fix`
//! ([`crate::fix::select`]). A fix is offered only if the text it gives still parses.

use lsp_types::{CodeAction, CodeActionKind, Contents, Hover, MarkupContent, MarkupKind};

use super::convert;
use super::document::{Document, Encoding};
use crate::SourceKind;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Span};
use crate::fix;
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
            if let Some(fix) = &d.fix
                && still_parses(doc.text(), kind, &fix.edits.iter().collect::<Vec<_>>())
            {
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
            let of_rule = fix::select(doc.text(), diagnostics.iter().filter(|d| d.rule == rule), Applicability::Safe);
            if of_rule.fixed.len() > 1 && still_parses(doc.text(), kind, &of_rule.edits) {
                let title = format!("Fix all {} ({}) in this file", rule.code(), rule.name());
                actions.push(action(title, "quickfix", of_rule.edits, &of_rule.fixed, false));
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
    if wanted(FIX_ALL_KIND) {
        let safe = fix::select(doc.text(), diagnostics, Applicability::Safe);
        if !safe.fixed.is_empty() && still_parses(doc.text(), kind, &safe.edits) {
            actions.push(action("Fix all safe connlint fixes".to_string(), FIX_ALL_KIND, safe.edits, &[], false));
        }
    }
    actions
}

/// Whether the text with `edits` applied parses, as `connlint check --fix` requires of a fix.
fn still_parses(text: &str, kind: SourceKind, edits: &[&Edit]) -> bool {
    let valid = edits.iter().all(|e| {
        let range = e.span.range();
        range.end <= text.len() && text.is_char_boundary(range.start) && text.is_char_boundary(range.end)
    });
    let sorted = edits.windows(2).all(|w| w[0].span.end <= w[1].span.start);
    valid && sorted && fix::parses(kind, &fix::apply_edits(text, edits))
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

    use crate::diagnostic::Fix;

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
        let risky = fixed(32, 33, Applicability::Unsafe);
        let text = "x".repeat(40);
        let selection = fix::select(&text, [&a, &b, &c, &c_again, &d, &e, &risky], Applicability::Safe);
        let spans: Vec<(u32, u32)> = selection.edits.iter().map(|e| (e.span.start, e.span.end)).collect();
        assert_eq!(spans, [(0, 5), (10, 20), (20, 22), (30, 31)]);
    }

    #[test]
    fn a_fix_is_offered_only_if_the_text_still_parses() {
        let text = "def f():\n    pass\n";
        let good = Edit::replace(Span::new(13, 17), "return");
        let bad = Edit::delete(Span::new(0, 3));
        assert!(still_parses(text, SourceKind::Python, &[&good]));
        assert!(!still_parses(text, SourceKind::Python, &[&bad]));
    }
}
