//! Configuration: `connlint.toml` / `.connlint.toml`, `[tool.connlint]` in `pyproject.toml`,
//! `[package.metadata.connlint]` / `[workspace.metadata.connlint]` in `Cargo.toml`, found by
//! walking up from each checked file. An unknown key or a bad value is an error that names the
//! file, the key and the line.
//!
//! Reading the files is the edge's job ([`discover`], [`load`]); [`parse`] is pure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::python::knowledge::Resource;

/// The settings of one configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The project's own openers, with the keys of `rules/python/*.toml`.
    #[serde(default)]
    pub resource: Vec<Resource>,
}

/// A configuration that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

/// The file names that hold a configuration, by precedence within one folder.
const CONFIG_FILES: &[&str] = &["connlint.toml", ".connlint.toml", "pyproject.toml", "Cargo.toml"];

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Deserialize)]
struct PyprojectTool {
    connlint: Option<Config>,
}

#[derive(Deserialize)]
struct CargoManifest {
    package: Option<CargoMetadataHolder>,
    workspace: Option<CargoMetadataHolder>,
}

#[derive(Deserialize)]
struct CargoMetadataHolder {
    metadata: Option<CargoMetadata>,
}

#[derive(Deserialize)]
struct CargoMetadata {
    connlint: Option<Config>,
}

/// Parses the text of a configuration file named `file_name`. `Ok(None)` when the file holds no
/// connlint section (a `pyproject.toml` without `[tool.connlint]`).
pub fn parse(file_name: &str, text: &str) -> Result<Option<Config>, String> {
    let describe = |e: toml::de::Error| e.to_string().trim_end().to_string();
    match file_name {
        "pyproject.toml" => {
            let doc: Pyproject = toml::from_str(text).map_err(describe)?;
            Ok(doc.tool.and_then(|t| t.connlint))
        }
        "Cargo.toml" => {
            let doc: CargoManifest = toml::from_str(text).map_err(describe)?;
            let package = doc.package.and_then(|p| p.metadata).and_then(|m| m.connlint);
            let workspace = doc.workspace.and_then(|w| w.metadata).and_then(|m| m.connlint);
            Ok(package.or(workspace))
        }
        _ => toml::from_str(text).map(Some).map_err(describe),
    }
}

/// Reads and checks one configuration file.
pub fn load(path: &Path) -> Result<Option<Config>, ConfigError> {
    let error = |message: String| ConfigError { file: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| error(crate::walk::describe_io_error(&e)))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let config = parse(name, &text).map_err(error)?;
    if let Some(config) = &config {
        for resource in &config.resource {
            let mut probe = crate::python::knowledge::Knowledge::default();
            probe.add_resource("config", resource.clone()).map_err(error)?;
        }
    }
    Ok(config)
}

/// Finds the configuration that applies to files in `dir`: the nearest folder (walking up)
/// that has one of the configuration files with a connlint section. Results are cached per
/// folder.
#[derive(Debug, Default)]
pub struct Discovery {
    cache: HashMap<PathBuf, Option<PathBuf>>,
}

impl Discovery {
    pub fn config_for(&mut self, dir: &Path) -> Result<Option<PathBuf>, ConfigError> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut chain = Vec::new();
        let mut current = Some(dir.as_path());
        let mut found = None;
        while let Some(folder) = current {
            if let Some(cached) = self.cache.get(folder) {
                found = cached.clone();
                break;
            }
            chain.push(folder.to_path_buf());
            if let Some(file) = config_file_in(folder)? {
                found = Some(file);
                break;
            }
            current = folder.parent();
        }
        for folder in chain {
            self.cache.insert(folder, found.clone());
        }
        Ok(found)
    }
}

/// The configuration file of one folder, if it has one with a connlint section.
fn config_file_in(folder: &Path) -> Result<Option<PathBuf>, ConfigError> {
    for name in CONFIG_FILES {
        let path = folder.join(name);
        if !path.is_file() {
            continue;
        }
        if load(&path)?.is_some() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}
