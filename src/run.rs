//! A run over many files: read, skip what cannot matter, lower in parallel, find the factories
//! across modules, check in parallel. This is the I/O edge; the analysis itself is in the core.
//!
//! Work is in proportion to what can matter: a Python file is parsed only if its bytes mention
//! a module the knowledge base knows (or a factory found elsewhere in the run). Factories grow
//! the needle set: files that mention one are parsed in a further round.

use crate::hash::FastSet as HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

#[cfg(feature = "python")]
use crate::ModuleInfo;
use crate::SourceKind;
use crate::baseline::Baseline;
use crate::config::{Config, ConfigError, SettingsResolver};
use crate::diagnostic::{Applicability, Diagnostic, Span};
use crate::fix;
use crate::identifiers::Identifiers;
use crate::python::knowledge::Knowledge;
#[cfg(feature = "python")]
use crate::python::project::{self, ModuleUnit, Project, TextChanged};
use crate::python::select::Needles;
#[cfg(feature = "python")]
use crate::python::symbols::Summary;
use crate::rule::Rule;
use crate::settings::{Overrides, Settings};
use crate::suppress;
use crate::walk::{self, SourceFile, WalkError};

/// With `CONNLINT_DEBUG_ROUNDS`, prints how long the run has taken when it reaches `phase`: the
/// wall-clock timeline of a run, to see which steps run on one thread.
pub(crate) fn debug_phase(phase: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
        eprintln!(
            "{:>7.1} ms  {:>7.1} ms CPU  {:>4} MB RSS ({:>4} MB peak)  {phase}",
            start.elapsed().as_secs_f64() * 1000.0,
            process_cpu_ms(),
            process_memory_mb("VmRSS:"),
            process_memory_mb("VmHWM:"),
        );
    }
}

/// The CPU time of the process so far (user and system, all threads), from `/proc/self/stat`
/// (0 where there is none): with the wall-clock time it says how busy both cores were.
fn process_cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The fields after the command name (which may hold spaces) are space-separated; utime and
    // stime are the 14th and 15th fields, in clock ticks (100 per second on Linux).
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

/// A memory figure of the process from `/proc/self/status` (`VmRSS:` now, `VmHWM:` the peak),
/// in MB (0 where there is none).
fn process_memory_mb(field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return 0 };
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kb.unwrap_or(0) / 1024
}

/// Files bigger than this are skipped with a notice: generated code, not code people write.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

pub(crate) use crate::parallel::{ANALYSIS_STACK_BYTES, parallel_map};

/// What a run found in one file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The path as shown to the user.
    pub path: String,
    /// The text, when it was read (for rendering); `None` for unread or skipped files.
    pub source: Option<Arc<str>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Why the file could not be checked (unreadable), if so.
    pub error: Option<String>,
    /// A notice for the user (skipped as too large).
    pub notice: Option<String>,
    /// What fixing it came to, when the run fixes and the file has a fix to apply (see
    /// [`lint_fixing`]). `source` and `diagnostics` are still those of the text as read.
    pub fixed: Option<Box<fix::Outcome>>,
}

impl FileResult {
    /// A result with nothing found (yet).
    pub fn new(path: String) -> FileResult {
        FileResult { path, source: None, diagnostics: Vec::new(), error: None, notice: None, fixed: None }
    }
}

/// What happened to a file in the reading round.
enum Read {
    /// Parsed and lowered; waiting for the check. Its text is not kept: `stamp` says whether a
    /// text read again is the same; `identifiers` are those of a Python file read by name.
    #[cfg(feature = "python")]
    Lowered {
        unit: Box<ModuleUnit>,
        stamp: FileStamp,
        identifiers: Option<Identifiers>,
        may_suppress: bool,
    },
    /// Mentions nothing that matters (yet). The text is kept only when it has a suppression
    /// comment, which may now suppress nothing (`CL001`); of a Python file, the identifiers it
    /// mentions are kept, so that a later round knows whether to read it again.
    Skipped {
        source: Option<Arc<str>>,
        #[cfg_attr(not(feature = "python"), allow(dead_code))]
        identifiers: Option<Identifiers>,
    },
    Done(FileResult),
}

/// A whole run: the files found, what was found in each (after the settings and the
/// suppressions), and the paths that could not be walked.
#[derive(Debug)]
pub struct Lint {
    pub results: Vec<FileResult>,
    pub walk_errors: Vec<WalkError>,
    /// The settings that applied to each result, in the same order.
    pub settings: Vec<Arc<Settings>>,
}

/// Walks `paths`, finds the configuration of every file, checks them all, and applies each
/// file's rule selection, severities and suppression comments. A configuration that cannot be
/// used stops the run: its findings would be wrong.
pub fn lint(paths: &[PathBuf], overrides: Overrides, mode: ParseMode) -> Result<Lint, ConfigError> {
    lint_fixing(paths, overrides, mode, None)
}

/// What a run that fixes applies.
#[derive(Debug, Clone, Copy)]
pub struct Fixing<'a> {
    /// The fixes up to this applicability (`Safe` for `--fix`, `Unsafe` with `--unsafe-fixes`).
    pub allowed: Applicability,
    /// The findings this baseline records (with the baseline file, whose folder names the
    /// files) are not fixed: they are not reported either.
    pub baseline: Option<(&'a Baseline, &'a Path)>,
}

/// [`lint`], and with `fixing`, each file's fixed text: the fixes of what is reported (after the
/// settings and the suppression comments, so a suppressed finding is not fixed) are applied,
/// pass after pass, each pass checked again with the same settings (see [`fix::fix_text`]).
/// Nothing is written here: the outcome is in [`FileResult::fixed`].
pub fn lint_fixing(
    paths: &[PathBuf],
    overrides: Overrides,
    mode: ParseMode,
    fixing: Option<Fixing>,
) -> Result<Lint, ConfigError> {
    debug_phase("start");
    let resolver = Arc::new(Mutex::new(SettingsResolver::new(overrides)));
    let first_error: Arc<Mutex<Option<ConfigError>>> = Arc::default();
    let exclude = exclude_for_walk(resolver.clone(), first_error.clone());
    let (files, walk_errors) = walk::collect(paths, exclude);
    debug_phase("walked");
    if let Some(err) = first_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(err);
    }
    let mut resolver = resolver.lock().map_err(|_| ConfigError {
        file: PathBuf::new(),
        message: "internal error while reading the configuration".to_string(),
    })?;
    let settings = files.iter().map(|f| resolver.settings_for(&f.path, false)).collect::<Result<Vec<_>, _>>()?;
    let knowledge = knowledge_from(&resolver.discovery().loaded())?;
    let absolutes: Vec<PathBuf> = files.iter().map(|f| resolver.absolute(&f.path)).collect();
    drop(resolver);
    debug_phase("settings");
    let Checked { mut results, rechecker } = check_files_keeping(&files, &knowledge, mode);
    debug_phase("checked");
    // Suppression comments are looked for in every text kept: on both cores.
    let mut settled: Vec<(&mut FileResult, usize)> = results.iter_mut().zip(0..).collect();
    crate::parallel::parallel_for_each_mut(&mut settled, |(result, i)| {
        apply_settings(result, files[*i].kind, &settings[*i], &absolutes[*i]);
    });
    debug_phase("settings applied");
    if let Some(fixing) = fixing {
        let context = FixContext { files: &files, settings: &settings, absolutes: &absolutes, rechecker: &rechecker };
        fix_results(&mut results, &context, fixing);
    }
    rechecker.free_in_background();
    Ok(Lint { results, walk_errors, settings })
}

