//! The language server's message loop (`connlint server`) on arbitrary client input, in process:
//! `connlint::lsp::serve_streams` with the real analysis, reading from memory instead of stdin
//! (see `common::lsp`).
//!
//! An input that starts with `Content-Length` is the raw byte stream (framing, headers, bodies
//! as the client sent them). Any other input is one JSON message per line, each framed with its
//! own `Content-Length`, so that mutations reach the handlers (initialize, didOpen, didChange
//! with ranges, hover, codeAction, ...) rather than stopping at the framing.
//!
//! A panic anywhere, even one the server catches and answers with an internal error, aborts the
//! process (libFuzzer's panic hook): a crash.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::lsp(data, true);
});
