//! `connlint rules`: the catalogue as a table, or as JSON.

use serde::Serialize;

use super::json::to_pretty;
use crate::diagnostic::Applicability;
use crate::rule::Rule;

fn fix(rule: Rule) -> &'static str {
    rule.fix_availability().map_or("none", Applicability::as_str)
}

/// One line per rule: code, name, language, fix (safe, unsafe or none) and summary.
pub fn rules_table() -> String {
    let name_width = Rule::ALL.iter().map(|r| r.name().len()).max().unwrap_or_default();
    let mut out = format!("{:<6} {:<name_width$} {:<8} {:<6} {}\n", "code", "name", "language", "fix", "summary");
    for &rule in Rule::ALL {
        let language = rule.language().to_string();
        out.push_str(&format!(
            "{:<6} {:<name_width$} {:<8} {:<6} {}\n",
            rule.code(),
            rule.name(),
            language,
            fix(rule),
            rule.summary()
        ));
    }
    out
}

#[derive(Serialize)]
struct RuleEntry {
    code: &'static str,
    name: &'static str,
    language: String,
    severity: &'static str,
    fix: &'static str,
    summary: String,
}

/// `{"version": 1, "rules": [{code, name, language, severity, fix, summary}]}`.
pub fn rules_json() -> String {
    #[derive(Serialize)]
    struct Document {
        version: u32,
        rules: Vec<RuleEntry>,
    }
    let rules = Rule::ALL
        .iter()
        .map(|&rule| RuleEntry {
            code: rule.code(),
            name: rule.name(),
            language: rule.language().to_string(),
            severity: rule.default_severity().as_str(),
            fix: fix(rule),
            summary: rule.summary(),
        })
        .collect();
    to_pretty(&Document { version: super::json::SCHEMA_VERSION, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_header_and_a_line_per_rule() {
        let table = rules_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), Rule::ALL.len() + 1);
        assert!(lines[0].starts_with("code   name "), "{}", lines[0]);
        let cl101 = lines.iter().find(|l| l.starts_with("CL101")).expect("CL101 listed");
        let columns: Vec<&str> = cl101.split_whitespace().take(4).collect();
        assert_eq!(columns, ["CL101", "with-does-not-close", "python", "safe"]);
        let cl000 = lines.iter().find(|l| l.starts_with("CL000")).expect("CL000 listed");
        assert_eq!(cl000.split_whitespace().take(4).collect::<Vec<_>>(), ["CL000", "parse-error", "any", "none"]);
    }

    #[test]
    fn the_json_lists_every_rule() {
        let value: serde_json::Value = serde_json::from_str(&rules_json()).expect("JSON");
        let rules = value["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), Rule::ALL.len());
        let cl102 = rules.iter().find(|r| r["code"] == "CL102").expect("CL102");
        assert_eq!(cl102["fix"], "unsafe");
        assert_eq!(cl102["language"], "python");
        assert_eq!(cl102["severity"], "error");
    }
}