/// The last folder a walk thread asked about, with its settings and its absolute form. The
/// entries of one folder come one after another on one thread, so most entries are decided
/// without the resolver's lock. `run` tells walks apart (the language server walks again).
struct LastFolder {
    run: u64,
    folder: PathBuf,
    settings: Arc<Settings>,
    absolute: PathBuf,
}

thread_local! {
    static LAST_FOLDER: std::cell::RefCell<Option<LastFolder>> = const { std::cell::RefCell::new(None) };
}

/// Whether the walk skips a path: the exclude patterns of the configuration that governs it.
/// The first question about a folder looks for its configuration files before taking the lock
/// (the walk's threads would otherwise take turns at every system call); the patterns are
/// matched outside it.
fn exclude_for_walk(
    resolver: Arc<Mutex<SettingsResolver>>,
    first_error: Arc<Mutex<Option<ConfigError>>>,
) -> walk::Exclude {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let record = move |err: ConfigError| {
        if let Ok(mut first) = first_error.lock() {
            first.get_or_insert(err);
        }
    };
    Arc::new(move |path: &Path, found: walk::Found| {
        // A folder's own configuration does not decide whether the folder is excluded.
        let governing = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let (walk::Found::Walked { folder, in_checked_folder }, Some(name)) = (found, path.file_name()) else {
            let Ok(mut resolver) = resolver.lock() else { return false };
            return match resolver.settings_for(governing, true) {
                Ok(settings) => settings.force_exclude && settings.is_excluded(&resolver.absolute(path)),
                Err(err) => {
                    record(err);
                    false
                }
            };
        };
        let cached = LAST_FOLDER.with_borrow(|last| {
            last.as_ref()
                .filter(|last| last.run == run && last.folder == governing)
                .map(|last| (last.settings.clone(), last.absolute.join(name)))
        });
        let (settings, absolute) = match cached {
            Some(cached) => cached,
            None => {
                let Ok(known) = resolver.lock().map(|r| r.knows_folder(governing)) else { return false };
                let names = (!known).then(|| crate::config::config_files_in(governing));
                let Ok(mut resolver) = resolver.lock() else { return false };
                if let Some(names) = names {
                    resolver.note_config_files(governing, names);
                }
                let settings = match resolver.settings_for(governing, true) {
                    Ok(settings) => settings,
                    Err(err) => {
                        record(err);
                        return false;
                    }
                };
                let folder_absolute = resolver.folder_absolute(governing);
                drop(resolver);
                let absolute = folder_absolute.join(name);
                LAST_FOLDER.set(Some(LastFolder {
                    run,
                    folder: governing.to_path_buf(),
                    settings: settings.clone(),
                    absolute: folder_absolute,
                }));
                (settings, absolute)
            }
        };
        // The folders above were matched when the walk entered them.
        let excluded = if in_checked_folder {
            settings.is_excluded_in_checked_folder(&absolute)
        } else {
            settings.is_excluded(&absolute)
        };
        if folder
            && !excluded
            && let Ok(mut resolver) = resolver.lock()
        {
            resolver.note_real_folder(path);
        }
        excluded
    })
}

/// What fixing the files of a run needs: how to check a new text of each, as the run did.
struct FixContext<'a, 'k> {
    files: &'a [SourceFile],
    settings: &'a [Arc<Settings>],
    absolutes: &'a [PathBuf],
    rechecker: &'a Rechecker<'k>,
}

impl FixContext<'_, '_> {
    /// The reported diagnostics of `text` as the text of file `i`: checked, then its settings
    /// and suppression comments applied (see [`FixContext::unbaselined`]).
    fn settle(
        &self,
        i: usize,
        path: &str,
        text: &str,
        diagnostics: Vec<Diagnostic>,
        fixing: Fixing,
    ) -> Vec<Diagnostic> {
        let mut result = FileResult { source: Some(Arc::from(text)), diagnostics, ..FileResult::new(path.to_string()) };
        apply_settings(&mut result, self.files[i].kind, &self.settings[i], &self.absolutes[i]);
        unbaselined(path, text, result.diagnostics, fixing)
    }
}

/// `diagnostics` (of `text`, with the settings applied), where a finding the baseline records
/// keeps no fix.
fn unbaselined(path: &str, text: &str, mut diagnostics: Vec<Diagnostic>, fixing: Fixing) -> Vec<Diagnostic> {
    if let Some((baseline, file)) = fixing.baseline {
        let name = baseline_name(path, &baseline_dir(file));
        let recorded = baseline.records(&name, text, &diagnostics);
        for (diagnostic, recorded) in diagnostics.iter_mut().zip(recorded) {
            if recorded {
                diagnostic.fix = None;
            }
        }
    }
    diagnostics
}

/// Computes the fixed text of every file that has a fix to apply (in parallel).
fn fix_results(results: &mut [FileResult], context: &FixContext, fixing: Fixing) {
    let wanted: Vec<usize> = (0..results.len())
        .filter(|&i| {
            results[i].source.is_some()
                && results[i]
                    .diagnostics
                    .iter()
                    .any(|d| d.fix.as_ref().is_some_and(|f| fix::applies(f, fixing.allowed)))
        })
        .collect();
    let shared: &[FileResult] = results;
    let outcomes = parallel_map(&wanted, |&i| {
        let result = &shared[i];
        let source = result.source.as_deref().unwrap_or_default();
        let kind = context.files[i].kind;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut analyze = |text: &str| {
                let found = context.rechecker.recheck(i, kind, &result.path, text);
                context.settle(i, &result.path, text, found, fixing)
            };
            // The run's diagnostics already have the settings applied.
            let first = unbaselined(&result.path, source, result.diagnostics.clone(), fixing);
            fix::fix_text(kind, source, first, fixing.allowed, &mut analyze)
        }));
        outcome.unwrap_or_else(|_| fix_panicked(source, &result.diagnostics))
    });
    for (i, outcome) in wanted.into_iter().zip(outcomes) {
        results[i].fixed = Some(Box::new(outcome));
    }
}

/// A fix that panicked leaves the file as it was, with an error that says so.
fn fix_panicked(source: &str, diagnostics: &[Diagnostic]) -> fix::Outcome {
    fix::Outcome {
        text: source.to_string(),
        fixed: Default::default(),
        remaining: diagnostics.to_vec(),
        error: Some("internal error while fixing this file (please report it); nothing was fixed".to_string()),
    }
}

/// How to check a new text of a file of a run (after fixes) as the run checked it: a Python
/// module against the rest of the project as it was, a Rust file on its own.
pub struct Rechecker<'k> {
    #[cfg(feature = "python")]
    python: Option<PythonRun<'k>>,
    #[cfg(not(feature = "python"))]
    _knowledge: std::marker::PhantomData<&'k Knowledge>,
}

/// The Python modules of a run, with what they tell about each other.
#[cfg(feature = "python")]
struct PythonRun<'k> {
    project: Project<'k>,
    summaries: crate::hash::FastMap<String, Summary>,
    /// The module of each file of the run, if it was lowered.
    unit_of_file: Vec<Option<usize>>,
}

