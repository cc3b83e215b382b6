//! `--output-format sarif`: a SARIF 2.1.0 log of the whole run, as GitHub code scanning takes it.
//!
//! Every rule is described in `tool.driver.rules` from its doc in `rules/` (the single source),
//! whether or not it fired, so that `ruleIndex` is stable. Locations are relative to `%SRCROOT%`,
//! the folder the run started in, which `originalUriBaseIds` names; columns count Unicode code
//! points, as `columnKind` says.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::{FileReport, Region, Run, TOOL_NAME, TOOL_VERSION};
use crate::diagnostic::{Diagnostic, Fix, LineIndex, Severity, Span};
use crate::rule::{Language, Rule, section};

const SCHEMA_URI: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun {
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<std::collections::BTreeMap<&'static str, BaseUri>>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
    invocations: [Invocation; 1],
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

impl Text {
    fn new(text: impl Into<String>) -> Text {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<SarifRegion>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
}

impl From<Region> for SarifRegion {
    fn from(region: Region) -> SarifRegion {
        SarifRegion {
            start_line: region.start.line,
            start_column: Some(region.start.column),
            end_line: Some(region.end.line),
            end_column: Some(region.end.column),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: [ArtifactChange; 1],
    properties: FixProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: SarifRegion,
    inserted_content: Text,
}

#[derive(Serialize)]
struct FixProperties {
    applicability: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: [Location; 1],
}

pub fn render(run: &Run) -> String {
    let base = run.base.as_deref().map(normalize);
    let locate = |path: &str| artifact_location(path, base.as_deref());
    let mut results = Vec::with_capacity(run.diagnostic_count());
    for file in &run.files {
        let index = LineIndex::new(file.source);
        let artifact = locate(file.path);
        results.extend(file.diagnostics.iter().map(|d| result(file, &index, &artifact, d, &locate)));
    }
    let notifications = run
        .errors
        .iter()
        .map(|e| Notification {
            level: "error",
            message: Text::new(&e.message),
            locations: [at(locate(&e.path), None)],
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [SarifRun {
            tool: Tool { driver: driver() },
            original_uri_base_ids: base.map(|b| [(SRCROOT, BaseUri { uri: folder_uri(&b) })].into_iter().collect()),
            column_kind: "unicodeCodePoints",
            results,
            invocations: [Invocation {
                execution_successful: run.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
        }],
    };
    super::json::to_pretty(&log)
}

fn driver() -> Driver {
    let information_uri =
        [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")].into_iter().find(|u| !u.is_empty());
    Driver {
        name: TOOL_NAME,
        version: TOOL_VERSION,
        semantic_version: TOOL_VERSION,
        information_uri,
        rules: Rule::ALL.iter().map(|&rule| descriptor(rule)).collect(),
    }
}

fn descriptor(rule: Rule) -> ReportingDescriptor {
    let doc = rule.doc();
    // The doc's paragraphs, without the line breaks they are wrapped at.
    let full = [section(doc, "What it does"), section(doc, "Why is this bad")]
        .iter()
        .flat_map(|s| s.split("\n\n"))
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let language = match rule.language() {
        Language::Python => Some("python"),
        Language::Rust => Some("rust"),
        Language::Any => None,
    };
    ReportingDescriptor {
        id: rule.code(),
        name: rule.name(),
        short_description: Text::new(rule.summary()),
        full_description: Text::new(full),
        help: Help { text: doc, markdown: doc },
        default_configuration: Configuration { level: level(rule.default_severity()) },
        properties: RuleProperties { tags: language.into_iter().collect() },
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_index(rule: Rule) -> usize {
    Rule::ALL.iter().position(|&r| r == rule).unwrap_or_default()
}

fn at(artifact_location: ArtifactLocation, region: Option<SarifRegion>) -> Location {
    Location { id: None, physical_location: PhysicalLocation { artifact_location, region }, message: None }
}

fn result(
    file: &FileReport,
    index: &LineIndex,
    artifact: &ArtifactLocation,
    d: &Diagnostic,
    locate: &dyn Fn(&str) -> ArtifactLocation,
) -> SarifResult {
    let region = |span: Span| SarifRegion::from(Region::of(index, file.source, span));
    let labels = d.labels.iter().map(|l| (artifact.clone(), Some(region(l.span)), &l.message));
    let related = d.related.iter().map(|r| {
        let line = SarifRegion { start_line: r.line.max(1), start_column: None, end_line: None, end_column: None };
        (locate(&r.path), Some(line), &r.message)
    });
    let related_locations = labels
        .chain(related)
        .enumerate()
        .map(|(id, (artifact, region, message))| Location {
            id: Some(id),
            message: Some(Text::new(message)),
            ..at(artifact, region)
        })
        .collect();
    SarifResult {
        rule_id: d.rule.code(),
        rule_index: rule_index(d.rule),
        level: level(d.severity),
        message: Text::new(&d.message),
        locations: [at(artifact.clone(), Some(region(d.span)))],
        related_locations,
        fixes: d.fix.iter().map(|fix: &Fix| sarif_fix(fix, artifact, &region)).collect(),
    }
}

fn sarif_fix(fix: &Fix, artifact: &ArtifactLocation, region: &dyn Fn(Span) -> SarifRegion) -> SarifFix {
    SarifFix {
        description: Text::new(&fix.message),
        artifact_changes: [ArtifactChange {
            artifact_location: artifact.clone(),
            replacements: fix
                .edits
                .iter()
                .map(|e| Replacement { deleted_region: region(e.span), inserted_content: Text::new(&e.content) })
                .collect(),
        }],
        properties: FixProperties { applicability: fix.applicability.as_str() },
    }
}

/// Where a file is, for SARIF: relative to `%SRCROOT%` when it is under the run's folder,
/// otherwise an absolute `file://` URI (or, with no folder known, a relative reference).
fn artifact_location(path: &str, base: Option<&Path>) -> ArtifactLocation {
    let path = Path::new(path);
    match base {
        Some(base) => {
            let absolute = normalize(&base.join(path));
            match absolute.strip_prefix(base) {
                Ok(relative) => ArtifactLocation { uri: relative_uri(relative), uri_base_id: Some(SRCROOT) },
                Err(_) => ArtifactLocation { uri: file_uri(&absolute), uri_base_id: None },
            }
        }
        None if path.has_root() => ArtifactLocation { uri: file_uri(&normalize(path)), uri_base_id: None },
        None => ArtifactLocation { uri: relative_uri(&normalize(path)), uri_base_id: None },
    }
}

/// Removes `.` and resolves `..` by the names alone (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let ends_in_name = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if ends_in_name {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A relative path as a URI reference: segments percent-encoded, joined by `/`.
fn relative_uri(path: &Path) -> String {
    let segments: Vec<String> = path
        .components()
        .map(|c| match c {
            Component::ParentDir => "..".to_string(),
            other => encode_segment(&other.as_os_str().to_string_lossy()),
        })
        .collect();
    segments.join("/")
}

/// An absolute path as a `file://` URI (`file:///home/me/x.py`, `file:///C:/Users/me/x.py`).
fn file_uri(path: &Path) -> String {
    let mut rest = String::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => {
                rest.push('/');
                // A drive letter keeps its colon (`C:`); anything else is encoded.
                rest.push_str(&encode(&prefix.as_os_str().to_string_lossy(), |b| b == b':'));
            }
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => rest.push_str("/.."),
            Component::Normal(name) => {
                rest.push('/');
                rest.push_str(&encode_segment(&name.to_string_lossy()));
            }
        }
    }
    if rest.is_empty() {
        rest.push('/');
    }
    format!("file://{rest}")
}

/// A folder as a `file://` URI with the trailing slash that makes it a base for relative ones.
fn folder_uri(path: &Path) -> String {
    let mut uri = file_uri(path);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes everything in one path segment but RFC 3986's unreserved characters.
fn encode_segment(segment: &str) -> String {
    encode(segment, |_| false)
}

fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') || keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::RunError;
    use crate::output::tests::{full_diagnostic, run_of};

    fn location(path: &str, base: Option<&str>) -> (String, Option<&'static str>) {
        let l = artifact_location(path, base.map(Path::new));
        (l.uri, l.uri_base_id)
    }

    #[test]
    fn paths_become_uris_relative_to_the_run_folder() {
        let cases: &[(&str, Option<&str>, &str, Option<&str>)] = &[
            ("app/db.py", Some("/work/p"), "app/db.py", Some(SRCROOT)),
            ("./app/./db.py", Some("/work/p"), "app/db.py", Some(SRCROOT)),
            ("/work/p/app/db.py", Some("/work/p"), "app/db.py", Some(SRCROOT)),
            ("sub/../app/db.py", Some("/work/p"), "app/db.py", Some(SRCROOT)),
            ("../q/x.py", Some("/work/p"), "file:///work/q/x.py", None),
            ("/elsewhere/x.py", Some("/work/p"), "file:///elsewhere/x.py", None),
            ("my app/100% sure#1?.py", Some("/work/p"), "my%20app/100%25%20sure%231%3F.py", Some(SRCROOT)),
            ("données/é.py", Some("/work/p"), "donn%C3%A9es/%C3%A9.py", Some(SRCROOT)),
            ("a:b.py", Some("/work/p"), "a%3Ab.py", Some(SRCROOT)),
            ("app/db.py", None, "app/db.py", None),
            ("../x.py", None, "../x.py", None),
            ("/abs/x.py", None, "file:///abs/x.py", None),
        ];
        for &(path, base, uri, base_id) in cases {
            assert_eq!(location(path, base), (uri.to_string(), base_id), "{path} from {base:?}");
        }
    }

    #[test]
    fn the_base_folder_uri_ends_with_a_slash() {
        assert_eq!(folder_uri(Path::new("/work/my project")), "file:///work/my%20project/");
        assert_eq!(folder_uri(Path::new("/")), "file:///");
    }

    #[test]
    fn results_carry_rule_level_region_labels_related_places_and_fixes() {
        let diagnostics = [full_diagnostic()];
        let errors = vec![RunError { path: "gone.py".into(), message: "no such file or directory".into() }];
        let run = Run { errors, base: Some(PathBuf::from("/work/p")), ..run_of(&diagnostics) };
        let log: serde_json::Value = serde_json::from_str(&render(&run)).expect("valid JSON");
        let run = &log["runs"][0];
        assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///work/p/");
        let result = &run["results"][0];
        assert_eq!(result["ruleId"], "CL101");
        assert_eq!(
            run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().expect("index") as usize]["id"],
            "CL101"
        );
        assert_eq!(result["level"], "error");
        assert_eq!(
            result["locations"][0]["physicalLocation"],
            serde_json::json!({
                "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 5, "startColumn": 10, "endLine": 5, "endColumn": 28},
            })
        );
        let related = result["relatedLocations"].as_array().expect("related locations");
        assert_eq!(related.len(), 2);
        assert_eq!(related[0]["message"]["text"], "only commits");
        assert_eq!(related[1]["id"], 1);
        assert_eq!(related[1]["physicalLocation"]["artifactLocation"]["uri"], "db/helpers.py");
        assert_eq!(related[1]["physicalLocation"]["region"], serde_json::json!({"startLine": 3}));
        let fix = &result["fixes"][0];
        assert_eq!(fix["description"]["text"], "Wrap in `closing`");
        assert_eq!(fix["properties"]["applicability"], "safe");
        let replacements = fix["artifactChanges"][0]["replacements"].as_array().expect("replacements");
        assert_eq!(replacements.len(), 3);
        assert_eq!(replacements[1]["insertedContent"]["text"], "closing(");
        assert_eq!(
            replacements[1]["deletedRegion"],
            serde_json::json!({"startLine": 5, "startColumn": 10, "endLine": 5, "endColumn": 10})
        );
        let invocation = &run["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(invocation["toolExecutionNotifications"][0]["message"]["text"], "no such file or directory");
    }

    #[test]
    fn every_rule_is_described_from_its_doc() {
        let driver = driver();
        assert_eq!(driver.rules.len(), Rule::ALL.len());
        for (rule, descriptor) in Rule::ALL.iter().zip(&driver.rules) {
            assert_eq!(descriptor.id, rule.code());
            assert!(!descriptor.short_description.text.is_empty(), "{rule}");
            let full = &descriptor.full_description.text;
            assert!(full.starts_with(&rule.summary()), "{rule}: {full}");
            let why: Vec<&str> = section(rule.doc(), "Why is this bad").split_whitespace().take(4).collect();
            assert!(full.contains(&why.join(" ")), "{rule}: the why is there too");
            assert!(!full.split("\n\n").any(|p| p.contains('\n')), "{rule}: paragraphs are unwrapped");
            assert!(!descriptor.full_description.text.contains("## "), "{rule}: headings stay out");
            assert_eq!(descriptor.help.markdown, rule.doc());
        }
    }
}
