//! The fix engine on arbitrary bytes, as Python and as Rust, unsafe fixes too: the fixes apply
//! and the fixed text parses and stays fixed, or they are refused and the text is unchanged.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::fix(data));