impl Rechecker<'_> {
    /// Frees what the run kept (its lowered modules and summaries) on a thread of its own.
    fn free_in_background(self) {
        #[cfg(feature = "python")]
        if let Some(run) = self.python {
            let PythonRun { project, summaries, unit_of_file: _ } = run;
            crate::parallel::drop_in_background((project.modules, project.hierarchy, summaries));
        }
    }

    /// The diagnostics of `text` as the new text of file `index` of the run (before settings).
    pub fn recheck(&self, index: usize, kind: SourceKind, path: &str, text: &str) -> Vec<Diagnostic> {
        match kind {
            SourceKind::Rust => crate::rust::analyze(path, text, crate::rust::knowledge::Knowledge::builtin()),
            #[cfg(feature = "python")]
            SourceKind::Python => {
                let Some(run) = &self.python else { return Vec::new() };
                match run.unit_of_file.get(index).copied().flatten() {
                    // The index borrows the project's names, so it is made again for each text
                    // (a millisecond on CPython's `Lib`; only fixed files are checked again).
                    Some(module) => {
                        let functions = run.project.function_index();
                        run.project.recheck_module(module, text, &run.summaries, &functions)
                    }
                    // A file the run did not parse (it mentions nothing that matters): only its
                    // suppression comments are judged.
                    None => Vec::new(),
                }
            }
            #[cfg(not(feature = "python"))]
            SourceKind::Python => {
                let _ = index;
                Vec::new()
            }
        }
    }
}

/// A run's results, and how to check a new text of its files.
pub struct Checked<'k> {
    pub results: Vec<FileResult>,
    pub rechecker: Rechecker<'k>,
}

/// How a baseline file names a checked file: relative to the baseline's folder, with `/`.
fn baseline_name(result_path: &str, baseline_dir: &Path) -> String {
    let path = Path::new(result_path);
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = absolute.strip_prefix(baseline_dir).unwrap_or(&absolute);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn baseline_dir(file: &Path) -> PathBuf {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Writes the findings of a run as a baseline; returns how many it records.
pub fn write_baseline(lint: &Lint, file: &Path) -> Result<usize, String> {
    let dir = baseline_dir(file);
    let mut baseline = Baseline::default();
    for result in &lint.results {
        let source = result.source.as_deref().unwrap_or_default();
        let name = baseline_name(&result.path, &dir);
        for diagnostic in &result.diagnostics {
            baseline.add(&name, source, diagnostic);
        }
    }
    std::fs::write(file, baseline.to_json())
        .map_err(|e| format!("{}: cannot write the baseline: {}", file.display(), walk::describe_io_error(&e)))?;
    Ok(baseline.len())
}

/// Reads a baseline file.
pub fn read_baseline(file: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the baseline: {}", file.display(), walk::describe_io_error(&e)))?;
    Baseline::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Hides the findings a baseline file records. Returns how many were hidden, and how many of
/// its entries matched nothing (fixed since).
pub fn apply_baseline(lint: &mut Lint, file: &Path) -> Result<(usize, usize), String> {
    Ok(apply_read_baseline(lint, read_baseline(file)?, file))
}

/// [`apply_baseline`] with the baseline `file` already read.
pub fn apply_read_baseline(lint: &mut Lint, mut baseline: Baseline, file: &Path) -> (usize, usize) {
    let dir = baseline_dir(file);
    let mut hidden = 0;
    for result in &mut lint.results {
        let name = baseline_name(&result.path, &dir);
        let source = result.source.clone().unwrap_or_else(|| Arc::from(""));
        hidden += baseline.filter(&name, &source, &mut result.diagnostics).hidden;
    }
    (hidden, baseline.unmatched())
}

/// Keeps the findings of the rules selected for the file, at their configured severity, and
/// applies the suppression comments.
fn apply_settings(result: &mut FileResult, kind: SourceKind, settings: &Settings, absolute: &Path) {
    let rules = settings.rules_for(absolute);
    let mut diagnostics = std::mem::take(&mut result.diagnostics);
    diagnostics.retain(|d| rules.contains(d.rule));
    if let Some(source) = &result.source {
        diagnostics = suppress::apply(source, kind, diagnostics, rules);
    }
    for diagnostic in &mut diagnostics {
        diagnostic.severity = settings.severity_of(diagnostic.rule);
    }
    result.diagnostics = diagnostics;
}

/// Analyses one document held in memory (an editor's buffer) as a run analyses a file: the same
/// byte prefilter, the same frontend, then the same settings step (rule selection, severities,
/// suppressions). The document is analysed on its own, so factories defined in other modules are
/// not known. `path` is the document's absolute path, for per-file ignores and the Python module
/// name; the text need not be saved.
pub fn lint_document(
    path: &Path,
    kind: SourceKind,
    source: &str,
    settings: &Settings,
    knowledge: &Knowledge,
) -> Vec<Diagnostic> {
    let label = path.display().to_string();
    let mentions_nothing = match kind {
        SourceKind::Python => {
            let names = knowledge_names(knowledge);
            !mentions_a_group(&Identifiers::of(source.as_bytes()), &names)
        }
        SourceKind::Rust => needle_matcher(&rust_needles(crate::rust::knowledge::Knowledge::builtin()))
            .is_some_and(|matcher| !matcher.is_match(source)),
    };
    let diagnostics = match kind {
        _ if mentions_nothing => Vec::new(),
        SourceKind::Rust => crate::rust::analyze(&label, source, crate::rust::knowledge::Knowledge::builtin()),
        #[cfg(feature = "python")]
        SourceKind::Python => {
            let (name, package) = walk::python_module(path);
            let module = ModuleInfo { name: &name, package: package.as_deref() };
            crate::python::analyze(&label, source, module, knowledge)
        }
        #[cfg(not(feature = "python"))]
        SourceKind::Python => Vec::new(),
    };
    let mut result = FileResult { source: Some(Arc::from(source)), diagnostics, ..FileResult::new(label) };
    apply_settings(&mut result, kind, settings, path);
    result.diagnostics
}

/// The knowledge for a run: what connlint ships, plus the `[[resource]]` entries of every
/// configuration that applies to one of the files.
pub fn knowledge_from(configs: &[(&Path, &Config)]) -> Result<Knowledge, ConfigError> {
    let mut knowledge = Knowledge::builtin().clone();
    for (config_path, config) in configs {
        for resource in &config.resource {
            knowledge
                .add_resource(&config_path.display().to_string(), resource.clone())
                .map_err(|message| ConfigError { file: config_path.to_path_buf(), message })?;
        }
    }
    Ok(knowledge)
}

/// How much of each Python module to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// Only the statements that can matter (see `python::select`); the default.
    #[default]
    Selective,
    /// Every module whole: slower; for comparing with the selective mode.
    Whole,
}

/// Checks every file with the given knowledge; results come back in file order.
pub fn check_files(files: &[SourceFile], knowledge: &Knowledge, mode: ParseMode) -> Vec<FileResult> {
    check_files_keeping(files, knowledge, mode).results
}

/// [`check_files`], keeping what checking a new text of a file needs (for fixes).
pub fn check_files_keeping<'k>(files: &[SourceFile], knowledge: &'k Knowledge, mode: ParseMode) -> Checked<'k> {
    let python_names = knowledge_names(knowledge);
    let rust_matcher = needle_matcher(&rust_needles(crate::rust::knowledge::Knowledge::builtin()));
    let needles = Needles::from_knowledge(knowledge);
    let none = HashSet::default();
    let reading = Reading { needles: &needles, mode, wanted: &none };
    let first: Vec<Read> = parallel_map(files, |file| {
        let prefilter = match (file.kind, &rust_matcher) {
            (SourceKind::Python, _) => Prefilter::Names(&python_names),
            (SourceKind::Rust, Some(matcher)) => Prefilter::RustPaths(matcher),
            (SourceKind::Rust, None) => Prefilter::None,
        };
        read_and_lower(file, knowledge, prefilter, reading)
    });
    debug_phase("first round read");

    #[cfg(not(feature = "python"))]
    {
        let _ = &python_names;
        let results = first
            .into_iter()
            .zip(files)
            .map(|(read, file)| match read {
                Read::Done(result) => result,
                Read::Skipped { source, .. } => FileResult { source, ..FileResult::new(display_path(&file.path)) },
            })
            .collect();
        Checked { results, rechecker: Rechecker { _knowledge: std::marker::PhantomData } }
    }
    #[cfg(feature = "python")]
    {
        let (results, python) = finish_python(files, first, knowledge, reading);
        Checked { results, rechecker: Rechecker { python: Some(python) } }
    }
}

