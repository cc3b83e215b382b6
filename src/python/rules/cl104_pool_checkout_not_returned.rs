#![doc = include_str!("../../../rules/CL104.md")]

use super::SiteFinding;
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, resource, .. } = finding;
    if !resource.is_pool_checkout() || report.discarded {
        return None;
    }
    let release = resource.close.first().map(String::as_str).unwrap_or("putconn");
    let name = finding.name();
    let receiver = site.receiver.as_deref().unwrap_or("pool");
    let mut diagnostic = if let Some(with_span) = report.transaction_with.filter(|_| report.normal_leak.is_some()) {
        Diagnostic::new(
            Rule::PoolCheckoutNotReturned,
            site.span,
            "`with` on a pool checkout only commits or rolls back; the connection is never returned to the pool",
        )
        .with_label(with_span, "this `with` does not give the connection back")
    } else if report.normal_leak.is_some() {
        Diagnostic::new(
            Rule::PoolCheckoutNotReturned,
            site.span,
            format!("this pool checkout is not returned with `{receiver}.{release}({name})` on every path"),
        )
    } else {
        // Returned or stored on some path: the factory's shape; or test code (see CL103).
        if report.handed_off.is_some() || finding.function.is_test {
            return None;
        }
        let leak = report.error_leak?;
        Diagnostic::new(
            Rule::PoolCheckoutNotReturned,
            site.span,
            "this pool checkout is returned to the pool only when no exception is raised",
        )
        .with_label(leak.raised_at, format!("if this raises, `{name}` never goes back to the pool"))
    };
    let help = match &resource.fix_hint {
        Some(hint) => format!("{hint}, or call `{receiver}.{release}({name})` in a `finally` block"),
        None => format!("call `{receiver}.{release}({name})` in a `finally` block"),
    };
    diagnostic = diagnostic.with_help(help);
    Some(finding.with_origin(diagnostic))
}
