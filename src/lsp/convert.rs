//! connlint's diagnostics and edits in LSP terms.
//!
//! `codeDescription` links to the rule's doc in the repository (`rules/CLxxx.md` on the `main`
//! branch) when the package names an `https` repository; without a stable address it is left out,
//! and the hover shows the same doc.

use std::collections::HashMap;
use std::path::Path;

use lsp_types::{
    Code, CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DocumentChange, Location, Message,
    OptionalVersionedTextDocumentIdentifier, Position, Range, TextDocumentEdit, TextDocumentIdentifier, TextEdit, Uri,
    WorkspaceEdit,
};
use serde_json::json;

use super::document::{Document, Encoding};
use super::workspace;
use crate::diagnostic::{Diagnostic, Edit, Severity};
use crate::rule::Rule;

/// Where the rule docs are published, if anywhere: the package's repository.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The address of a rule's doc, when the package has a repository to point into.
pub fn rule_href(rule: Rule) -> Option<String> {
    REPOSITORY
        .starts_with("https://")
        .then(|| format!("{}/blob/main/rules/{}.md", REPOSITORY.trim_end_matches('/'), rule.code()))
}

/// One connlint diagnostic as the editor shows it. `path` is the document's file, if it is one:
/// the analysis names it by its absolute path, and other files relative to it.
pub fn diagnostic(
    doc: &Document,
    uri: &str,
    d: &Diagnostic,
    encoding: Encoding,
    path: Option<&Path>,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let labels = d.labels.iter().map(|label| DiagnosticRelatedInformation {
        location: Location { uri: Uri::from(uri), range: doc.range(label.span, encoding) },
        message: label.message.clone(),
    });
    let elsewhere = d.related.iter().map(|related| {
        let line = u32::try_from(related.line.saturating_sub(1)).unwrap_or(u32::MAX);
        let at = Position { line, character: 0 };
        let other = Path::new(&related.path);
        let uri = match path {
            Some(path) if other == path => uri.to_string(),
            Some(path) if other.is_relative() => {
                workspace::path_to_uri(&path.parent().unwrap_or(Path::new("/")).join(other))
            }
            _ => workspace::path_to_uri(other),
        };
        DiagnosticRelatedInformation {
            location: Location { uri: Uri::from(uri), range: Range { start: at, end: at } },
            message: related.message.clone(),
        }
    });
    let related: Vec<DiagnosticRelatedInformation> = labels.chain(elsewhere).collect();
    lsp_types::Diagnostic {
        range: doc.range(d.span, encoding),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::Error,
            Severity::Warning => DiagnosticSeverity::Warning,
            Severity::Info => DiagnosticSeverity::Information,
        }),
        code: Some(Code::String(d.rule.code().to_string())),
        code_description: rule_href(d.rule).map(|href| CodeDescription { href: Uri::from(href) }),
        source: Some("connlint".to_string()),
        message: Message::String(message),
        tags: None,
        related_information: (!related.is_empty()).then_some(related),
        data: d.fix.as_ref().map(|fix| {
            let edits: Vec<TextEdit> = fix.edits.iter().map(|edit| text_edit(doc, edit, encoding)).collect();
            json!({ "fix": { "message": fix.message, "applicability": fix.applicability.as_str(), "edits": edits } })
        }),
    }
}

pub fn text_edit(doc: &Document, edit: &Edit, encoding: Encoding) -> TextEdit {
    TextEdit { range: doc.range(edit.span, encoding), new_text: edit.content.clone() }
}

/// A workspace edit of one document: versioned (`documentChanges`), so that the editor refuses
/// it if the text changed since, when the client supports that.
pub fn workspace_edit<'a>(
    doc: &Document,
    uri: &str,
    edits: impl IntoIterator<Item = &'a Edit>,
    encoding: Encoding,
    versioned: bool,
) -> WorkspaceEdit {
    let edits: Vec<TextEdit> = edits.into_iter().map(|edit| text_edit(doc, edit, encoding)).collect();
    if versioned {
        let document = TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                version: Some(doc.version),
                text_document_identifier: TextDocumentIdentifier { uri: Uri::from(uri) },
            },
            edits: edits.into_iter().map(lsp_types::Edit::TextEdit).collect(),
        };
        WorkspaceEdit {
            changes: None,
            document_changes: Some(vec![DocumentChange::TextDocumentEdit(document)]),
            change_annotations: None,
        }
    } else {
        WorkspaceEdit {
            changes: Some(HashMap::from([(Uri::from(uri), edits)])),
            document_changes: None,
            change_annotations: None,
        }
    }
}
