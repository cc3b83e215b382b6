//! Configuration: `connlint.toml` / `.connlint.toml`, `[tool.connlint]` in `pyproject.toml`,
//! `[package.metadata.connlint]` / `[workspace.metadata.connlint]` in `Cargo.toml`, found by
//! walking up from each checked file. An unknown key or a bad value is an error that names the
//! file, the key and the line.
//!
//! Reading the files is the edge's job ([`discover`], [`load`]); [`parse`] is pure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::diagnostic::Severity;
// Paths are hashed thousands of times per walk: Fx, not SipHash (the keys are the user's own
// folders; no one gains by making them collide).
use crate::hash::FastMap as HashMap;
use crate::python::knowledge::Resource;
use crate::settings::{Overrides, Pattern, RuleSelector, Settings};

/// The settings of one configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// The rules to check (default: all); codes, prefixes (`CL1`), names or `ALL`.
    pub select: Option<Vec<RuleSelector>>,
    /// Rules added to `select`.
    #[serde(default)]
    pub extend_select: Vec<RuleSelector>,
    /// Rules not to check.
    #[serde(default)]
    pub ignore: Vec<RuleSelector>,
    /// Rules not to check in the files a glob matches (relative to this file's folder).
    #[serde(default)]
    pub per_file_ignores: BTreeMap<Pattern, Vec<RuleSelector>>,
    /// Severity overrides: `{ CL105 = "warning" }`.
    #[serde(default)]
    pub severity: BTreeMap<RuleSelector, Severity>,
    /// Globs of files and folders not to check; replaces the default list.
    pub exclude: Option<Vec<Pattern>>,
    /// Globs excluded in addition to `exclude`.
    #[serde(default)]
    pub extend_exclude: Vec<Pattern>,
    /// Exclude files even when they are named on the command line (as pre-commit does).
    #[serde(default)]
    pub force_exclude: bool,
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
pub const CONFIG_FILES: &[&str] = &["connlint.toml", ".connlint.toml", "pyproject.toml", "Cargo.toml"];

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

/// Finds the configuration that applies to files in a folder: the nearest folder (walking up)
/// that has one of the configuration files with a connlint section. Configurations are read
/// once, and the answer is cached per folder.
#[derive(Debug, Default)]
pub struct Discovery {
    by_folder: HashMap<PathBuf, Option<PathBuf>>,
    /// The same answers by the folder as written (saves making it canonical again).
    by_written_folder: HashMap<PathBuf, Option<PathBuf>>,
    loaded: HashMap<PathBuf, Arc<Config>>,
    /// Folders as written, made canonical: once per folder, and without a system call for a
    /// folder the walk found inside one already known (see [`Discovery::note_real_folder`]).
    canonical_folders: HashMap<PathBuf, PathBuf>,
    /// Which of [`CONFIG_FILES`] a folder (canonical) holds, when the walk looked already
    /// (see [`Discovery::note_config_files`]).
    config_files_seen: HashMap<PathBuf, Vec<&'static str>>,
}

