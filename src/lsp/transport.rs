//! JSON-RPC messages over a byte stream with `Content-Length` framing. lsp-server's own stdio
//! transport ends the connection at the first malformed message; this one answers it with a
//! JSON-RPC error and reads on, so a client's bad message cannot take the server down.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{Receiver, Sender};

use lsp_server::{ErrorCode, Message};
use serde_json::Value;

/// Messages bigger than this are not read into memory (no editor sends one).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// What the reader got from the client.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// A frame that is not a JSON-RPC message; it gets this error as its response (with the id
    /// it named, if any, else `null`).
    Malformed {
        id: Value,
        code: ErrorCode,
        message: String,
    },
    /// The input ended or could not be read.
    Closed,
}

/// Reads one frame. `None` at the end of the input.
pub fn read(input: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut length = None;
    let mut saw_header = false;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(if saw_header { Some(Incoming::Closed) } else { None });
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let Some(length) = length.filter(|&n| n <= MAX_MESSAGE_BYTES) else {
        return Ok(Some(malformed(
            Value::Null,
            ErrorCode::ParseError,
            "a message without a valid Content-Length header",
        )));
    };
    // Read up to the length, never allocating it ahead: a client may announce more than it sends.
    let mut body = Vec::new();
    if input.by_ref().take(length as u64).read_to_end(&mut body).is_err() || body.len() < length {
        return Ok(Some(Incoming::Closed));
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => return Ok(Some(malformed(Value::Null, ErrorCode::ParseError, &format!("not JSON: {err}")))),
    };
    let id = value.get("id").filter(|id| id.is_number() || id.is_string()).cloned().unwrap_or(Value::Null);
    Ok(Some(match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(err) => malformed(
            id,
            ErrorCode::InvalidRequest,
            &format!("not a JSON-RPC request, response or notification: {err}"),
        ),
    }))
}

fn malformed(id: Value, code: ErrorCode, message: &str) -> Incoming {
    Incoming::Malformed { id, code, message: message.to_string() }
}

/// The JSON-RPC object of a message.
pub fn to_json(message: &Message) -> Value {
    let mut value = serde_json::to_value(message).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("jsonrpc".to_string(), Value::from("2.0"));
    }
    value
}

/// An error response that may have a `null` id (lsp-server's `Response` cannot say that).
pub fn error_response(id: Value, code: ErrorCode, message: &str) -> Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code as i32, "message": message } })
}

/// Reads frames until the input ends, handing each to `deliver`.
pub fn read_all(mut input: impl BufRead, deliver: impl Fn(Incoming) -> bool) {
    loop {
        let incoming = match read(&mut input) {
            Ok(Some(incoming)) => incoming,
            Ok(None) | Err(_) => Incoming::Closed,
        };
        let closed = matches!(incoming, Incoming::Closed);
        if !deliver(incoming) || closed {
            return;
        }
    }
}

/// Writes every JSON value it receives as a frame, until the senders are gone or the output
/// fails (the client went away).
pub fn write_all(mut output: impl Write, values: Receiver<Value>) {
    for value in values {
        let body = value.to_string();
        let written = write!(output, "Content-Length: {}\r\n\r\n{body}", body.len()).and_then(|()| output.flush());
        if written.is_err() {
            return;
        }
    }
}

/// Sends messages to the writer.
#[derive(Debug, Clone)]
pub struct Outgoing(pub Sender<Value>);

impl Outgoing {
    pub fn send(&self, message: impl Into<Message>) {
        self.0.send(to_json(&message.into())).ok();
    }
    pub fn send_raw(&self, value: Value) {
        self.0.send(value).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<Incoming> {
        let mut reader = io::Cursor::new(input.as_bytes().to_vec());
        let mut out = Vec::new();
        while let Ok(Some(incoming)) = read(&mut reader) {
            out.push(incoming);
        }
        out
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn malformed_frames_are_answered_and_reading_goes_on() {
        let input = [
            frame("{not json"),
            frame(r#"{"id": 7, "params": {}}"#),
            "Garbage: yes\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}"#),
        ]
        .concat();
        let got = frames(&input);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(matches!(&got[0], Incoming::Malformed { id: Value::Null, code: ErrorCode::ParseError, .. }));
        assert!(matches!(&got[1], Incoming::Malformed { id, code: ErrorCode::InvalidRequest, .. } if id == 7));
        assert!(matches!(&got[2], Incoming::Malformed { code: ErrorCode::ParseError, .. }));
        assert!(matches!(&got[3], Incoming::Message(Message::Request(r)) if r.method == "shutdown"));
    }

    #[test]
    fn a_truncated_frame_closes_the_input() {
        let got = frames("Content-Length: 50\r\n\r\n{\"id\":");
        assert!(matches!(got.as_slice(), [Incoming::Closed]));
    }
}