/// How Python modules are read in one round.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "python"), allow(dead_code))]
struct Reading<'a> {
    needles: &'a Needles,
    mode: ParseMode,
    /// Functions that parsed code calls: their definitions are parsed too.
    wanted: &'a HashSet<String>,
}

/// The Python round: summaries across the modules read, more files for the factories found,
/// then the check of every module.
#[cfg(feature = "python")]
fn finish_python<'k>(
    files: &[SourceFile],
    first: Vec<Read>,
    knowledge: &'k Knowledge,
    reading: Reading,
) -> (Vec<FileResult>, PythonRun<'k>) {
    let mut results: Vec<Option<FileResult>> = Vec::with_capacity(files.len());
    let mut unit_of_file: Vec<Option<usize>> = vec![None; files.len()];
    let mut skipped = Vec::new();
    let mut project = Project::new(knowledge);
    let mut module_files: Vec<ModuleFile> = Vec::new();
    for (i, read) in first.into_iter().enumerate() {
        match read {
            Read::Lowered { unit, stamp, identifiers, may_suppress } => {
                unit_of_file[i] = Some(project.modules.len());
                module_files.push(ModuleFile::new(i, &unit, stamp, identifiers, may_suppress));
                project.add(*unit);
                results.push(None);
            }
            Read::Skipped { source, identifiers } => {
                if let Some(identifiers) = identifiers {
                    skipped.push((i, identifiers));
                }
                results.push(Some(FileResult { source, ..FileResult::new(display_path(&files[i].path)) }));
            }
            Read::Done(result) => results.push(Some(result)),
        }
    }

    // Factories found so far may be called from files that mention no opener, or from parts of
    // a module that were not parsed; functions that other modules call may do something with
    // what they are given. Parse those too, until nothing new turns up.
    if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
        let partial = project.modules.iter().filter(|m| m.partial).count();
        eprintln!("first round: {} modules ({partial} in part)", project.modules.len());
    }
    debug_phase("first round kept");
    let mut summaries = project.summaries();
    debug_phase("summaries");
    let mut needles = reading.needles.clone();
    let mut known_factories: Vec<(String, String)> = Vec::new();
    let mut searched_defs: HashSet<String> = HashSet::default();
    let module_names = module_names(files);
    loop {
        let mut added = false;

        // New factories: the files and the parts of modules that mention one.
        let factories: Vec<(String, String)> = Project::factory_names(&summaries, knowledge)
            .into_iter()
            .filter(|f| !known_factories.contains(f))
            .collect();
        let names: Vec<&str> = factories.iter().map(|(_, name)| name.as_str()).collect();
        let reachable: Vec<(&str, &str)> = factories
            .iter()
            .map(|(module, name)| (name.as_str(), module.split('.').next().unwrap_or_default()))
            .collect();
        if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
            eprintln!("factories found: {factories:?}");
        }
        for (module, name) in &factories {
            needles.factories.entry(name.clone()).or_default().push(module.clone());
        }
        known_factories.extend(factories.iter().cloned());
        let round = Reading { needles: &needles, ..reading };
        if !names.is_empty() {
            added |= read_skipped(
                files,
                &mut skipped,
                Sought::Mentioned(&reachable),
                round,
                knowledge,
                (&mut project, &mut module_files),
                &mut results,
                &mut unit_of_file,
            );
        }
        // Functions given a resource, defined in parts or files not read yet: they may close or
        // keep what they are given.
        let receivers = project.resource_receivers(&summaries, &module_names);
        debug_phase("receivers");
        let new_factories = (!factories.is_empty()).then_some(factories.as_slice());
        added |= select_more(&mut project, (files, &module_files), knowledge, round, new_factories, &receivers);
        debug_phase("selected more");
        let sought: Vec<String> = receivers
            .into_iter()
            .filter(|place| {
                !searched_defs.contains(place) && !PYTHON_BUILTIN_CALLS.contains(&project::last_part(place))
            })
            .collect();
        let wanted: HashSet<String> = sought.iter().map(|place| project::last_part(place).to_string()).collect();
        if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
            let mut sought = sought.clone();
            sought.sort();
            eprintln!("definitions looked for: {sought:?}");
        }
        if !wanted.is_empty() && !skipped.is_empty() {
            searched_defs.extend(sought.iter().cloned());
            let definitions: Vec<String> = wanted.iter().map(|name| format!("def {name}(")).collect();
            let round = Reading { needles: &needles, wanted: &wanted, ..reading };
            added |= read_skipped(
                files,
                &mut skipped,
                Sought::Defined(&sought, needle_matcher(&definitions).as_ref()),
                round,
                knowledge,
                (&mut project, &mut module_files),
                &mut results,
                &mut unit_of_file,
            );
        }

        if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
            eprintln!("round: {} new factories, {} modules, added {added}", names.len(), project.modules.len());
            eprintln!("{}", project::debug_counts::report());
        }
        if !added {
            break;
        }
        summaries = project.summaries();
        debug_phase("summaries");
    }

    debug_phase("rounds done");
    // No round reads more: the identifiers kept for one are not needed while checking.
    drop(skipped);
    for kept in &mut module_files {
        kept.identifiers = None;
    }
    let functions = project.function_index();
    // The largest modules first, so that neither core is left with one at the end.
    let mut module_ids: Vec<usize> = (0..project.modules.len()).collect();
    module_ids.sort_by_key(|&module| std::cmp::Reverse(project.modules[module].lowered.sites.len()));
    // Each module's text is read again only where a finding needs it, and kept for the report
    // only then or where a suppression comment may need it.
    let checked_by_size: Vec<ModuleChecked> = parallel_map(&module_ids, |&module| {
        let kept = &module_files[module];
        let text = std::cell::OnceCell::new();
        let text_of = || text.get_or_init(|| read_again(&files[kept.file].path, kept.stamp)).clone();
        let diagnostics = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let diagnostics = project.check_module(module, &summaries, &functions, &text_of)?;
            // A fix is made from the text around the finding: where the imports end, which
            // names the module uses. A module parsed in part is checked again whole when a
            // finding has a fix, so that its fixes are those of the whole text.
            if project.modules[module].partial && diagnostics.iter().any(|d| d.fix.is_some()) {
                let text = text_of().ok_or(TextChanged)?;
                Ok(project.recheck_module(module, &text, &summaries, &functions))
            } else {
                Ok(diagnostics)
            }
        }))
        .unwrap_or_else(|_| {
            Ok(vec![Diagnostic::new(
                Rule::ParseError,
                Span::new(0, 0),
                "internal error while checking this file (please report it); the run went on",
            )])
        });
        let wants_text = matches!(&diagnostics, Ok(found) if !found.is_empty()) || kept.may_suppress;
        ModuleChecked { diagnostics, text: if wants_text { text_of() } else { None } }
    });
    debug_phase("modules checked");
    let mut checked: Vec<Option<ModuleChecked>> = vec![None; project.modules.len()];
    for (module, outcome) in module_ids.into_iter().zip(checked_by_size) {
        checked[module] = Some(outcome);
    }
    let results = results
        .into_iter()
        .enumerate()
        .map(|(i, result)| match (result, unit_of_file[i]) {
            (Some(result), _) => result,
            (None, Some(u)) => match checked[u].take() {
                Some(checked) => checked.into_result(project.modules[u].path.clone()),
                None => FileResult::new(project.modules[u].path.clone()),
            },
            (None, None) => FileResult::new(display_path(&files[i].path)),
        })
        .collect();
    drop(functions);
    (results, PythonRun { project, summaries, unit_of_file })
}

