//! Applying fixes to a source text. Pure: text in, text out; the edge ([`crate::write`]) writes
//! files.
//!
//! One pass applies the fixes of a set of diagnostics: their edits are sorted, an edit that is
//! the same as one already taken (the shared `import`) is applied once, and a fix whose edits
//! overlap one already taken waits for the next pass. After each pass the text must still parse,
//! and it is analysed again: the new diagnostics may carry fixes of their own (the ones that
//! waited). Passes repeat until no fix applies; if that does not happen within [`MAX_PASSES`],
//! the fixes do not converge and the file is left alone.

use std::collections::BTreeMap;

use crate::SourceKind;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::rule::Rule;

/// Fixing stops with an error after this many passes that all changed something.
pub const MAX_PASSES: usize = 12;

/// Whether a fix is applied when fixes up to `allowed` are (`Safe` < `Unsafe`).
pub fn applies(fix: &Fix, allowed: Applicability) -> bool {
    fix.applicability <= allowed && !fix.edits.is_empty()
}

/// The text after one pass, and the rules whose fixes were applied (one entry per fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub text: String,
    pub applied: Vec<Rule>,
}

/// The fixes of one pass: their edits, each once, sorted, and the diagnostics whose fixes they
/// are.
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    pub edits: Vec<&'a Edit>,
    pub fixed: Vec<&'a Diagnostic>,
}

/// Takes every fix of `diagnostics` allowed by `allowed` that does not overlap a fix taken before
/// it (in the order of their first edit). An edit that is the same as one already taken (the
/// shared `import`) is taken once; a fix that overlaps waits for the next pass.
pub fn select<'a>(
    source: &str,
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    allowed: Applicability,
) -> Selection<'a> {
    let mut fixes: Vec<(&Fix, &Diagnostic)> = diagnostics
        .into_iter()
        .filter_map(|d| d.fix.as_ref().filter(|f| applies(f, allowed)).map(|f| (f, d)))
        .collect();
    fixes.sort_by_key(|(fix, d)| (fix.edits.iter().map(|e| e.span).min(), d.rule));
    let mut selection = Selection::default();
    for (fix, diagnostic) in fixes {
        let taken = &selection.edits;
        let new: Vec<&Edit> = fix.edits.iter().filter(|e| !taken.contains(e)).collect();
        let valid = new.iter().all(|e| is_valid(e, source));
        let clashes = new
            .iter()
            .enumerate()
            .any(|(i, e)| taken.iter().any(|t| overlaps(e, t)) || new[..i].iter().any(|other| overlaps(e, other)));
        if !valid || clashes {
            continue;
        }
        selection.edits.extend(new);
        selection.fixed.push(diagnostic);
    }
    selection.edits.sort_by_key(|e| (e.span.start, e.span.end));
    selection
}

/// The text with `edits` applied: sorted, valid and not overlapping, as [`select`] gives them.
pub fn apply_edits(source: &str, edits: &[&Edit]) -> String {
    let mut text = String::with_capacity(source.len() + edits.iter().map(|e| e.content.len()).sum::<usize>());
    let mut at = 0;
    for edit in edits {
        text.push_str(&source[at..edit.span.start as usize]);
        text.push_str(&edit.content);
        at = edit.span.end as usize;
    }
    text.push_str(&source[at..]);
    text
}

/// Applies every fix of `diagnostics` allowed by `allowed` that does not overlap a fix taken
/// before it (see [`select`]).
pub fn apply_once(source: &str, diagnostics: &[Diagnostic], allowed: Applicability) -> Pass {
    let selection = select(source, diagnostics, allowed);
    Pass { text: apply_edits(source, &selection.edits), applied: selection.fixed.iter().map(|d| d.rule).collect() }
}

/// An edit inside the text, on character boundaries.
fn is_valid(edit: &Edit, source: &str) -> bool {
    let range = edit.span.range();
    range.end <= source.len() && source.is_char_boundary(range.start) && source.is_char_boundary(range.end)
}

/// Two edits touch the same text: their ranges share a byte, an insertion falls strictly inside
/// a replaced range, or two different insertions are at the same place (their order would be a
/// guess).
fn overlaps(a: &Edit, b: &Edit) -> bool {
    let (a, b) = (a.span, b.span);
    match (a.start == a.end, b.start == b.end) {
        (true, true) => a.start == b.start,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// What fixing a text came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The fixed text (the original when nothing applied).
    pub text: String,
    /// How many fixes were applied, by rule.
    pub fixed: BTreeMap<Rule, usize>,
    /// The diagnostics of `text`.
    pub remaining: Vec<Diagnostic>,
    /// Why the fixes were not applied, when something went wrong: `text` is then the original.
    pub error: Option<String>,
}

impl Outcome {
    pub fn fixed_count(&self) -> usize {
        self.fixed.values().sum()
    }
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }
}

