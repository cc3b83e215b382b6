#![doc = include_str!("../../../rules/CL207.md")]

use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::walk::FunctionFacts;

pub fn check(facts: &FunctionFacts) -> Vec<Diagnostic> {
    // Pool tests hold several checkouts on purpose.
    if facts.is_test {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, second) in facts.checkouts.iter().enumerate() {
        for first in &facts.checkouts[..i] {
            let Some(held) = &first.binding else { continue };
            if !(first.from_pool && second.from_pool) {
                continue;
            }
            let same_pool = first.receiver == second.receiver;
            let same_task = first.closure == second.closure;
            // The second is taken inside the block that holds the first...
            let inside = second.span.start >= first.block.start && second.span.end <= first.block.end;
            // ...and the first is used after it, so it is still checked out.
            let still_used = facts.used_between(held, second.statement_end, first.block.end as usize);
            let dropped = facts
                .drops
                .iter()
                .any(|(name, at)| name == held && *at > first.statement_end && *at < second.span.start as usize);
            if same_pool && same_task && inside && still_used && !dropped {
                out.push(
                    Diagnostic::new(
                        Rule::NestedPoolCheckout,
                        second.span,
                        format!("a second connection is taken from `{}` while `{held}` is still held: with as many tasks as connections, every task waits for a second one and the pool deadlocks", second.receiver),
                    )
                    .with_label(first.span, format!("`{held}` is checked out here"))
                    .with_help(format!("reuse `{held}` for this work (`&mut *{held}`), or release it before taking another")),
                );
                break;
            }
        }
    }
    out
}