/// Calls too common to look for a definition of in other files.
#[cfg(feature = "python")]
const PYTHON_BUILTIN_CALLS: &[&str] = &[
    "print",
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "set",
    "tuple",
    "isinstance",
    "getattr",
    "setattr",
    "hasattr",
    "super",
    "range",
    "enumerate",
    "zip",
    "min",
    "max",
    "sorted",
    "repr",
    "type",
    "open",
    "iter",
    "next",
    "format",
    "append",
    "extend",
    "join",
    "split",
    "get",
    "items",
    "keys",
    "values",
    "encode",
    "decode",
    "strip",
    "startswith",
    "endswith",
    "replace",
    "lower",
    "upper",
    "assertEqual",
    "assertTrue",
    "assertFalse",
    "assertRaises",
    "assertIn",
    "assertIs",
    "assertIsNone",
    "assertIsNotNone",
];

/// What checking a module gave, and its text where the report needs it.
#[cfg(feature = "python")]
#[derive(Clone)]
struct ModuleChecked {
    diagnostics: Result<Vec<Diagnostic>, TextChanged>,
    text: Option<Arc<str>>,
}

#[cfg(feature = "python")]
impl ModuleChecked {
    /// The result of the module's file: its findings, or the error that it changed.
    fn into_result(self, path: String) -> FileResult {
        match self.diagnostics {
            Ok(diagnostics) => FileResult { source: self.text, diagnostics, ..FileResult::new(path) },
            Err(TextChanged) => FileResult {
                error: Some("changed while it was being checked; check it again".to_string()),
                ..FileResult::new(path)
            },
        }
    }
}

/// What a run keeps of the file of a module it has lowered, instead of its text.
#[cfg(feature = "python")]
struct ModuleFile {
    /// The index of the file among the run's files.
    file: usize,
    /// The file as it was read: a text read again must be the same.
    stamp: FileStamp,
    /// The names in a module parsed in part: a later round reads it again for a new factory
    /// only if it may name it.
    identifiers: Option<Identifiers>,
    /// Its text may hold a suppression comment, which the report needs even without findings.
    may_suppress: bool,
}

#[cfg(feature = "python")]
impl ModuleFile {
    fn new(
        file: usize,
        unit: &ModuleUnit,
        stamp: FileStamp,
        identifiers: Option<Identifiers>,
        may_suppress: bool,
    ) -> ModuleFile {
        // A module parsed whole has no parts left to select.
        let identifiers = identifiers.filter(|_| unit.partial);
        ModuleFile { file, stamp, identifiers, may_suppress }
    }
}

/// What a later round looks for in the skipped files.
#[cfg(feature = "python")]
#[derive(Clone, Copy)]
enum Sought<'a> {
    /// Files that may call one of these new factories: `(name, root)`, the factory's name and
    /// the first part of the module that defines it. Only a file that imports that module or a
    /// package above it (and so names `root` in an import statement), or that belongs to the
    /// same top-level package (relative imports), can reach the factory: the selection asks the
    /// same of every call.
    Mentioned(&'a [(&'a str, &'a str)]),
    /// Files that may define one of these functions (`app.util.keep`): a module whose name
    /// the function's starts with, that has `def keep` among its identifiers, and, read, one of
    /// the texts (`def keep(`).
    Defined(&'a [String], Option<&'a AhoCorasick>),
}

/// Reads again the skipped files that may have what is `sought`, and adds those with a part
/// that matters to the project. Returns whether any was added.
#[cfg(feature = "python")]
#[allow(clippy::too_many_arguments)]
fn read_skipped(
    files: &[SourceFile],
    skipped: &mut Vec<(usize, Identifiers)>,
    sought: Sought,
    reading: Reading,
    knowledge: &Knowledge,
    (project, module_files): (&mut Project, &mut Vec<ModuleFile>),
    results: &mut [Option<FileResult>],
    unit_of_file: &mut [Option<usize>],
) -> bool {
    // Each name is hashed once, not once per file.
    let (factories, places): (Vec<HashedFactory>, Vec<(&str, u32)>) = match sought {
        Sought::Mentioned(factories) => {
            let hashed = factories
                .iter()
                .map(|&(name, root)| (crate::identifiers::hash(name), crate::identifiers::hash(root), root))
                .collect();
            (hashed, Vec::new())
        }
        Sought::Defined(places, _) => {
            let hashed = places
                .iter()
                .map(|place| (place.as_str(), crate::identifiers::hash(project::last_part(place))))
                .collect();
            (Vec::new(), hashed)
        }
    };
    let (candidates, mut still_skipped): (Vec<_>, Vec<_>) =
        std::mem::take(skipped).into_iter().partition(|(i, identifiers)| match sought {
            Sought::Mentioned(_) => may_reach_a_factory(identifiers, &factories, || top_level_package(&files[*i].path)),
            Sought::Defined(..) => {
                let mut module = None;
                places.iter().any(|&(place, name_hash)| {
                    identifiers.may_define_hash(name_hash)
                        && project::may_hold(
                            module.get_or_insert_with(|| walk::python_module(&files[*i].path).0),
                            place,
                        )
                })
            }
        });
    let prefilter = match sought {
        Sought::Defined(_, Some(texts)) => Prefilter::Text(texts),
        _ => Prefilter::None,
    };
    let reads = parallel_map(&candidates, |(i, _)| read_and_lower(&files[*i], knowledge, prefilter, reading));
    debug_phase(&format!(
        "read again {} of {} skipped files",
        candidates.len(),
        candidates.len() + still_skipped.len()
    ));
    let mut added = false;
    for (read, (i, identifiers)) in reads.into_iter().zip(candidates) {
        match read {
            Read::Lowered { unit, stamp, may_suppress, .. } => {
                unit_of_file[i] = Some(project.modules.len());
                module_files.push(ModuleFile::new(i, &unit, stamp, Some(identifiers), may_suppress));
                project.add(*unit);
                results[i] = None;
                added = true;
            }
            Read::Skipped { .. } => still_skipped.push((i, identifiers)),
            Read::Done(result) => results[i] = Some(result),
        }
    }
    *skipped = still_skipped;
    added
}

