//! `connlint server` as an editor meets it: LSP over stdio (Content-Length framing) to the built
//! binary. Every read has a timeout, so a hung server fails the test instead of hanging it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

fn project(files: &[(&str, &str)]) -> PathBuf {
    common::project(files)
}

const TIMEOUT: Duration = Duration::from_secs(30);

const LEAKY_PY: &str = "import sqlite3\n\n\ndef count(path):\n    with sqlite3.connect(path) as conn:\n        return conn.execute(\"select 1\").fetchone()\n";
const LEAKY_RS: &str = "use std::mem;\n\nuse rusqlite::Connection;\n\nfn forgotten(path: &str) {\n    let conn = Connection::open(path).unwrap();\n    mem::forget(conn);\n}\n";
/// Two suppressions that suppress nothing (CL001, which carries a fix).
const STALE_PY: &str =
    "import sqlite3  # connlint: ignore[CL102]\n\n\ndef count(path):  # connlint: ignore[CL103]\n    return 1\n";

/// A connlint server process and what it has sent that no one has looked at yet.
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    unread: VecDeque<Value>,
    next_id: i64,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_connlint"))
            .arg("server")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("connlint server starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(message) = read_frame(&mut stdout) {
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        Server { child, stdin, messages, unread: VecDeque::new(), next_id: 0 }
    }

    /// Starts a server and initializes it with `capabilities` for the workspace folder `dir`.
    fn initialized(dir: &Path, capabilities: Value) -> (Server, Value) {
        let mut server = Server::start(dir);
        let params = json!({
            "processId": null,
            "rootUri": uri(dir),
            "capabilities": capabilities,
            "workspaceFolders": [{ "uri": uri(dir), "name": "project" }],
        });
        let result = server.request("initialize", params).expect("initialize succeeds");
        server.notify("initialized", json!({}));
        (server, result)
    }

    fn send(&mut self, message: &Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write header");
        self.stdin.write_all(body).expect("write body");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits for its response: the result, or the error object.
    fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response =
            self.wait_for(&format!("the response to {method}"), |m| m["id"] == id && m.get("method").is_none());
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response["result"].clone()),
        }
    }

    /// The first message (already received or still to come) that `wanted` accepts.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.unread.iter().position(&wanted) {
            return self.unread.remove(i).expect("index");
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(message) => self.unread.push_back(message),
                Err(_) => panic!("no {what} within {TIMEOUT:?}; received meanwhile: {:#?}", self.unread),
            }
        }
    }

    /// The next diagnostics published for `uri` (for document version `version`, if given).
    fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let message = self.wait_for(&format!("diagnostics for {uri} (version {version:?})"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && version.is_none_or(|v| m["params"]["version"] == v)
        });
        message["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    fn open(&mut self, uri: &str, language: &str, text: &str) -> Vec<Value> {
        let item = json!({ "uri": uri, "languageId": language, "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": item }));
        self.diagnostics(uri, Some(1))
    }

    fn change(&mut self, uri: &str, version: i64, changes: Value) -> Vec<Value> {
        let document = json!({ "uri": uri, "version": version });
        self.notify("textDocument/didChange", json!({ "textDocument": document, "contentChanges": changes }));
        self.diagnostics(uri, Some(version))
    }

    /// Shuts down and exits; returns the exit status.
    fn shut_down(mut self) -> Option<i32> {
        assert_eq!(self.request("shutdown", Value::Null), Ok(Value::Null));
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("the server did not exit within {TIMEOUT:?} of `exit`");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn read_frame(input: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse().ok();
        }
    }
    let mut body = vec![0; length?];
    input.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("?")).collect()
}

fn at(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn range(start: Value, end: Value) -> Value {
    json!({ "start": start, "end": end })
}

/// The text edits of a code action's workspace edit (`changes` or `documentChanges`).
fn edits_of(action: &Value) -> Vec<Value> {
    let edit = &action["edit"];
    if let Some(changes) = edit["documentChanges"].as_array() {
        return changes.iter().flat_map(|c| c["edits"].as_array().cloned().unwrap_or_default()).collect();
    }
    let changes = edit["changes"].as_object().expect("changes");
    changes.values().flat_map(|edits| edits.as_array().cloned().unwrap_or_default()).collect()
}

/// A code action's edits as `didChange` content changes, as an editor sends them after applying
/// it: last first, so that each range still means what it meant in the original text.
fn as_changes(action: &Value) -> Value {
    let mut edits = edits_of(action);
    edits.sort_by_key(|e| (e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()));
    edits.reverse();
    Value::Array(edits.into_iter().map(|e| json!({ "range": e["range"], "text": e["newText"] })).collect())
}

fn action_titled<'a>(actions: &'a Value, prefix: &str) -> &'a Value {
    let list = actions.as_array().expect("a list of actions");
    list.iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no action `{prefix}…` in {actions:#}"))
}

