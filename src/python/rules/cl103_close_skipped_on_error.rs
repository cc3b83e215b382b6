#![doc = include_str!("../../../rules/CL103.md")]

use super::SiteFinding;
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::python::fix;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, resource, .. } = finding;
    if resource.is_pool_checkout() || report.discarded || report.normal_leak.is_some() || !report.closed {
        return None;
    }
    // In a test an exception fails the test, and the harness cleans up after it.
    if finding.function.is_test {
        return None;
    }
    // Returned or stored on some path: the factory's shape, whose error paths usually depend
    // on state the checker does not follow (`if err is not None: raise err`).
    if report.handed_off.is_some() {
        return None;
    }
    let leak = report.error_leak?;
    let name = finding.name();
    let mut diagnostic = Diagnostic::new(
        Rule::CloseSkippedOnError,
        site.span,
        format!("{} is closed only when no exception is raised", finding.what()),
    )
    .with_label(leak.raised_at, format!("if this raises, `{name}` is never closed"))
    .with_help(finding.fix_suggestion());
    // Unsafe: on an exception the resource is now closed before the handlers further up run.
    if let Some((message, edits)) = fix::close_block(finding) {
        diagnostic = diagnostic.with_fix(Fix::new(message, Applicability::Unsafe, edits));
    }
    Some(finding.with_origin(diagnostic))
}
