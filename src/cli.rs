//! The command line: `connlint check`, `connlint rule`, `connlint rules`. Reads files, runs the
//! core on them in parallel, prints. Exit status: 0 clean, 1 findings, 2 error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::SettingsResolver;
use crate::output::{self, OutputFormat};
use crate::rule::Rule;
use crate::run;
use crate::settings::{Overrides, RuleSelector};

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
    /// Run the language server (LSP over stdin and stdout), for editors.
    Server,
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
    rule_selection: RuleSelectionArgs,
    /// Report only findings that this baseline file does not record.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file (then exit 0), for `--baseline`.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Print the settings that apply to this file (and where they come from), then exit.
    #[arg(long, value_name = "PATH")]
    show_settings: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct RuleSelectionArgs {
    /// Check only these rules (codes, prefixes such as `CL1`, names or `ALL`; comma-separated).
    /// Replaces the configured `select`.
    #[arg(long, value_name = "RULES")]
    select: Option<String>,
    /// Check these rules in addition to the selected ones.
    #[arg(long, value_name = "RULES")]
    extend_select: Option<String>,
    /// Do not check these rules.
    #[arg(long, value_name = "RULES")]
    ignore: Option<String>,
    /// Apply `exclude` even to files named on the command line (for pre-commit).
    #[arg(long)]
    force_exclude: bool,
}

impl RuleSelectionArgs {
    fn overrides(&self) -> Result<Overrides, String> {
        let list = |flag: &str, value: &Option<String>| {
            value.as_deref().map(RuleSelector::parse_list).transpose().map_err(|e| format!("--{flag}: {e}"))
        };
        Ok(Overrides {
            select: list("select", &self.select)?,
            extend_select: list("extend-select", &self.extend_select)?.unwrap_or_default(),
            ignore: list("ignore", &self.ignore)?.unwrap_or_default(),
            force_exclude: self.force_exclude,
        })
    }
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
        Command::Server => crate::lsp::run(),
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
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    };
    let overrides = match args.rule_selection.overrides() {
        Ok(overrides) => overrides,
        Err(message) => {
            eprintln!("connlint: error: {message}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.show_settings {
        return show_settings(path, overrides);
    }
    let mut lint = match run::lint(&args.paths, overrides) {
        Ok(lint) => lint,
        Err(err) => {
            eprintln!("connlint: error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut had_error = false;
    for error in &lint.walk_errors {
        eprintln!("connlint: error: {}: {}", error.path.display(), error.message);
        had_error = true;
    }
    if lint.results.is_empty() && !had_error {
        eprintln!("connlint: warning: no Python or Rust files to check under the given paths");
    }
    if let Some(file) = &args.write_baseline {
        return match run::write_baseline(&lint, file) {
            Ok(count) => {
                eprintln!("connlint: wrote {count} findings to the baseline {}", file.display());
                if had_error { ExitCode::from(2) } else { ExitCode::SUCCESS }
            }
            Err(message) => {
                eprintln!("connlint: error: {message}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(file) = &args.baseline {
        match run::apply_baseline(&mut lint, file) {
            Ok((_, 0)) => {}
            Ok((_, stale)) => eprintln!(
                "connlint: notice: {stale} findings of the baseline {} are gone; \
                 run with --write-baseline to drop them",
                file.display()
            ),
            Err(message) => {
                eprintln!("connlint: error: {message}");
                return ExitCode::from(2);
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    let mut findings = 0;
    for result in &lint.results {
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
    if had_error {
        ExitCode::from(2)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--show-settings PATH`: what applies to one file, and where it comes from.
fn show_settings(path: &Path, overrides: Overrides) -> ExitCode {
    let mut resolver = SettingsResolver::new(overrides);
    let is_dir = path.is_dir();
    let settings = match resolver.settings_for(path, is_dir) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("connlint: error: {err}");
            return ExitCode::from(2);
        }
    };
    let absolute = resolver.absolute(path);
    print!("{}", settings.describe(&absolute, resolver.discovery()));
    ExitCode::SUCCESS
}
