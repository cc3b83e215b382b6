//! What the fuzz targets run on one input, without libFuzzer, so that `tests/fuzz_seeds.rs`
//! replays the seeds through the same code in `cargo test` (and a change to the library's API
//! that breaks a target fails there, on stable).
//!
//! - [`check`]: the Python or Rust analysis the way the CLI runs it (on a thread with the
//!   analysis stack), checking that every span is a range of the text on character boundaries.
//! - [`fix`]: the fix engine on the same input as Python and as Rust, unsafe fixes too, the way
//!   `connlint check --fix --unsafe-fixes` runs it: the fixes either apply, and the fixed text
//!   parses and is left alone by fixing it again, or are refused and the text is unchanged.
//! - [`config`]: configuration parsing and `[[resource]]` validation.
//! - [`lsp`]: the language server's message loop on one client stream.
//!
//! A panic is the bug each target looks for. Under libFuzzer any panic aborts the process, even
//! one the code catches (its panic hook); the test counts panics with a hook of its own.
// Each target uses one of these.
#![allow(dead_code)]

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};

use connlint::{ModuleInfo, SourceKind};

/// The CLI's analysis threads have this stack (`connlint::run`); deep input is tested with it.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Work for the analysis thread.
type Job = Box<dyn FnOnce() + Send>;

/// One long-lived analysis thread: starting a thread with a 256 MiB stack per input would cost
/// more than the analysis (AddressSanitizer clears the stack's shadow memory at every exit).
struct Worker {
    jobs: Sender<Job>,
    done: Receiver<()>,
}

fn worker() -> &'static Mutex<Worker> {
    static WORKER: OnceLock<Mutex<Worker>> = OnceLock::new();
    WORKER.get_or_init(|| {
        let (jobs, receive_job) = channel::<Job>();
        let (send_done, done) = channel();
        std::thread::Builder::new()
            .stack_size(ANALYSIS_STACK_BYTES)
            .spawn(move || {
                for job in receive_job {
                    job();
                    if send_done.send(()).is_err() {
                        break;
                    }
                }
            })
            .expect("an analysis thread starts");
        Mutex::new(Worker { jobs, done })
    })
}

/// Runs `job` on the analysis thread and waits for it. A panic there aborts the process
/// (libFuzzer's panic hook): a crash.
fn on_analysis_thread(job: impl FnOnce() + Send + 'static) {
    let worker = worker().lock().expect("the analysis thread is alive");
    worker.jobs.send(Box::new(job)).expect("the analysis thread is alive");
    worker.done.recv().expect("the analysis thread is alive");
}

/// Analyses arbitrary bytes as a source file of `kind`. Invalid UTF-8 is replaced, as the CLI
/// shows it.
pub fn check(kind: SourceKind, data: &[u8]) {
    let source = String::from_utf8_lossy(data).into_owned();
    on_analysis_thread(move || analyse(kind, &source));
}

/// Fixes arbitrary bytes as a Python module and as a Rust file (see the module's doc).
pub fn fix(data: &[u8]) {
    let source = String::from_utf8_lossy(data).into_owned();
    on_analysis_thread(move || {
        fix_as(SourceKind::Python, &source);
        fix_as(SourceKind::Rust, &source);
    });
}

/// Whether fixing `source` as `kind` changed it (for the seed replay, which checks that the
/// seeds reach the fixes).
pub fn fix_as(kind: SourceKind, source: &str) -> bool {
    use connlint::diagnostic::Applicability;
    use connlint::fix::{fix_text, parses};
    let module = ModuleInfo { name: "fuzzed", package: None };
    let mut analyze = |text: &str| connlint::check_source(kind, "fuzzed", text, module);
    let diagnostics = analyze(source);
    check_spans(source, &diagnostics);
    let outcome = fix_text(kind, source, diagnostics, Applicability::Unsafe, &mut analyze);
    if let Some(error) = &outcome.error {
        assert_eq!(outcome.text, source, "fixes refused ({error}), yet the text changed");
        return false;
    }
    if !outcome.changed(source) {
        assert_eq!(outcome.fixed_count(), 0, "fixes counted as applied, yet the text is unchanged");
        return false;
    }
    assert!(parses(kind, &outcome.text), "the fixed text does not parse:\n{}", outcome.text);
    check_spans(&outcome.text, &outcome.remaining);
    // `remaining` is the analysis of the fixed text.
    let again = fix_text(kind, &outcome.text, outcome.remaining.clone(), Applicability::Unsafe, &mut analyze);
    assert!(
        !again.changed(&outcome.text) && again.fixed_count() == 0 && again.error.is_none(),
        "fixing the fixed text again changes it ({:?}, {:?}):\n{}",
        again.fixed,
        again.error,
        outcome.text
    );
    true
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
    let knowledge = connlint::python::knowledge::Knowledge::builtin();
    connlint::python::analyze_selected("fuzzed", source, module, knowledge)
}

