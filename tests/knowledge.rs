//! The Python knowledge base in `rules/python/*.toml`: every file ships, loads, is strict about
//! its keys and values, and every entry is exercised by a fixture.

use std::collections::BTreeSet;
use std::path::Path;

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
fn at_most_64_argument_hints_are_named_and_each_is_kept() {
    // 64 different hints load; a 65th is refused with what to change, not dropped in silence.
    let hints = |n: usize| (0..n).map(|i| format!("\"kw{i}\"")).collect::<Vec<_>>().join(", ");
    let with_hints = |n: usize| GOOD_ENTRY.replace("kind =", &format!("borrowed_when = [{}]\nkind =", hints(n)));
    let mut knowledge = Knowledge::default();
    knowledge.add_toml("many.toml", &with_hints(64)).expect("64 hints load");
    let roles = knowledge.roles();
    assert_eq!(roles.argument_hints.len(), 64);
    let bits: Vec<u64> = roles.argument_hints.iter().filter_map(|h| roles.hint_bit(h)).collect();
    assert_eq!(bits.iter().fold(0, |all, bit| all | bit), u64::MAX, "a bit of its own for each");
    let err = Knowledge::default().add_toml("many.toml", &with_hints(65)).unwrap_err().to_string();
    assert!(err.contains("65 different argument hints") && err.contains("at most 64"), "{err}");
}

#[test]
fn an_error_names_the_file_and_the_line() {
    let text = GOOD_ENTRY.replace("kind =", "colour = \"red\"\nkind =");
    let err = Knowledge::default().add_toml("bad.toml", &text).unwrap_err().to_string();
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("colour"), "{err}");
    assert!(err.contains("line 7"), "{err}");
}

#[cfg(feature = "python")]
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
                seen.extend(connlint::python::recognized_resources(&source, module, knowledge));
            }
        }
    }
    let missing: Vec<String> = (0..knowledge.resources.len())
        .filter(|id| !seen.contains(id))
        .map(|id| format!("{} ({})", knowledge.resources[id].open.join(", "), knowledge.origins[id]))
        .collect();
    assert!(missing.is_empty(), "knowledge entries no fixture exercises:\n{}", missing.join("\n"));
}

#[test]
fn every_rust_knowledge_file_is_embedded_and_loads() {
    use connlint::rust::knowledge::{BUILTIN_FILES as RUST_FILES, Knowledge as RustKnowledge};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rust");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("rules/rust exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    let embedded: BTreeSet<String> = RUST_FILES.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(on_disk, embedded, "rules/rust/*.toml and the embedded list must name the same files");
    for (name, text) in RUST_FILES {
        let mut knowledge = RustKnowledge::default();
        knowledge.add_toml(name, text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&std::fs::read_to_string(dir.join(name)).expect("readable"), text, "{name}: stale embedded copy");
    }
    let builtin = RustKnowledge::builtin();
    assert!(builtin.resources.len() >= 25 && builtin.ffi.len() >= 4);
}

#[test]
fn rust_knowledge_rejects_unknown_keys_and_values() {
    use connlint::rust::knowledge::Knowledge as RustKnowledge;
    let good = r#"
[[resource]]
crate = "mydb"
kind = "pool"
async = true
calls = ["mydb::Pool::connect"]
types = ["mydb::Pool"]
finish = ["close"]
leak = []
"#;
    RustKnowledge::default().add_toml("good.toml", good).expect("a valid entry loads");
    let cases = [
        good.replace("kind = \"pool\"", "kind = \"puddle\""),
        good.replace("leak = []", "leak = []\ncolour = \"red\""),
        good.replace("mydb::Pool::connect", "connect"),
        good.replace("async = true\n", ""),
        good.replace("calls = [", "methods = [\"get\"]\ncalls = ["),
    ];
    for text in cases {
        assert!(RustKnowledge::default().add_toml("bad.toml", &text).is_err(), "accepted:\n{text}");
    }
}
