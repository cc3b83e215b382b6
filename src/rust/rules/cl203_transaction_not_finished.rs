#![doc = include_str!("../../../rules/CL203.md")]

use crate::checker::{LeakExit, SiteReport};
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::knowledge::ResourceId;
use crate::rust::lower::RustSite;
use crate::rust::scope::FileScope;
use crate::rust::walk::FunctionFacts;

pub fn check(
    scope: &FileScope,
    facts: &FunctionFacts,
    site: &RustSite,
    resource: ResourceId,
    report: &SiteReport,
) -> Option<Diagnostic> {
    // Tests drop transactions on purpose, to roll their data back.
    if facts.is_test {
        return None;
    }
    let exit = report.normal_leak?;
    let entry = &scope.knowledge.resources[resource];
    let name = &site.binding;
    let awaited = if entry.is_async { ".await" } else { "" };
    let mut diagnostic = Diagnostic::new(
        Rule::TransactionNotFinished,
        site.span,
        format!(
            "transaction `{name}` can reach the end of its scope without `commit` or `rollback`: it is silently rolled back"
        ),
    );
    match exit {
        LeakExit::Return(at) => diagnostic = diagnostic.with_label(at, "returns here with the transaction still open"),
        LeakExit::Overwritten(at) => {
            diagnostic = diagnostic.with_label(at, "rebound here with the transaction still open")
        }
        LeakExit::FallThrough | LeakExit::Exception(_) => {}
    }
    Some(diagnostic.with_help(format!(
        "call `{name}.commit(){awaited}?` on every path that should keep its writes, or `{name}.rollback(){awaited}?` where dropping them is meant"
    )))
}
