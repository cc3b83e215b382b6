//! The Rust frontend: parse with syn (spans located with proc-macro2's `span-locations`), find
//! the leaks `Drop` cannot fix, and report them.
//!
//! Most Rust rules are patterns over the syntax tree with a little context (in a loop, in a
//! request handler, in an async function): [`walk`] collects those facts per function. The two
//! rules that need paths (an unfinished transaction, a raw handle that reaches a return) lower
//! each function to the resource IR ([`lower`]) and use the shared checker.

pub mod knowledge;
pub mod lower;
pub mod names;
pub mod parse;
pub mod rules;
pub mod scope;
pub mod walk;

use crate::diagnostic::{Diagnostic, Span};
use crate::rule::Rule;
use knowledge::Knowledge;

/// Analyses one Rust source file. Never fails: a file syn cannot parse gets `CL000`.
pub fn analyze(path: &str, source: &str, knowledge: &Knowledge) -> Vec<Diagnostic> {
    let diagnostics = match parse::parse_file(source) {
        Ok(parse::Parsed { file, offset }) => {
            let scope = scope::FileScope::new(path, &file, knowledge, offset);
            let mut out = Vec::new();
            for function in scope::functions(&file) {
                let facts = walk::walk_function(&scope, &function);
                let name = match &function.self_type {
                    Some(self_type) => format!("{self_type}::{}", function.name),
                    None => function.name.clone(),
                };
                out.extend(
                    rules::check_function(&scope, &function, &facts, source).into_iter().map(|d| d.in_scope(&name)),
                );
            }
            out.sort_by_key(|d| (d.span, d.rule));
            out.dedup_by_key(|d| (d.span, d.rule));
            out
        }
        Err(unparsed) => vec![
            Diagnostic::new(Rule::ParseError, Span::new(unparsed.start, unparsed.end), unparsed.message)
                .with_help(unparsed.help),
        ],
    };
    // proc-macro2 keeps every parsed file's positions per thread; free them.
    proc_macro2::extra::invalidate_current_thread_spans();
    diagnostics
}

/// A byte span of a syntax node, shifted past a byte-order mark.
pub fn span_of(node: &impl syn::spanned::Spanned, offset: usize) -> Span {
    let range = node.span().byte_range();
    Span::new(range.start + offset, range.end + offset)
}

/// What the walk recognised in each function of a file, as text (for developing connlint).
pub fn debug_facts(path: &str, source: &str, knowledge: &Knowledge) -> String {
    let Ok(parse::Parsed { file, offset }) = parse::parse_file(source) else { return "parse error\n".to_string() };
    let scope = scope::FileScope::new(path, &file, knowledge, offset);
    let mut out = format!("crates used: {:?}\n", scope.crates);
    for function in scope::functions(&file) {
        let facts = walk::walk_function(&scope, &function);
        for open in &facts.opens {
            let resource = &knowledge.resources[open.resource];
            out.push_str(&format!(
                "{}: open {} {:?} at {}..{} {:?}\n",
                function.name, resource.crate_name, resource.kind, open.span.start, open.span.end, open.context
            ));
        }
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}
