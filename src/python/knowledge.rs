//! What opens a Python resource, what its `with` does, and what closes it.
//!
//! The facts are data in `rules/python/*.toml`, embedded at build time. Every key and value is
//! checked: an unknown one is an error, so a typo cannot silently disable a rule. Projects add
//! their own `[[resource]]` entries through the configuration, with the same keys.

use crate::hash::{FastMap as HashMap, FastSet as HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

/// The knowledge files shipped in the binary, by file name.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("aiomysql.toml", include_str!("../../rules/python/aiomysql.toml")),
    ("aiopg.toml", include_str!("../../rules/python/aiopg.toml")),
    ("aiosqlite.toml", include_str!("../../rules/python/aiosqlite.toml")),
    ("apsw.toml", include_str!("../../rules/python/apsw.toml")),
    ("asyncpg.toml", include_str!("../../rules/python/asyncpg.toml")),
    ("cx_oracle.toml", include_str!("../../rules/python/cx_oracle.toml")),
    ("duckdb.toml", include_str!("../../rules/python/duckdb.toml")),
    ("mysql_connector.toml", include_str!("../../rules/python/mysql_connector.toml")),
    ("mysqlclient.toml", include_str!("../../rules/python/mysqlclient.toml")),
    ("oracledb.toml", include_str!("../../rules/python/oracledb.toml")),
    ("psycopg.toml", include_str!("../../rules/python/psycopg.toml")),
    ("psycopg2.toml", include_str!("../../rules/python/psycopg2.toml")),
    ("psycopg_pool.toml", include_str!("../../rules/python/psycopg_pool.toml")),
    ("pymongo.toml", include_str!("../../rules/python/pymongo.toml")),
    ("pymssql.toml", include_str!("../../rules/python/pymssql.toml")),
    ("pymysql.toml", include_str!("../../rules/python/pymysql.toml")),
    ("pyodbc.toml", include_str!("../../rules/python/pyodbc.toml")),
    ("redis.toml", include_str!("../../rules/python/redis.toml")),
    ("sqlalchemy.toml", include_str!("../../rules/python/sqlalchemy.toml")),
    ("sqlite3.toml", include_str!("../../rules/python/sqlite3.toml")),
    ("stdlib_files.toml", include_str!("../../rules/python/stdlib_files.toml")),
    ("stdlib_net.toml", include_str!("../../rules/python/stdlib_net.toml")),
    ("stdlib_process.toml", include_str!("../../rules/python/stdlib_process.toml")),
    ("stdlib_socket.toml", include_str!("../../rules/python/stdlib_socket.toml")),
];

/// What leaving `with OPEN(...) as x:` does to `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextManager {
    /// `__exit__` releases the OS or network resource.
    Closes,
    /// `__exit__` only commits or rolls back; the object stays open.
    TransactionOnly,
    /// `__exit__` returns the object to its pool.
    ReleasesToPool,
    /// No `__enter__`/`__exit__`: `with` raises.
    None,
    /// `__exit__` closes destructively (`multiprocessing.Pool.terminate`).
    Terminates,
}

impl ContextManager {
    pub fn closes(self) -> bool {
        matches!(self, ContextManager::Closes | ContextManager::ReleasesToPool | ContextManager::Terminates)
    }
}

/// Where the close method is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloseOn {
    /// On the object: `conn.close()`.
    #[default]
    Object,
    /// On the pool it came from: `pool.putconn(conn)`. Such a resource is a pool checkout.
    Pool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Recognised (for `with` and fixes), but a missing close is not reported: cursors freed with
    /// their connection, process-wide pools and clients.
    Low,
    #[default]
    Normal,
}

/// The shape of the value an open returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Returns {
    /// The resource itself.
    #[default]
    #[serde(rename = "object")]
    Object,
    /// `(fd, path)`: the resource is the first element.
    #[serde(rename = "tuple(fd, path)")]
    FdPathTuple,
    /// A path naming the resource (a temporary directory).
    #[serde(rename = "path")]
    Path,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    DbConnection,
    DbCursor,
    DbBlob,
    DbPool,
    DbPooledConnection,
    DbClient,
    OrmSession,
    CacheClient,
    ConnectionPool,
    Socket,
    NetworkConnection,
    NetworkResponse,
    File,
    TempDir,
    RawFd,
    Process,
    ProcessPool,
    Executor,
}

