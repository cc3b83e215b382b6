//! Symbolic values: what a callee or a receiver *is*, written down by the lowering before the
//! whole project is known, and resolved afterwards against the knowledge base and the summaries
//! of every function of the project.
//!
//! `conn = get_db(); conn.cursor()` lowers the second callee to
//! `Attr(Call(Name("app.db.get_db")), "cursor")`. Once the project knows that `app.db.get_db`
//! returns a `sqlite3.Connection`, it resolves to `sqlite3.Connection.cursor`. Because the
//! lowering keeps symbols instead of answers, no file is parsed twice when factories are found
//! in other modules.

use crate::hash::FastMap as HashMap;

use super::knowledge::{Knowledge, ResourceId};

/// A value described by how it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sym {
    /// A fully qualified name: a module, a class, a function (`sqlite3.connect`, `app.db`).
    Name(String),
    /// An attribute of a value: `value.attr`.
    Attr(Box<Sym>, String),
    /// What calling a value returns: `f(...)`.
    Call(Box<Sym>),
    /// A value nothing is known about (an unannotated parameter).
    Unknown,
}

impl Sym {
    pub fn name(qualified: impl Into<String>) -> Sym {
        Sym::Name(qualified.into())
    }

    /// `self.attr`, folding attributes of names into one qualified name.
    pub fn attr(self, attr: &str) -> Sym {
        match self {
            Sym::Name(mut name) => {
                name.push('.');
                name.push_str(attr);
                Sym::Name(name)
            }
            other => Sym::Attr(Box::new(other), attr.to_string()),
        }
    }

    pub fn call(self) -> Sym {
        Sym::Call(Box::new(self))
    }
}

/// Where a factory function really opens its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactoryOrigin {
    /// The qualified name of the factory function.
    pub function: String,
    /// The qualified name of the opener it calls in the end (`sqlite3.connect`).
    pub opener: String,
    /// The file and one-based line of that open call.
    pub path: String,
    pub line: usize,
}

/// What calling a function of the project gives back, as far as resources go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// A fresh resource the caller must close.
    Factory { resource: ResourceId, origin: FactoryOrigin },
    /// A `@contextmanager` function: `with f() as x:` is taken care of by the function itself.
    ContextManager,
    /// Some other value, as a symbol (a module returned by a lazy-import helper).
    Returns(Sym),
}

/// What an open site turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub resource: ResourceId,
    /// The qualified name called (`sqlite3.connect`, or the factory `app.db.get_db`).
    pub callee: String,
    /// Boxed: a module's sites are resolved into a vector of these, one per call, and few come
    /// from a factory (48 bytes a site instead of 120).
    pub origin: Option<Box<FactoryOrigin>>,
    /// Called without the arguments that make it open anything (`smtplib.SMTP()` without a
    /// host): it holds something only once one of its resource's `opens_on` methods is called.
    pub opens_later: bool,
}

// A module's sites are resolved into a vector of these: keep them small.
const _: () = assert!(std::mem::size_of::<Option<Resolved>>() <= 48);

/// Resolution depth bound: summaries can refer to each other in cycles.
const MAX_RESOLVE_DEPTH: usize = 16;

/// Resolves symbols against the knowledge base and the project's function summaries.
pub struct Resolver<'a> {
    pub knowledge: &'a Knowledge,
    pub summaries: &'a HashMap<String, Summary>,
    /// The base classes of each class of the project, for inherited methods.
    pub hierarchy: &'a Hierarchy,
}

/// Class → its base classes, by qualified name.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    pub bases: HashMap<String, Vec<String>>,
}

impl Hierarchy {
    /// The first `Class.method` (for `qualified` = `Subclass.method`) found in the class or its
    /// bases, breadth first, for which `exists` holds.
    pub fn find(&self, qualified: &str, mut exists: impl FnMut(&str) -> bool) -> Option<String> {
        if exists(qualified) {
            return Some(qualified.to_string());
        }
        let (class, method) = qualified.rsplit_once('.')?;
        let mut queue: std::collections::VecDeque<&str> = self.bases.get(class)?.iter().map(String::as_str).collect();
        let mut seen = crate::hash::FastSet::default();
        while let Some(base) = queue.pop_front() {
            if !seen.insert(base) || seen.len() > 64 {
                continue;
            }
            let candidate = format!("{base}.{method}");
            if exists(&candidate) {
                return Some(candidate);
            }
            queue.extend(self.bases.get(base).into_iter().flatten().map(String::as_str));
        }
        None
    }

