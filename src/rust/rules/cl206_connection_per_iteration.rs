#![doc = include_str!("../../../rules/CL206.md")]

use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::knowledge::Kind;
use crate::rust::scope::FileScope;
use crate::rust::walk::{FunctionFacts, LoopKind};

pub fn check(scope: &FileScope, facts: &FunctionFacts) -> Vec<Diagnostic> {
    // Tests reconnect in loops on purpose (stress, failover, readiness).
    if facts.is_test {
        return Vec::new();
    }
    let mut out = Vec::new();
    for open in &facts.opens {
        if scope.kind(open.resource) != Kind::Connection {
            continue;
        }
        // Only loops over items: `while`/`loop` bodies are servers and reconnect loops.
        let Some(kind @ (LoopKind::For | LoopKind::PerItem)) = open.context.in_loop else { continue };
        if open.context.depends_on_loop || open.context.loop_can_exit || open.context.in_once_initialiser {
            continue;
        }
        let place = if kind == LoopKind::PerItem { "for every item" } else { "on every iteration" };
        out.push(
            Diagnostic::new(
                Rule::ConnectionPerIteration,
                open.span,
                format!("a new connection to the same target is opened {place}: connect, TLS and authentication each time, and sessions pile up on the server"),
            )
            .with_help("open it once before the loop and reuse it, or take connections from a pool"),
        );
    }
    out
}
