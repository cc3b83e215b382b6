//! The command line: `connlint check`, `connlint rule`, `connlint rules`. Reads files, runs the
//! core on them in parallel, prints. Exit status: 0 clean, 1 findings, 2 error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::fixing::{self, FixArgs};
use crate::output::{self, OutputFormat};
use crate::rule::Rule;
use crate::run;
use crate::walk;

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
    /// Print what the Rust walk recognises in a file (for developing connlint).
    #[command(hide = true)]
    DebugRust { path: PathBuf },
    /// Print the resource IR of a Python file (for developing connlint).
    #[cfg(feature = "python")]
    #[command(hide = true)]
    DebugIr { path: PathBuf },
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
    #[command(flatten)]
    fixing: FixArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

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
        Command::DebugRust { path } => {
            let Ok(source) = std::fs::read_to_string(&path) else {
                eprintln!("connlint: error: {}: cannot read", path.display());
                return ExitCode::from(2);
            };
            let knowledge = crate::rust::knowledge::Knowledge::builtin();
            print!("{}", crate::rust::debug_facts(&path.display().to_string(), &source, knowledge));
            ExitCode::SUCCESS
        }
        #[cfg(feature = "python")]
        Command::DebugIr { path } => {
            let Ok(source) = std::fs::read_to_string(&path) else {
                eprintln!("connlint: error: {}: cannot read", path.display());
                return ExitCode::from(2);
            };
            print!("{}", crate::python::debug_ir(&source));
            ExitCode::SUCCESS
        }
        Command::Rules => {
            for rule in Rule::ALL {
                println!("{:<6} {:<28} {:<7} {}", rule.code(), rule.name(), rule.language(), rule.summary());
            }
            ExitCode::SUCCESS
        }
    }
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
    let knowledge = match run::knowledge_for(&files) {
        Ok(knowledge) => knowledge,
        Err(err) => {
            eprintln!("connlint: error: {err}");
            return ExitCode::from(2);
        }
    };
    let results = run::check_files_fixing(&files, &knowledge, args.fixing.applies());
    if args.fixing.applies().is_some() {
        return fixing::finish(&args.fixing, &results, args.output_format, color, had_error);
    }
    let mut stdout = std::io::stdout().lock();
    let mut findings = 0;
    for result in &results {
        if let Some(error) = &result.error {
            eprintln!("connlint: error: {}: {error}", result.path);
            had_error = true;
        }
        if let Some(notice) = &result.notice {
            eprintln!("connlint: notice: {}: {notice}", result.path);
        }
        if result.diagnostics.is_empty() {
            continue;
        }
        findings += result.diagnostics.len();
        let source = result.source.as_deref().unwrap_or_default();
        let rendered = output::render_file(args.output_format, &result.path, source, &result.diagnostics, color);
        if stdout.write_all(rendered.as_bytes()).is_err() {
            return ExitCode::from(2);
        }
    }
    writeln!(stdout, "{}", output::summary(findings)).ok();
    if let Some(hint) = fixing::fixable_hint(&results, args.fixing.unsafe_fixes) {
        writeln!(stdout, "{hint}").ok();
    }
    if had_error {
        ExitCode::from(2)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
