#![doc = include_str!("../../../rules/CL104.md")]

use super::SiteFinding;
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::python::fix;
use crate::rule::Rule;

pub fn check(finding: &SiteFinding) -> Option<Diagnostic> {
    let SiteFinding { report, site, resource, .. } = finding;
    if !resource.is_pool_checkout() || report.discarded {
        return None;
    }
    // The pool's method: `putconn`, `release` (a `close` in the list is the connection's own).
    let release = resource.close.iter().find(|c| *c != "close").or(resource.close.first());
    let release = release.map(String::as_str).unwrap_or("putconn");
    let name = finding.name();
    // The pool, as written at the call: not known when a factory of the project gave the
    // checkout (`self.connection()`: `self` is not the pool) or when no receiver is written.
    let pool = finding.module.receiver(site).filter(|_| finding.resolved.origin.is_none());
    let give_back = match pool {
        Some(pool) => format!("`{pool}.{release}({name})`"),
        None => format!("the pool's `{release}({name})`"),
    };
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
            format!("this pool checkout is not returned with {give_back} on every path"),
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
        Some(hint) => format!("{hint}, or call {give_back} in a `finally` block"),
        None => format!("call {give_back} in a `finally` block"),
    };
    diagnostic = diagnostic.with_help(help);
    // A fix writes the call that gives it back, so it needs the pool.
    if report.transaction_with.is_none()
        && let Some(pool) = pool
        && let Some(fix) = fix(finding, pool, release)
    {
        diagnostic = diagnostic.with_fix(fix);
    }
    Some(finding.with_origin(diagnostic))
}

/// `conn = pool.getconn()` and the statements that use it → the statements in `try:`, and
/// `pool.putconn(conn)` in `finally:` (replacing a plain `pool.putconn(conn)` that ended them).
/// Unsafe: the connection now goes back to the pool on an exception too, before the handlers
/// further up run. Not offered for async pools, whose release must be awaited.
fn fix(finding: &SiteFinding, receiver: &str, release: &str) -> Option<Fix> {
    let plain_receiver = !receiver.is_empty()
        && receiver.split('.').all(|part| part.chars().all(|c| c.is_alphanumeric() || c == '_') && !part.is_empty());
    if finding.resource.is_async || !plain_receiver {
        return None;
    }
    let plan = fix::plan_block(finding)?;
    let close = match plan.trailing_close_text() {
        Some(text) => text.to_string(),
        None => format!("{receiver}.{release}({})", plan.name()),
    };
    if !plan.drops_only(&close) {
        return None;
    }
    let message = format!("Give it back with `{close}` in a `finally` block");
    Some(Fix::new(message, Applicability::Unsafe, vec![plan.try_finally(&close)]))
}
