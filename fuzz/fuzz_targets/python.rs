//! The Python frontend and checker on arbitrary bytes.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check(connlint::SourceKind::Python, data));
