//! `connlint server`: a language server over stdio, so that an editor shows connlint's findings
//! while the code is typed and applies its fixes.
//!
//! The main loop is synchronous: it reads the client's messages and the analysis thread's
//! results from one channel and answers each in turn. Analysis runs on its own thread
//! ([`worker`]), so a large file never holds up the protocol; each text of a document has a
//! revision, and a result for a text that has changed since is dropped, never published.
//!
//! Each document is analysed on its own, as it is in the editor (saved or not), with the
//! configuration the CLI would use for its file. Factories defined in other modules are not
//! followed (they live in other files); `connlint check` sees those.

mod actions;
mod convert;
mod document;
mod transport;
mod worker;
mod workspace;

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    ChangeNotifications, Code, CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProvider,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, HoverParams, HoverProvider, InitializeResult, LanguageKind,
    LogMessageParams, MessageType, PositionEncodingKind, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    ShowMessageParams, TextDocumentSync, TextDocumentSyncKind, TextDocumentSyncOptions, Uri,
    WorkspaceFoldersServerCapabilities, WorkspaceOptions,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::SourceKind;
use crate::diagnostic::{Diagnostic, Span};
use crate::rule::Rule;
use document::{Analysis, Document, Encoding};
use transport::{Incoming, Outgoing};
pub use worker::Analyser;
use worker::{Failure, Job, Outcome, Task};

/// What the main loop waits for.
#[derive(Debug)]
pub enum Event {
    Client(Incoming),
    Analysed(Outcome),
}

/// Runs the server on stdin and stdout until the client says `exit` (or goes away).
pub fn run() -> ExitCode {
    let input = || std::io::stdin().lock();
    let output = || std::io::stdout().lock();
    ExitCode::from(serve_streams(input, output, Arc::new(crate::run::lint_document)))
}

/// The server on any byte streams (stdin and stdout for [`run`]; in-memory bytes for the fuzz
/// target): a reader thread frames the client's messages from `input()`, a writer thread frames
/// the answers into `output()`, and [`serve`] runs on this thread. Returns the exit status. The
/// reader thread is not waited for: on stdin it blocks until the client closes the pipe.
pub fn serve_streams<R, W>(
    input: impl FnOnce() -> R + Send + 'static,
    output: impl FnOnce() -> W + Send + 'static,
    analyser: Analyser,
) -> u8
where
    R: std::io::BufRead,
    W: std::io::Write,
{
    let (events, received) = mpsc::channel::<Event>();
    let (values, to_write) = mpsc::channel::<Value>();
    let writer = std::thread::Builder::new()
        .name("connlint-lsp-writer".to_string())
        .spawn(move || transport::write_all(output(), to_write));
    let reader_events = events.clone();
    let reader = std::thread::Builder::new()
        .name("connlint-lsp-reader".to_string())
        .spawn(move || transport::read_all(input(), |incoming| reader_events.send(Event::Client(incoming)).is_ok()));
    let (Ok(writer), Ok(_)) = (writer, reader) else {
        eprintln!("connlint: error: cannot start the language server's threads");
        return 2;
    };
    let code = serve(events, received, Outgoing(values), analyser);
    // The writer ends once every message is written: the server, its only sender, is gone.
    writer.join().ok();
    code
}

