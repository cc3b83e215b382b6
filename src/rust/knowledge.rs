//! What opens a Rust connection, pool, checkout or transaction, and what finishes it.
//!
//! The facts are data in `rules/rust/*.toml`, embedded at build time and checked strictly (an
//! unknown key or value is an error). Paths are matched by crate, type and function
//! (`sqlx::PgPool::connect` matches `sqlx::postgres::PgPool::connect` too), so re-exports
//! through other modules of the same crate are found.

use std::sync::OnceLock;

use serde::Deserialize;

pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("clients.toml", include_str!("../../rules/rust/clients.toml")),
    ("diesel.toml", include_str!("../../rules/rust/diesel.toml")),
    ("duckdb.toml", include_str!("../../rules/rust/duckdb.toml")),
    ("ffi.toml", include_str!("../../rules/rust/ffi.toml")),
    ("mysql.toml", include_str!("../../rules/rust/mysql.toml")),
    ("net.toml", include_str!("../../rules/rust/net.toml")),
    ("pools.toml", include_str!("../../rules/rust/pools.toml")),
    ("postgres.toml", include_str!("../../rules/rust/postgres.toml")),
    ("rusqlite.toml", include_str!("../../rules/rust/rusqlite.toml")),
    ("sqlx.toml", include_str!("../../rules/rust/sqlx.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Built once per process; owns connections.
    Pool,
    /// A long-lived client (mongodb, redis): built once per process.
    Client,
    /// A single connection.
    Connection,
    /// A connection checked out of a pool; goes back on drop.
    Checkout,
    /// A transaction; drop rolls back.
    Transaction,
    /// `(client, connection)`: the second half must be spawned or awaited.
    DriverPair,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Pool => "pool",
            Kind::Client => "client",
            Kind::Connection => "connection",
            Kind::Checkout => "pooled connection",
            Kind::Transaction => "transaction",
            Kind::DriverPair => "connection",
        }
    }
}

/// One `[[resource]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(rename = "crate")]
    pub crate_name: String,
    pub kind: Kind,
    /// Its finishing calls (`commit`, `close`) return futures that must be awaited.
    #[serde(rename = "async")]
    pub is_async: bool,
    /// Associated functions that open it: `crate::Type::function`.
    #[serde(default)]
    pub calls: Vec<String>,
    /// A method chain starting with one of these calls (or methods, without `::`)...
    #[serde(default)]
    pub builders: Vec<String>,
    /// ...and ending with one of these methods opens it.
    #[serde(default)]
    pub builder_finish: Vec<String>,
    /// Methods that open it on a receiver of one of the `on` kinds.
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub on: Vec<Kind>,
    /// Types whose values are this resource (parameters, fields).
    pub types: Vec<String>,
    /// Calls that finish it: commit/rollback, or its (async) close.
    pub finish: Vec<String>,
    /// Methods that take it out of its pool (or give its descriptor away) for good.
    pub leak: Vec<String>,
    pub evidence: Option<String>,
}

/// How a raw C open gives its handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandleShape {
    /// Through a `&mut handle` argument.
    OutArg,
    /// As the return value.
    Return,
}

/// One `[[ffi]]` entry: a C open and its matching close.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ffi {
    pub library: String,
    pub open: Vec<String>,
    pub handle: HandleShape,
    /// The index of the `&mut handle` argument, for `out-arg`.
    pub handle_arg: Option<usize>,
    pub close: Vec<String>,
    /// The C type of the handle (`sqlite3`), for the suggested wrapper.
    pub handle_type: String,
    /// Calls that take the handle over and close it themselves.
    pub owned_by: Vec<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeFile {
    #[serde(default)]
    resource: Vec<Resource>,
    #[serde(default)]
    ffi: Vec<Ffi>,
}

pub type ResourceId = usize;

#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub resources: Vec<Resource>,
    pub ffi: Vec<Ffi>,
    pub origins: Vec<String>,
}

