//! Configuration parsing on arbitrary text, as each kind of configuration file, and the
//! validation of every `[[resource]]` it declares (what `connlint::config::load` does).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::config(data));