fn code_actions(server: &mut Server, uri: &str, at_range: Value, only: Option<&[&str]>) -> Value {
    code_actions_for(server, uri, at_range, only, &[])
}

/// The code actions for a range, naming `diagnostics` in the context as editors do.
fn code_actions_for(
    server: &mut Server,
    uri: &str,
    at_range: Value,
    only: Option<&[&str]>,
    diagnostics: &[Value],
) -> Value {
    let mut context = json!({ "diagnostics": diagnostics });
    if let Some(only) = only {
        context["only"] = json!(only);
    }
    server
        .request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": at_range, "context": context }),
        )
        .expect("code actions")
}

#[test]
fn leaky_python_and_rust_are_flagged_and_cleared_when_fixed() {
    let dir = project(&[("app.py", LEAKY_PY), ("lib.rs", LEAKY_RS)]);
    let (mut server, init) = Server::initialized(&dir, json!({}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(init["capabilities"]["textDocumentSync"]["change"], 2, "incremental sync");
    let py = uri(&dir.join("app.py"));
    let rs = uri(&dir.join("lib.rs"));

    let found = server.open(&py, "python", LEAKY_PY);
    assert_eq!(codes(&found), ["CL101"]);
    let d = &found[0];
    assert_eq!(d["range"], range(at(4, 9), at(4, 30)));
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "connlint");
    assert!(d["message"].as_str().unwrap().contains("never closed"), "{d:#}");
    assert!(d["message"].as_str().unwrap().contains("help: use `with closing("), "{d:#}");

    let found = server.open(&rs, "rust", LEAKY_RS);
    assert_eq!(codes(&found), ["CL201"]);
    assert_eq!(found[0]["range"]["start"], at(6, 4));

    // Fix both with incremental edits; the diagnostics of the new versions are empty.
    let fixed = server.change(
        &py,
        2,
        json!([
            { "range": range(at(4, 9), at(4, 30)), "text": "closing(sqlite3.connect(path))" },
            { "range": range(at(1, 0), at(1, 0)), "text": "from contextlib import closing\n" },
        ]),
    );
    assert_eq!(codes(&fixed), Vec::<&str>::new());
    let fixed = server.change(&rs, 2, json!([{ "range": range(at(6, 4), at(6, 15)), "text": "drop" }]));
    assert_eq!(codes(&fixed), Vec::<&str>::new());

    // Breaking it again brings the finding back; closing the document clears it.
    let again = server.change(&rs, 3, json!([{ "range": range(at(6, 4), at(6, 8)), "text": "mem::forget" }]));
    assert_eq!(codes(&again), ["CL201"]);
    server.notify("textDocument/didClose", json!({ "textDocument": { "uri": rs } }));
    assert_eq!(server.diagnostics(&rs, None), Vec::<Value>::new());

    assert_eq!(server.shut_down(), Some(0));
}

#[test]
fn quick_fixes_apply_and_ignore_comments_silence() {
    let dir = project(&[("stale.py", STALE_PY), ("app.py", LEAKY_PY)]);
    let capabilities = json!({ "workspace": { "workspaceEdit": { "documentChanges": true } } });
    let (mut server, _) = Server::initialized(&dir, capabilities);
    let stale = uri(&dir.join("stale.py"));
    let found = server.open(&stale, "python", STALE_PY);
    assert_eq!(codes(&found), ["CL001", "CL001"]);
    let fix = &found[0]["data"]["fix"];
    assert_eq!(fix["applicability"], "safe", "{:#}", found[0]);
    assert_eq!(fix["edits"][0]["range"], range(at(0, 14), at(0, 41)));

    // One diagnostic's fix, a versioned edit.
    let actions = code_actions(&mut server, &stale, found[0]["range"].clone(), None);
    let fix_one = action_titled(&actions, "Fix CL001: Remove the unused suppression");
    assert_eq!(fix_one["kind"], "quickfix");
    assert_eq!(fix_one["isPreferred"], true);
    assert_eq!(fix_one["edit"]["documentChanges"][0]["textDocument"]["version"], 1);
    assert_eq!(fix_one["diagnostics"][0]["code"], "CL001");
    // No one ignores CL001, and fix-all of the rule is offered because there are two.
    assert!(actions.as_array().unwrap().iter().all(|a| !a["title"].as_str().unwrap().starts_with("Ignore")));
    let fix_rule = action_titled(&actions, "Fix all CL001 (unused-suppression) in this file");
    assert_eq!(edits_of(fix_rule).len(), 2);

    let remaining = server.change(&stale, 2, as_changes(fix_one));
    assert_eq!(codes(&remaining), ["CL001"]);
    assert_eq!(remaining[0]["range"]["start"]["line"], 3);
    // A diagnostic named in the context has its actions wherever the cursor is.
    let elsewhere = range(at(0, 0), at(0, 0));
    assert_eq!(code_actions(&mut server, &stale, elsewhere.clone(), Some(&["quickfix"])), json!([]));
    let named = code_actions_for(&mut server, &stale, elsewhere, Some(&["quickfix"]), &remaining);
    assert_eq!(action_titled(&named, "Fix CL001")["diagnostics"][0]["range"], remaining[0]["range"]);

    // Fix-on-save: `source.fixAll.connlint` when asked for `source.fixAll`; no quick fixes then.
    let actions = code_actions(&mut server, &stale, range(at(0, 0), at(0, 0)), Some(&["source.fixAll"]));
    let list = actions.as_array().unwrap();
    assert_eq!(list.len(), 1, "{actions:#}");
    assert_eq!(list[0]["kind"], "source.fixAll.connlint");
    let clean = server.change(&stale, 3, as_changes(&list[0]));
    assert_eq!(codes(&clean), Vec::<&str>::new());
    let none = code_actions(&mut server, &stale, range(at(0, 0), at(0, 0)), Some(&["source.fixAll"]));
    assert_eq!(none, json!([]));

    // "Ignore CL101 on this line" adds the comment; the finding is gone, and nothing is unused.
    let app = uri(&dir.join("app.py"));
    let found = server.open(&app, "python", LEAKY_PY);
    assert_eq!(codes(&found), ["CL101"]);
    assert!(found[0].get("data").is_none(), "CL101 has no fix yet: {:#}", found[0]);
    let actions = code_actions(&mut server, &app, range(at(4, 12), at(4, 12)), Some(&["quickfix"]));
    let ignore = action_titled(&actions, "Ignore CL101 on this line");
    let edits = edits_of(ignore);
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["range"], range(at(4, 39), at(4, 39)));
    assert_eq!(edits[0]["newText"], "  # connlint: ignore[CL101]");
    assert_eq!(codes(&server.change(&app, 2, as_changes(ignore))), Vec::<&str>::new());

    assert_eq!(server.shut_down(), Some(0));
}