/// Parses more of the modules parsed in part: where a part not parsed may call a new factory
/// (`factories`: `(module, name)`, a module that can reach it and names it), or defines a
/// function that is given a resource (`receivers`: where calls to it resolve, `app.Pool.keep`).
/// Returns whether any module changed.
#[cfg(feature = "python")]
fn select_more(
    project: &mut Project,
    (files, module_files): (&[SourceFile], &[ModuleFile]),
    knowledge: &Knowledge,
    reading: Reading,
    factories: Option<&[(String, String)]>,
    receivers: &HashSet<String>,
) -> bool {
    // `(module, the definitions wanted in it, the new factories it may call)`.
    let work: Vec<(usize, HashSet<String>, Vec<&str>)> = project
        .modules
        .iter()
        .enumerate()
        .filter(|(_, unit)| unit.partial)
        .filter_map(|(m, unit)| {
            let newly_wanted: HashSet<String> = receivers
                .iter()
                .filter(|place| project::may_hold(&unit.name, place))
                .map(|place| project::last_part(place))
                .filter(|name| unit.unselected_defs.contains(*name) && !unit.wanted_defs.contains(*name))
                .map(str::to_string)
                .collect();
            // A factory's name is often a common word (`open`, `request`): only a module that
            // imports the factory's module (or a package above it) can call it, as the
            // selection decides (imports anywhere in the module count, selected or not), and
            // only one that names it.
            let identifiers = module_files[m].identifiers.as_ref();
            let may_call: Vec<&str> = factories
                .unwrap_or_default()
                .iter()
                .filter(|(module, name)| {
                    crate::python::select::reaches(&unit.imported, module)
                        && identifiers.is_none_or(|identifiers| identifiers.may_contain(name))
                })
                .map(|(_, name)| name.as_str())
                .collect();
            (!may_call.is_empty() || !newly_wanted.is_empty()).then(|| {
                let mut wanted = unit.wanted_defs.clone();
                wanted.extend(newly_wanted.iter().cloned());
                (m, wanted, if newly_wanted.is_empty() { may_call } else { Vec::new() })
            })
        })
        .collect();
    // Each module is lowered again in place: the old lowering is freed as soon as the new one
    // is made, not once every module is done (on CPython's `Lib` twenty of the largest modules
    // are lowered again, and both lowerings of all of them at once were the run's peak).
    let partial = project.modules.iter().filter(|unit| unit.partial).count();
    let mut work_of: crate::hash::FastMap<usize, (HashSet<String>, Vec<&str>)> =
        work.into_iter().map(|(m, wanted, factories_only)| (m, (wanted, factories_only))).collect();
    let slots: Vec<RelowerSlot> = project
        .modules
        .iter_mut()
        .enumerate()
        .filter_map(|(m, unit)| {
            let (wanted, factories_only) = work_of.remove(&m)?;
            Some((m, wanted, factories_only, std::sync::Mutex::new(unit)))
        })
        .collect();
    let work_count = slots.len();
    let modules_of_work: Vec<usize> = slots.iter().map(|(m, ..)| *m).collect();
    let outcomes = parallel_map(&slots, |(m, wanted, factories_only, slot)| {
        let Ok(mut unit) = slot.lock() else { return Relowered::No };
        let kept = &module_files[*m];
        // The text was not kept; it is read again, and must be the one read before.
        let Some(text) = read_again(&files[kept.file].path, kept.stamp) else { return Relowered::No };
        // For new factories only: a name only in the parts parsed adds no part (those and
        // what they call are in already).
        if !factories_only.is_empty()
            && !unit.selection.outside(text.len()).any(|gap| {
                factories_only
                    .iter()
                    .any(|name| memchr::memmem::find(&text.as_bytes()[gap.clone()], name.as_bytes()).is_some())
            })
        {
            return Relowered::No;
        }
        let old: &ModuleUnit = &unit;
        let module = ModuleInfo { name: &old.name, package: old.package.as_deref() };
        let new = std::panic::catch_unwind(|| {
            let module_name = crate::python::select::ModuleName { name: module.name, package: module.package };
            let selected = crate::python::select::select(&text, module_name, reading.needles, wanted);
            // The same parts as before: nothing to parse again.
            if selected.selection == old.selection {
                return None;
            }
            let whole = reading.mode == ParseMode::Whole;
            project::lower_selected(&old.path, module, &text, knowledge, selected, wanted, whole)
        })
        .ok()
        .flatten();
        let Some(new) = new else { return Relowered::No };
        if new.partial && new.unselected_defs == old.unselected_defs && new.called == old.called {
            return Relowered::Same;
        }
        **unit = new;
        Relowered::Replaced
    });
    drop(slots);
    if std::env::var_os("CONNLINT_DEBUG_ROUNDS").is_some() {
        let again = outcomes.iter().filter(|outcome| **outcome != Relowered::No).count();
        eprintln!("selected again {work_count} of {partial} modules parsed in part; parsed again {again}");
    }
    let mut changed = false;
    for (m, outcome) in modules_of_work.into_iter().zip(outcomes) {
        if outcome == Relowered::Replaced {
            project.replaced(m);
            changed = true;
        }
    }
    changed
}

/// A module [`select_more`] may lower again: its index, the definitions wanted in it, the new
/// factories it may call, and the module itself, to put the new lowering in place of.
#[cfg(feature = "python")]
type RelowerSlot<'a, 'p> = (usize, HashSet<String>, Vec<&'a str>, std::sync::Mutex<&'p mut ModuleUnit>);

/// What [`select_more`] did with a module.
#[cfg(feature = "python")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relowered {
    /// Nothing new to parse in it.
    No,
    /// Parsed again, to the same effect: the old lowering is kept.
    Same,
    /// Parsed again, and the new lowering put in place of the old.
    Replaced,
}

/// The byte strings whose presence makes a Rust file worth parsing: a path into a crate the
/// knowledge knows (`sqlx::`), and for the crates every file names (`std`, `tokio`), the
/// resource types themselves (`TcpStream`); and the C openers. A resource of a crate can only
/// be named through such a path, so the crate's own sources (`crate::pool::Pool`) are not read.
fn rust_needles(knowledge: &crate::rust::knowledge::Knowledge) -> Vec<String> {
    let mut needles = Vec::new();
    for resource in &knowledge.resources {
        match resource.crate_name.as_str() {
            "std" | "core" | "tokio" => {
                needles.extend(resource.types.iter().filter_map(|t| t.rsplit("::").next()).map(str::to_string))
            }
            name => needles.extend([format!("{name}::"), format!("use {name}")]),
        }
    }
    needles.extend(knowledge.ffi.iter().flat_map(|f| f.open.iter().cloned()));
    needles.sort();
    needles.dedup();
    needles
}

/// Whether a needle occurs in a Rust file outside a line comment (doc comments name crates in
/// their examples all the time).
fn mentions_in_code(matcher: &AhoCorasick, bytes: &[u8]) -> bool {
    matcher.find_iter(bytes).any(|found| {
        let line_start = bytes[..found.start()].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        !bytes[line_start..found.start()].windows(2).any(|w| w == b"//")
    })
}

