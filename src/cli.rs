//! The command line: `connlint check`, `connlint rule`, `connlint rules`. Reads files, runs the
//! core on them in parallel, prints. Exit status: 0 clean, 1 findings, 2 error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::{Diagnostic, Span};
use crate::output::{self, OutputFormat};
use crate::rule::Rule;
use crate::walk::{self, SourceFile};

#[derive(Debug, Parser)]
#[command(name = "connlint", version, about = "Finds connection-lifecycle leaks in Python and Rust code")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check files and folders for leaks (default: the current folder).
    Check(CheckArgs),
    /// Print the documentation of a rule.
    Rule {
        /// A rule code, such as CL101.
        code: String,
    },
    /// List every rule.
    Rules,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files or folders to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = OutputFormat::Full)]
    output_format: OutputFormat,
    /// When to use colour (`auto`: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Files bigger than this are skipped with a notice: generated code, not code people write.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Analysis threads get a large stack so deeply nested input cannot overflow it.
const ANALYSIS_STACK_BYTES: usize = 256 * 1024 * 1024;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            err.print().ok();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rule { code } => match Rule::from_code(&code) {
            Some(rule) => {
                print!("{}", rule.doc());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("connlint: error: no rule `{code}`; `connlint rules` lists them");
                ExitCode::from(2)
            }
        },
        Command::Rules => {
            for rule in Rule::ALL {
                println!("{:<6} {:<28} {:<7} {}", rule.code(), rule.name(), rule.language(), rule.summary());
            }
            ExitCode::SUCCESS
        }
    }
}

/// The outcome of one file.
struct FileOutcome {
    rendered: String,
    findings: usize,
    error: Option<String>,
}

fn check(args: CheckArgs) -> ExitCode {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    let (files, walk_errors) = walk::collect(&args.paths);
    let mut had_error = false;
    for error in &walk_errors {
        eprintln!("connlint: error: {}: {}", error.path.display(), error.message);
        had_error = true;
    }
    let outcomes = analyse_all(&files, args.output_format, color);
    let mut stdout = std::io::stdout().lock();
    let mut findings = 0;
    for outcome in outcomes {
        if let Some(error) = &outcome.error {
            eprintln!("connlint: error: {error}");
            had_error = true;
        }
        findings += outcome.findings;
        if stdout.write_all(outcome.rendered.as_bytes()).is_err() {
            return ExitCode::from(2);
        }
    }
    writeln!(stdout, "{}", output::summary(findings)).ok();
    if had_error {
        ExitCode::from(2)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Analyses every file on as many threads as there are cores; results come back in file order.
fn analyse_all(files: &[SourceFile], format: OutputFormat, color: bool) -> Vec<FileOutcome> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<FileOutcome>>> = Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let spawned = std::thread::Builder::new().stack_size(ANALYSIS_STACK_BYTES).spawn_scoped(scope, || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let outcome = analyse_file(file, format, color);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(outcome);
                    }
                }
            });
            if spawned.is_err() {
                // Could not start a thread: the remaining workers (or the loop below) do the work.
                break;
            }
        }
    });
    let mut slots = results.into_inner().unwrap_or_default();
    // Anything a crashed or missing worker left undone is done here, so no file is lost.
    for (i, slot) in slots.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(analyse_file(&files[i], format, color));
        }
    }
    slots.into_iter().flatten().collect()
}

fn analyse_file(file: &SourceFile, format: OutputFormat, color: bool) -> FileOutcome {
    let display = display_path(&file.path);
    let failed = |message: String| FileOutcome { rendered: String::new(), findings: 0, error: Some(message) };
    match std::fs::metadata(&file.path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            eprintln!(
                "connlint: notice: {display}: skipped, larger than {} MiB (probably generated)",
                MAX_FILE_BYTES / (1024 * 1024)
            );
            return FileOutcome { rendered: String::new(), findings: 0, error: None };
        }
        Ok(_) => {}
        Err(err) => return failed(format!("{display}: {}", walk::describe_io_error(&err))),
    }
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(err) => return failed(format!("{display}: {}", walk::describe_io_error(&err))),
    };
    let (source, diagnostics) = match String::from_utf8(bytes) {
        Ok(source) => {
            let package = match file.kind {
                crate::SourceKind::Python => walk::python_package(&file.path),
            };
            let diagnostics = std::panic::catch_unwind(|| crate::check_source(file.kind, &source, package.as_deref()));
            match diagnostics {
                Ok(diagnostics) => (source, diagnostics),
                Err(_) => {
                    return failed(format!(
                        "{display}: internal error while analysing this file (please report it); the run went on"
                    ));
                }
            }
        }
        Err(err) => {
            let valid_up_to = err.utf8_error().valid_up_to();
            let source = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let diagnostic =
                Diagnostic::new(Rule::ParseError, Span::new(valid_up_to, valid_up_to), "this file is not valid UTF-8")
                    .with_help("connlint reads UTF-8 source; re-encode the file to check it");
            (source, vec![diagnostic])
        }
    };
    let rendered = output::render_file(format, &display, &source, &diagnostics, color);
    FileOutcome { rendered, findings: diagnostics.len(), error: None }
}

/// The path as the user would type it: relative paths without a leading `./`.
fn display_path(path: &std::path::Path) -> String {
    let path = path.strip_prefix(".").unwrap_or(path);
    path.display().to_string()
}
