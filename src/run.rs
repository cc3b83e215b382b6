//! A run over many files: read, skip what cannot matter, lower in parallel, find the factories
//! across modules, check in parallel. This is the I/O edge; the analysis itself is in the core.
//!
//! Work is in proportion to what can matter: a Python file is parsed only if its bytes mention
//! a module the knowledge base knows (or a factory found elsewhere in the run). Factories grow
//! the needle set: files that mention one are parsed in a further round.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::AhoCorasick;

#[cfg(feature = "python")]
use crate::ModuleInfo;
use crate::SourceKind;
use crate::config::{self, ConfigError, Discovery};
use crate::diagnostic::{Diagnostic, Span};
use crate::python::knowledge::Knowledge;
#[cfg(feature = "python")]
use crate::python::project::{self, ModuleUnit, Project};
use crate::rule::Rule;
use crate::walk::{self, SourceFile};

/// Files bigger than this are skipped with a notice: generated code, not code people write.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Analysis threads get a large stack so deeply nested input cannot overflow it.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

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
}

impl FileResult {
    fn new(path: String) -> FileResult {
        FileResult { path, source: None, diagnostics: Vec::new(), error: None, notice: None }
    }
}

/// What happened to a file in the reading round.
enum Read {
    /// Parsed and lowered; waiting for the check.
    #[cfg(feature = "python")]
    Lowered(ModuleUnit),
    /// Mentions nothing that matters (yet).
    Skipped,
    Done(FileResult),
}

/// The knowledge for a run: what connlint ships, plus the `[[resource]]` entries of every
/// configuration that applies to one of the files.
pub fn knowledge_for(files: &[SourceFile]) -> Result<Knowledge, ConfigError> {
    let mut knowledge = Knowledge::builtin().clone();
    let mut discovery = Discovery::default();
    let mut seen = std::collections::HashSet::new();
    for file in files {
        let dir = file.path.parent().unwrap_or(Path::new("."));
        let Some(config_path) = discovery.config_for(dir)? else { continue };
        if !seen.insert(config_path.clone()) {
            continue;
        }
        let Some(config) = config::load(&config_path)? else { continue };
        for resource in config.resource {
            knowledge
                .add_resource(&config_path.display().to_string(), resource)
                .map_err(|message| ConfigError { file: config_path.clone(), message })?;
        }
    }
    Ok(knowledge)
}

/// Checks every file with the given knowledge; results come back in file order.
pub fn check_files(files: &[SourceFile], knowledge: &Knowledge) -> Vec<FileResult> {
    let module_needles = knowledge_needles(knowledge);
    let python_matcher = AhoCorasick::new(&module_needles).ok();
    let rust_matcher = AhoCorasick::new(rust_needles(crate::rust::knowledge::Knowledge::builtin())).ok();
    let first: Vec<Read> = parallel_map(files, |file| {
        let matcher = match file.kind {
            SourceKind::Python => python_matcher.as_ref(),
            SourceKind::Rust => rust_matcher.as_ref(),
        };
        read_and_lower(file, knowledge, matcher)
    });

    #[cfg(not(feature = "python"))]
    {
        let _ = &python_matcher;
        first
            .into_iter()
            .zip(files)
            .map(|(read, file)| match read {
                Read::Done(result) => result,
                Read::Skipped => FileResult::new(display_path(&file.path)),
            })
            .collect()
    }
    #[cfg(feature = "python")]
    finish_python(files, first, knowledge)
}

