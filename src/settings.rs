//! Which rules apply to a file, at what severity, and which files are excluded: the
//! configuration keys and command-line flags resolved into one value per configuration file.
//! Pure: paths are matched as text, relative to the folder of the configuration file.

use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::config::Config;
use crate::diagnostic::Severity;
use crate::rule::Rule;

/// Folder and file names excluded unless the configuration's `exclude` replaces the list: they
/// hold no code of the project's own.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".jj",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    ".direnv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "__pypackages__",
    "node_modules",
    "site-packages",
    "target",
];

/// Rule codes and prefixes as written in `select`, `ignore` and suppressions: `CL101`, `CL1`
/// (every Python rule), `ALL`, or a rule name such as `with-does-not-close`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSelector {
    All,
    /// A code or a code prefix, upper case.
    Prefix(String),
}

impl RuleSelector {
    pub fn parse(text: &str) -> Result<RuleSelector, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(RuleSelector::All);
        }
        if let Some(rule) = Rule::ALL.iter().find(|r| r.name() == text) {
            return Ok(RuleSelector::Prefix(rule.code().to_string()));
        }
        let upper = text.to_ascii_uppercase();
        let selector = RuleSelector::Prefix(upper);
        if selector.rules().next().is_none() {
            return Err(format!("`{text}` matches no rule; `connlint rules` lists them"));
        }
        Ok(selector)
    }

    /// The rules the selector names.
    pub fn rules(&self) -> impl Iterator<Item = Rule> + '_ {
        Rule::ALL.iter().copied().filter(move |rule| match self {
            RuleSelector::All => true,
            RuleSelector::Prefix(prefix) => rule.code().starts_with(prefix.as_str()),
        })
    }

    /// Parses a comma-separated list, as given on the command line.
    pub fn parse_list(text: &str) -> Result<Vec<RuleSelector>, String> {
        text.split(',').filter(|s| !s.trim().is_empty()).map(RuleSelector::parse).collect()
    }
}

impl fmt::Display for RuleSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSelector::All => f.write_str("ALL"),
            RuleSelector::Prefix(prefix) => f.write_str(prefix),
        }
    }
}

impl<'de> Deserialize<'de> for RuleSelector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RuleSelector::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A glob pattern from the configuration, checked when it is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pattern(pub String);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        glob(&text).map_err(|e| serde::de::Error::custom(format!("bad glob `{text}`: {}", e.kind())))?;
        Ok(Pattern(text))
    }
}

/// Globs as in `.gitignore`: `*` stays within a folder, `**` crosses folders.
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// A set of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleSet(u64);

impl RuleSet {
    pub fn all() -> RuleSet {
        RuleSet::from_rules(Rule::ALL.iter().copied())
    }
    pub fn from_rules(rules: impl IntoIterator<Item = Rule>) -> RuleSet {
        let mut set = RuleSet::default();
        for rule in rules {
            set.insert(rule);
        }
        set
    }
    pub fn insert(&mut self, rule: Rule) {
        self.0 |= 1 << rule as u32;
    }
    pub fn remove(&mut self, rule: Rule) {
        self.0 &= !(1 << rule as u32);
    }
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & (1 << rule as u32) != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Rule> {
        Rule::ALL.iter().copied().filter(move |&rule| self.contains(rule))
    }
}

/// What the command line says about rules and exclusion; it wins over the configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Option<Vec<RuleSelector>>,
    pub extend_select: Vec<RuleSelector>,
    pub ignore: Vec<RuleSelector>,
    pub force_exclude: bool,
}

/// The settings for the files under one configuration file (or for files under none).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file these come from, if any.
    pub source: Option<PathBuf>,
    /// The folder relative to which patterns match.
    pub base: PathBuf,
    pub rules: RuleSet,
    severity: Vec<(Rule, Severity)>,
    per_file_ignores: Vec<(GlobMatcher, String, RuleSet)>,
    exclude: GlobSet,
    pub exclude_patterns: Vec<String>,
    pub force_exclude: bool,
}