/// The main loop, on any channels: returns the exit status (0 after `shutdown` then `exit`).
pub fn serve(events: Sender<Event>, received: Receiver<Event>, out: Outgoing, analyser: Analyser) -> u8 {
    let tasks = match worker::spawn(analyser, move |outcome| {
        events.send(Event::Analysed(outcome)).ok();
    }) {
        Ok(tasks) => tasks,
        Err(err) => {
            eprintln!("connlint: error: cannot start the analysis thread: {err}");
            return 2;
        }
    };
    let mut server = Server::new(out, tasks);
    for event in received {
        match event {
            Event::Analysed(outcome) => server.on_outcome(outcome),
            Event::Client(Incoming::Message(Message::Notification(n))) if n.method == "exit" => break,
            Event::Client(Incoming::Message(message)) => {
                // A bug in a handler must not take the editor's server down with it.
                let id = match &message {
                    Message::Request(request) => Some(request.id.clone()),
                    _ => None,
                };
                let method = match &message {
                    Message::Request(Request { method, .. }) | Message::Notification(Notification { method, .. }) => {
                        method.clone()
                    }
                    Message::Response(_) => "a response".to_string(),
                };
                if std::panic::catch_unwind(AssertUnwindSafe(|| server.on_message(message))).is_err() {
                    let text = format!("connlint: internal error while handling {method} (please report it)");
                    if let Some(id) = id {
                        server.out.send(Response::new_err(id, ErrorCode::InternalError as i32, text.clone()));
                    }
                    server.log(MessageType::Error, text);
                }
            }
            Event::Client(Incoming::Malformed { id, code, message }) => {
                server.out.send_raw(transport::error_response(id, code, &message));
                server.log(MessageType::Warning, format!("connlint: ignored a malformed message: {message}"));
            }
            Event::Client(Incoming::Closed) => break,
        }
    }
    if server.state == State::ShutDown { 0 } else { 1 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Uninitialized,
    Running,
    ShutDown,
}

/// What the client said it supports.
#[derive(Debug, Default)]
struct Client {
    /// `documentChanges` in workspace edits, so that edits carry the document version.
    versioned_edits: bool,
    /// `client/registerCapability` for `workspace/didChangeWatchedFiles`.
    watches_files: bool,
}

type Answer = Result<Value, (ErrorCode, String)>;

struct Server {
    out: Outgoing,
    tasks: Sender<Task>,
    state: State,
    encoding: Encoding,
    client: Client,
    folders: Vec<PathBuf>,
    documents: HashMap<String, Document>,
    /// The last revision given to a document text.
    revision: u64,
    /// Requests sent to the client so far (for their ids).
    sent: u64,
    /// Configuration errors already shown, so that each is shown once until the files change.
    shown: HashSet<String>,
}

impl Server {
    fn new(out: Outgoing, tasks: Sender<Task>) -> Server {
        Server {
            out,
            tasks,
            state: State::Uninitialized,
            encoding: Encoding::Utf16,
            client: Client::default(),
            folders: Vec::new(),
            documents: HashMap::new(),
            revision: 0,
            sent: 0,
            shown: HashSet::new(),
        }
    }

    fn on_message(&mut self, message: Message) {
        match message {
            Message::Request(request) => {
                let id = request.id.clone();
                let answer = self.on_request(request);
                self.out.send(match answer {
                    Ok(result) => Response::new_ok(id, result),
                    Err((code, message)) => Response::new_err(id, code as i32, message),
                });
            }
            Message::Notification(notification) => {
                if self.state == State::Running {
                    self.on_notification(notification);
                }
            }
            Message::Response(response) => {
                if let Err(error) = response.response_result {
                    self.log(
                        MessageType::Warning,
                        format!("connlint: the client refused a request: {}", error.message),
                    );
                }
            }
        }
    }

    fn on_request(&mut self, request: Request) -> Answer {
        match (self.state, request.method.as_str()) {
            (State::Uninitialized, "initialize") => self.initialize(request.params),
            (State::Uninitialized, _) => Err((ErrorCode::ServerNotInitialized, "the server is not initialized".into())),
            (State::ShutDown, _) => Err((ErrorCode::InvalidRequest, "the server is shutting down".into())),
            (State::Running, "initialize") => {
                Err((ErrorCode::InvalidRequest, "the server is already initialized".into()))
            }
            (State::Running, "shutdown") => {
                self.state = State::ShutDown;
                Ok(Value::Null)
            }
            (State::Running, "textDocument/hover") => self.hover(params(request.params)?),
            (State::Running, "textDocument/codeAction") => self.code_action(params(request.params)?),
            (State::Running, method) => {
                Err((ErrorCode::MethodNotFound, format!("connlint does not handle `{method}`")))
            }
        }
    }

    fn on_notification(&mut self, notification: Notification) {
        let handled = match notification.method.as_str() {
            "initialized" => {
                self.watch_config_files();
                Ok(())
            }
            "textDocument/didOpen" => params(notification.params).map(|p| self.did_open(p)),
            "textDocument/didChange" => params(notification.params).map(|p| self.did_change(p)),
            "textDocument/didClose" => params(notification.params).map(|p| self.did_close(p)),
            "workspace/didChangeWatchedFiles" => params(notification.params).map(|p| self.did_change_watched_files(p)),
            "workspace/didChangeWorkspaceFolders" => params(notification.params).map(|p| self.did_change_folders(p)),
            _ => Ok(()),
        };
        if let Err((_, message)) = handled {
            self.log(MessageType::Warning, format!("connlint: ignored `{}`: {message}", notification.method));
        }
    }

    fn initialize(&mut self, params: Value) -> Answer {
        let capabilities = &params["capabilities"];
        let encodings = capabilities["general"]["positionEncodings"].as_array();
        if encodings.is_some_and(|list| list.iter().any(|e| e == "utf-8")) {
            self.encoding = Encoding::Utf8;
        }
        self.client = Client {
            versioned_edits: capabilities["workspace"]["workspaceEdit"]["documentChanges"] == true,
            watches_files: capabilities["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true,
        };
        let folders = params["workspaceFolders"].as_array().map(|list| {
            list.iter().filter_map(|f| f["uri"].as_str()).filter_map(workspace::uri_to_path).collect::<Vec<_>>()
        });
        let root = params["rootUri"]
            .as_str()
            .and_then(workspace::uri_to_path)
            .or_else(|| params["rootPath"].as_str().map(PathBuf::from));
        self.folders = folders.unwrap_or_else(|| root.into_iter().collect());
        self.tasks.send(Task::Folders(self.folders.clone())).ok();
        self.state = State::Running;

        let capabilities = ServerCapabilities {
            position_encoding: Some(match self.encoding {
                Encoding::Utf8 => PositionEncodingKind::UTF8,
                Encoding::Utf16 => PositionEncodingKind::UTF16,
            }),
            text_document_sync: Some(TextDocumentSync::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::Incremental),
                ..TextDocumentSyncOptions::default()
            })),
            hover_provider: Some(HoverProvider::Bool(true)),
            code_action_provider: Some(CodeActionProvider::CodeActionOptions(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QuickFix,
                    CodeActionKind::from(actions::FIX_ALL_KIND.to_string()),
                ]),
                resolve_provider: Some(false),
                ..CodeActionOptions::default()
            })),
            workspace: Some(WorkspaceOptions {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(ChangeNotifications::Bool(true)),
                }),
                ..WorkspaceOptions::default()
            }),
            ..ServerCapabilities::default()
        };
        let server_info =
            ServerInfo { name: "connlint".to_string(), version: Some(env!("CARGO_PKG_VERSION").to_string()) };
        to_json(&InitializeResult { capabilities, server_info: Some(server_info) })
    }

    /// Asks the client to report changes to the configuration files, when it can.
    fn watch_config_files(&mut self) {
        if !self.client.watches_files {
            return;
        }
        let watchers: Vec<Value> =
            crate::config::CONFIG_FILES.iter().map(|name| json!({ "globPattern": format!("**/{name}") })).collect();
        let registration = json!({ "registrations": [{
            "id": "connlint-configuration-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": { "watchers": watchers },
        }]});
        self.sent += 1;
        let id = RequestId::from(format!("connlint-{}", self.sent));
        self.out.send(Request::new(id, "client/registerCapability".to_string(), registration));
    }

    fn did_open(&mut self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let path = workspace::uri_to_path(&item.uri.0).map(|p| std::fs::canonicalize(&p).unwrap_or(p));
        let kind = match item.language_id {
            LanguageKind::Python => Some(SourceKind::Python),
            LanguageKind::Rust => Some(SourceKind::Rust),
            _ => path.as_deref().and_then(SourceKind::of_path),
        };
        self.revision += 1;
        let mut doc = Document::new(kind, item.version, self.revision, item.text);
        doc.path = path;
        self.documents.insert(item.uri.0.clone(), doc);
        self.analyse(&item.uri.0);
    }

    fn did_change(&mut self, params: DidChangeTextDocumentParams) {
        let id = params.text_document.text_document_identifier.uri.0;
        let Some(doc) = self.documents.get_mut(&id) else {
            self.log(MessageType::Warning, format!("connlint: a change to {id}, which is not open, was ignored"));
            return;
        };
        doc.apply_changes(params.content_changes, self.encoding);
        doc.version = params.text_document.version;
        self.revision += 1;
        doc.revision = self.revision;
        self.analyse(&id);
    }

    fn did_close(&mut self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        if self.documents.remove(&uri.0).is_some() {
            self.publish(PublishDiagnosticsParams { uri, version: None, diagnostics: Vec::new() });
        }
    }

    fn did_change_watched_files(&mut self, params: DidChangeWatchedFilesParams) {
        let config_changed = params
            .changes
            .iter()
            .filter_map(|change| workspace::uri_to_path(&change.uri.0))
            .any(|path| workspace::is_config_file(&path));
        if config_changed {
            self.shown.clear();
            self.tasks.send(Task::Reload).ok();
            self.analyse_all();
        }
    }

    fn did_change_folders(&mut self, params: DidChangeWorkspaceFoldersParams) {
        let removed: Vec<PathBuf> =
            params.event.removed.iter().filter_map(|f| workspace::uri_to_path(&f.uri.0)).collect();
        self.folders.retain(|f| !removed.contains(f));
        self.folders.extend(params.event.added.iter().filter_map(|f| workspace::uri_to_path(&f.uri.0)));
        self.tasks.send(Task::Folders(self.folders.clone())).ok();
        self.analyse_all();
    }

    /// Gives every open document a new revision and analyses it again (the configuration changed).
    fn analyse_all(&mut self) {
        let uris: Vec<String> = self.documents.keys().cloned().collect();
        for uri in uris {
            if let Some(doc) = self.documents.get_mut(&uri) {
                self.revision += 1;
                doc.revision = self.revision;
            }
            self.analyse(&uri);
        }
    }

    /// Hands the document's current text to the analysis thread.
    fn analyse(&mut self, uri: &str) {
        let Some(doc) = self.documents.get(uri) else { return };
        let Some(kind) = doc.kind else { return };
        let job = Job {
            uri: uri.to_string(),
            revision: doc.revision,
            path: doc.path.clone(),
            kind,
            text: doc.text().clone(),
        };
        self.tasks.send(Task::Analyse(job)).ok();
    }

    /// A result of the analysis thread: published if it is for the document's current text.
    fn on_outcome(&mut self, outcome: Outcome) {
        let Some(doc) = self.documents.get(&outcome.uri) else { return };
        if doc.revision != outcome.revision {
            return;
        }
        let diagnostics = match outcome.result {
            Ok(diagnostics) => diagnostics,
            Err(Failure::Config(message)) => {
                if self.shown.insert(message.clone()) {
                    let params =
                        ShowMessageParams { kind: MessageType::Error, message: format!("connlint: {message}") };
                    self.notify("window/showMessage", &params);
                }
                Vec::new()
            }
            Err(Failure::Panic(message)) => {
                let text =
                    format!("connlint: internal error while checking {} (please report it): {message}", outcome.uri);
                self.log(MessageType::Error, text);
                vec![Diagnostic::new(
                    Rule::ParseError,
                    Span::new(0, 0),
                    "internal error while checking this file (please report it); the server goes on",
                )]
            }
        };
        let Some(doc) = self.documents.get_mut(&outcome.uri) else { return };
        doc.analysis = Some(Analysis { revision: outcome.revision, diagnostics: Arc::new(diagnostics) });
        let doc = &self.documents[&outcome.uri];
        let diagnostics = doc.current_diagnostics().unwrap_or_default();
        let converted = diagnostics
            .iter()
            .map(|d| convert::diagnostic(doc, &outcome.uri, d, self.encoding, doc.path.as_deref()))
            .collect();
        let params = PublishDiagnosticsParams {
            uri: Uri::from(outcome.uri),
            version: Some(doc.version),
            diagnostics: converted,
        };
        self.publish(params);
    }

    fn publish(&self, params: PublishDiagnosticsParams) {
        self.notify("textDocument/publishDiagnostics", &params);
    }

    fn document(&self, uri: &Uri) -> Result<&Document, (ErrorCode, String)> {
        self.documents
            .get(&uri.0)
            .ok_or_else(|| (ErrorCode::InvalidParams, format!("the document {} is not open", uri.0)))
    }

    fn hover(&self, params: HoverParams) -> Answer {
        let position = params.text_document_position_params;
        let doc = self.document(&position.text_document.uri)?;
        let offset = doc.offset(position.position, self.encoding);
        to_json(&actions::hover(doc, offset, self.encoding))
    }

    fn code_action(&self, params: CodeActionParams) -> Answer {
        let uri = &params.text_document.uri;
        let doc = self.document(uri)?;
        let request = actions::Request {
            uri: &uri.0,
            path: doc.path.as_deref(),
            span: doc.span(params.range, self.encoding),
            named: params
                .context
                .diagnostics
                .iter()
                .filter_map(|d| match &d.code {
                    Some(Code::String(code)) => Some((Rule::from_code(code)?, doc.span(d.range, self.encoding))),
                    _ => None,
                })
                .collect(),
            only: params.context.only.map(|kinds| kinds.into_iter().map(String::from).collect()),
            encoding: self.encoding,
            versioned: self.client.versioned_edits,
        };
        to_json(&actions::code_actions(doc, &request))
    }

    fn notify(&self, method: &str, params: &impl serde::Serialize) {
        let params = serde_json::to_value(params).unwrap_or(Value::Null);
        self.out.send(Notification::new(method.to_string(), params));
    }

    fn log(&self, kind: MessageType, message: String) {
        self.notify("window/logMessage", &LogMessageParams { kind, message });
    }
}

