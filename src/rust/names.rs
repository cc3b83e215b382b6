//! Path resolution through `use` items: `use sqlx::postgres::PgPoolOptions;`,
//! `use tokio_postgres as pg;`, groups (`use sqlx::{Pool, Postgres};`) and globs of known crates
//! (`use rusqlite::*;`). Full paths (`sqlx::PgPool::connect`) need nothing.

use std::collections::HashMap;

use syn::visit::Visit;

/// Local names brought in by `use`, anywhere in the file (module level, in functions, in
/// nested modules: real code imports close to use).
#[derive(Debug, Clone, Default)]
pub struct UseMap {
    names: HashMap<String, Vec<String>>,
    /// Prefixes of glob imports (`["rusqlite"]` for `use rusqlite::*;`).
    globs: Vec<Vec<String>>,
}

impl UseMap {
    pub fn from_file(file: &syn::File) -> UseMap {
        let mut collector = Collector { map: UseMap::default() };
        collector.visit_file(file);
        collector.map
    }

    /// The full path a written path stands for. `known_crate` says which first segments are
    /// crates connlint knows, for glob imports.
    pub fn resolve(&self, path: &syn::Path, known_crate: &dyn Fn(&str) -> bool) -> Vec<String> {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve_segments(&written, known_crate)
    }

    pub fn resolve_segments(&self, written: &[String], known_crate: &dyn Fn(&str) -> bool) -> Vec<String> {
        let Some((first, rest)) = written.split_first() else { return Vec::new() };
        if let Some(full) = self.names.get(first) {
            return full.iter().chain(rest).cloned().collect();
        }
        if matches!(first.as_str(), "crate" | "self" | "super" | "Self") || known_crate(first) {
            return written.to_vec();
        }
        // A name from a glob import of a crate connlint knows.
        if let Some(prefix) = self.globs.iter().find(|g| g.first().is_some_and(|c| known_crate(c))) {
            return prefix.iter().chain(written).cloned().collect();
        }
        written.to_vec()
    }

    /// Whether any `use` or path mentions `crate_name` (a cheap test for "this file uses it").
    pub fn imports_crate(&self, crate_name: &str) -> bool {
        self.names.values().any(|p| p.first().is_some_and(|c| c == crate_name))
            || self.globs.iter().any(|g| g.first().is_some_and(|c| c == crate_name))
    }
}

struct Collector {
    map: UseMap,
}

impl Collector {
    fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                if ident == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        self.map.names.insert(last, prefix.clone());
                    }
                } else {
                    let mut full = prefix.clone();
                    full.push(ident.clone());
                    self.map.names.insert(ident, full);
                }
            }
            syn::UseTree::Rename(rename) => {
                let mut full = prefix.clone();
                if rename.ident != "self" {
                    full.push(rename.ident.to_string());
                }
                self.map.names.insert(rename.rename.to_string(), full);
            }
            syn::UseTree::Glob(_) => self.map.globs.push(prefix.clone()),
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.tree(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.tree(&mut prefix, &item.tree);
    }
}