    /// `Class.method` for every base class known of the class of `qualified`
    /// (`Subclass.method`), as [`Hierarchy::find`] visits them.
    pub fn method_in_bases(&self, qualified: &str) -> Vec<String> {
        let mut found = Vec::new();
        self.find(qualified, |candidate| {
            if candidate != qualified {
                found.push(candidate.to_string());
            }
            false
        });
        found
    }
}

impl Resolver<'_> {
    /// The summary of a function, inherited methods included.
    fn summary(&self, called: &str) -> Option<&Summary> {
        if let Some(summary) = self.summaries.get(called) {
            return Some(summary);
        }
        let found = self.hierarchy.find(called, |name| self.summaries.contains_key(name))?;
        self.summaries.get(&found)
    }

    /// The qualified name of the function a callee symbol names.
    pub fn callee(&self, callee: &Sym) -> Option<String> {
        self.callee_at(callee, 0)
    }

    fn callee_at(&self, callee: &Sym, depth: usize) -> Option<String> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match callee {
            Sym::Name(name) => Some(name.clone()),
            Sym::Unknown => None,
            Sym::Attr(base, attr) => Some(format!("{}.{attr}", self.type_at(base, depth + 1)?)),
            // Calling a value: `factory = sessionmaker(...); factory()`.
            Sym::Call(_) => Some(format!("{}.__call__", self.type_at(callee, depth + 1)?)),
        }
    }

    /// The type (a qualified class or module name) of the value a symbol stands for.
    pub fn value_type(&self, value: &Sym) -> Option<String> {
        self.type_at(value, 0)
    }

    fn type_at(&self, value: &Sym, depth: usize) -> Option<String> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        match value {
            Sym::Name(name) => Some(name.clone()),
            Sym::Unknown => None,
            Sym::Attr(..) => self.callee_at(value, depth + 1),
            Sym::Call(function) => {
                let called = self.callee_at(function, depth + 1)?;
                if let Some(type_name) = self.knowledge.type_of_call(&called) {
                    return Some(type_name.to_string());
                }
                match self.summary(&called) {
                    Some(Summary::Factory { resource, .. }) => {
                        let resource = &self.knowledge.resources[*resource];
                        Some(resource.type_name.clone().unwrap_or_else(|| resource.open[0].clone()))
                    }
                    Some(Summary::Returns(sym)) => self.type_at(sym, depth + 1),
                    // Without knowledge, "whatever `f` returns" is named after `f`.
                    Some(Summary::ContextManager) | None => Some(called),
                }
            }
        }
    }

    /// What a call to `callee` opens, if anything.
    pub fn open_site(&self, callee: &Sym) -> Option<Resolved> {
        // Most calls open nothing: a plain name is looked up without copying it first.
        let called: std::borrow::Cow<str> = match callee {
            Sym::Name(name) => std::borrow::Cow::Borrowed(name.as_str()),
            _ => std::borrow::Cow::Owned(self.callee(callee)?),
        };
        if let Some(resource) = self.knowledge.opener(&called) {
            return Some(Resolved { resource, callee: called.into_owned(), origin: None, opens_later: false });
        }
        match self.summary(&called) {
            Some(Summary::Factory { resource, origin }) => Some(Resolved {
                resource: *resource,
                callee: called.into_owned(),
                origin: Some(Box::new(origin.clone())),
                opens_later: false,
            }),
            _ => None,
        }
    }

    /// Whether calling `callee` gives a `@contextmanager` context.
    pub fn is_context_manager_function(&self, callee: &Sym) -> bool {
        self.callee(callee).is_some_and(|c| matches!(self.summary(&c), Some(Summary::ContextManager)))
    }
}
