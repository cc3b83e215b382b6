#![doc = include_str!("../../../rules/CL106.md")]

use super::SiteFinding;
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, .. } = finding;
    if !report.discarded {
        return None;
    }
    let diagnostic = Diagnostic::new(
        Rule::DiscardedResource,
        site.span,
        format!("{} is opened and never bound to a name, so nothing can close it", finding.what()),
    )
    .with_help(format!("bind it and close it: {}", finding.with_rewrite()));
    Some(finding.with_origin(diagnostic))
}