#[test]
fn hover_on_a_finding_shows_the_rule_doc() {
    let dir = project(&[("app.py", LEAKY_PY)]);
    let (mut server, _) = Server::initialized(&dir, json!({}));
    let app = uri(&dir.join("app.py"));
    server.open(&app, "python", LEAKY_PY);
    let hover = |server: &mut Server, position: Value| {
        server
            .request("textDocument/hover", json!({ "textDocument": { "uri": app }, "position": position }))
            .expect("hover")
    };
    let shown = hover(&mut server, at(4, 15));
    assert_eq!(shown["contents"]["kind"], "markdown");
    let text = shown["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("# CL101 with-does-not-close"), "{text}");
    assert!(text.contains("## Why is this bad"), "{text}");
    assert_eq!(shown["range"], range(at(4, 9), at(4, 30)));
    assert_eq!(hover(&mut server, at(0, 2)), Value::Null);
    assert_eq!(server.shut_down(), Some(0));
}

#[test]
fn bad_messages_get_errors_and_the_server_goes_on() {
    let dir = project(&[("app.py", LEAKY_PY)]);
    let mut server = Server::start(&dir);
    // Before `initialize`, a request is refused.
    let early = server.request("textDocument/hover", json!({}));
    assert_eq!(early.unwrap_err()["code"], -32002);
    server.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} })).expect("init");
    server.notify("initialized", json!({}));

    // Not JSON: a parse error with a null id.
    server.send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": ");
    let error = server.wait_for("a parse error", |m| m["error"]["code"] == -32700);
    assert_eq!(error["id"], Value::Null);
    // JSON but not a message: an invalid request that names its id.
    server.send(&json!({ "jsonrpc": "2.0", "id": 99 }));
    let error = server.wait_for("an invalid-request error", |m| m["error"]["code"] == -32600);
    assert_eq!(error["id"], 99);
    // An unknown method, bad parameters, a document that is not open.
    assert_eq!(server.request("textDocument/formatting", json!({})).unwrap_err()["code"], -32601);
    assert_eq!(server.request("textDocument/hover", json!({ "nonsense": true })).unwrap_err()["code"], -32602);
    let closed = json!({ "textDocument": { "uri": uri(&dir.join("app.py")) }, "position": at(0, 0) });
    let error = server.request("textDocument/hover", closed).unwrap_err();
    assert_eq!(error["code"], -32602);
    assert!(error["message"].as_str().unwrap().contains("is not open"), "{error:#}");
    // A notification with bad parameters is logged, and a change to a closed document ignored.
    server.notify("textDocument/didOpen", json!({ "textDocument": 42 }));
    server.wait_for("a log message", |m| {
        m["method"] == "window/logMessage" && m["params"]["message"].as_str().unwrap().contains("didOpen")
    });
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": "file:///nowhere.py", "version": 2 }, "contentChanges": [] }),
    );

    // Still serving.
    let app = uri(&dir.join("app.py"));
    assert_eq!(codes(&server.open(&app, "python", LEAKY_PY)), ["CL101"]);
    assert_eq!(server.request("initialize", json!({ "capabilities": {} })).unwrap_err()["code"], -32600);
    assert_eq!(server.shut_down(), Some(0));
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let dir = project(&[]);
    let (mut server, _) = Server::initialized(&dir, json!({}));
    server.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    while server.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.child.try_wait().expect("wait").and_then(|s| s.code()), Some(1));
}