impl Knowledge {
    pub fn builtin() -> &'static Knowledge {
        static BUILTIN: OnceLock<Knowledge> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut knowledge = Knowledge::default();
            for (name, text) in BUILTIN_FILES {
                if let Err(err) = knowledge.add_toml(name, text) {
                    debug_assert!(false, "{err}");
                }
            }
            knowledge
        })
    }

    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<(), String> {
        let file: KnowledgeFile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        for resource in file.resource {
            for path in resource.calls.iter().chain(&resource.types) {
                if path.split("::").count() < 2 || path.split("::").any(|p| !is_ident(p)) {
                    return Err(format!("{origin}: `{path}` is not a `crate::...::Name` path"));
                }
            }
            if resource.methods.is_empty() != resource.on.is_empty() {
                return Err(format!("{origin}: `methods` and `on` go together ({})", resource.crate_name));
            }
            if resource.builders.is_empty() != resource.builder_finish.is_empty() {
                return Err(format!("{origin}: `builders` and `builder_finish` go together ({})", resource.crate_name));
            }
            self.resources.push(resource);
            self.origins.push(origin.to_string());
        }
        for ffi in file.ffi {
            if ffi.handle == HandleShape::OutArg && ffi.handle_arg.is_none() {
                return Err(format!("{origin}: an `out-arg` handle needs `handle_arg` ({})", ffi.open.join(", ")));
            }
            self.ffi.push(ffi);
        }
        Ok(())
    }

    /// Every crate some entry is about (their names as written in paths).
    pub fn crates(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|r| r.crate_name.as_str())
    }

    /// The resource an associated-function call opens: `path` is the resolved full path.
    pub fn call(&self, path: &[String]) -> Option<ResourceId> {
        self.resources.iter().position(|r| r.calls.iter().any(|c| path_matches(c, path)))
    }

    /// The resource a builder chain opens, given its root call path and its last method.
    pub fn builder(&self, root: &[String], finish: &str) -> Option<ResourceId> {
        self.resources.iter().position(|r| {
            r.builder_finish.iter().any(|f| f == finish)
                && r.builders.iter().any(|b| b.contains("::") && path_matches(b, root))
        })
    }

    /// The resource a builder chain rooted at a method (`build_transaction`) opens.
    pub fn method_builder(&self, root_method: &str, finish: &str, receiver: Kind) -> Option<ResourceId> {
        self.resources.iter().position(|r| {
            r.builder_finish.iter().any(|f| f == finish)
                && r.builders.iter().any(|b| b == root_method)
                && r.on.contains(&receiver)
        })
    }

    /// The resource a method opens on a receiver of `receiver` kind, preferring the crates
    /// `preferred` accepts; with `only_preferred`, no other crate will do.
    pub fn method(
        &self,
        method: &str,
        receiver: Kind,
        preferred: &dyn Fn(&str) -> bool,
        only_preferred: bool,
    ) -> Option<ResourceId> {
        let candidates: Vec<ResourceId> = (0..self.resources.len())
            .filter(|&id| {
                let r = &self.resources[id];
                r.on.contains(&receiver) && r.methods.iter().any(|m| m == method)
            })
            .collect();
        let best = candidates.iter().copied().find(|&id| preferred(&self.resources[id].crate_name));
        if only_preferred { best } else { best.or(candidates.first().copied()) }
    }

    /// The resource a type stands for: `path` is the resolved full path of the type.
    pub fn type_resource(&self, path: &[String]) -> Option<ResourceId> {
        self.resources.iter().position(|r| r.types.iter().any(|t| path_matches(t, path)))
    }

    /// The FFI entry of a C function, and whether it opens (`true`) or closes (`false`).
    pub fn ffi_call(&self, name: &str) -> Option<(usize, bool)> {
        for (i, ffi) in self.ffi.iter().enumerate() {
            if ffi.open.iter().any(|o| o == name) {
                return Some((i, true));
            }
            if ffi.close.iter().any(|c| c == name) {
                return Some((i, false));
            }
        }
        None
    }
}

/// `pattern` (`crate::Type::fn`) matches a full path when the crate and the last two segments
/// agree (`sqlx::postgres::PgPool::connect` is `sqlx::PgPool::connect`). A two-segment pattern
/// (`tokio_postgres::connect`) needs the crate and the last segment.
pub fn path_matches(pattern: &str, path: &[String]) -> bool {
    let pattern: Vec<&str> = pattern.split("::").collect();
    let (Some(first), Some(last)) = (path.first(), path.last()) else { return false };
    if pattern[0] != first || pattern[pattern.len() - 1] != last {
        return false;
    }
    match pattern.len() {
        2 => true,
        _ => path.len() >= 2 && pattern[pattern.len() - 2] == path[path.len() - 2],
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}