fn check_spans(source: &str, diagnostics: &[connlint::diagnostic::Diagnostic]) {
    for diagnostic in diagnostics {
        let spans = std::iter::once(diagnostic.span)
            .chain(diagnostic.labels.iter().map(|l| l.span))
            .chain(diagnostic.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span)));
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

/// Configuration parsing on arbitrary text, as each kind of configuration file, and the
/// validation of every `[[resource]]` it declares (what `connlint::config::load` does).
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for name in ["connlint.toml", "pyproject.toml", "Cargo.toml"] {
        if let Ok(Some(config)) = connlint::config::parse(name, &text) {
            for resource in config.resource {
                let mut knowledge = connlint::python::knowledge::Knowledge::default();
                // An error is a message for the user; only a panic would be a bug.
                let _ = knowledge.add_resource("fuzzed", resource);
            }
        }
    }
}

/// The client's bytes. An input that starts with `Content-Length` is the raw stream (framing,
/// headers, bodies as sent); any other is one JSON message per line, each framed with its own
/// `Content-Length`, so that mutations reach the handlers rather than stop at the framing.
pub fn lsp_frames(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"Content-Length") {
        return data.to_vec();
    }
    let mut framed = Vec::with_capacity(data.len() + 64);
    for line in data.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        framed.extend_from_slice(format!("Content-Length: {}\r\n\r\n", line.len()).as_bytes());
        framed.extend_from_slice(line);
    }
    framed
}

/// The input, holding a token that lives as long as the reader thread uses it.
struct LspInput {
    bytes: std::io::Cursor<Vec<u8>>,
    _alive: std::sync::Arc<()>,
}

impl std::io::Read for LspInput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.bytes.read(buf)
    }
}

impl std::io::BufRead for LspInput {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.bytes.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.bytes.consume(amount)
    }
}

fn wait_until_gone<T: ?Sized>(weak: &std::sync::Weak<T>) {
    while weak.strong_count() > 0 {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

/// `connlint server` on one client stream, in process: `connlint::lsp::serve_streams` with the
/// real analysis, reading from memory instead of stdin. Each input gets a fresh server; this
/// returns once its reader and analysis threads have let go of their work, so that a panic
/// belongs to its input. Returns the server's exit status (1 without `shutdown`: the client's
/// business, not a bug).
///
/// With `threads_exited`, it also waits until those threads have exited: their thread-locals
/// (the analysis thread's tree-sitter parser, a channel's context) are freed only after the
/// thread's function returns, and LeakSanitizer, which libFuzzer runs after an input that
/// allocated more than it freed, reported them as leaked when it looked in between (see
/// `fuzz/regressions/lsp/README.md`). The fuzz target waits; `cargo test`, where other tests start
/// threads of their own, does not.
pub fn lsp(data: &[u8], threads_exited: bool) -> u8 {
    use std::sync::Arc;
    let before = threads();
    let alive = Arc::new(());
    let reader_alive = Arc::downgrade(&alive);
    let input = LspInput { bytes: std::io::Cursor::new(lsp_frames(data)), _alive: alive };
    let analyser: connlint::lsp::Analyser = Arc::new(connlint::run::lint_document);
    let analyser_alive = Arc::downgrade(&analyser);
    let code = connlint::lsp::serve_streams(move || input, std::io::sink, analyser);
    // The analysis thread holds the analyser until it has finished what was queued.
    wait_until_gone(&analyser_alive);
    wait_until_gone(&reader_alive);
    if threads_exited && let Some(before) = before {
        // Bounded: a thread that never exits is a hang, and libFuzzer's -timeout reports it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while threads().is_some_and(|now| now > before) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    code
}

/// The threads of this process, where the system says (Linux: `/proc/self/task`).
fn threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|tasks| tasks.count())
}