impl Kind {
    /// A client of a network protocol or one of its responses (not a database connection, not
    /// a raw socket).
    pub fn is_network(self) -> bool {
        matches!(self, Kind::NetworkConnection | Kind::NetworkResponse)
    }

    /// A name for such a resource in a suggested rewrite.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::DbConnection | Kind::DbPooledConnection | Kind::NetworkConnection => "conn",
            Kind::DbCursor => "cur",
            Kind::DbBlob => "blob",
            Kind::DbPool | Kind::ConnectionPool | Kind::ProcessPool => "pool",
            Kind::DbClient | Kind::CacheClient => "client",
            Kind::OrmSession => "session",
            Kind::Socket => "sock",
            Kind::NetworkResponse => "response",
            Kind::File => "f",
            Kind::TempDir => "tmpdir",
            Kind::RawFd => "fd",
            Kind::Process => "proc",
            Kind::Executor => "executor",
        }
    }

    /// How a message names such a resource.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::DbConnection | Kind::DbPooledConnection => "connection",
            Kind::DbCursor => "cursor",
            Kind::DbBlob => "blob",
            Kind::DbPool | Kind::ConnectionPool => "pool",
            Kind::DbClient | Kind::CacheClient => "client",
            Kind::OrmSession => "session",
            Kind::Socket => "socket",
            Kind::NetworkConnection => "connection",
            Kind::NetworkResponse => "response",
            Kind::File => "file",
            Kind::TempDir => "temporary directory",
            Kind::RawFd => "file descriptor",
            Kind::Process => "process",
            Kind::ProcessPool => "process pool",
            Kind::Executor => "executor",
        }
    }
}

/// A version range in which the context manager behaved differently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub from: Option<String>,
    pub until: Option<String>,
    pub context_manager: ContextManager,
    pub note: Option<String>,
}

/// One `[[resource]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The import that brings it in.
    pub module: String,
    /// Qualified calls that open it. `Class.method` is a method called on an object of `Class`.
    pub open: Vec<String>,
    /// The class of the opened object, for method opens on it; defaults to the open path.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    pub context_manager: ContextManager,
    /// Methods that close it (`close`), or dotted functions taking it (`os.close`).
    pub close: Vec<String>,
    #[serde(default)]
    pub close_on: CloseOn,
    pub kind: Kind,
    #[serde(default, rename = "async")]
    pub is_async: bool,
    #[serde(default)]
    pub severity: Severity,
    /// Only meaningful as `with OPEN(...)`.
    #[serde(default)]
    pub must_use_with: bool,
    #[serde(default)]
    pub returns: Returns,
    /// Calls that take ownership of it (`os.fdopen(fd)`).
    #[serde(default)]
    pub handoff: Vec<String>,
    /// Methods of the object whose first use actually opens it (`HTTPConnection.request`):
    /// until one is called, there is nothing to close.
    #[serde(default)]
    pub opens_on: Vec<String>,
    /// Calls (or keyword arguments) that, given to the open, make it wrap the caller's object
    /// instead of opening one (`zipfile.ZipFile(io.BytesIO(...))`, `tarfile.open(fileobj=f)`).
    /// All entries together name at most [`MAX_ARGUMENT_HINTS`] different hints here and in
    /// `opens_only_with`.
    #[serde(default)]
    pub borrowed_when: Vec<String>,
    /// Methods that return the object itself (`Connection.execution_options`).
    #[serde(default)]
    pub returns_self: Vec<String>,
    /// Methods that close the object before they raise (`smtplib.SMTP.sendmail`): a failure
    /// there does not leak it.
    #[serde(default)]
    pub closes_on_error: Vec<String>,
    /// Arguments (module constants or keyword names) without which the call opens nothing
    /// worth closing (`subprocess.Popen` without `subprocess.PIPE` starts a process Python reaps
    /// on its own).
    #[serde(default)]
    pub opens_only_with: Vec<String>,
    /// For a method open (`Pool.getconn`): when the receiver's type is unknown, the method is
    /// still taken as this open if the receiver's name contains this word (and the file
    /// imports the library), or always with `"any"`.
    pub unknown_receiver: Option<String>,
    pub since: Option<String>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    pub fix_hint: Option<String>,
    pub note: Option<String>,
    pub evidence: Option<String>,
    pub resource_warning_since: Option<String>,
    pub removed_in: Option<String>,
}