/// A matcher for the needles of a prefilter. Every file is scanned with it, so it is built as a
/// DFA: slower to build, several times faster to run than the default NFA on source text.
fn needle_matcher<P: AsRef<[u8]>>(needles: &[P]) -> Option<AhoCorasick> {
    AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(needles).ok()
}

/// The identifiers whose presence makes a Python file worth parsing: groups of names, one group
/// present. A file that uses a resource names every part of its module (`import http.client`,
/// `from http import client`: `http` alone is in every URL) and one of its openers
/// (`HTTPSConnection`; an alias still names it where it is imported), or calls a method
/// recognised on any receiver (`getconn`). Resources from factories found in the project are
/// looked for by the later rounds, by the factories' names.
fn knowledge_names(knowledge: &Knowledge) -> Vec<NameGroup> {
    let mut groups: Vec<NameGroup> = Vec::new();
    for resource in &knowledge.resources {
        // A module's resources are opened by name: a file that imports `os` but never names
        // `popen` or `fdopen` opens nothing of it, however often it says `os`.
        let mut openers: Vec<String> =
            resource.open.iter().filter_map(|o| o.rsplit('.').next()).map(str::to_string).collect();
        openers.sort();
        openers.dedup();
        if resource.unknown_receiver.as_deref() == Some("any") {
            groups.extend(openers.iter().map(|m| NameGroup { all: vec![m.clone()], any: Vec::new() }));
        }
        groups.push(NameGroup {
            all: resource.module.split('.').filter(|p| !p.is_empty()).map(str::to_string).collect(),
            any: openers,
        });
    }
    groups.retain(|g| !g.all.is_empty());
    groups.sort();
    groups.dedup();
    groups
}

/// Names a file must all mention (`all`), and at least one of `any` when there are some, to be
/// worth parsing for one resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NameGroup {
    all: Vec<String>,
    any: Vec<String>,
}

/// Whether a text with these identifiers may mention all the names of one of the groups.
fn mentions_a_group(identifiers: &Identifiers, groups: &[NameGroup]) -> bool {
    groups.iter().any(|group| {
        group.all.iter().all(|name| identifiers.may_contain(name))
            && (group.any.is_empty() || group.any.iter().any(|name| identifiers.may_contain(name)))
    })
}

/// What makes a file worth parsing, checked on its bytes before anything else.
#[derive(Clone, Copy)]
enum Prefilter<'a> {
    /// Parse it whatever it says (it was picked already).
    None,
    /// A Python file: one of these identifiers.
    Names(&'a [NameGroup]),
    /// A Rust file: one of these paths, in code.
    RustPaths(&'a AhoCorasick),
    /// One of these byte strings.
    #[cfg_attr(not(feature = "python"), allow(dead_code))]
    Text(&'a AhoCorasick),
}

/// Whether a module with these identifiers may call one of `factories` (see [`HashedFactory`] and
/// [`Sought::Mentioned`]): it names the factory, and an import statement of it names the
/// factory's root (a word in a docstring reaches nothing), or it is in the root's package.
/// `top_level_package` (the first part of the module's name) is asked for only when a
/// factory's name occurs and no import names its root.
#[cfg(feature = "python")]
fn may_reach_a_factory(
    identifiers: &Identifiers,
    factories: &[HashedFactory],
    top_level_package: impl Fn() -> String,
) -> bool {
    let mut package = None;
    factories.iter().any(|&(name_hash, root_hash, root)| {
        identifiers.may_contain_hash(name_hash)
            && (identifiers.may_import_hash(root_hash) || package.get_or_insert_with(&top_level_package) == root)
    })
}

/// A factory sought in the skipped files: the [`hash`] of its name and of its module's first
/// part, and that part.
#[cfg(feature = "python")]
type HashedFactory<'a> = (u32, u32, &'a str);

/// The first part of the name of the module at `path` (`app` for `app/db/pool.py` in a package).
#[cfg(feature = "python")]
fn top_level_package(path: &Path) -> String {
    let (name, _) = walk::python_module(path);
    match name.split_once('.') {
        Some((root, _)) => root.to_string(),
        None => name,
    }
}

/// Every name a Python module of the run can start with, from the paths alone: the name of each
/// folder on a Python file's path and each file's stem (more than the real first names of the
/// modules, which would take a look for `__init__.py` in every folder).
#[cfg(feature = "python")]
fn module_names(files: &[SourceFile]) -> HashSet<String> {
    let mut names = HashSet::default();
    for file in files.iter().filter(|f| f.kind == SourceKind::Python) {
        if let Some(stem) = file.path.file_stem() {
            names.insert(stem.to_string_lossy().into_owned());
        }
        for folder in file.path.parent().into_iter().flat_map(Path::components) {
            if let std::path::Component::Normal(name) = folder
                && !names.contains(name.to_string_lossy().as_ref())
            {
                names.insert(name.to_string_lossy().into_owned());
            }
        }
    }
    names
}

/// What reading a file to check gave.
enum SourceBytes {
    Read(Vec<u8>, FileStamp),
    TooLarge,
    NotRegular,
}

/// Reads a file to check: opened once, its size and kind asked of the open file (no second
/// lookup of the path), read whole. The walk listed a regular file, but it may have been
/// replaced since, by a FIFO whose read would block the run forever: it is opened without
/// blocking and never read unless regular.
fn read_source(path: &Path) -> std::io::Result<SourceBytes> {
    use std::io::Read as _;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let mut file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Ok(SourceBytes::NotRegular);
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Ok(SourceBytes::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut bytes)?;
    Ok(SourceBytes::Read(bytes, FileStamp { len: metadata.len(), modified: metadata.modified().ok() }))
}

/// A file's length and modification time when it was read: a text read again is the same text
/// when both are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "python"), allow(dead_code))]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

/// Reads again a file read before, for a text the run did not keep; `None` when it is no longer
/// the text that was read (or cannot be read).
#[cfg_attr(not(feature = "python"), allow(dead_code))]
fn read_again(path: &Path, stamp: FileStamp) -> Option<Arc<str>> {
    match read_source(path) {
        Ok(SourceBytes::Read(bytes, now)) if now == stamp && bytes.len() as u64 == stamp.len => {
            String::from_utf8(bytes).ok().map(Arc::from)
        }
        _ => None,
    }
}

fn read_and_lower(file: &SourceFile, knowledge: &Knowledge, prefilter: Prefilter, reading: Reading) -> Read {
    let path = display_path(&file.path);
    let mut result = FileResult::new(path.clone());
    let (bytes, stamp) = match read_source(&file.path) {
        Ok(SourceBytes::Read(bytes, stamp)) => (bytes, stamp),
        Ok(SourceBytes::TooLarge) => {
            result.notice =
                Some(format!("skipped, larger than {} MiB (probably generated)", MAX_FILE_BYTES / (1024 * 1024)));
            return Read::Done(result);
        }
        Ok(SourceBytes::NotRegular) => {
            result.error = Some("not a regular file".to_string());
            return Read::Done(result);
        }
        Err(err) => {
            result.error = Some(walk::describe_io_error(&err));
            return Read::Done(result);
        }
    };
    // The identifiers of a Python file are kept while it is skipped, for later rounds.
    let identifiers = match prefilter {
        Prefilter::Names(_) => Some(Identifiers::of(&bytes)),
        _ => None,
    };
    let relevant = match (prefilter, &identifiers) {
        (Prefilter::Names(groups), Some(ids)) => mentions_a_group(ids, groups),
        (Prefilter::RustPaths(matcher), _) => mentions_in_code(matcher, &bytes),
        (Prefilter::Text(matcher), _) => matcher.is_match(&bytes),
        _ => true,
    };
    if !relevant {
        let may_suppress = identifiers.as_ref().is_none_or(|ids| ids.may_contain_any(["noqa", "connlint"].into_iter()));
        let source = if may_suppress { suppression_text(bytes) } else { None };
        return Read::Skipped { source, identifiers };
    }
    let source: Arc<str> = match String::from_utf8(bytes) {
        Ok(text) => Arc::from(text),
        Err(err) => {
            // A Python file that declares another encoding (PEP 263) is valid Python; say it was
            // not checked rather than call it broken.
            if file.kind == SourceKind::Python
                && let Some(encoding) = declared_encoding(err.as_bytes())
            {
                result.notice = Some(format!("not checked: encoded as {encoding} (connlint reads UTF-8)"));
                return Read::Done(result);
            }
            let valid_up_to = err.utf8_error().valid_up_to();
            result.source = Some(Arc::from(String::from_utf8_lossy(err.as_bytes()).into_owned()));
            result.diagnostics.push(
                Diagnostic::new(Rule::ParseError, Span::new(valid_up_to, valid_up_to), "this file is not valid UTF-8")
                    .with_help("connlint reads UTF-8 source; re-encode the file to check it"),
            );
            return Read::Done(result);
        }
    };
    #[cfg(not(feature = "python"))]
    let _ = (knowledge, reading, stamp);
    match file.kind {
        SourceKind::Rust => {
            // A Rust file is checked on its own; it is done once read.
            let knowledge = crate::rust::knowledge::Knowledge::builtin();
            match std::panic::catch_unwind(|| crate::rust::analyze(&path, &source, knowledge)) {
                Ok(diagnostics) => result.diagnostics = diagnostics,
                Err(_) => result.diagnostics.push(Diagnostic::new(
                    Rule::ParseError,
                    Span::new(0, 0),
                    "internal error while checking this file (please report it); the run went on",
                )),
            }
            result.source = Some(source);
            Read::Done(result)
        }
        #[cfg(not(feature = "python"))]
        SourceKind::Python => Read::Done(result),
        #[cfg(feature = "python")]
        SourceKind::Python => {
            let (name, package) = walk::python_module(&file.path);
            let module = ModuleInfo { name: &name, package: package.as_deref() };
            let whole = reading.mode == ParseMode::Whole;
            let lowered = std::panic::catch_unwind(|| {
                project::lower_unit_selected(&path, module, &source, knowledge, reading.needles, reading.wanted, whole)
            });
            match lowered {
                Ok(Some(unit)) => Read::Lowered {
                    unit: Box::new(unit),
                    stamp,
                    identifiers,
                    may_suppress: suppress::may_have_suppression(source.as_bytes()),
                },
                Ok(None) => Read::Skipped {
                    source: suppress::may_have_suppression(source.as_bytes()).then_some(source),
                    identifiers,
                },
                Err(_) => {
                    result.source = Some(source);
                    result.diagnostics.push(Diagnostic::new(
                        Rule::ParseError,
                        Span::new(0, 0),
                        "internal error while reading this file (please report it); the run went on",
                    ));
                    Read::Done(result)
                }
            }
        }
    }
}

/// The encoding a Python file declares on its first or second line (`# -*- coding: koi8-r -*-`),
/// when it is not UTF-8.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            continue;
        }
        let Some(at) = trimmed.find("coding") else { continue };
        let rest = &trimmed[at + "coding".len()..];
        let Some(rest) = rest.strip_prefix([':', '=']) else { continue };
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let normalized = name.to_ascii_lowercase().replace('_', "-");
        if !name.is_empty() && !matches!(normalized.as_str(), "utf-8" | "utf8" | "utf-8-sig") {
            return Some(name);
        }
    }
    None
}