impl Settings {
    /// Resolves a configuration (`None`: no configuration file) and the command line.
    pub fn new(source: Option<PathBuf>, base: PathBuf, config: &Config, overrides: &Overrides) -> Settings {
        let select = overrides.select.as_ref().or(config.select.as_ref());
        let mut rules = match select {
            Some(selectors) => RuleSet::from_rules(selectors.iter().flat_map(|s| s.rules())),
            None => RuleSet::all(),
        };
        for selector in config.extend_select.iter().chain(&overrides.extend_select) {
            selector.rules().for_each(|rule| rules.insert(rule));
        }
        for selector in config.ignore.iter().chain(&overrides.ignore) {
            selector.rules().filter(|&rule| may_deselect(selector, rule)).for_each(|rule| rules.remove(rule));
        }
        // CL000 is always on: a file that does not parse is not checked, and the user must know.
        rules.insert(Rule::ParseError);

        // More specific selectors win: `CL1 = "warning"` then `CL101 = "error"`.
        let mut by_specificity: Vec<(&RuleSelector, &Severity)> = config.severity.iter().collect();
        by_specificity.sort_by_key(|(selector, _)| selector.to_string().len());
        let mut severity = Vec::new();
        for (selector, level) in by_specificity {
            for rule in selector.rules() {
                severity.retain(|(r, _)| *r != rule);
                severity.push((rule, *level));
            }
        }

        let per_file_ignores = config
            .per_file_ignores
            .iter()
            .filter_map(|(pattern, selectors)| {
                let matcher = glob(&pattern.0).ok()?.compile_matcher();
                let mut set = RuleSet::default();
                for selector in selectors {
                    selector.rules().filter(|&rule| may_deselect(selector, rule)).for_each(|rule| set.insert(rule));
                }
                Some((matcher, pattern.0.clone(), set))
            })
            .collect();

        let mut exclude_patterns: Vec<String> = match &config.exclude {
            Some(patterns) => patterns.iter().map(|p| p.0.clone()).collect(),
            None => DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
        };
        exclude_patterns.extend(config.extend_exclude.iter().map(|p| p.0.clone()));
        let mut builder = GlobSetBuilder::new();
        for pattern in &exclude_patterns {
            if let Ok(glob) = glob(pattern) {
                builder.add(glob);
            }
        }
        let exclude = builder.build().unwrap_or_else(|_| GlobSet::empty());
        Settings {
            source,
            base,
            rules,
            severity,
            per_file_ignores,
            exclude,
            exclude_patterns,
            force_exclude: config.force_exclude || overrides.force_exclude,
        }
    }

    /// The rules that apply to `path`, after the per-file ignores.
    pub fn rules_for(&self, path: &Path) -> RuleSet {
        let relative = self.relative(path);
        let mut rules = self.rules;
        for (matcher, _, ignored) in &self.per_file_ignores {
            if matches_path_or_name(matcher, &relative) {
                ignored.iter().for_each(|rule| rules.remove(rule));
            }
        }
        rules
    }

    /// The per-file-ignores patterns that match `path`, for `--show-settings`.
    pub fn per_file_ignores_for(&self, path: &Path) -> Vec<(String, Vec<Rule>)> {
        let relative = self.relative(path);
        self.per_file_ignores
            .iter()
            .filter(|(matcher, _, _)| matches_path_or_name(matcher, &relative))
            .map(|(_, pattern, set)| (pattern.clone(), set.iter().collect()))
            .collect()
    }

    pub fn severity_of(&self, rule: Rule) -> Severity {
        self.severity.iter().find(|(r, _)| *r == rule).map_or(rule.default_severity(), |(_, s)| *s)
    }

