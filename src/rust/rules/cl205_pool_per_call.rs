#![doc = include_str!("../../../rules/CL205.md")]

use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::knowledge::Kind;
use crate::rust::scope::{FileScope, FunctionItem};
use crate::rust::walk::{FunctionFacts, LoopKind};

pub fn check(scope: &FileScope, function: &FunctionItem, facts: &FunctionFacts) -> Vec<Diagnostic> {
    if facts.is_main || facts.is_test {
        return Vec::new();
    }
    let mut out = Vec::new();
    for open in &facts.opens {
        if !matches!(scope.kind(open.resource), Kind::Pool | Kind::Client) || open.context.in_once_initialiser {
            continue;
        }
        let noun = scope.kind(open.resource).noun();
        let place = match open.context.in_loop {
            // Opening one per distinct target (`for db in config.databases`) is a set of pools;
            // a loop that stops once it has one is a retry.
            Some(kind) if !open.context.depends_on_loop && !open.context.loop_can_exit => match kind {
                LoopKind::PerItem => "in a closure run for every item",
                _ => "inside a loop",
            },
            Some(_) => continue,
            None if facts.is_handler => "in a request handler",
            None => continue,
        };
        let message = format!(
            "a new {noun} is built {place} in `{}`: each one opens its own connections, and dropping it does not close them on the server",
            function.name
        );
        out.push(Diagnostic::new(Rule::PoolPerCall, open.span, message).with_help(format!(
            "build the {noun} once at startup (in `main`, or a `static OnceLock`/`LazyLock`) and pass it in: a clone of a {noun} is cheap"
        )));
    }
    out
}
