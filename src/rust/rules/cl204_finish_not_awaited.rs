#![doc = include_str!("../../../rules/CL204.md")]

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::rule::Rule;
use crate::rust::scope::FileScope;
use crate::rust::walk::FunctionFacts;

pub fn check(scope: &FileScope, facts: &FunctionFacts, source: &str) -> Vec<Diagnostic> {
    facts
        .unawaited
        .iter()
        .map(|fact| {
            let noun = scope.kind(fact.resource).noun();
            let call =
                source.get(fact.span.range()).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
            let effect = match fact.method.as_str() {
                "commit" => "nothing is committed, and the transaction is rolled back when dropped",
                "rollback" => "nothing is rolled back now; the rollback waits for the next use of the connection",
                _ => "the close never happens: the server learns of it only when the socket times out",
            };
            let diagnostic = Diagnostic::new(
                Rule::FinishNotAwaited,
                fact.span,
                format!("`{}` on this {noun} returns a future that is never awaited: {effect}", fact.method),
            )
            .with_help(format!("await it: `{call}.await?`"));
            // Safe: the value was thrown away, so awaiting it only makes the call happen; where the
            // code around it is not async (a plain closure), `.await` would not compile.
            if fact.awaitable {
                let fix = Fix::new(
                    format!("Await it: `{}().await`", fact.method),
                    Applicability::Safe,
                    vec![Edit::insert(fact.insert_at, ".await")],
                );
                diagnostic.with_fix(fix)
            } else {
                diagnostic
            }
        })
        .collect()
}
