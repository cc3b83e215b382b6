#![doc = include_str!("../../../rules/CL101.md")]

use super::SiteFinding;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::python::fix;
use crate::python::knowledge::ContextManager;
use crate::python::layout::{Alias, SiteLayout};
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
    diagnostic = diagnostic.with_help(help);
    if let Some(fix) = fix(finding) {
        diagnostic = diagnostic.with_fix(fix);
    }
    Some(finding.with_origin(diagnostic))
}

/// `with OPEN(...) as x:` → `with closing(OPEN(...)) as x, x:` (the inner `x` keeps the
/// commit/rollback); `stack.enter_context(OPEN(...))` →
/// `stack.enter_context(stack.enter_context(closing(OPEN(...))))` (the same two layers on the
/// stack). Both safe. A connection bound first (`x = OPEN(...)` ... `with x:`) is closed after
/// the statements that use it, which moves code into a block: unsafe.
fn fix(finding: &SiteFinding) -> Option<Fix> {
    let source = finding.source()?;
    match (finding.layout(), finding.site.opened_in) {
        (SiteLayout::WithItem(item), OpenedIn::WithItem) if !item.is_async => {
            let closing = fix::closing(source, finding.module, finding.function)?;
            let wrapper = &closing.name;
            let mut edits = vec![Edit::insert(item.value.start as usize, format!("{wrapper}("))];
            match item.alias {
                Alias::Name(alias) => {
                    edits.push(Edit::insert(item.value.end as usize, ")"));
                    edits.push(Edit::insert(alias.end as usize, format!(", {}", &source[alias.range()])));
                }
                Alias::None => {
                    let name = fix::fresh_name(finding.function, finding.resource.kind.placeholder())?;
                    edits.push(Edit::insert(item.value.end as usize, format!(") as {name}, {name}")));
                }
                Alias::Other => return None,
            }
            edits.extend(closing.import);
            let message = format!("Wrap it in `{wrapper}(...)` and keep the `with` for the transaction");
            Some(Fix::new(message, Applicability::Safe, edits))
        }
        (SiteLayout::EnterContext(enter), OpenedIn::EnterContext) if !enter.is_async => {
            let method = &source[enter.method?.range()];
            let closing = fix::closing(source, finding.module, finding.function)?;
            let wrapper = &closing.name;
            let mut edits = vec![
                Edit::insert(enter.argument.start as usize, format!("{method}({wrapper}(")),
                Edit::insert(enter.argument.end as usize, "))"),
            ];
            edits.extend(closing.import);
            let message = format!("Enter `{wrapper}(...)` on the stack too, so that it closes the connection");
            Some(Fix::new(message, Applicability::Safe, edits))
        }
        (SiteLayout::Bound(_), OpenedIn::Expression) => {
            let (message, edits) = fix::close_block(finding)?;
            Some(Fix::new(message, Applicability::Unsafe, edits))
        }
        _ => None,
    }
}
