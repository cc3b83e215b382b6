//! The Rust rules. Pattern rules read the facts of [`super::walk`]; CL203 and CL208 read what
//! the checker found on the lowered IR.

mod cl201_forgotten_connection;
mod cl202_driver_half_discarded;
mod cl203_transaction_not_finished;
mod cl204_finish_not_awaited;
mod cl205_pool_per_call;
mod cl206_connection_per_iteration;
mod cl207_nested_pool_checkout;
mod cl208_ffi_handle_not_closed;

use super::lower::{self, SiteWhat};
use super::scope::{FileScope, FunctionItem};
use super::walk::FunctionFacts;
use crate::checker::{self, ContextExit, SiteBehaviour, SitesOnly};
use crate::diagnostic::Diagnostic;

/// Every Rust diagnostic of one function.
pub fn check_function(
    scope: &FileScope,
    function: &FunctionItem,
    facts: &FunctionFacts,
    source: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    out.extend(cl201_forgotten_connection::check(scope, facts));
    out.extend(cl202_driver_half_discarded::check(scope, function, facts, source));
    out.extend(cl204_finish_not_awaited::check(scope, facts, source));
    out.extend(cl205_pool_per_call::check(scope, function, facts));
    out.extend(cl206_connection_per_iteration::check(scope, facts));
    out.extend(cl207_nested_pool_checkout::check(facts));
    if let Some(lowered) = lower::lower_function(scope, function.body, facts) {
        let oracle = SitesOnly(|_| Some(SiteBehaviour { context_exit: ContextExit::None, lazy: false }));
        for report in checker::check_function(&lowered.function, &oracle) {
            let Some(site) = lowered.sites.get(report.site as usize) else { continue };
            let found = match &site.what {
                SiteWhat::Transaction(resource) => {
                    cl203_transaction_not_finished::check(scope, facts, site, *resource, &report)
                }
                SiteWhat::Ffi { entry, function: opener } => {
                    cl208_ffi_handle_not_closed::check(scope, site, *entry, opener, &report)
                }
            };
            out.extend(found);
        }
    }
    out
}
