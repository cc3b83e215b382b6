//! The Python frontend: parse with tree-sitter-python, lower to the resource IR, check, and
//! turn the checker's findings into diagnostics.

pub mod knowledge;
pub mod lower;
pub mod names;
pub mod rules;
pub mod syntax;

use std::cell::RefCell;

use crate::checker::{self, ContextExit, SiteBehaviour};
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::Rule;
use knowledge::{ContextManager, Knowledge};
use lower::LoweredModule;

thread_local! {
    static PARSER: RefCell<Option<tree_sitter::Parser>> = const { RefCell::new(None) };
}

/// Parses Python source; `None` only if tree-sitter gives up (it recovers from syntax errors).
fn parse(source: &str) -> Option<tree_sitter::Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&tree_sitter_python::LANGUAGE.into()).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(source, None)
    })
}

/// What the Python analysis needs besides the source.
#[derive(Debug, Clone, Copy)]
pub struct PythonContext<'a> {
    pub knowledge: &'a Knowledge,
    /// The dotted package of the module (`app.db` for `app/db/x.py`), for relative imports.
    pub package: Option<&'a str>,
}

/// Analyses one module. Never fails: a syntax error becomes a `CL000` diagnostic and the
/// functions that parsed are still checked.
pub fn analyze(source: &str, context: PythonContext) -> Vec<Diagnostic> {
    let Some(tree) = parse(source) else {
        return vec![Diagnostic::new(Rule::ParseError, Span::new(0, 0), "the Python parser gave up on this file")];
    };
    let root = tree.root_node();
    let mut diagnostics = Vec::new();
    if let Some(error) = syntax::first_error(root) {
        diagnostics.push(parse_error(error, source));
    }
    let module = lower::lower_module(root, source, context.knowledge, context.package);
    diagnostics.extend(check_module(&module, source, context.knowledge));
    diagnostics.sort_by_key(|d| (d.span, d.rule));
    diagnostics
}

/// The knowledge entries whose openers appear in `source` (for the test that every entry is
/// exercised by a fixture, and for explaining what connlint recognised).
pub fn recognized_resources(source: &str, context: PythonContext) -> Vec<knowledge::ResourceId> {
    let Some(tree) = parse(source) else { return Vec::new() };
    let module = lower::lower_module(tree.root_node(), source, context.knowledge, context.package);
    let mut ids: Vec<_> = module.sites.iter().map(|s| s.resource).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn parse_error(error: tree_sitter::Node, source: &str) -> Diagnostic {
    let at = syntax::span(error);
    let message = if error.is_missing() {
        format!("syntax error: missing `{}`", error.kind())
    } else {
        let snippet: String = syntax::text(error, source).chars().take(20).collect();
        let snippet = snippet.lines().next().unwrap_or_default().trim().to_string();
        if snippet.is_empty() { "syntax error".to_string() } else { format!("syntax error near `{snippet}`") }
    };
    Diagnostic::new(Rule::ParseError, at, message)
        .with_help("the rest of the file is still checked; functions with syntax errors are skipped")
}

fn check_module(module: &LoweredModule, source: &str, knowledge: &Knowledge) -> Vec<Diagnostic> {
    let behaviour = |site: u32| {
        let site = module.sites.get(site as usize)?;
        let resource = &knowledge.resources[site.resource];
        let context_exit = match resource.context_manager {
            ContextManager::TransactionOnly => ContextExit::EndsTransaction,
            ContextManager::None => ContextExit::None,
            cm if cm.closes() => ContextExit::Closes,
            _ => ContextExit::None,
        };
        Some(SiteBehaviour { context_exit })
    };
    let mut out = Vec::new();
    for function in &module.functions {
        for report in checker::check_function(&function.ir, &behaviour) {
            let Some(site) = module.sites.get(report.site as usize) else { continue };
            let finding = rules::SiteFinding {
                report: &report,
                site,
                resource: &knowledge.resources[site.resource],
                function,
                source,
            };
            out.extend(rules::diagnose(&finding));
        }
    }
    out
}
