//! The Python resource rules. Each rule reads what the checker found for one open site and
//! decides whether it is that rule's finding; the rules' conditions do not overlap, so a leak
//! is reported once, under the rule that says best how to fix it.

mod cl101_with_does_not_close;

use crate::checker::SiteReport;
use crate::diagnostic::Diagnostic;
use crate::python::knowledge::{Resource, Severity};
use crate::python::lower::{LoweredFunction, Site};

/// One open site with everything known about it.
pub struct SiteFinding<'a> {
    pub report: &'a SiteReport,
    pub site: &'a Site,
    pub resource: &'a Resource,
    pub function: &'a LoweredFunction,
    pub source: &'a str,
}

impl SiteFinding<'_> {
    /// Whether a missing close of this resource is worth reporting at all.
    pub fn reportable(&self) -> bool {
        self.resource.severity == Severity::Normal
    }

    /// The open call as written, shortened to one line for help texts.
    pub fn call_text(&self) -> String {
        let raw = self.source.get(self.site.span.range()).unwrap_or_default();
        let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() <= 60 {
            return one_line;
        }
        match one_line.find('(') {
            Some(paren) => format!("{}(...)", &one_line[..paren]),
            None => one_line.chars().take(57).collect::<String>() + "...",
        }
    }

    /// The name the resource is bound to, or a placeholder for help texts.
    pub fn name(&self) -> &str {
        self.site.binding.as_deref().unwrap_or("conn")
    }
}

/// The diagnostics for one open site (at most one).
pub fn diagnose(finding: &SiteFinding) -> Option<Diagnostic> {
    if !finding.reportable() {
        return None;
    }
    cl101_with_does_not_close::check(finding)
}
