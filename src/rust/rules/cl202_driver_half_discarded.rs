#![doc = include_str!("../../../rules/CL202.md")]

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Span};
use crate::fix::{line_ending_at, line_start, next_line_start};
use crate::rule::Rule;
use crate::rust::scope::{FileScope, FunctionItem};
use crate::rust::span_of;
use crate::rust::walk::{FunctionFacts, PairFact};

pub fn check(scope: &FileScope, function: &FunctionItem, facts: &FunctionFacts, source: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for pair in &facts.pairs {
        let (message, name) = match &pair.driver {
            None => ("the connection half of `connect` is dropped: every query on the client will fail with \"connection closed\"".to_string(), "connection".to_string()),
            Some(name) if !facts.used_between(name, pair.bound_at, usize::MAX) => (
                format!("the connection half `{name}` is never spawned or awaited: queries on the client will wait forever"),
                name.clone(),
            ),
            Some(_) => continue,
        };
        let mut diagnostic = Diagnostic::new(Rule::DriverHalfDiscarded, pair.span, message).with_help(format!(
            "bind it and spawn it: `tokio::spawn(async move {{ if let Err(e) = {name}.await {{ eprintln!(\"connection error: {{e}}\"); }} }});`"
        ));
        // The function's text, where a fresh name must not appear (in code, strings or macros).
        let text = source
            .get(span_of(function.sig, scope.offset).start as usize..span_of(function.body, scope.offset).end as usize)
            .unwrap_or(source);
        if let Some(fix) = fix(pair, text, source) {
            diagnostic = diagnostic.with_fix(fix);
        }
        out.push(diagnostic);
    }
    out
}

/// `let (client, _) = connect(..).await?;` → `let (client, connection) = ...;` and a spawned task
/// that drives `connection` on the next line. Unsafe: it needs a tokio runtime, and the task
/// now logs the connection's error to stderr.
fn fix(pair: &PairFact, function_text: &str, source: &str) -> Option<Fix> {
    let (statement, hole) = pair.statement?;
    let start = statement.start as usize;
    let indent = &source[line_start(source, start)..start];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let name = match (&pair.driver, hole) {
        (Some(name), _) => name.clone(),
        (None, Some(_)) => fresh_name(function_text, "connection"),
        (None, None) => return None,
    };
    let unit = if indent.contains('\t') { "\t" } else { "    " };
    let newline = line_ending_at(source, start);
    let at = next_line_start(source, statement.end as usize);
    let lead = if at == source.len() && !source.ends_with('\n') { newline } else { "" };
    let spawn = [
        format!("{indent}tokio::spawn(async move {{"),
        format!("{indent}{unit}if let Err(e) = {name}.await {{"),
        format!("{indent}{unit}{unit}eprintln!(\"connection error: {{e}}\");"),
        format!("{indent}{unit}}}"),
        format!("{indent}}});"),
    ];
    let mut edits = vec![Edit::insert(at, format!("{lead}{}{newline}", spawn.join(newline)))];
    if let Some(hole) = hole.filter(|_| pair.driver.is_none()) {
        edits.push(Edit::replace(Span::new(hole.start as usize, hole.end as usize), name.clone()));
    }
    Some(Fix::new(format!("Bind the connection half as `{name}` and spawn it"), Applicability::Unsafe, edits))
}

/// `base`, or `base2`, `base3`... whichever the function's text does not contain as a word.
fn fresh_name(function_text: &str, base: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let taken = |name: &str| {
        function_text.match_indices(name).any(|(at, _)| {
            let before = function_text[..at].chars().next_back();
            let after = function_text[at + name.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
    };
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|n| format!("{base}{n}")).find(|name| !taken(name)).unwrap_or_default()
}
