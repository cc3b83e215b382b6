//! What the source targets share: run the analysis the way the CLI does (on a thread with the
//! analysis stack), and check that every span is a range of the text on character boundaries.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};

use connlint::{ModuleInfo, SourceKind};

/// The CLI's analysis threads have this stack (`connlint::run`); deep input is tested with it.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// One long-lived analysis thread: starting a thread with a 256 MiB stack per input would cost
/// more than the analysis (AddressSanitizer clears the stack's shadow memory at every exit).
struct Worker {
    inputs: Sender<(SourceKind, String)>,
    done: Receiver<()>,
}

fn worker() -> &'static Mutex<Worker> {
    static WORKER: OnceLock<Mutex<Worker>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (inputs, receive_input) = channel::<(SourceKind, String)>();
        let (send_done, done) = channel();
        std::thread::Builder::new()
            .stack_size(ANALYSIS_STACK_BYTES)
            .spawn(move || {
                for (kind, source) in receive_input {
                    analyse(kind, &source);
                    if send_done.send(()).is_err() {
                        break;
                    }
                }
            })
            .expect("an analysis thread starts");
        Mutex::new(Worker { inputs, done })
    })
}

/// Analyses arbitrary bytes as a source file of `kind`. Invalid UTF-8 is replaced, as the CLI
/// shows it. A panic on the analysis thread aborts the process (libFuzzer's panic hook): a crash.
pub fn check(kind: SourceKind, data: &[u8]) {
    let source = String::from_utf8_lossy(data).into_owned();
    let worker = worker().lock().expect("the analysis thread is alive");
    worker.inputs.send((kind, source)).expect("the analysis thread is alive");
    worker.done.recv().expect("the analysis thread is alive");
}

fn analyse(kind: SourceKind, source: &str) {
    let module = ModuleInfo { name: "fuzzed", package: None };
    check_spans(source, &connlint::check_source(kind, "fuzzed", source, module));
    if kind == SourceKind::Python {
        check_spans(source, &selective(source, module));
    }
}

/// The Python module the way `connlint check` reads it by default: only the statements that
/// can matter are parsed (`python::select`), the rest of the file is not.
fn selective(source: &str, module: ModuleInfo) -> Vec<connlint::diagnostic::Diagnostic> {
    use connlint::python::{knowledge::Knowledge, project, select::Needles};
    let knowledge = Knowledge::builtin();
    let needles = Needles::from_knowledge(knowledge);
    let wanted = std::collections::HashSet::new();
    let Some(unit) =
        project::lower_unit_selected("fuzzed", module, std::sync::Arc::from(source), knowledge, &needles, &wanted, false)
    else {
        return Vec::new();
    };
    let mut project = project::Project::new(knowledge);
    project.add(unit);
    let summaries = project.summaries();
    project.check(&summaries).pop().unwrap_or_default()
}

fn check_spans(source: &str, diagnostics: &[connlint::diagnostic::Diagnostic]) {
    for diagnostic in diagnostics {
        let spans = std::iter::once(diagnostic.span).chain(diagnostic.labels.iter().map(|l| l.span));
        for span in spans {
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(
                start <= end && end <= source.len(),
                "{:?} span {start}..{end} outside {} bytes",
                diagnostic.rule,
                source.len()
            );
            assert!(
                source.is_char_boundary(start) && source.is_char_boundary(end),
                "{:?} span {start}..{end} splits a character",
                diagnostic.rule
            );
        }
    }
}
