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

/// How the walk came to a path it asks [`Exclude`] about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Named on the command line.
    Named,
    /// Inside a folder being walked: a file, or a folder that is never a symbolic link (links
    /// are not followed). `in_checked_folder`: its folder was itself found by the walk and not
    /// excluded (not a folder named on the command line).
    Walked { folder: bool, in_checked_folder: bool },
}

/// Says whether a path is excluded by the configuration.
pub type Exclude = Arc<dyn Fn(&Path, Found) -> bool + Send + Sync>;

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
            if exclude(root, Found::Named) {
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
        if exclude(root, Found::Named) {
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
                // Most of a tree can be files of other languages (Django ships thousands of
                // translation files): they are never checked, so the exclude patterns need not
                // be matched against them.
                if !is_dir && SourceKind::of_path(entry.path()).is_none() {
                    return false;
                }
                let found = Found::Walked { folder: is_dir, in_checked_folder: entry.depth() > 1 };
                !(exclude(entry.path(), found) || is_dir && entry.path().join("pyvenv.cfg").is_file())
            })
            .build_parallel();
        // Folders are listed on every core: a large tree is mostly system calls.
        let found = std::sync::Mutex::new((Vec::new(), Vec::new()));
        walker.run(|| {
            Box::new(|entry| {
                let Ok(mut found) = found.lock() else { return ignore::WalkState::Quit };
                match entry {
                    Ok(entry) => {
                        if entry.file_type().is_some_and(|t| t.is_file())
                            && let Some(kind) = SourceKind::of_path(entry.path())
                        {
                            found.0.push(SourceFile { path: entry.into_path(), kind });
                        }
                    }
                    Err(err) => found.1.push(walk_error(err)),
                }
                ignore::WalkState::Continue
            })
        });
        let (found_files, found_errors) = found.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        files.extend(found_files);
        errors.extend(found_errors);
    }
    files.sort();
    files.dedup();
    errors.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
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