/// The text of a skipped file, if it holds a suppression comment (and is UTF-8).
fn suppression_text(bytes: Vec<u8>) -> Option<Arc<str>> {
    if !suppress::may_have_suppression(&bytes) {
        return None;
    }
    String::from_utf8(bytes).ok().map(Arc::from)
}

/// The path as the user would type it: relative paths without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worth_parsing(source: &str) -> bool {
        mentions_a_group(&Identifiers::of(source.as_bytes()), &knowledge_names(Knowledge::builtin()))
    }

    #[test]
    fn a_python_file_is_parsed_when_it_names_a_module_and_one_of_its_openers() {
        assert!(worth_parsing("import sqlite3\nconn = sqlite3.connect(path)\n"));
        assert!(worth_parsing("from sqlite3 import connect as open_db\n"));
        assert!(worth_parsing("import http.client\nc = http.client.HTTPSConnection(host)\n"));
        // A method known on any receiver counts on its own.
        assert!(worth_parsing("conn = pool.getconn()\n"));
        // The module alone opens nothing.
        assert!(!worth_parsing("import sqlite3\nprint(sqlite3.sqlite_version)\n"));
        assert!(!worth_parsing("import http\nstatus = http.HTTPStatus.OK\n"));
        // An opener's name without its module is someone else's function.
        assert!(!worth_parsing("def connect(path):\n    return path\n"));
    }

    #[cfg(feature = "python")]
    #[test]
    fn a_module_whose_text_changed_is_an_error_without_findings() {
        let changed = ModuleChecked { diagnostics: Err(TextChanged), text: None };
        let result = changed.into_result("app/db.py".to_string());
        assert_eq!(result.error.as_deref(), Some("changed while it was being checked; check it again"));
        assert!(result.diagnostics.is_empty() && result.source.is_none());
        let finding = Diagnostic::new(Rule::NeverClosed, Span::new(0, 1), "never closed");
        let checked = ModuleChecked { diagnostics: Ok(vec![finding]), text: Some(Arc::from("x")) };
        let result = checked.into_result("app/db.py".to_string());
        assert_eq!((result.error, result.diagnostics.len(), result.source.as_deref()), (None, 1, Some("x")));
    }

    #[test]
    fn a_text_read_again_is_the_text_read_before_or_none() {
        let dir = std::env::temp_dir().join(format!("connlint-read-again-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("module.py");
        let stamp_of = |path: &Path| match read_source(path) {
            Ok(SourceBytes::Read(_, stamp)) => stamp,
            _ => panic!("{} reads", path.display()),
        };
        std::fs::write(&path, "x = 1\n").expect("write");
        let stamp = stamp_of(&path);
        assert_eq!(read_again(&path, stamp).as_deref(), Some("x = 1\n"));
        // Another length.
        std::fs::write(&path, "x = 22\n").expect("write");
        assert_eq!(read_again(&path, stamp), None);
        // The same length, written later.
        let stamp = stamp_of(&path);
        std::fs::write(&path, "x = 33\n").expect("write");
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(later)).expect("touch");
        assert_eq!(read_again(&path, stamp), None);
        // Gone.
        let stamp = stamp_of(&path);
        std::fs::remove_dir_all(&dir).expect("rm");
        assert_eq!(read_again(&path, stamp), None);
    }
}
