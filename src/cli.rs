//! The command line: `connlint check`, `connlint rule`, `connlint rules`. Reads files, runs the
//! core on them in parallel, prints. Exit status: 0 clean, 1 findings, 2 error.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::SettingsResolver;
use crate::fixing::{self, FixArgs};
use crate::output::{self, FileReport, Options, OutputFormat, Run, RunError};
use crate::rule::Rule;
use crate::run::{self, ParseMode};
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
    Rules {
        /// `text`: a table; `json`: a document (see docs/json-output.md).
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        output_format: RulesFormat,
    },
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
    /// When to use colour (`auto`: on a terminal, unless NO_COLOR is set). Only `full` and
    /// `concise` are ever coloured.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print how many findings each rule has, instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Exit 0 even when something is found (an error still exits 2).
    #[arg(long)]
    exit_zero: bool,
    /// Print the findings only: no summary line, no notices.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    rule_selection: RuleSelectionArgs,
    /// Report only findings that this baseline file does not record.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file (then exit 0), for `--baseline`.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Parse every Python module whole instead of only the parts that can matter (for
    /// comparing; the results are the same).
    #[arg(long, hide = true)]
    whole_files: bool,
    /// Print the settings that apply to this file (and where they come from), then exit.
    #[arg(long, value_name = "PATH")]
    show_settings: Option<PathBuf>,
    #[command(flatten)]
    fixing: FixArgs,
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
enum RulesFormat {
    Text,
    Json,
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
        Command::Check(args) => {
            let code = check(args);
            crate::run::debug_phase("reported and dropped");
            code
        }
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
        Command::Rules { output_format } => {
            print!(
                "{}",
                match output_format {
                    RulesFormat::Text => output::rules_table(),
                    RulesFormat::Json => output::rules_json(),
                }
            );
            ExitCode::SUCCESS
        }
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let format = args.output_format;
    if args.statistics && !format.has_statistics() {
        let name = format_name(format);
        eprintln!(
            "connlint: error: --statistics prints a table or JSON; it cannot be combined with --output-format {name}"
        );
        return ExitCode::from(2);
    }
    let color = use_color(args.color, std::env::var_os("NO_COLOR"), std::io::stdout().is_terminal());
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
    let mode = if args.whole_files { ParseMode::Whole } else { ParseMode::Selective };
    // Read first: a run that fixes leaves alone what the baseline records.
    let baseline = match args.baseline.as_deref().map(run::read_baseline).transpose() {
        Ok(baseline) => baseline,
        Err(message) => {
            eprintln!("connlint: error: {message}");
            return ExitCode::from(2);
        }
    };
    let fixes = args
        .fixing
        .applies()
        .map(|allowed| run::Fixing { allowed, baseline: baseline.as_ref().zip(args.baseline.as_deref()) });
    let mut lint = match run::lint_fixing(&args.paths, overrides, mode, fixes) {
        Ok(lint) => lint,
        Err(err) => {
            eprintln!("connlint: error: {err}");
            return ExitCode::from(2);
        }
    };
    let mut errors = Vec::new();
    for error in &lint.walk_errors {
        eprintln!("connlint: error: {}: {}", error.path.display(), error.message);
        errors.push(RunError { path: run::display_path(&error.path), message: error.message.clone() });
    }
    if lint.results.is_empty() && errors.is_empty() && !args.quiet {
        eprintln!("connlint: warning: no Python or Rust files to check under the given paths");
    }
    for result in &lint.results {
        if let Some(error) = &result.error {
            eprintln!("connlint: error: {}: {error}", result.path);
            errors.push(RunError { path: result.path.clone(), message: error.clone() });
        }
        if let Some(notice) = &result.notice
            && !args.quiet
        {
            eprintln!("connlint: notice: {}: {notice}", result.path);
        }
    }
    if let Some(file) = &args.write_baseline {
        return match run::write_baseline(&lint, file) {
            Ok(count) => {
                eprintln!("connlint: wrote {count} findings to the baseline {}", file.display());
                if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
            }
            Err(message) => {
                eprintln!("connlint: error: {message}");
                ExitCode::from(2)
            }
        };
    }
    // What remains after the fixes is what is reported (and what the baseline is matched with).
    let applied = fixes.map(|_| fixing::apply(&mut lint, args.fixing.diff, &mut errors));
    if let (Some(file), Some(baseline)) = (&args.baseline, baseline) {
        let (hidden, stale) = run::apply_read_baseline(&mut lint, baseline, file);
        if hidden > 0 && !args.quiet {
            eprintln!("connlint: notice: {hidden} findings of the baseline {} not shown", file.display());
        }
        if stale > 0 && !args.quiet {
            eprintln!(
                "connlint: notice: {stale} findings of the baseline {} are gone; \
                 run with --write-baseline to drop them",
                file.display()
            );
        }
    }
    let run = Run {
        files: lint
            .results
            .iter()
            .map(|r| FileReport {
                path: &r.path,
                source: r.source.as_deref().unwrap_or_default(),
                diagnostics: &r.diagnostics,
            })
            .collect(),
        errors,
        base: std::env::current_dir().ok(),
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(applied) = &applied
        && args.fixing.diff
    {
        // `--diff` prints the diff and nothing else on stdout.
        if stdout.write_all(applied.diff.as_bytes()).and_then(|()| stdout.flush()).is_err() {
            return ExitCode::from(2);
        }
        if !args.quiet {
            eprintln!("connlint: {}", fixing::diff_summary(applied, run.diagnostic_count()));
            if let Some(line) = applied.by_rule_line(true) {
                eprintln!("connlint: {line}");
            }
        }
        return if !run.errors.is_empty() {
            ExitCode::from(2)
        } else if applied.files > 0 && !args.exit_zero {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    let options = Options {
        format,
        color,
        quiet: args.quiet,
        statistics: args.statistics,
        fixed: applied.as_ref().map(fixing::Applied::fixed),
        unsafe_fixes: args.fixing.unsafe_fixes,
    };
    if output::write_run(&mut stdout, &run, &options).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    crate::run::debug_phase("reported");
    if let Some(line) = applied.as_ref().and_then(|a| a.by_rule_line(false))
        && !args.quiet
    {
        eprintln!("connlint: {line}");
    }
    if !run.errors.is_empty() {
        ExitCode::from(2)
    } else if run.diagnostic_count() > 0 && !args.exit_zero {
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

/// Whether to colour: `always` and `never` as said; `auto` when stdout is a terminal and
/// NO_COLOR is unset or empty (https://no-color.org).
fn use_color(choice: ColorChoice, no_color: Option<OsString>, stdout_is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout_is_terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

fn format_name(format: OutputFormat) -> String {
    format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_the_terminal_and_no_color() {
        use ColorChoice::{Always, Auto, Never};
        let set = |v: &str| Some(OsString::from(v));
        let cases = [
            (Always, None, false, true),
            (Always, set("1"), false, true),
            (Never, None, true, false),
            (Auto, None, true, true),
            (Auto, None, false, false),
            (Auto, set("1"), true, false),
            (Auto, set(""), true, true),
        ];
        for (choice, no_color, terminal, expected) in cases {
            assert_eq!(use_color(choice, no_color.clone(), terminal), expected, "{choice:?} {no_color:?} {terminal}");
        }
    }
}
