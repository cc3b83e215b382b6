//! Finding the files to check: `.gitignore`-aware, skipping version-control folders,
//! virtualenvs and build output. This is the I/O edge; the core never walks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::WalkBuilder;

use crate::SourceKind;

/// A file to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: SourceKind,
}

/// A path the walk could not use, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// Says whether a path is excluded by the configuration: `(path, named_on_the_command_line)`.
pub type Exclude = Arc<dyn Fn(&Path, bool) -> bool + Send + Sync>;

/// Collects the source files under `roots`, sorted by path. Files named explicitly are checked
/// whatever the ignore files say, as long as connlint reads their language.
pub fn collect(roots: &[PathBuf], exclude: Exclude) -> (Vec<SourceFile>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        let metadata = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(err) => {
                errors.push(WalkError { path: root.clone(), message: describe_io_error(&err) });
                continue;
            }
        };
        if metadata.is_file() {
            if exclude(root, true) {
                continue;
            }
            match SourceKind::of_path(root) {
                Some(kind) => files.push(SourceFile { path: root.clone(), kind }),
                None => errors.push(WalkError {
                    path: root.clone(),
                    message: "not a Python or Rust file (connlint reads `.py` and `.rs` files)".to_string(),
                }),
            }
            continue;
        }
        if !metadata.is_dir() {
            // A FIFO, socket or device named on the command line: never read it.
            errors.push(WalkError { path: root.clone(), message: "not a regular file".to_string() });
            continue;
        }
        if exclude(root, true) {
            continue;
        }
        let exclude = exclude.clone();
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .git_global(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                if entry.depth() == 0 {
                    return true;
                }
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !(exclude(entry.path(), false) || is_dir && entry.path().join("pyvenv.cfg").is_file())
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file())
                        && let Some(kind) = SourceKind::of_path(entry.path())
                    {
                        files.push(SourceFile { path: entry.into_path(), kind });
                    }
                }
                Err(err) => errors.push(walk_error(err)),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk_error(err: ignore::Error) -> WalkError {
    let path = error_path(&err).unwrap_or_default();
    let message = match err.io_error() {
        Some(io) => describe_io_error(io),
        None => err.to_string(),
    };
    WalkError { path, message }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

pub fn describe_io_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::StorageFull => "no space left on device".to_string(),
        std::io::ErrorKind::ReadOnlyFilesystem => "read-only file system".to_string(),
        _ => err.to_string(),
    }
}

/// The dotted package a Python file belongs to: its parent folders that hold an `__init__.py`
/// (`app/db/models.py` in package `app.db`). `None` for a file outside any package.
pub fn python_package(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    let mut dir = path.parent()?;
    while dir.join("__init__.py").is_file() {
        parts.push(dir.file_name()?.to_str()?.to_string());
        match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => dir = parent,
            _ => break,
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some(parts.join("."))
}

/// The dotted module name of a Python file and its package: `app/db.py` in a package `app` is
/// `app.db`; `app/__init__.py` is `app`; a file outside any package is named by its stem.
pub fn python_module(path: &Path) -> (String, Option<String>) {
    let package = python_package(path);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("module");
    let name = match (&package, stem) {
        (Some(package), "__init__") => package.clone(),
        (Some(package), stem) => format!("{package}.{stem}"),
        (None, stem) => stem.to_string(),
    };
    (name, package)
}