impl Discovery {
    /// The configuration file for files in `dir`, with its settings.
    pub fn config_for(&mut self, dir: &Path) -> Result<Option<(PathBuf, Arc<Config>)>, ConfigError> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Some(found) = self.by_written_folder.get(dir) {
            return Ok(found.clone().map(|path| {
                let config = self.loaded[&path].clone();
                (path, config)
            }));
        }
        let written = dir.to_path_buf();
        let dir = self.canonical_folder(dir).unwrap_or_else(|| dir.to_path_buf());
        let mut chain = Vec::new();
        let mut current = Some(dir.as_path());
        let mut found = None;
        while let Some(folder) = current {
            if let Some(cached) = self.by_folder.get(folder) {
                found = cached.clone();
                break;
            }
            chain.push(folder.to_path_buf());
            if let Some(file) = self.config_file_in(folder)? {
                found = Some(file);
                break;
            }
            current = folder.parent();
        }
        for folder in chain {
            self.by_folder.insert(folder, found.clone());
        }
        self.by_written_folder.insert(written, found.clone());
        Ok(found.map(|path| {
            let config = self.loaded[&path].clone();
            (path, config)
        }))
    }

    /// The canonical form of the folder `dir` as written, `None` when it cannot be made (it
    /// does not exist).
    pub fn canonical_folder(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(folder) = self.canonical_folders.get(dir) {
            return Some(folder.clone());
        }
        let folder = std::fs::canonicalize(dir).ok()?;
        self.canonical_folders.insert(dir.to_path_buf(), folder.clone());
        Some(folder)
    }

    /// Says that `dir` is a real folder (not a symbolic link) inside the folder its path names
    /// as its parent: its canonical form is then the parent's and its name, with no system call
    /// (a walk of thousands of folders otherwise spends most of its time resolving paths).
    pub fn note_real_folder(&mut self, dir: &Path) {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else { return };
        if name == "." || name == ".." || self.canonical_folders.contains_key(dir) {
            return;
        }
        if let Some(parent) = self.canonical_folders.get(parent) {
            let folder = parent.join(name);
            self.canonical_folders.insert(dir.to_path_buf(), folder);
        }
    }

    /// Every configuration read so far, in path order.
    pub fn loaded(&self) -> Vec<(&Path, &Config)> {
        let mut configs: Vec<(&Path, &Config)> = self.loaded.iter().map(|(p, c)| (p.as_path(), c.as_ref())).collect();
        configs.sort_by_key(|(path, _)| *path);
        configs
    }

    /// Whether the configuration for files in `dir` (as written) is known without reading
    /// the file system.
    pub fn knows_folder(&self, dir: &Path) -> bool {
        self.by_written_folder.contains_key(dir)
    }

    /// Says which of [`CONFIG_FILES`] the folder `dir` (as written) holds, as
    /// [`config_files_in`] found them: the walk looks before taking the lock that guards this
    /// cache, so that its threads do not wait on each other's system calls.
    pub fn note_config_files(&mut self, dir: &Path, names: Vec<&'static str>) {
        if let Some(folder) = self.canonical_folder(dir) {
            self.config_files_seen.insert(folder, names);
        }
    }

    /// The configuration file of one folder, if it has one with a connlint section.
    fn config_file_in(&mut self, folder: &Path) -> Result<Option<PathBuf>, ConfigError> {
        let names = match self.config_files_seen.remove(folder) {
            Some(names) => names,
            None => config_files_in(folder),
        };
        for name in names {
            let path = folder.join(name);
            if let Some(config) = load(&path)? {
                self.loaded.insert(path.clone(), Arc::new(config));
                return Ok(Some(path));
            }
        }
        Ok(None)
    }
}

/// Which of [`CONFIG_FILES`] are files in `folder`, in their order.
pub fn config_files_in(folder: &Path) -> Vec<&'static str> {
    CONFIG_FILES.iter().copied().filter(|name| folder.join(name).is_file()).collect()
}

/// The settings for every checked file: the nearest configuration's, with the command line's
/// overrides. One [`Settings`] per configuration file.
#[derive(Debug)]
pub struct SettingsResolver {
    discovery: Discovery,
    overrides: Overrides,
    /// The folder relative to which the patterns of files under no configuration match.
    cwd: PathBuf,
    by_config: HashMap<Option<PathBuf>, Arc<Settings>>,
}

impl SettingsResolver {
    pub fn new(overrides: Overrides) -> SettingsResolver {
        let cwd = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok()).unwrap_or_default();
        SettingsResolver { discovery: Discovery::default(), overrides, cwd, by_config: HashMap::default() }
    }

    /// The settings for a file or folder at `path`.
    pub fn settings_for(&mut self, path: &Path, is_dir: bool) -> Result<Arc<Settings>, ConfigError> {
        let dir = if is_dir { Some(path) } else { path.parent() };
        let found = self.discovery.config_for(dir.unwrap_or(Path::new(".")))?;
        let key = found.as_ref().map(|(path, _)| path.clone());
        if let Some(settings) = self.by_config.get(&key) {
            return Ok(settings.clone());
        }
        let settings = Arc::new(match found {
            Some((config_path, config)) => {
                let base = config_path.parent().map(Path::to_path_buf).unwrap_or_default();
                Settings::new(Some(config_path), base, &config, &self.overrides)
            }
            None => Settings::new(None, self.cwd.clone(), &Config::default(), &self.overrides),
        });
        self.by_config.insert(key, settings.clone());
        Ok(settings)
    }

    /// The absolute form of `path`, as the settings' patterns match it: its folder made
    /// canonical (once per folder), and its name.
    pub fn absolute(&mut self, path: &Path) -> PathBuf {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return std::fs::canonicalize(path).unwrap_or_else(|_| self.cwd.join(path));
        };
        self.folder_absolute(parent).join(name)
    }

    /// The absolute form of the folder `dir` (as written; empty is the current folder).
    pub fn folder_absolute(&mut self, dir: &Path) -> PathBuf {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        self.discovery.canonical_folder(dir).unwrap_or_else(|| self.cwd.join(dir))
    }

    /// See [`Discovery::knows_folder`].
    pub fn knows_folder(&self, dir: &Path) -> bool {
        self.discovery.knows_folder(dir)
    }

    /// See [`Discovery::note_config_files`].
    pub fn note_config_files(&mut self, dir: &Path, names: Vec<&'static str>) {
        self.discovery.note_config_files(dir, names);
    }

    /// See [`Discovery::note_real_folder`].
    pub fn note_real_folder(&mut self, dir: &Path) {
        self.discovery.note_real_folder(dir);
    }

    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }
}
