//! The language server's message loop (`connlint server`) on arbitrary client input, in process:
//! `connlint::lsp::serve_streams` with the real analysis, reading from memory instead of stdin.
//!
//! An input that starts with `Content-Length` is the raw byte stream (framing, headers, bodies
//! as the client sent them). Any other input is one JSON message per line, each framed with its
//! own `Content-Length`, so that mutations reach the handlers (initialize, didOpen, didChange
//! with ranges, hover, codeAction, ...) rather than stopping at the framing.
//!
//! A panic anywhere, even one the server catches and answers with an internal error, aborts the
//! process (libFuzzer's panic hook): a crash. Each input gets a fresh server, and the target
//! waits until its reader and analysis threads have ended, so that a crash belongs to its input.
#![no_main]

use std::io::{BufRead, Cursor, Read};
use std::sync::{Arc, Weak};

/// The input, holding a token that lives as long as the reader thread uses it.
struct Input {
    bytes: Cursor<Vec<u8>>,
    _alive: Arc<()>,
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.bytes.read(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.bytes.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.bytes.consume(amount)
    }
}

fn frames(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"Content-Length") {
        return data.to_vec();
    }
    let mut framed = Vec::with_capacity(data.len() + 64);
    for line in data.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        framed.extend_from_slice(format!("Content-Length: {}\r\n\r\n", line.len()).as_bytes());
        framed.extend_from_slice(line);
    }
    framed
}

fn wait_until_gone<T: ?Sized>(weak: &Weak<T>) {
    while weak.strong_count() > 0 {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let alive = Arc::new(());
    let reader_alive = Arc::downgrade(&alive);
    let input = Input { bytes: Cursor::new(frames(data)), _alive: alive };
    let analyser: connlint::lsp::Analyser = Arc::new(connlint::run::lint_document);
    let analyser_alive = Arc::downgrade(&analyser);
    // The exit status is the client's business (1 without `shutdown`); only a panic is a bug.
    let _ = connlint::lsp::serve_streams(move || input, std::io::sink, analyser);
    // The analysis thread holds the analyser until it has finished what was queued.
    wait_until_gone(&analyser_alive);
    wait_until_gone(&reader_alive);
});
