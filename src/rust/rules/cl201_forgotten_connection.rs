#![doc = include_str!("../../../rules/CL201.md")]

use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::scope::FileScope;
use crate::rust::walk::FunctionFacts;

pub fn check(scope: &FileScope, facts: &FunctionFacts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for forget in &facts.forgets {
        let noun = scope.kind(forget.resource).noun();
        let reported = match forget.how.as_str() {
            // Tests forget connections on purpose to simulate a crash.
            "mem::forget" | "ManuallyDrop::new" | "Box::leak" => !facts.is_test,
            // An FFI hand-off pair: the other side takes it back with `Box::from_raw`.
            "Box::into_raw" => !facts.is_test && !scope.takes_boxes_back,
            // Detaching for a session-scoped lock is deliberate; per item it exceeds the pool.
            ".detach()" => forget.in_loop,
            ".leak()" => true,
            // The raw descriptor thrown away: nobody can close it now.
            _ if forget.how.starts_with(".into_raw") => forget.result_discarded,
            _ => false,
        };
        if !reported {
            continue;
        }
        let message = match forget.how.as_str() {
            ".leak()" => {
                format!("`.leak()` takes this {noun} out of its pool for good: the pool shrinks by one every time")
            }
            ".detach()" => format!("`.detach()` in a loop takes a {noun} out of its pool on every iteration"),
            how if how.starts_with(".into_raw") => {
                format!(
                    "`{how}` gives this {noun}'s descriptor away and the descriptor is thrown away: it is never closed"
                )
            }
            how => format!("`{how}` on a {noun}: its destructor never runs, so it is never closed"),
        };
        out.push(Diagnostic::new(Rule::ForgottenConnection, forget.span, message).with_help(
            "keep it in a long-lived owner instead (an `Arc` in the application state, a `static OnceLock`), or let it drop",
        ));
    }
    out
}
