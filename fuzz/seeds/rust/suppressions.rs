//! Suppression comments in Rust: `// connlint: ignore[...]` on the line or the line above.
use std::mem;

use rusqlite::Connection;

fn process_lifetime(path: &str) -> &'static Connection {
    // Lives for the whole process by design: it is the global cache database.
    // connlint: ignore[CL201]
    Box::leak(Box::new(Connection::open(path).unwrap()))
}

fn trailing(path: &str) {
    let conn = Connection::open(path).unwrap();
    mem::forget(conn); // connlint: ignore[CL201]
}

fn not_a_comment(path: &str) {
    let conn = Connection::open(path).unwrap();
    let note = "// connlint: ignore[CL201]";
    conn.execute_batch(note).unwrap();
    mem::forget(conn); // error: CL201
}

fn stale(path: &str) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?; // connlint: ignore[CL201] // error: CL001
    conn.execute_batch("pragma optimize")
}