    /// Whether `path` (a file or folder) matches an exclude pattern, by its path relative to the
    /// configuration's folder or by the name of any of its components there.
    pub fn is_excluded(&self, path: &Path) -> bool {
        let relative = self.relative(path);
        if self.exclude.is_match(&relative) {
            return true;
        }
        relative.components().any(|c| self.exclude.is_match(Path::new(c.as_os_str())))
    }

    /// [`Settings::is_excluded`] for a path whose folder a walk has already found not excluded
    /// (under the same configuration, as every folder below a configuration's folder is): the
    /// components above were matched then, so only the path and its last component are.
    pub fn is_excluded_in_checked_folder(&self, path: &Path) -> bool {
        let relative = self.relative(path);
        self.exclude.is_match(&relative)
            || relative.file_name().is_some_and(|name| self.exclude.is_match(Path::new(name)))
    }

    /// What `--show-settings` prints for the file or folder at `absolute`.
    pub fn describe(&self, absolute: &Path, discovery: &crate::config::Discovery) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let source = self.source.as_ref().map_or("none (defaults)".to_string(), |p| p.display().to_string());
        let _ = writeln!(out, "path: {}", absolute.display());
        let _ = writeln!(out, "configuration: {source}");
        let _ = writeln!(out, "excluded: {}", if self.is_excluded(absolute) { "yes" } else { "no" });
        let _ = writeln!(out, "force-exclude: {}", self.force_exclude);
        let _ = writeln!(out, "exclude: [{}]", self.exclude_patterns.join(", "));
        let _ = writeln!(out, "rules:");
        for rule in self.rules_for(absolute).iter() {
            let severity = self.severity_of(rule).as_str();
            let _ = writeln!(out, "  {} {:<28} {severity}", rule.code(), rule.name());
        }
        for (pattern, rules) in self.per_file_ignores_for(absolute) {
            let codes: Vec<&str> = rules.iter().map(|r| r.code()).collect();
            let _ = writeln!(out, "per-file-ignores: `{pattern}` turns off {}", codes.join(", "));
        }
        if let Some((_, config)) =
            self.source.as_ref().and_then(|p| discovery.loaded().into_iter().find(|(c, _)| *c == p))
        {
            for resource in &config.resource {
                let _ = writeln!(
                    out,
                    "resource: {} (module {}, closed by {})",
                    resource.open.join(", "),
                    resource.module,
                    resource.close.join(", ")
                );
            }
        }
        out
    }

    fn relative(&self, path: &Path) -> PathBuf {
        let path = path.strip_prefix(".").unwrap_or(path);
        path.strip_prefix(&self.base).unwrap_or(path).to_path_buf()
    }
}

/// `ignore = ["ALL"]` or a prefix never turns CL000 off; CL001 goes only when named exactly.
fn may_deselect(selector: &RuleSelector, rule: Rule) -> bool {
    match rule {
        Rule::ParseError => false,
        Rule::UnusedSuppression => *selector == RuleSelector::Prefix(rule.code().to_string()),
        _ => true,
    }
}