/// The Python round: summaries across the modules read, more files for the factories found,
/// then the check of every module.
#[cfg(feature = "python")]
fn finish_python(files: &[SourceFile], first: Vec<Read>, knowledge: &Knowledge) -> Vec<FileResult> {
    let mut results: Vec<Option<FileResult>> = Vec::with_capacity(files.len());
    let mut unit_of_file: Vec<Option<usize>> = vec![None; files.len()];
    let mut skipped = Vec::new();
    let mut project = Project::new(knowledge);
    for (i, read) in first.into_iter().enumerate() {
        match read {
            Read::Lowered(unit) => {
                unit_of_file[i] = Some(project.modules.len());
                project.add(unit);
                results.push(None);
            }
            Read::Skipped => {
                if files[i].kind == SourceKind::Python {
                    skipped.push(i);
                }
                results.push(Some(FileResult::new(display_path(&files[i].path))));
            }
            Read::Done(result) => results.push(Some(result)),
        }
    }

    // Factories found so far may be called from files that mention no opener: parse those too,
    // until no new factory turns up.
    let mut summaries = project.summaries();
    let mut known_names: Vec<String> = Vec::new();
    loop {
        let names: Vec<String> =
            Project::factory_names(&summaries).into_iter().filter(|n| !known_names.contains(n)).collect();
        if names.is_empty() || skipped.is_empty() {
            break;
        }
        known_names.extend(names.iter().cloned());
        let Ok(factory_matcher) = AhoCorasick::new(&names) else { break };
        let candidates: Vec<SourceFile> = skipped.iter().map(|&i| files[i].clone()).collect();
        let reads = parallel_map(&candidates, |file| read_and_lower(file, knowledge, Some(&factory_matcher)));
        let mut still_skipped = Vec::new();
        let mut added = false;
        for (read, &i) in reads.into_iter().zip(&skipped) {
            match read {
                Read::Lowered(unit) => {
                    unit_of_file[i] = Some(project.modules.len());
                    project.add(unit);
                    results[i] = None;
                    added = true;
                }
                Read::Skipped => still_skipped.push(i),
                Read::Done(result) => results[i] = Some(result),
            }
        }
        skipped = still_skipped;
        if !added {
            break;
        }
        summaries = project.summaries();
    }

    let functions = project.function_index();
    let module_ids: Vec<usize> = (0..project.modules.len()).collect();
    let checked: Vec<Vec<Diagnostic>> = parallel_map(&module_ids, |&module| {
        std::panic::catch_unwind(|| project.check_module(module, &summaries, &functions)).unwrap_or_else(|_| {
            vec![Diagnostic::new(
                Rule::ParseError,
                Span::new(0, 0),
                "internal error while checking this file (please report it); the run went on",
            )]
        })
    });
    let mut checked = checked.into_iter().map(Some).collect::<Vec<_>>();
    results
        .into_iter()
        .enumerate()
        .map(|(i, result)| match (result, unit_of_file[i]) {
            (Some(result), _) => result,
            (None, Some(u)) => {
                let unit = &project.modules[u];
                FileResult {
                    path: unit.path.clone(),
                    source: Some(unit.source.clone()),
                    diagnostics: checked[u].take().unwrap_or_default(),
                    error: None,
                    notice: None,
                }
            }
            (None, None) => FileResult::new(display_path(&files[i].path)),
        })
        .collect()
}

/// The byte strings whose presence makes a Rust file worth parsing: the crates the knowledge
/// knows, the C openers, and the std calls that forget or leak.
fn rust_needles(knowledge: &crate::rust::knowledge::Knowledge) -> Vec<String> {
    let mut needles: Vec<String> = knowledge.crates().map(str::to_string).collect();
    needles.extend(knowledge.ffi.iter().flat_map(|f| f.open.iter().cloned()));
    needles.extend(["TcpStream", "UnixStream", "forget", "ManuallyDrop", "leak", "into_raw"].map(String::from));
    needles.sort();
    needles.dedup();
    needles
}

/// The byte strings whose presence makes a Python file worth parsing: the top-level module of
/// every opener (a file must import it to call it), and methods recognised on any receiver.
fn knowledge_needles(knowledge: &Knowledge) -> Vec<String> {
    let mut needles: Vec<String> = knowledge
        .resources
        .iter()
        .flat_map(|r| {
            let root = r.module.split('.').next().unwrap_or_default().to_string();
            let any_receiver: Vec<String> = if r.unknown_receiver.as_deref() == Some("any") {
                r.open.iter().filter_map(|o| o.rsplit('.').next()).map(str::to_string).collect()
            } else {
                Vec::new()
            };
            std::iter::once(root).chain(any_receiver)
        })
        .filter(|n| !n.is_empty())
        .collect();
    needles.sort();
    needles.dedup();
    needles
}

fn read_and_lower(file: &SourceFile, knowledge: &Knowledge, matcher: Option<&AhoCorasick>) -> Read {
    let path = display_path(&file.path);
    let mut result = FileResult::new(path.clone());
    match std::fs::metadata(&file.path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            result.notice =
                Some(format!("skipped, larger than {} MiB (probably generated)", MAX_FILE_BYTES / (1024 * 1024)));
            return Read::Done(result);
        }
        // The walk listed a regular file, but it may have been replaced since (by a FIFO,
        // whose read would block the run forever).
        Ok(m) if !m.is_file() => {
            result.error = Some("not a regular file".to_string());
            return Read::Done(result);
        }
        Ok(_) => {}
        Err(err) => {
            result.error = Some(walk::describe_io_error(&err));
            return Read::Done(result);
        }
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(err) => {
            result.error = Some(walk::describe_io_error(&err));
            return Read::Done(result);
        }
    };
    if let Some(matcher) = matcher
        && !matcher.is_match(&bytes)
    {
        return Read::Skipped;
    }
    let source: Arc<str> = match String::from_utf8(bytes) {
        Ok(text) => Arc::from(text),
        Err(err) => {
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
    let _ = knowledge;
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
            match std::panic::catch_unwind(|| project::lower_unit(&path, module, source.clone(), knowledge)) {
                Ok(unit) => Read::Lowered(unit),
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

/// Maps `f` over `items` on as many threads as there are cores, keeping the order. Threads get
/// large stacks; if a thread cannot be started, the work is done on this one.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let spawned = std::thread::Builder::new().stack_size(ANALYSIS_STACK_BYTES).spawn_scoped(scope, || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let value = f(item);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(value);
                    }
                }
            });
            if spawned.is_err() {
                break;
            }
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    slots.into_iter().zip(items).map(|(slot, item)| slot.unwrap_or_else(|| f(item))).collect()
}

/// The path as the user would type it: relative paths without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}
