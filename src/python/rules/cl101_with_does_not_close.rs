#![doc = include_str!("../../../rules/CL101.md")]

use super::SiteFinding;
use crate::diagnostic::Diagnostic;
use crate::python::knowledge::ContextManager;
use crate::python::lower::OpenedIn;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, resource, .. } = finding;
    if resource.context_manager != ContextManager::TransactionOnly || resource.is_pool_checkout() {
        return None;
    }
    let with_span = report.transaction_with?;
    report.normal_leak?;
    let noun = resource.kind.noun();
    let call = finding.call_text();
    let name = finding.name();
    let message = format!("`with` on {} only commits or rolls back; the {noun} is never closed", finding.what());
    let mut diagnostic = Diagnostic::new(Rule::WithDoesNotClose, site.span, message);
    let help = match site.opened_in {
        OpenedIn::WithItem => format!(
            "use `with closing({call}) as {name}, {name}:` (and `from contextlib import closing`) to close it and keep the commit/rollback"
        ),
        OpenedIn::EnterContext => {
            format!(
                "use `enter_context(closing({call}))` (and `from contextlib import closing`) so the stack closes it"
            )
        }
        OpenedIn::Expression => {
            diagnostic = diagnostic.with_label(with_span, format!("this `with` ends the transaction, not the {noun}"));
            format!(
                "close it: `{name}.close()` in a `finally` block, or open it as `with closing({call}) as {name}, {name}:` (and `from contextlib import closing`)"
            )
        }
    };
    Some(finding.with_origin(diagnostic.with_help(help)))
}