impl Resource {
    pub fn is_pool_checkout(&self) -> bool {
        self.close_on == CloseOn::Pool
    }

    /// The argument hints it asks about (`borrowed_when`, then `opens_only_with`).
    pub fn hints(&self) -> impl Iterator<Item = &String> {
        self.borrowed_when.iter().chain(&self.opens_only_with)
    }
}

/// "This call returns an object of that type", for calls that open nothing themselves
/// (`multiprocessing.get_context` returns a context whose `Pool` opens).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallType {
    pub call: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnowledgeFile {
    #[serde(default)]
    resource: Vec<Resource>,
    #[serde(default)]
    call_type: Vec<CallType>,
}

/// An index into [`Knowledge::resources`].
pub type ResourceId = usize;

/// The loaded knowledge base with its lookup tables.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub resources: Vec<Resource>,
    /// Where each resource came from (`sqlite3.toml`, or a config file).
    pub origins: Vec<String>,
    by_open: HashMap<String, ResourceId>,
    /// The entries with `unknown_receiver`, by the method names of their open paths (asked for
    /// every call site that resolves to nothing else).
    by_unknown_receiver: HashMap<String, Vec<ResourceId>>,
    call_types: HashMap<String, String>,
    /// The method and function names of all entries by what they do, built when first asked
    /// for (the lowering of every module asks).
    roles: OnceLock<NameRoles>,
}

/// The most argument hints the entries of a knowledge base may name: a call site keeps a bit
/// for each (most calls keep one, `#0`, and a vector of strings each was 72,000 allocations on
/// CPython's `Lib`). The shipped entries name 7.
pub const MAX_ARGUMENT_HINTS: usize = 64;

/// The names of every entry's methods and functions, by what they do to a resource.
#[derive(Debug, Clone, Default)]
pub struct NameRoles {
    /// Methods that close their object (`close`, `putconn`), and `__exit__`, `__aexit__`,
    /// `aclose`.
    pub close_methods: HashSet<String>,
    /// Functions that close what they are given: the dotted names among the entries' `close`
    /// (`os.close`, `shutil.rmtree`).
    pub close_functions: HashSet<String>,
    pub handoff_functions: HashSet<String>,
    /// Close methods called on a pool with the checkout as argument: `pool.putconn(conn)`.
    pub pool_close_methods: HashSet<String>,
    /// Method names that open something from their receiver (`cursor`, `execute`).
    pub opener_methods: HashSet<String>,
    /// Methods that return their receiver (`Connection.execution_options`).
    pub returns_self_methods: HashSet<String>,
    /// Methods that close their object before raising (`smtplib.SMTP.sendmail`).
    pub closes_on_error_methods: HashSet<String>,
    /// The argument hints some entry asks about (`#0`, `fileobj`, `io.BytesIO`), sorted: a
    /// call site keeps only those, as a bit each (see [`NameRoles::hint_mask`]).
    pub argument_hints: Vec<String>,
}