fn params<T: DeserializeOwned>(value: Value) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(value).map_err(|err| (ErrorCode::InvalidParams, format!("invalid parameters: {err}")))
}

fn to_json(value: &impl serde::Serialize) -> Answer {
    serde_json::to_value(value).map_err(|err| (ErrorCode::InternalError, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// A server on channels, with a stand-in analysis.
    struct Harness {
        events: Sender<Event>,
        out: Receiver<Value>,
        server: JoinHandle<u8>,
    }

    impl Harness {
        fn start(analyser: Analyser) -> Harness {
            let (events, received) = mpsc::channel();
            let (values, out) = mpsc::channel();
            let server_events = events.clone();
            let server = std::thread::spawn(move || serve(server_events, received, Outgoing(values), analyser));
            let harness = Harness { events, out, server };
            harness.send(json!({ "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
            harness.next(|m| m["id"] == 1);
            harness.send(json!({ "method": "initialized", "params": {} }));
            harness
        }

        fn send(&self, message: Value) {
            let message: Message = serde_json::from_value(message).expect("a message");
            self.events.send(Event::Client(Incoming::Message(message))).expect("the server listens");
        }

        fn change(&self, version: i32, text: &str) {
            let document = json!({ "uri": "untitled:1", "version": version });
            let params = json!({ "textDocument": document, "contentChanges": [{ "text": text }] });
            self.send(json!({ "method": "textDocument/didChange", "params": params }));
        }

        /// The next message `wanted` accepts; the others are skipped.
        fn next(&self, wanted: impl Fn(&Value) -> bool) -> Value {
            loop {
                let message = self.out.recv_timeout(Duration::from_secs(30)).expect("a message from the server");
                if wanted(&message) {
                    return message;
                }
            }
        }

        fn published(&self) -> Value {
            self.next(|m| m["method"] == "textDocument/publishDiagnostics")["params"].clone()
        }

        fn shut_down(self) -> u8 {
            self.send(json!({ "id": 2, "method": "shutdown" }));
            self.send(json!({ "method": "exit" }));
            self.server.join().expect("the server ends")
        }
    }

    fn open(text: &str) -> Value {
        let item = json!({ "uri": "untitled:1", "languageId": "python", "version": 1, "text": text });
        json!({ "method": "textDocument/didOpen", "params": { "textDocument": item } })
    }

    /// A finding whose message is the analysed text.
    fn echo(text: &str) -> Vec<Diagnostic> {
        vec![Diagnostic::new(Rule::NeverClosed, Span::new(0, 1), text)]
    }

    #[test]
    fn a_result_for_an_outdated_version_is_dropped() {
        let (started, on_start) = mpsc::channel::<()>();
        let (release, wait) = mpsc::channel::<()>();
        let wait = Mutex::new(wait);
        let analyser: Analyser = Arc::new(move |_, _, text, _, _| {
            if text == "slow" {
                started.send(()).ok();
                wait.lock().expect("lock").recv().ok();
            }
            echo(text)
        });
        let harness = Harness::start(analyser);
        harness.send(open("slow"));
        on_start.recv_timeout(Duration::from_secs(30)).expect("the analysis starts");
        // The protocol goes on while the analysis runs.
        let position = json!({ "textDocument": { "uri": "untitled:1" }, "position": { "line": 0, "character": 0 } });
        harness.send(json!({ "id": 5, "method": "textDocument/hover", "params": position }));
        assert_eq!(harness.next(|m| m["id"] == 5)["result"], Value::Null);
        // The change reaches the main loop before the slow result does.
        harness.change(2, "fast");
        release.send(()).expect("release");
        let published = harness.published();
        assert_eq!(published["version"], 2, "{published:#}");
        assert_eq!(published["diagnostics"][0]["message"], "fast");
        assert_eq!(harness.shut_down(), 0);
    }

    #[test]
    fn a_panic_in_one_analysis_is_logged_and_the_server_goes_on() {
        let analyser: Analyser = Arc::new(|_, _, text, _, _| {
            assert!(!text.contains("boom"), "the analysis exploded");
            echo(text)
        });
        let harness = Harness::start(analyser);
        harness.send(open("boom"));
        let logged = harness.next(|m| m["method"] == "window/logMessage");
        assert_eq!(logged["params"]["type"], 1);
        let message = logged["params"]["message"].as_str().expect("text");
        assert!(message.contains("internal error") && message.contains("the analysis exploded"), "{message}");
        let published = harness.published();
        assert_eq!(published["diagnostics"][0]["code"], "CL000");
        harness.change(2, "fine");
        assert_eq!(harness.published()["diagnostics"][0]["message"], "fine");
        assert_eq!(harness.shut_down(), 0);
    }

    /// What the writer thread wrote, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn streamed(input: Vec<u8>) -> (u8, String) {
        let written = Written::default();
        let output = written.clone();
        let analyser: Analyser = Arc::new(|_, _, text, _, _| echo(text));
        let code = serve_streams(move || std::io::Cursor::new(input), move || output, analyser);
        let text = String::from_utf8(written.0.lock().expect("lock").clone()).expect("UTF-8");
        (code, text)
    }

    fn framed(messages: &[Value]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for message in messages {
            let body = message.to_string();
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        }
        bytes
    }

    /// The in-memory streams the fuzz target drives: a whole session from bytes to bytes.
    #[test]
    fn serve_streams_runs_a_session_from_bytes() {
        let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } });
        let shutdown = json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" });
        let exit = json!({ "jsonrpc": "2.0", "method": "exit" });
        let (code, written) = streamed(framed(&[initialize.clone(), shutdown, exit]));
        assert_eq!(code, 0, "{written}");
        assert!(written.starts_with("Content-Length: "), "{written}");
        assert!(written.contains(r#""capabilities""#) && written.contains(r#""id":2"#), "{written}");

        // A client that announces more than it sends and goes away: no shutdown, status 1, and
        // the announced length is never allocated ahead.
        let mut input = framed(&[initialize]);
        input.extend_from_slice(b"Content-Length: 200000000\r\n\r\n{\"id\":");
        let (code, written) = streamed(input);
        assert_eq!(code, 1, "{written}");
    }
}