#[test]
fn positions_are_utf8_when_the_client_offers_it() {
    let text = "import sqlite3\nname = \"café\"  # connlint: ignore[CL102]\n";
    let dir = project(&[("enc.py", text)]);
    for (encodings, column) in [(json!(["utf-8", "utf-16"]), 35), (json!(["utf-16"]), 34)] {
        let capabilities = json!({ "general": { "positionEncodings": encodings } });
        let (mut server, init) = Server::initialized(&dir, capabilities);
        let expected = if column == 35 { "utf-8" } else { "utf-16" };
        assert_eq!(init["capabilities"]["positionEncoding"], expected);
        let found = server.open(&uri(&dir.join("enc.py")), "python", text);
        assert_eq!(codes(&found), ["CL001"]);
        assert_eq!(found[0]["range"]["start"], at(1, column));
        assert_eq!(server.shut_down(), Some(0));
    }
}

#[test]
fn configuration_is_read_and_reloaded_when_it_changes() {
    let dir = project(&[("connlint.toml", "ignore = [\"CL101\"]\n"), ("app.py", LEAKY_PY)]);
    let capabilities = json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let (mut server, _) = Server::initialized(&dir, capabilities);
    let registration = server.wait_for("a registration", |m| m["method"] == "client/registerCapability");
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers[0]["globPattern"], "**/connlint.toml", "{registration:#}");
    let id = registration["id"].clone();
    server.send(&json!({ "jsonrpc": "2.0", "id": id, "result": null }));

    let app = uri(&dir.join("app.py"));
    assert_eq!(codes(&server.open(&app, "python", LEAKY_PY)), Vec::<&str>::new());

    std::fs::write(dir.join("connlint.toml"), "[severity]\nCL101 = \"info\"\n").expect("write");
    let change = json!({ "changes": [{ "uri": uri(&dir.join("connlint.toml")), "type": 2 }] });
    server.notify("workspace/didChangeWatchedFiles", change);
    let found = server.diagnostics(&app, Some(1));
    assert_eq!(codes(&found), ["CL101"]);
    assert_eq!(found[0]["severity"], 3, "the configured severity");

    // A broken configuration is shown to the user, once, and nothing is reported.
    std::fs::write(dir.join("connlint.toml"), "selct = []\n").expect("write");
    let change = json!({ "changes": [{ "uri": uri(&dir.join("connlint.toml")), "type": 2 }] });
    server.notify("workspace/didChangeWatchedFiles", change);
    let shown = server.wait_for("the configuration error", |m| m["method"] == "window/showMessage");
    assert!(shown["params"]["message"].as_str().unwrap().contains("connlint.toml"), "{shown:#}");
    assert_eq!(server.diagnostics(&app, Some(1)), Vec::<Value>::new());
    assert_eq!(server.shut_down(), Some(0));
}