impl NameRoles {
    /// The bits of `hints` among the argument hints (bit `i` for `argument_hints[i]`).
    pub fn hint_mask<'h>(&self, hints: impl IntoIterator<Item = &'h String>) -> u64 {
        hints.into_iter().filter_map(|hint| self.hint_bit(hint)).fold(0, |mask, bit| mask | bit)
    }

    /// The bit of one argument hint, if some entry asks about it.
    pub fn hint_bit(&self, hint: &str) -> Option<u64> {
        let index = self.argument_hints.binary_search_by(|h| h.as_str().cmp(hint)).ok()?;
        (index < MAX_ARGUMENT_HINTS).then(|| 1 << index)
    }

    fn of(resources: &[Resource]) -> NameRoles {
        let mut roles = NameRoles::default();
        for resource in resources {
            for close in &resource.close {
                if close.contains('.') {
                    roles.close_functions.insert(close.clone());
                } else {
                    roles.close_methods.insert(close.clone());
                }
            }
            roles.handoff_functions.extend(resource.handoff.iter().cloned());
            roles.returns_self_methods.extend(resource.returns_self.iter().cloned());
            roles.closes_on_error_methods.extend(resource.closes_on_error.iter().cloned());
            roles.argument_hints.extend(resource.hints().cloned());
            if resource.is_pool_checkout() {
                roles.pool_close_methods.extend(resource.close.iter().cloned());
            }
            for open in &resource.open {
                if let Some((_, method)) = open.rsplit_once('.') {
                    roles.opener_methods.insert(method.to_string());
                }
            }
        }
        roles.close_methods.extend(["__exit__", "__aexit__", "aclose"].map(str::to_string));
        roles.argument_hints.sort_unstable();
        roles.argument_hints.dedup();
        roles
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for KnowledgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for KnowledgeError {}

impl Knowledge {
    /// The knowledge shipped in the binary (checked by the test suite, so it always loads).
    pub fn builtin() -> &'static Knowledge {
        static BUILTIN: OnceLock<Knowledge> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut knowledge = Knowledge::default();
            for (name, text) in BUILTIN_FILES {
                if let Err(err) = knowledge.add_toml(name, text) {
                    // Unreachable in a tested build; keep going with what loaded.
                    debug_assert!(false, "{err}");
                }
            }
            knowledge
        })
    }

    /// Adds the entries of one TOML text.
    pub fn add_toml(&mut self, origin: &str, text: &str) -> Result<(), KnowledgeError> {
        let file: KnowledgeFile =
            toml::from_str(text).map_err(|e| KnowledgeError { file: origin.to_string(), message: e.to_string() })?;
        for resource in file.resource {
            self.add_resource(origin, resource)
                .map_err(|message| KnowledgeError { file: origin.to_string(), message })?;
        }
        for call_type in file.call_type {
            self.call_types.insert(call_type.call, call_type.type_name);
        }
        Ok(())
    }

    /// Adds one entry; a later entry for the same open path replaces the earlier one, so a
    /// project can correct the shipped facts.
    pub fn add_resource(&mut self, origin: &str, resource: Resource) -> Result<(), String> {
        if resource.open.is_empty() {
            return Err(format!("resource of module `{}` has an empty `open` list", resource.module));
        }
        let hints: HashSet<&String> = self.resources.iter().chain([&resource]).flat_map(Resource::hints).collect();
        if hints.len() > MAX_ARGUMENT_HINTS {
            return Err(format!(
                "the entries name {} different argument hints in `borrowed_when` and `opens_only_with`; \
                 connlint keeps at most {MAX_ARGUMENT_HINTS} per call",
                hints.len()
            ));
        }
        for path in resource.open.iter().chain(&resource.handoff) {
            if !is_dotted_path(path) {
                return Err(format!("`{path}` is not a dotted Python name"));
            }
        }
        for close in &resource.close {
            if !is_dotted_path(close) {
                return Err(format!("close `{close}` is not a method name or a dotted Python name"));
            }
        }
        let id = self.resources.len();
        for path in &resource.open {
            self.by_open.insert(path.clone(), id);
            if resource.unknown_receiver.is_some() {
                let method = path.rsplit('.').next().unwrap_or(path);
                let ids = self.by_unknown_receiver.entry(method.to_string()).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
        self.resources.push(resource);
        self.origins.push(origin.to_string());
        self.roles = OnceLock::new();
        Ok(())
    }

    /// The names of the entries' methods and functions by what they do.
    pub fn roles(&self) -> &NameRoles {
        self.roles.get_or_init(|| NameRoles::of(&self.resources))
    }

    /// The resource a qualified call opens.
    pub fn opener(&self, qualified: &str) -> Option<ResourceId> {
        self.by_open.get(qualified).copied()
    }

    /// The entries a method of an unknown receiver may be, by method name.
    pub fn by_unknown_receiver(&self, method: &str) -> impl Iterator<Item = ResourceId> + '_ {
        self.by_unknown_receiver.get(method).into_iter().flatten().copied()
    }

    /// The type of the value a qualified call returns, when known.
    pub fn type_of_call<'a>(&'a self, qualified: &'a str) -> Option<&'a str> {
        if let Some(id) = self.opener(qualified) {
            let resource = &self.resources[id];
            return Some(resource.type_name.as_deref().unwrap_or(qualified));
        }
        self.call_types.get(qualified).map(String::as_str)
    }

    /// Whether any entry's open path starts with `module` (for import filtering).
    pub fn knows_module(&self, module: &str) -> bool {
        self.by_open.keys().any(|p| p.split('.').next() == Some(module))
    }

    /// The last segments of every open path: the names whose presence makes a file worth parsing.
    pub fn needles(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.by_open.keys().filter_map(|p| p.rsplit('.').next()).map(str::to_string).collect();
        names.sort();
        names.dedup();
        names
    }
}

fn is_dotted_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}
