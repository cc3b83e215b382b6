//! The analysis thread. The main loop hands it documents to analyse and goes back to the
//! protocol; it owns the workspace's configuration, so reading configuration files never blocks
//! the protocol either. Work that piled up is coalesced: of several texts of one document only
//! the newest is analysed. A panic inside one analysis is caught and reported as that document's
//! outcome; the thread goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};

use super::workspace::{self, Workspace};
use crate::SourceKind;
use crate::diagnostic::Diagnostic;
use crate::python::knowledge::Knowledge;
use crate::settings::Settings;

/// Analyses one document with its settings: [`crate::run::lint_document`], or a stand-in in tests.
pub type Analyser = Arc<dyn Fn(&Path, SourceKind, &str, &Settings, &Knowledge) -> Vec<Diagnostic> + Send + Sync>;

#[derive(Debug)]
pub enum Task {
    Analyse(Job),
    /// The workspace folders changed (their configuration is read afresh).
    Folders(Vec<PathBuf>),
    /// A configuration file changed.
    Reload,
}

#[derive(Debug)]
pub struct Job {
    pub uri: String,
    pub revision: u64,
    /// The file, for `file:` documents; an unsaved buffer gets the default settings.
    pub path: Option<PathBuf>,
    pub kind: SourceKind,
    pub text: Arc<str>,
}

#[derive(Debug)]
pub struct Outcome {
    pub uri: String,
    pub revision: u64,
    pub result: Result<Vec<Diagnostic>, Failure>,
}

#[derive(Debug)]
pub enum Failure {
    /// The configuration that applies cannot be used; its findings would be wrong.
    Config(String),
    /// The analysis panicked (a bug in connlint).
    Panic(String),
}

/// Starts the analysis thread; it ends when the returned sender is dropped.
pub fn spawn(analyser: Analyser, deliver: impl Fn(Outcome) + Send + 'static) -> std::io::Result<Sender<Task>> {
    let (tasks, received) = mpsc::channel::<Task>();
    std::thread::Builder::new()
        .name("connlint-analysis".to_string())
        .stack_size(crate::run::ANALYSIS_STACK_BYTES)
        .spawn(move || {
            let mut workspace = Workspace::default();
            while let Ok(first) = received.recv() {
                let batch: Vec<Task> = std::iter::once(first).chain(received.try_iter()).collect();
                for (i, task) in batch.iter().enumerate() {
                    match task {
                        Task::Folders(roots) => workspace.set_folders(roots.clone()),
                        Task::Reload => workspace.reload(),
                        Task::Analyse(job) if !superseded(&batch[i + 1..], &job.uri) => {
                            deliver(analyse(&mut workspace, &analyser, job));
                        }
                        Task::Analyse(_) => {}
                    }
                }
            }
        })?;
    Ok(tasks)
}

fn superseded(later: &[Task], uri: &str) -> bool {
    later.iter().any(|task| matches!(task, Task::Analyse(job) if job.uri == uri))
}

fn analyse(workspace: &mut Workspace, analyser: &Analyser, job: &Job) -> Outcome {
    let outcome = |result| Outcome { uri: job.uri.clone(), revision: job.revision, result };
    let resolved = match &job.path {
        Some(path) => match workspace.resolve(path) {
            Ok(Some(resolved)) => resolved,
            Ok(None) => return outcome(Ok(Vec::new())),
            Err(err) => return outcome(Err(Failure::Config(err.to_string()))),
        },
        None => workspace::defaults(),
    };
    let run = || analyser(&resolved.absolute, job.kind, &job.text, &resolved.settings, &resolved.knowledge);
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(diagnostics) => outcome(Ok(diagnostics)),
        Err(payload) => {
            // The Rust frontend frees its span table at the end of an analysis; a panic skipped that.
            proc_macro2::extra::invalidate_current_thread_spans();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            outcome(Err(Failure::Panic(message)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Span;
    use crate::rule::Rule;
    use std::time::Duration;

    #[test]
    fn a_panic_is_an_outcome_and_the_thread_goes_on() {
        let analyser: Analyser = Arc::new(|_, _, text, _, _| {
            assert!(!text.contains("boom"), "analysis exploded");
            vec![Diagnostic::new(Rule::NeverClosed, Span::new(0, 1), "leak")]
        });
        let (sender, outcomes) = mpsc::channel();
        let tasks = spawn(analyser, move |outcome| sender.send(outcome).unwrap()).unwrap();
        for (revision, text) in [(1, "boom"), (2, "fine")] {
            let job =
                Job { uri: "untitled:x".into(), revision, path: None, kind: SourceKind::Python, text: text.into() };
            tasks.send(Task::Analyse(job)).unwrap();
            let outcome = outcomes.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(outcome.revision, revision);
            match (revision, outcome.result) {
                (1, Err(Failure::Panic(message))) => assert!(message.contains("analysis exploded")),
                (2, Ok(diagnostics)) => assert_eq!(diagnostics.len(), 1),
                (_, other) => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn only_the_newest_text_of_a_document_is_analysed() {
        let (release, wait) = mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        let (started, on_start) = mpsc::channel::<()>();
        let analyser: Analyser = Arc::new(move |_, _, text, _, _| {
            if text == "slow" {
                started.send(()).ok();
                wait.lock().unwrap().recv().ok();
            }
            Vec::new()
        });
        let (sender, outcomes) = mpsc::channel();
        let tasks = spawn(analyser, move |outcome| sender.send(outcome).unwrap()).unwrap();
        let job = |uri: &str, revision, text: &str| {
            Task::Analyse(Job { uri: uri.into(), revision, path: None, kind: SourceKind::Rust, text: text.into() })
        };
        tasks.send(job("untitled:a", 1, "slow")).unwrap();
        on_start.recv_timeout(Duration::from_secs(10)).unwrap();
        for (uri, revision) in [("untitled:a", 2), ("untitled:b", 3), ("untitled:a", 4)] {
            tasks.send(job(uri, revision, "x")).unwrap();
        }
        release.send(()).unwrap();
        let revisions: Vec<u64> =
            (0..3).map(|_| outcomes.recv_timeout(Duration::from_secs(10)).unwrap().revision).collect();
        assert_eq!(revisions, [1, 3, 4]);
    }
}
