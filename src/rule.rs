//! The rule catalogue. Each rule's doc lives in `rules/CLxxx.md` and is embedded here: it is the
//! single source for `connlint rule CODE`, SARIF rule help and the language server's hover.

use std::fmt;

use crate::diagnostic::{Applicability, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ParseError,
    UnusedSuppression,
    WithDoesNotClose,
    NeverClosed,
    CloseSkippedOnError,
    PoolCheckoutNotReturned,
    OwnedFieldNeverClosed,
    DiscardedResource,
    ForgottenConnection,
    DriverHalfDiscarded,
    TransactionNotFinished,
    FinishNotAwaited,
    PoolPerCall,
    ConnectionPerIteration,
    NestedPoolCheckout,
    FfiHandleNotClosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Any,
    Python,
    Rust,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Any => "any",
            Language::Python => "python",
            Language::Rust => "rust",
        })
    }
}

struct RuleInfo {
    code: &'static str,
    name: &'static str,
    language: Language,
    doc: &'static str,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::ParseError,
        Rule::UnusedSuppression,
        Rule::WithDoesNotClose,
        Rule::NeverClosed,
        Rule::CloseSkippedOnError,
        Rule::PoolCheckoutNotReturned,
        Rule::OwnedFieldNeverClosed,
        Rule::DiscardedResource,
        Rule::ForgottenConnection,
        Rule::DriverHalfDiscarded,
        Rule::TransactionNotFinished,
        Rule::FinishNotAwaited,
        Rule::PoolPerCall,
        Rule::ConnectionPerIteration,
        Rule::NestedPoolCheckout,
        Rule::FfiHandleNotClosed,
    ];

    fn info(self) -> RuleInfo {
        match self {
            Rule::ParseError => RuleInfo {
                code: "CL000",
                name: "parse-error",
                language: Language::Any,
                doc: include_str!("../rules/CL000.md"),
            },
            Rule::UnusedSuppression => RuleInfo {
                code: "CL001",
                name: "unused-suppression",
                language: Language::Any,
                doc: include_str!("../rules/CL001.md"),
            },
            Rule::WithDoesNotClose => RuleInfo {
                code: "CL101",
                name: "with-does-not-close",
                language: Language::Python,
                doc: include_str!("../rules/CL101.md"),
            },
            Rule::NeverClosed => RuleInfo {
                code: "CL102",
                name: "never-closed",
                language: Language::Python,
                doc: include_str!("../rules/CL102.md"),
            },
            Rule::CloseSkippedOnError => RuleInfo {
                code: "CL103",
                name: "close-skipped-on-error",
                language: Language::Python,
                doc: include_str!("../rules/CL103.md"),
            },
            Rule::PoolCheckoutNotReturned => RuleInfo {
                code: "CL104",
                name: "pool-checkout-not-returned",
                language: Language::Python,
                doc: include_str!("../rules/CL104.md"),
            },
            Rule::OwnedFieldNeverClosed => RuleInfo {
                code: "CL105",
                name: "owned-field-never-closed",
                language: Language::Python,
                doc: include_str!("../rules/CL105.md"),
            },
            Rule::DiscardedResource => RuleInfo {
                code: "CL106",
                name: "discarded-resource",
                language: Language::Python,
                doc: include_str!("../rules/CL106.md"),
            },
            Rule::ForgottenConnection => RuleInfo {
                code: "CL201",
                name: "forgotten-connection",
                language: Language::Rust,
                doc: include_str!("../rules/CL201.md"),
            },
            Rule::DriverHalfDiscarded => RuleInfo {
                code: "CL202",
                name: "driver-half-discarded",
                language: Language::Rust,
                doc: include_str!("../rules/CL202.md"),
            },
            Rule::TransactionNotFinished => RuleInfo {
                code: "CL203",
                name: "transaction-not-finished",
                language: Language::Rust,
                doc: include_str!("../rules/CL203.md"),
            },
            Rule::FinishNotAwaited => RuleInfo {
                code: "CL204",
                name: "finish-not-awaited",
                language: Language::Rust,
                doc: include_str!("../rules/CL204.md"),
            },
            Rule::PoolPerCall => RuleInfo {
                code: "CL205",
                name: "pool-per-call",
                language: Language::Rust,
                doc: include_str!("../rules/CL205.md"),
            },
            Rule::ConnectionPerIteration => RuleInfo {
                code: "CL206",
                name: "connection-per-iteration",
                language: Language::Rust,
                doc: include_str!("../rules/CL206.md"),
            },
            Rule::NestedPoolCheckout => RuleInfo {
                code: "CL207",
                name: "nested-pool-checkout",
                language: Language::Rust,
                doc: include_str!("../rules/CL207.md"),
            },
            Rule::FfiHandleNotClosed => RuleInfo {
                code: "CL208",
                name: "ffi-handle-not-closed",
                language: Language::Rust,
                doc: include_str!("../rules/CL208.md"),
            },
        }
    }

    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// The rule's name; it reads as "allow <name>".
    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn language(self) -> Language {
        self.info().language
    }

    /// The severity a finding has unless the configuration says otherwise: `error` where the
    /// leak is certain on a normal path, `warning` where it needs an error, a loop or review.
    pub fn default_severity(self) -> Severity {
        match self {
            Rule::ParseError
            | Rule::WithDoesNotClose
            | Rule::NeverClosed
            | Rule::PoolCheckoutNotReturned
            | Rule::ForgottenConnection
            | Rule::DriverHalfDiscarded
            | Rule::TransactionNotFinished
            | Rule::FfiHandleNotClosed => Severity::Error,
            Rule::UnusedSuppression
            | Rule::CloseSkippedOnError
            | Rule::OwnedFieldNeverClosed
            | Rule::DiscardedResource
            | Rule::FinishNotAwaited
            | Rule::PoolPerCall
            | Rule::ConnectionPerIteration
            | Rule::NestedPoolCheckout => Severity::Warning,
        }
    }

    /// Which fixes the rule can offer: the strongest applicability of its automatic edits.
    pub fn fix_availability(self) -> Option<Applicability> {
        match self {
            Rule::WithDoesNotClose | Rule::UnusedSuppression | Rule::FinishNotAwaited => Some(Applicability::Safe),
            Rule::NeverClosed
            | Rule::CloseSkippedOnError
            | Rule::PoolCheckoutNotReturned
            | Rule::DriverHalfDiscarded => Some(Applicability::Unsafe),
            _ => None,
        }
    }

    /// The whole Markdown doc.
    pub fn doc(self) -> &'static str {
        self.info().doc
    }

    /// The first paragraph under "What it does", as one line.
    pub fn summary(self) -> String {
        section(self.doc(), "What it does")
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The text of a `## heading` section of a rule doc, without the heading.
pub fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let marker = format!("## {heading}\n");
    let Some(start) = doc.find(&marker).map(|i| i + marker.len()) else {
        return "";
    };
    let rest = &doc[start..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
    rest[..end].trim()
}
