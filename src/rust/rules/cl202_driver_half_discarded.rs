#![doc = include_str!("../../../rules/CL202.md")]

use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rust::scope::FileScope;
use crate::rust::walk::FunctionFacts;

pub fn check(_scope: &FileScope, facts: &FunctionFacts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for pair in &facts.pairs {
        let (message, name) = match &pair.driver {
            None => ("the connection half of `connect` is dropped: every query on the client will fail with \"connection closed\"".to_string(), "connection".to_string()),
            Some(name) if !facts.used_between(name, pair.bound_at, usize::MAX) => (
                format!("the connection half `{name}` is never spawned or awaited: queries on the client will wait forever"),
                name.clone(),
            ),
            Some(_) => continue,
        };
        out.push(Diagnostic::new(Rule::DriverHalfDiscarded, pair.span, message).with_help(format!(
            "bind it and spawn it: `tokio::spawn(async move {{ if let Err(e) = {name}.await {{ eprintln!(\"connection error: {{e}}\"); }} }});`"
        )));
    }
    out
}
