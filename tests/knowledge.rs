//! The Python knowledge base in `rules/python/*.toml`: every file ships, loads, is strict about
//! its keys and values, and every entry is exercised by a fixture.

use std::collections::BTreeSet;
use std::path::Path;

use connlint::python;
use connlint::python::knowledge::{BUILTIN_FILES, Knowledge};

fn rules_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/python")
}

#[test]
fn every_knowledge_file_is_embedded_and_loads() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(rules_dir())
        .expect("rules/python exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    let embedded: BTreeSet<String> = BUILTIN_FILES.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(on_disk, embedded, "rules/python/*.toml and BUILTIN_FILES must list the same files");
    for (name, text) in BUILTIN_FILES {
        let mut knowledge = Knowledge::default();
        knowledge.add_toml(name, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!knowledge.resources.is_empty(), "{name} has no [[resource]]");
        let on_disk = std::fs::read_to_string(rules_dir().join(name)).expect("readable");
        assert_eq!(&on_disk, text, "{name}: the embedded copy is stale");
    }
    assert!(Knowledge::builtin().resources.len() >= 60);
}

const GOOD_ENTRY: &str = r#"
[[resource]]
module = "mydb"
open = ["mydb.connect"]
context_manager = "transaction-only"
close = ["close"]
kind = "db-connection"
"#;

#[test]
fn a_valid_entry_loads() {
    let mut knowledge = Knowledge::default();
    knowledge.add_toml("good.toml", GOOD_ENTRY).expect("loads");
    assert!(knowledge.opener("mydb.connect").is_some());
}

#[test]
fn unknown_keys_and_values_are_rejected() {
    let cases = [
        ("an unknown key", GOOD_ENTRY.replace("kind =", "colour = \"red\"\nkind =")),
        ("an unknown context manager", GOOD_ENTRY.replace("transaction-only", "sometimes")),
        ("an unknown kind", GOOD_ENTRY.replace("db-connection", "db-thing")),
        ("an unknown close_on", GOOD_ENTRY.replace("kind =", "close_on = \"nowhere\"\nkind =")),
        ("an unknown table", format!("{GOOD_ENTRY}\n[[resources]]\nmodule = \"x\"\n")),
        ("a missing open", GOOD_ENTRY.replace("open = [\"mydb.connect\"]\n", "")),
        ("an empty open", GOOD_ENTRY.replace("[\"mydb.connect\"]", "[]")),
        ("a malformed open path", GOOD_ENTRY.replace("mydb.connect", "mydb..connect")),
        ("a wrong type", GOOD_ENTRY.replace("close = [\"close\"]", "close = \"close\"")),
    ];
    for (what, text) in cases {
        let mut knowledge = Knowledge::default();
        assert!(knowledge.add_toml("bad.toml", &text).is_err(), "{what} was accepted:\n{text}");
    }
}

#[test]
fn an_error_names_the_file_and_the_line() {
    let text = GOOD_ENTRY.replace("kind =", "colour = \"red\"\nkind =");
    let err = Knowledge::default().add_toml("bad.toml", &text).unwrap_err().to_string();
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("colour"), "{err}");
    assert!(err.contains("line 7"), "{err}");
}

#[test]
fn every_entry_is_exercised_by_a_fixture() {
    let knowledge = Knowledge::builtin();
    let mut seen = BTreeSet::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/python");
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                let source = std::fs::read_to_string(&path).expect("utf-8 fixture");
                let (name, package) = connlint::walk::python_module(&path);
                let module = connlint::ModuleInfo { name: &name, package: package.as_deref() };
                seen.extend(python::recognized_resources(&source, module, knowledge));
            }
        }
    }
    let missing: Vec<String> = (0..knowledge.resources.len())
        .filter(|id| !seen.contains(id))
        .map(|id| format!("{} ({})", knowledge.resources[id].open.join(", "), knowledge.origins[id]))
        .collect();
    assert!(missing.is_empty(), "knowledge entries no fixture exercises:\n{}", missing.join("\n"));
}
