//! Configuration parsing on arbitrary text, as each kind of configuration file, and the
//! validation of every `[[resource]]` it declares (what `connlint::config::load` does).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for name in ["connlint.toml", "pyproject.toml", "Cargo.toml"] {
        if let Ok(Some(config)) = connlint::config::parse(name, &text) {
            for resource in config.resource {
                let mut knowledge = connlint::python::knowledge::Knowledge::default();
                // An error is a message for the user; only a panic would be a bug.
                let _ = knowledge.add_resource("fuzzed", resource);
            }
        }
    }
});
