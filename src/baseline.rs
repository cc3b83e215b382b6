//! The baseline: today's findings recorded in a file, so that a project can adopt connlint and
//! fail only on new leaks. An entry is keyed by the file's path, the rule, and a fingerprint of
//! the flagged code and the function it is in, never by line numbers: edits elsewhere in the
//! file, and moving the function, keep it matching. Identical findings in one function are
//! counted. The file is JSON, sorted, one entry per line group, so that it diffs well.
//!
//! Pure: reading and writing the file is the edge's job.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;

pub const FORMAT_VERSION: u32 = 1;

/// The longest flagged code kept in an entry for people to read.
const SHOWN_CODE_CHARS: usize = 80;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<Key, Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    path: String,
    rule: String,
    fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scope: String,
    code: String,
    count: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    path: String,
    rule: String,
    /// The enclosing function, for people; the fingerprint includes it.
    #[serde(default)]
    scope: String,
    /// The flagged code, shortened, for people.
    #[serde(default)]
    code: String,
    fingerprint: String,
    count: usize,
}

/// What a baseline did to one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matched {
    /// Findings hidden because the baseline has them.
    pub hidden: usize,
}

impl Baseline {
    /// Records findings: `path` is how the baseline names the file (relative to the baseline).
    pub fn add(&mut self, path: &str, source: &str, diagnostic: &Diagnostic) {
        let (key, code) = key_of(path, source, diagnostic);
        let scope = diagnostic.scope.clone().unwrap_or_default();
        self.entries.entry(key).or_insert(Entry { scope, code, count: 0 }).count += 1;
    }

    /// Removes from `diagnostics` those the baseline records, using up its counts.
    pub fn filter(&mut self, path: &str, source: &str, diagnostics: &mut Vec<Diagnostic>) -> Matched {
        let before = diagnostics.len();
        diagnostics.retain(|diagnostic| {
            let (key, _) = key_of(path, source, diagnostic);
            match self.entries.get_mut(&key) {
                Some(entry) if entry.count > 0 => {
                    entry.count -= 1;
                    false
                }
                _ => true,
            }
        });
        Matched { hidden: before - diagnostics.len() }
    }

    /// Findings the baseline still has after filtering: fixed since it was written.
    pub fn unmatched(&self) -> usize {
        self.entries.values().map(|e| e.count).sum()
    }

    pub fn len(&self) -> usize {
        self.entries.values().map(|e| e.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn to_json(&self) -> String {
        let findings = self
            .entries
            .iter()
            .map(|(key, entry)| FileEntry {
                path: key.path.clone(),
                rule: key.rule.clone(),
                scope: entry.scope.clone(),
                code: entry.code.clone(),
                fingerprint: key.fingerprint.clone(),
                count: entry.count,
            })
            .collect();
        let file = File { version: FORMAT_VERSION, findings };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_json(text: &str) -> Result<Baseline, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.version != FORMAT_VERSION {
            return Err(format!(
                "baseline format version {} is not supported (this connlint writes version {FORMAT_VERSION}); \
                 write it again with --write-baseline",
                file.version
            ));
        }
        let mut baseline = Baseline::default();
        for entry in file.findings {
            let key = Key { path: entry.path, rule: entry.rule, fingerprint: entry.fingerprint };
            let slot = baseline.entries.entry(key).or_insert(Entry { scope: entry.scope, code: entry.code, count: 0 });
            slot.count += entry.count;
        }
        Ok(baseline)
    }
}

fn key_of(path: &str, source: &str, diagnostic: &Diagnostic) -> (Key, String) {
    let code = normalized(source.get(diagnostic.span.range()).unwrap_or_default());
    let scope = diagnostic.scope.as_deref().unwrap_or_default();
    let rule = diagnostic.rule.code();
    let fingerprint = format!("{:016x}", fnv1a([rule, scope, &code].join("\0").as_bytes()));
    let shown = if code.chars().count() > SHOWN_CODE_CHARS {
        let mut short: String = code.chars().take(SHOWN_CODE_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        code
    };
    (Key { path: path.to_string(), rule: rule.to_string(), fingerprint }, shown)
}

/// The code without whitespace: re-indenting or re-wrapping a call keeps its fingerprint.
fn normalized(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

/// FNV-1a, 64 bits: stable across versions and platforms, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::rule::Rule;

    fn finding(source: &str, needle: &str, scope: &str) -> Diagnostic {
        let at = source.find(needle).expect("needle");
        let mut d = Diagnostic::new(Rule::NeverClosed, Span::new(at, at + needle.len()), "leak");
        d.scope = Some(scope.to_string());
        d
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn moved_and_rewrapped_code_still_matches_and_new_code_does_not() {
        let before = "def f(p):\n    c = connect(p)\n";
        let mut baseline = Baseline::default();
        baseline.add("app.py", before, &finding(before, "connect(p)", "f"));

        let after =
            "import os\n\n\ndef g():\n    pass\n\ndef f(p):\n    c = connect(\n        p)\n    d = connect(p)\n";
        let mut found = vec![
            finding(after, "connect(\n        p)", "f"),
            finding(after, "connect(p)", "f"),
            finding(after, "connect(p)", "g"),
        ];
        let matched = baseline.filter("app.py", after, &mut found);
        assert_eq!(matched.hidden, 1, "the count is used up by the first identical finding");
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].scope.as_deref(), Some("g"));
        assert_eq!(baseline.unmatched(), 0);
    }

    #[test]
    fn another_file_or_rule_does_not_match() {
        let source = "c = connect(p)\n";
        let mut baseline = Baseline::default();
        baseline.add("a.py", source, &finding(source, "connect(p)", ""));
        let mut found = vec![finding(source, "connect(p)", "")];
        assert_eq!(baseline.filter("b.py", source, &mut found).hidden, 0);
        found[0].rule = Rule::CloseSkippedOnError;
        assert_eq!(baseline.filter("a.py", source, &mut found).hidden, 0);
        assert_eq!(baseline.unmatched(), 1);
    }

    #[test]
    fn the_file_round_trips_sorted_and_rejects_other_versions() {
        let source = "x = connect(a)\ny = connect(b)\n";
        let mut baseline = Baseline::default();
        baseline.add("z.py", source, &finding(source, "connect(b)", "h"));
        baseline.add("a.py", source, &finding(source, "connect(a)", "h"));
        baseline.add("a.py", source, &finding(source, "connect(a)", "h"));
        let json = baseline.to_json();
        assert!(json.find("\"a.py\"").unwrap() < json.find("\"z.py\"").unwrap());
        assert!(json.contains("\"count\": 2"));
        assert_eq!(Baseline::from_json(&json).unwrap(), baseline);
        assert_eq!(Baseline::from_json(&json).unwrap().to_json(), json, "stable for diffs");
        let future = json.replace("\"version\": 1", "\"version\": 9");
        assert!(Baseline::from_json(&future).unwrap_err().contains("version 9"));
        assert!(Baseline::from_json("{").is_err());
    }
}
