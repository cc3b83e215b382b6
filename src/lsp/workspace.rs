//! The configuration of open documents: the CLI's configuration files, found the CLI's way
//! (walking up from each file), cached per workspace folder and dropped when a configuration file
//! changes. Also `file:` URIs and paths.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{CONFIG_FILES, ConfigError, SettingsResolver};
use crate::python::knowledge::Knowledge;
use crate::run;
use crate::settings::{Overrides, Settings};

/// What applies to one document.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub settings: Arc<Settings>,
    pub knowledge: Arc<Knowledge>,
    /// The path as the settings' patterns match it.
    pub absolute: PathBuf,
}

/// One workspace folder (or, with no root, everything outside the folders).
#[derive(Debug)]
struct Folder {
    root: Option<PathBuf>,
    resolver: SettingsResolver,
    /// The knowledge for each configuration file: the shipped knowledge and its `[[resource]]`s.
    knowledge: HashMap<Option<PathBuf>, Arc<Knowledge>>,
}

impl Folder {
    fn new(root: Option<PathBuf>) -> Folder {
        Folder { root, resolver: SettingsResolver::new(Overrides::default()), knowledge: HashMap::new() }
    }
}

#[derive(Debug)]
pub struct Workspace {
    /// Deepest first, so that a nested folder wins over the one that holds it.
    folders: Vec<Folder>,
    outside: Folder,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace { folders: Vec::new(), outside: Folder::new(None) }
    }
}

impl Workspace {
    /// Sets the workspace folders, forgetting every cached configuration.
    pub fn set_folders(&mut self, roots: Vec<PathBuf>) {
        let mut roots: Vec<PathBuf> = roots.into_iter().map(|r| std::fs::canonicalize(&r).unwrap_or(r)).collect();
        roots.sort_by_key(|r| std::cmp::Reverse(r.components().count()));
        roots.dedup();
        self.folders = roots.into_iter().map(|root| Folder::new(Some(root))).collect();
        self.outside = Folder::new(None);
    }

    /// Forgets every configuration read, so that the next document reads them again.
    pub fn reload(&mut self) {
        let roots = self.folders.iter().filter_map(|f| f.root.clone()).collect();
        self.set_folders(roots);
    }

    /// The settings and knowledge for the file at `path`; `None` for a file the configuration
    /// excludes. The editor names the file, but so does pre-commit: an open file is checked
    /// unless it is excluded, as `--force-exclude` would have it.
    pub fn resolve(&mut self, path: &Path) -> Result<Option<Resolved>, ConfigError> {
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let folder = match self.folders.iter().position(|f| f.root.as_ref().is_some_and(|r| absolute.starts_with(r))) {
            Some(i) => &mut self.folders[i],
            None => &mut self.outside,
        };
        let settings = folder.resolver.settings_for(&absolute, false)?;
        if settings.is_excluded(&absolute) {
            return Ok(None);
        }
        let knowledge = match folder.knowledge.get(&settings.source) {
            Some(knowledge) => knowledge.clone(),
            None => {
                let loaded = folder.resolver.discovery().loaded();
                let configs: Vec<_> =
                    loaded.into_iter().filter(|(p, _)| Some(*p) == settings.source.as_deref()).collect();
                let knowledge = Arc::new(run::knowledge_from(&configs)?);
                folder.knowledge.insert(settings.source.clone(), knowledge.clone());
                knowledge
            }
        };
        Ok(Some(Resolved { settings, knowledge, absolute }))
    }
}

/// What applies to a document that is not a file (an unsaved buffer): the defaults.
pub fn defaults() -> Resolved {
    let settings = Settings::new(None, PathBuf::new(), &crate::config::Config::default(), &Overrides::default());
    Resolved {
        settings: Arc::new(settings),
        knowledge: Arc::new(Knowledge::builtin().clone()),
        absolute: PathBuf::new(),
    }
}

/// Whether a changed file is one of the configuration files.
pub fn is_config_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| CONFIG_FILES.contains(&n))
}

/// The path of a `file:` URI (percent-decoded); `None` for other schemes.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.get(..7).filter(|s| s.eq_ignore_ascii_case("file://")).map(|_| &uri[7..])?;
    // `file://host/path`: the host is dropped; `file:///C:/x` is `C:/x` on Windows.
    let path = &rest[rest.find('/')?..];
    let decoded = percent_decode(path)?;
    if cfg!(windows) && decoded.len() > 2 && decoded.as_bytes()[2] == b':' {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut uri = String::from(if text.starts_with('/') { "file://" } else { "file:///" });
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a dir/naïve#1.py");
        let uri = path_to_uri(path);
        assert_eq!(uri, "file:///tmp/a%20dir/na%C3%AFve%231.py");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(path));
        assert_eq!(uri_to_path("file://localhost/srv/x.py").as_deref(), Some(Path::new("/srv/x.py")));
        assert_eq!(uri_to_path("untitled:Untitled-1"), None);
        assert_eq!(uri_to_path("file:///bad%zz"), None);
    }
}