/// Applies fixes to `source` (whose diagnostics are `diagnostics`) pass after pass, analysing the
/// text again with `analyze` after each one, until no fix applies. A text that does not parse is
/// not fixed; a pass that would make it unparsable, or passes that never end, leave the original
/// text and say why.
pub fn fix_text(
    kind: SourceKind,
    source: &str,
    diagnostics: Vec<Diagnostic>,
    allowed: Applicability,
    analyze: &mut dyn FnMut(&str) -> Vec<Diagnostic>,
) -> Outcome {
    let unchanged = |remaining: Vec<Diagnostic>, error: Option<String>| Outcome {
        text: source.to_string(),
        fixed: BTreeMap::new(),
        remaining,
        error,
    };
    let any_fix =
        |diagnostics: &[Diagnostic]| diagnostics.iter().any(|d| d.fix.as_ref().is_some_and(|f| applies(f, allowed)));
    if !any_fix(&diagnostics) || !parses(kind, source) {
        return unchanged(diagnostics, None);
    }
    let mut text = source.to_string();
    let mut current = diagnostics;
    let mut fixed: BTreeMap<Rule, usize> = BTreeMap::new();
    for _ in 0..MAX_PASSES {
        let pass = apply_once(&text, &current, allowed);
        if pass.applied.is_empty() {
            return Outcome { text, fixed, remaining: current, error: None };
        }
        if !parses(kind, &pass.text) {
            let rules = rule_list(&pass.applied);
            return unchanged(
                analyze(source),
                Some(format!("a fix of {rules} would leave the file unparsable; nothing was fixed (please report it)")),
            );
        }
        for rule in pass.applied {
            *fixed.entry(rule).or_default() += 1;
        }
        text = pass.text;
        current = analyze(&text);
        if !any_fix(&current) {
            return Outcome { text, fixed, remaining: current, error: None };
        }
    }
    let rules = rule_list(&current.iter().filter(|d| d.fix.is_some()).map(|d| d.rule).collect::<Vec<_>>());
    unchanged(
        analyze(source),
        Some(format!(
            "the fixes of {rules} did not settle after {MAX_PASSES} passes; nothing was fixed (please report it)"
        )),
    )
}

fn rule_list(rules: &[Rule]) -> String {
    let mut codes: Vec<&str> = rules.iter().map(|r| r.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes.join(", ")
}

/// Whether a text parses without any syntax error.
pub fn parses(kind: SourceKind, text: &str) -> bool {
    match kind {
        SourceKind::Rust => {
            let ok = syn::parse_file(text).is_ok();
            proc_macro2::extra::invalidate_current_thread_spans();
            ok
        }
        #[cfg(feature = "python")]
        SourceKind::Python => crate::python::parse(text).is_some_and(|tree| !tree.root_node().has_error()),
        #[cfg(not(feature = "python"))]
        SourceKind::Python => false,
    }
}

/// The line ending a text uses: `\r\n` if its first line ends so, else `\n`.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// The line ending of the line `offset` is on (the text's own, for its last line).
pub fn line_ending_at(text: &str, offset: usize) -> &'static str {
    match text[offset.min(text.len())..].find('\n') {
        Some(i) if text[..offset + i].ends_with('\r') => "\r\n",
        Some(_) => "\n",
        None => line_ending(text),
    }
}

