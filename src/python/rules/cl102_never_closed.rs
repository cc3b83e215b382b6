#![doc = include_str!("../../../rules/CL102.md")]

use super::SiteFinding;
use crate::checker::LeakExit;
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::python::fix;
use crate::python::knowledge::ContextManager;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, resource, function, .. } = finding;
    if resource.is_pool_checkout() || report.discarded {
        return None;
    }
    let transaction_with =
        report.transaction_with.is_some() && resource.context_manager == ContextManager::TransactionOnly;
    let exit = match report.normal_leak {
        Some(exit) if !transaction_with => exit,
        Some(_) => return None,
        // Never closed at all, and every way out is an exception.
        None if !report.closed && report.handed_off.is_none() => report.error_leak?.exit,
        None => return None,
    };
    let what = finding.what();
    let noun = resource.kind.noun();
    let name = finding.name();
    // The function's own name: the last part of its qualified name.
    let function_name = function.qualified.rsplit('.').next().unwrap_or(&function.qualified);
    let mut diagnostic = match exit {
        LeakExit::Return(at) => {
            Diagnostic::new(Rule::NeverClosed, site.span, format!("{what} is still open at a `return`"))
                .with_label(at, format!("returns without closing `{name}`"))
        }
        LeakExit::Overwritten(at) if at == site.span => Diagnostic::new(
            Rule::NeverClosed,
            site.span,
            format!("{what} is opened again while the previous one is still open (a loop?)"),
        ),
        LeakExit::Overwritten(at) => {
            Diagnostic::new(Rule::NeverClosed, site.span, format!("`{name}` is rebound while {what} is still open"))
                .with_label(at, format!("the open {noun} is lost here"))
        }
        LeakExit::FallThrough | LeakExit::Exception(_) => Diagnostic::new(
            Rule::NeverClosed,
            site.span,
            format!("{what} is never closed: it is still open when `{function_name}` ends"),
        ),
    };
    diagnostic = diagnostic.with_help(finding.fix_suggestion());
    // Unsafe: the resource is now closed when the statements that use it are done, which can be
    // earlier than something derived from it (a cursor, a stream) expects.
    if let Some((message, edits)) = fix::close_block(finding) {
        diagnostic = diagnostic.with_fix(Fix::new(message, Applicability::Unsafe, edits));
    }
    Some(finding.with_origin(diagnostic))
}