fn matches_path_or_name(matcher: &GlobMatcher, relative: &Path) -> bool {
    matcher.is_match(relative) || relative.file_name().is_some_and(|name| matcher.is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn selectors(list: &[&str]) -> Vec<RuleSelector> {
        list.iter().map(|s| RuleSelector::parse(s).unwrap()).collect()
    }

    fn settings(config: Config, overrides: Overrides) -> Settings {
        Settings::new(None, PathBuf::from("/project"), &config, &overrides)
    }

    #[test]
    fn selectors_name_codes_prefixes_and_names() {
        assert_eq!(RuleSelector::parse("cl101").unwrap(), RuleSelector::Prefix("CL101".into()));
        assert_eq!(RuleSelector::parse("with-does-not-close").unwrap(), RuleSelector::Prefix("CL101".into()));
        assert_eq!(RuleSelector::parse("CL2").unwrap().rules().count(), 8);
        assert!(RuleSelector::parse("CL999").unwrap_err().contains("matches no rule"));
        assert!(RuleSelector::parse("E501").is_err());
    }

    #[test]
    fn select_ignore_and_extend() {
        let config = Config {
            select: Some(selectors(&["CL1"])),
            extend_select: selectors(&["CL201"]),
            ignore: selectors(&["CL105"]),
            ..Config::default()
        };
        let s = settings(config.clone(), Overrides::default());
        assert!(s.rules.contains(Rule::WithDoesNotClose));
        assert!(s.rules.contains(Rule::ForgottenConnection));
        assert!(!s.rules.contains(Rule::OwnedFieldNeverClosed));
        assert!(!s.rules.contains(Rule::PoolPerCall));
        assert!(s.rules.contains(Rule::ParseError), "CL000 is always on");

        let cli = Overrides { select: Some(selectors(&["CL205"])), ..Overrides::default() };
        let s = settings(config, cli);
        assert!(s.rules.contains(Rule::PoolPerCall));
        assert!(!s.rules.contains(Rule::WithDoesNotClose), "--select replaces the configured select");
    }

    #[test]
    fn ignore_all_keeps_parse_errors_and_needs_cl001_by_name() {
        let s = settings(Config { ignore: selectors(&["ALL"]), ..Config::default() }, Overrides::default());
        assert_eq!(s.rules.iter().collect::<Vec<_>>(), vec![Rule::ParseError, Rule::UnusedSuppression]);
        let s = settings(Config { ignore: selectors(&["CL001"]), ..Config::default() }, Overrides::default());
        assert!(!s.rules.contains(Rule::UnusedSuppression));
    }

    #[test]
    fn per_file_ignores_match_paths_and_names() {
        let mut per_file_ignores = BTreeMap::new();
        per_file_ignores.insert(Pattern("tests/**".into()), selectors(&["CL102"]));
        per_file_ignores.insert(Pattern("conftest.py".into()), selectors(&["CL1"]));
        let s = settings(Config { per_file_ignores, ..Config::default() }, Overrides::default());
        assert!(!s.rules_for(Path::new("/project/tests/unit/test_db.py")).contains(Rule::NeverClosed));
        assert!(s.rules_for(Path::new("/project/tests/unit/test_db.py")).contains(Rule::WithDoesNotClose));
        assert!(!s.rules_for(Path::new("/project/app/conftest.py")).contains(Rule::WithDoesNotClose));
        assert!(s.rules_for(Path::new("/project/app/db.py")).contains(Rule::NeverClosed));
    }

    #[test]
    fn severity_overrides_most_specific_wins() {
        let mut severity = BTreeMap::new();
        severity.insert(RuleSelector::parse("CL101").unwrap(), Severity::Info);
        severity.insert(RuleSelector::parse("CL1").unwrap(), Severity::Warning);
        let s = settings(Config { severity, ..Config::default() }, Overrides::default());
        assert_eq!(s.severity_of(Rule::WithDoesNotClose), Severity::Info);
        assert_eq!(s.severity_of(Rule::NeverClosed), Severity::Warning);
        assert_eq!(s.severity_of(Rule::ForgottenConnection), Severity::Error);
    }

    #[test]
    fn exclude_replaces_defaults_and_extend_adds() {
        let s = settings(Config::default(), Overrides::default());
        assert!(s.is_excluded(Path::new("/project/.venv")));
        assert!(s.is_excluded(Path::new("/project/src/node_modules/x.py")));
        assert!(!s.is_excluded(Path::new("/project/src/app.py")));

        let config = Config {
            exclude: Some(vec![Pattern("generated".into())]),
            extend_exclude: vec![Pattern("legacy/*.py".into())],
            ..Config::default()
        };
        let s = settings(config, Overrides::default());
        assert!(!s.is_excluded(Path::new("/project/.venv")));
        assert!(s.is_excluded(Path::new("/project/src/generated/db.py")));
        assert!(s.is_excluded(Path::new("/project/legacy/old.py")));
        assert!(!s.is_excluded(Path::new("/project/src/legacy/old.py")));
    }
}