/// The start of the line `offset` is on.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The start of the next line after `offset` (past its line ending), or the end of the text.
pub fn next_line_start(text: &str, offset: usize) -> usize {
    text[offset..].find('\n').map_or(text.len(), |i| offset + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;

    fn diagnostic(rule: Rule, applicability: Applicability, edits: Vec<Edit>) -> Diagnostic {
        Diagnostic::new(rule, Span::new(0, 0), "m").with_fix(Fix::new("f", applicability, edits))
    }

    #[test]
    fn edits_apply_in_order_and_shared_edits_once() {
        let source = "abc def ghi";
        let import = Edit::insert(0, "X");
        let a = diagnostic(
            Rule::WithDoesNotClose,
            Applicability::Safe,
            vec![import.clone(), Edit::replace(Span::new(4, 7), "DEF")],
        );
        let b = diagnostic(Rule::WithDoesNotClose, Applicability::Safe, vec![import, Edit::insert(11, "!")]);
        let pass = apply_once(source, &[b, a], Applicability::Safe);
        assert_eq!(pass.text, "Xabc DEF ghi!");
        assert_eq!(pass.applied.len(), 2);
    }

    #[test]
    fn overlapping_fixes_wait_and_unsafe_fixes_need_unsafe() {
        let source = "abcdef";
        let first = diagnostic(Rule::NeverClosed, Applicability::Safe, vec![Edit::replace(Span::new(0, 3), "X")]);
        let second = diagnostic(Rule::NeverClosed, Applicability::Safe, vec![Edit::replace(Span::new(2, 4), "Y")]);
        let inside = diagnostic(Rule::NeverClosed, Applicability::Safe, vec![Edit::insert(1, "Z")]);
        let risky = diagnostic(Rule::NeverClosed, Applicability::Unsafe, vec![Edit::insert(6, "!")]);
        let diagnostics = [first, second, inside, risky];
        let pass = apply_once(source, &diagnostics, Applicability::Safe);
        assert_eq!(pass.text, "Xdef");
        assert_eq!(pass.applied.len(), 1);
        let pass = apply_once(source, &diagnostics, Applicability::Unsafe);
        assert_eq!(pass.text, "Xdef!");
    }

    #[test]
    fn insertions_at_the_edges_of_a_replacement_do_not_clash() {
        let source = "abcdef";
        let replace = diagnostic(Rule::NeverClosed, Applicability::Safe, vec![Edit::replace(Span::new(2, 4), "Y")]);
        let before = diagnostic(Rule::FinishNotAwaited, Applicability::Safe, vec![Edit::insert(2, "<")]);
        let after = diagnostic(Rule::FinishNotAwaited, Applicability::Safe, vec![Edit::insert(4, ">")]);
        let pass = apply_once(source, &[replace, before, after], Applicability::Safe);
        assert_eq!(pass.text, "ab<Y>ef");
    }

    #[test]
    fn the_loop_reanalyses_and_stops_when_nothing_applies() {
        // Each pass fixes one `x`; the analysis reports the next one.
        let mut analyze = |text: &str| -> Vec<Diagnostic> {
            text.find('x')
                .map(|i| {
                    diagnostic(
                        Rule::FinishNotAwaited,
                        Applicability::Safe,
                        vec![Edit::replace(Span::new(i, i + 1), "y")],
                    )
                })
                .into_iter()
                .collect()
        };
        let source = "fn a() { x; x; x; }";
        let first = analyze(source);
        let outcome = fix_text(SourceKind::Rust, source, first, Applicability::Safe, &mut analyze);
        assert_eq!(outcome.text, "fn a() { y; y; y; }");
        assert_eq!(outcome.fixed_count(), 3);
        assert!(outcome.remaining.is_empty() && outcome.error.is_none());
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_refused() {
        let source = "fn a() {}";
        let broken = diagnostic(Rule::FinishNotAwaited, Applicability::Safe, vec![Edit::insert(9, "{")]);
        let outcome = fix_text(SourceKind::Rust, source, vec![broken], Applicability::Safe, &mut |_| Vec::new());
        assert_eq!(outcome.text, source);
        assert!(outcome.error.is_some_and(|e| e.contains("unparsable")));
    }

    #[test]
    fn fixes_that_never_settle_are_refused() {
        let source = "fn a() {}";
        let mut analyze = |text: &str| {
            vec![diagnostic(Rule::FinishNotAwaited, Applicability::Safe, vec![Edit::insert(text.len(), " ")])]
        };
        let first = analyze(source);
        let outcome = fix_text(SourceKind::Rust, source, first, Applicability::Safe, &mut analyze);
        assert_eq!(outcome.text, source);
        assert!(outcome.error.is_some_and(|e| e.contains("did not settle")));
    }

    #[test]
    fn line_endings() {
        assert_eq!(line_ending("a\r\nb\n"), "\r\n");
        assert_eq!(line_ending("a\nb\r\n"), "\n");
        assert_eq!(line_ending_at("a\nb\r\nc", 2), "\r\n");
        assert_eq!(line_ending_at("a\r\nb", 3), "\r\n");
    }
}
