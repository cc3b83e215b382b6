//! Name resolution from imports: which qualified Python name a local name stands for.
//!
//! `import sqlite3 as db` makes `db.connect` mean `sqlite3.connect`; `from sqlite3 import connect
//! as c` makes `c` mean `sqlite3.connect`; `import psycopg2.pool` binds `psycopg2`, so
//! `psycopg2.pool.SimpleConnectionPool` resolves through the attribute chain.

use crate::hash::FastMap as HashMap;

use super::syntax::Node;

use super::knowledge::Knowledge;
use super::syntax::{Kind, KindTable, dotted_name, text};

#[derive(Debug, Clone, Default)]
pub struct Imports {
    /// Local name → qualified name.
    names: HashMap<String, String>,
}

impl Imports {
    /// The qualified name bound to a local name, if an import bound it.
    pub fn get(&self, local: &str) -> Option<&str> {
        self.names.get(local).map(String::as_str)
    }

    pub fn bind(&mut self, local: &str, qualified: String) {
        self.names.insert(local.to_string(), qualified);
    }

    /// Records an `import ...`, `from ... import ...` or `from __future__ import ...` statement.
    /// `package` is the dotted package of the module being read, for relative imports.
    pub fn add_statement(&mut self, node: Node, src: &str, package: Option<&str>, knowledge: &Knowledge) {
        let kinds = KindTable::get();
        match kinds.of(node) {
            Kind::ImportStatement => {
                for name in node.children_by_field_name("name") {
                    match kinds.of(name) {
                        Kind::DottedName => {
                            let full = dotted_name(name, src);
                            let root = full.split('.').next().unwrap_or_default().to_string();
                            self.bind(&root.clone(), root);
                        }
                        Kind::AliasedImport => {
                            if let (Some(target), Some(alias)) = (name.field("name"), name.field("alias")) {
                                self.bind(text(alias, src), dotted_name(target, src));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Kind::ImportFromStatement => {
                let Some(module) = node.field("module_name") else {
                    return;
                };
                let Some(module) = from_module(module, src, package) else {
                    return;
                };
                let mut any_name = false;
                for name in node.children_by_field_name("name") {
                    any_name = true;
                    match kinds.of(name) {
                        Kind::DottedName => {
                            let imported = dotted_name(name, src);
                            self.bind(&imported.clone(), join(&module, &imported));
                        }
                        Kind::AliasedImport => {
                            if let (Some(target), Some(alias)) = (name.field("name"), name.field("alias")) {
                                self.bind(text(alias, src), join(&module, &dotted_name(target, src)));
                            }
                        }
                        _ => {}
                    }
                }
                let has_star = node.children().any(|c| kinds.of(c) == Kind::WildcardImport);
                if !any_name && has_star {
                    self.bind_star(&module, knowledge);
                }
            }
            _ => {}
        }
    }

    /// `from sqlite3 import *` binds the known openers of that module.
    fn bind_star(&mut self, module: &str, knowledge: &Knowledge) {
        let prefix = format!("{module}.");
        for resource in &knowledge.resources {
            for open in &resource.open {
                if let Some(name) = open.strip_prefix(&prefix).filter(|rest| !rest.contains('.')) {
                    self.bind(name, open.clone());
                }
            }
        }
    }

    /// Resolves a dotted chain whose first part may be an imported name.
    pub fn resolve(&self, parts: &[&str]) -> Option<String> {
        self.resolve_over(&Imports::default(), parts)
    }

    /// The qualified name bound to `local` by these imports, or else by `outer`'s: a
    /// function's own imports over its module's (which are not copied into every function).
    pub fn get_over<'a>(&'a self, outer: &'a Imports, local: &str) -> Option<&'a str> {
        self.get(local).or_else(|| outer.get(local))
    }

    /// [`Imports::resolve`] with these imports over `outer`'s (see [`Imports::get_over`]).
    pub fn resolve_over(&self, outer: &Imports, parts: &[&str]) -> Option<String> {
        let (root, rest) = parts.split_first()?;
        let base = self.get_over(outer, root)?;
        let mut out = base.to_string();
        for part in rest {
            out.push('.');
            out.push_str(part);
        }
        Some(out)
    }
}

fn join(module: &str, name: &str) -> String {
    if module.is_empty() { name.to_string() } else { format!("{module}.{name}") }
}

/// The absolute module of a `from X import` clause; relative imports need the package.
fn from_module(node: Node, src: &str, package: Option<&str>) -> Option<String> {
    let kinds = KindTable::get();
    match kinds.of(node) {
        Kind::DottedName => Some(dotted_name(node, src)),
        Kind::RelativeImport => {
            let raw = text(node, src);
            let dots = raw.chars().take_while(|&c| c == '.').count();
            let rest = raw[dots..].trim();
            let package = package?;
            let mut parts: Vec<&str> = if package.is_empty() { Vec::new() } else { package.split('.').collect() };
            // One dot is the current package; each further dot goes one level up.
            for _ in 1..dots {
                parts.pop()?;
            }
            let mut out = parts.join(".");
            if !rest.is_empty() {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(rest);
            }
            Some(out)
        }
        _ => None,
    }
}
