//! connlint as users install it: the sdist and the wheel that `pip install` builds, the
//! pre-commit hooks in `.pre-commit-hooks.yaml`, and the GitHub Action in `action.yml`.
//!
//! These tests run the real tools: python3 (with venv), maturin, pre-commit, git and cargo. A
//! missing tool fails them (`.ci/run` installs maturin and pre-commit). They build the release
//! binary the way pip and pre-commit do, which takes minutes on a cold cache, so everything they
//! build is kept under `target/tmp/distribution/` and reused: one cargo target dir shared by every
//! build, and one pre-commit home keyed by a snapshot of the working tree (see `hook_repo`).
//!
//! Cargo tells a stale build by file dates, and it takes the same crate built from another folder
//! for the same unit. So only trees with real dates are built into the shared target dir: this
//! repository and pre-commit's fresh clones of the snapshot. An unpacked sdist is not: its files
//! all carry maturin's fixed date, older than any build, so a changed source would not be rebuilt.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

const LEAKY_PY: &str = "import sqlite3\n\n\ndef f(p):\n    with sqlite3.connect(p) as c:\n        return c.execute('select 1').fetchone()\n";
const LEAKY_RS: &str =
    "async fn f(pool: &sqlx::PgPool) {\n    let tx = pool.begin().await.unwrap();\n    tx.commit();\n}\n";

/// Where the builds are cached between runs: `target/tmp/distribution`.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("distribution")
}

/// The cargo target dir shared by the wheel build and the hooks' installs, so that the
/// dependencies are compiled once.
fn cargo_target_dir() -> PathBuf {
    cache_dir().join("cargo-target")
}

/// Held while a command builds connlint into `cargo_target_dir()`: the wheel test's maturin, and
/// the pip and cargo installs that pre-commit and the action run. Cargo locks the target dir only
/// while it compiles. maturin then moves `release/connlint` to `maturin/connlint` while it writes
/// the wheel and moves it back after, so a build that ends meanwhile fails ("failed to rename
/// file from .../release/connlint to .../maturin/connlint: No such file or directory"), as does a
/// `cargo install` that copies the binary from there.
fn one_build_at_a_time() -> MutexGuard<'static, ()> {
    static BUILDS: Mutex<()> = Mutex::new(());
    // A test that failed while holding it left no build half done.
    BUILDS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A new empty folder for one test (what the last run left there is removed first).
fn fresh_dir(name: &str) -> PathBuf {
    let dir = cache_dir().join("scratch").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove an old scratch folder");
    }
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// A command with the environment every tool here shares: builds go to the shared target dir,
/// pre-commit keeps its installs in the cache, and no git variable of an outer hook leaks in.
fn command(program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", cargo_target_dir())
        .env("PRE_COMMIT_HOME", cache_dir().join("pre-commit-home"))
        .env("GIT_AUTHOR_NAME", "connlint tests")
        .env("GIT_AUTHOR_EMAIL", "tests@connlint.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "connlint tests")
        .env("GIT_COMMITTER_EMAIL", "tests@connlint.invalid")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    command
}

/// Runs a command to the end; a program that cannot start fails the test with its name.
fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|err| {
        panic!("cannot run {:?} ({err}); .ci/run installs the tools these tests need", command.get_program())
    })
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Runs a command that must succeed and returns its stdout.
fn run_ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(output.status.success(), "{command:?} failed ({}):\n{}", output.status, text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn python(cwd: &Path) -> Command {
    command("python3", cwd)
}

fn git(cwd: &Path, args: &[&str]) -> String {
    run_ok(command("git", cwd).args(args))
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Every file the build reads, relative to the crate: the sources under src/ and the files they
/// pull in with `include_str!`/`include_bytes!`.
fn build_inputs() -> Vec<PathBuf> {
    fn visit(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path.strip_prefix(ROOT).expect("inside the crate").to_path_buf());
                let source = std::fs::read_to_string(&path).expect("read a source file");
                for macro_call in ["include_str!(\"", "include_bytes!(\""] {
                    for (at, _) in source.match_indices(macro_call) {
                        let rest = &source[at + macro_call.len()..];
                        let literal = &rest[..rest.find('"').expect("a closed string")];
                        let file = normalize(&path.parent().expect("a folder").join(literal));
                        found.push(file.strip_prefix(ROOT).expect("inside the crate").to_path_buf());
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(&Path::new(ROOT).join("src"), &mut found);
    found.sort();
    found.dedup();
    found
}

/// The wheel test builds from the repository, not from the sdist (see the module doc): this is
/// what shows that the sdist, which pip builds from when there is no wheel, has all it needs.
#[test]
fn the_sdist_holds_every_file_the_build_reads() {
    let out = fresh_dir("sdist");
    run_ok(python(Path::new(ROOT)).args(["-m", "maturin", "sdist", "--out"]).arg(&out));
    let sdist = out.join(format!("connlint-{VERSION}.tar.gz"));
    let listing = run_ok(
        python(&out)
            .args(["-c", "import sys, tarfile; print('\\n'.join(tarfile.open(sys.argv[1]).getnames()))"])
            .arg(&sdist),
    );
    let names: Vec<&str> = listing.lines().collect();
    let inputs = build_inputs();
    for file in ["src/main.rs", "rules/CL101.md", "rules/python/sqlite3.toml", "rules/rust/sqlx.toml"] {
        assert!(inputs.contains(&PathBuf::from(file)), "{file} is not found among {inputs:?}");
    }
    let manifests = ["Cargo.toml", "Cargo.lock", "pyproject.toml", "README.md", "LICENSE"];
    for file in manifests.iter().map(PathBuf::from).chain(inputs) {
        let name = format!("connlint-{VERSION}/{}", file.display());
        assert!(names.contains(&name.as_str()), "the sdist lacks {name}:\n{listing}");
    }
}

#[test]
fn pip_installs_a_wheel_that_puts_connlint_on_path() {
    let out = fresh_dir("wheel");
    let build = one_build_at_a_time();
    run_ok(python(Path::new(ROOT)).args(["-m", "maturin", "build", "--release", "--out"]).arg(&out));
    drop(build);
    let wheels: Vec<PathBuf> =
        std::fs::read_dir(&out).expect("the wheel folder").map(|e| e.expect("entry").path()).collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let wheel = &wheels[0];
    let wheel_name = wheel.file_name().expect("a name").to_string_lossy().into_owned();
    // `bindings = "bin"`: a wheel for any Python 3 (no extension module), one per platform.
    assert!(wheel_name.starts_with(&format!("connlint-{VERSION}-py3-none-")), "{wheel_name}");

    let venv = out.join("venv");
    run_ok(python(&out).args(["-m", "venv"]).arg(&venv));
    run_ok(command(venv.join("bin/python"), &out).args(["-m", "pip", "install", "--no-index", "--no-deps"]).arg(wheel));
    let connlint = venv.join("bin/connlint");
    assert_eq!(run_ok(command(&connlint, &out).arg("--version")), format!("connlint {VERSION}\n"));

    std::fs::write(out.join("leaky.py"), LEAKY_PY).expect("write");
    let check = run(command(&connlint, &out).args(["check", "leaky.py"]));
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains("CL101"), "{}", text(&check));
    // The rule docs are compiled in, not read from a rules/ folder beside the binary.
    let rule = run_ok(command(&connlint, &out).args(["rule", "CL101"]));
    assert!(rule.contains("## Why is this bad"), "{rule}");
}

/// Folders that the hook neither builds nor runs: left out of `hook_repo()`, so that changing a
/// test does not make pre-commit build the hook again.
const TEST_ONLY: [&str; 3] = ["tests/", "fixtures/", "examples/"];

/// The repository as a pre-commit hook repo: a git repository at a fixed path holding the working
/// tree as it is (tracked and untracked files, as .gitignore allows, but `TEST_ONLY`) in one commit
/// with a fixed author and date. The same tree gives the same commit, so pre-commit finds its
/// install of that commit in its home and builds again only when the tree changed.
fn hook_repo() -> &'static (PathBuf, String) {
    static REPO: OnceLock<(PathBuf, String)> = OnceLock::new();
    REPO.get_or_init(|| {
        let root = Path::new(ROOT);
        let repo = cache_dir().join("hook-repo");
        if repo.exists() {
            std::fs::remove_dir_all(&repo).expect("remove the old snapshot");
        }
        std::fs::create_dir_all(&repo).expect("create the snapshot");
        let files = git(root, &["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
        for file in files.split('\0').filter(|file| !file.is_empty()) {
            let from = root.join(file);
            if !from.is_file() || TEST_ONLY.iter().any(|folder| file.starts_with(folder)) {
                continue; // deleted in the working tree, or not part of the hook
            }
            let to = repo.join(file);
            std::fs::create_dir_all(to.parent().expect("a folder")).expect("mkdir");
            std::fs::copy(&from, &to).expect("copy into the snapshot");
        }
        git(&repo, &["init", "--quiet"]);
        git(&repo, &["add", "--all"]);
        git(&repo, &["-c", "commit.gpgsign=false", "commit", "--quiet", "--message", "snapshot"]);
        let rev = git(&repo, &["rev-parse", "HEAD"]).trim().to_owned();
        (repo, rev)
    })
}

/// A git repository with `files` staged and a .pre-commit-config.yaml that uses the hook `id`
/// of `hook_repo()` with `args`, as README.md shows.
fn project_using_hook(name: &str, id: &str, args: &str, files: &[(&str, &str)]) -> PathBuf {
    let (repo, rev) = hook_repo();
    let dir = fresh_dir(name);
    git(&dir, &["init", "--quiet"]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {id}\n        args: {args}\n",
        serde_json::Value::from(repo.display().to_string()) // a JSON string is a quoted YAML string
    );
    std::fs::write(dir.join(".pre-commit-config.yaml"), config).expect("write");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    git(&dir, &["add", "--all"]);
    dir
}

fn pre_commit_run(project: &Path) -> Output {
    let _build = one_build_at_a_time(); // the first run installs the hook
    run(python(project).args(["-m", "pre_commit", "run", "--all-files", "--color", "never"]))
}

#[test]
fn the_pre_commit_hook_fails_on_a_leak_and_passes_on_clean_code() {
    let clean = "import sqlite3\nfrom contextlib import closing\n\n\ndef f(p):\n    with closing(sqlite3.connect(p)) as c, c:\n        return c.execute('select 1').fetchone()\n";
    let project = project_using_hook(
        "hook",
        "connlint",
        "[]",
        // The leak in a text file is not passed to the hook: it takes Python and Rust files only.
        &[("leaky.py", LEAKY_PY), ("clean.py", clean), ("notes.txt", LEAKY_PY)],
    );
    let failed = pre_commit_run(&project);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("leaky.py:5:10"), "{}", text(&failed));
    assert!(text(&failed).contains("CL101"), "{}", text(&failed));
    assert!(!text(&failed).contains("clean.py:") && !text(&failed).contains("notes.txt"), "{}", text(&failed));

    git(&project, &["rm", "--quiet", "--force", "leaky.py"]);
    let passed = pre_commit_run(&project);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed));
}

/// Needs `connlint check --fix` (CL101's fix: `with closing(OPEN) as c, c:`).
#[test]
fn the_pre_commit_hook_with_fix_rewrites_the_leak_then_passes() {
    let project = project_using_hook("hook-fix", "connlint", "[--fix]", &[("leaky.py", LEAKY_PY)]);
    let fixed = pre_commit_run(&project);
    // A hook that changes files fails, so that the change is reviewed before it is committed.
    assert_eq!(fixed.status.code(), Some(1), "{}", text(&fixed));
    let source = std::fs::read_to_string(project.join("leaky.py")).expect("read");
    assert!(source.contains("from contextlib import closing\n"), "{source}\n{}", text(&fixed));
    assert!(source.contains("    with closing(sqlite3.connect(p)) as c, c:\n"), "{source}\n{}", text(&fixed));

    git(&project, &["add", "--all"]);
    let passed = pre_commit_run(&project);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed));
    assert_eq!(
        std::fs::read_to_string(project.join("leaky.py")).expect("read"),
        source,
        "a second fix changes nothing"
    );
}

#[test]
fn the_cargo_installed_pre_commit_hook_checks_rust_files() {
    let project = project_using_hook("hook-rust", "connlint-rust", "[]", &[("lib.rs", LEAKY_RS)]);
    let failed = pre_commit_run(&project);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("lib.rs:3:5"), "{}", text(&failed));
    assert!(text(&failed).contains("CL204"), "{}", text(&failed));
}

/// What a run of `action.yml` left: the status of the step that ended it and the action's outputs.
struct ActionRun {
    status: Option<i32>,
    log: String,
    outputs: BTreeMap<String, String>,
}

/// Runs `action.yml` in `workspace` the way a runner does, as far as that can be done without
/// GitHub: the `run:` steps in bash with `GITHUB_OUTPUT` and `GITHUB_PATH`, inputs and step outputs
/// through `${{ }}`; a `uses:` step (the SARIF upload) is checked, not run. The first step that
/// fails ends the run, as it ends a job.
fn run_action(workspace: &Path, runner_temp: &Path, inputs: &[(&str, &str)]) -> ActionRun {
    let _build = one_build_at_a_time(); // its first step installs connlint
    let json = run_ok(
        python(Path::new(ROOT))
            .args(["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open('action.yml')), sys.stdout)"]),
    );
    let action: serde_json::Value = serde_json::from_str(&json).expect("action.yml as JSON");
    assert_eq!(action["runs"]["using"], "composite");
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (name, input) in action["inputs"].as_object().expect("inputs") {
        values.insert(format!("inputs.{name}"), input["default"].as_str().unwrap_or_default().to_owned());
    }
    for (name, value) in inputs {
        assert!(values.contains_key(&format!("inputs.{name}")), "action.yml has no input {name}");
        values.insert(format!("inputs.{name}"), (*value).to_owned());
    }
    values.insert("github.action_path".into(), ROOT.into());
    values.insert("runner.temp".into(), runner_temp.display().to_string());
    let evaluate = |text: &str, values: &BTreeMap<String, String>| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            let end = start + rest[start..].find("}}").expect("a closed ${{");
            let expression = rest[start + 3..end].trim();
            let value = match values.get(expression) {
                Some(value) => value,
                // An output of a step that did not run (or did not set it) is empty, as on GitHub.
                None if expression.starts_with("steps.") => "",
                None => panic!("the test cannot evaluate `{expression}`"),
            };
            out.push_str(&rest[..start]);
            out.push_str(value);
            rest = &rest[end + 2..];
        }
        out + rest
    };

    let github_path = runner_temp.join("github_path");
    std::fs::write(&github_path, "").expect("write");
    let mut log = String::new();
    let mut status = Some(0);
    for (index, step) in action["runs"]["steps"].as_array().expect("steps").iter().enumerate() {
        if let Some(uses) = step["uses"].as_str() {
            assert_eq!(uses, "github/codeql-action/upload-sarif@v4");
            assert_eq!(
                evaluate(step["with"]["sarif_file"].as_str().expect("sarif_file"), &values),
                values["inputs.sarif-file"]
            );
            continue;
        }
        assert_eq!(step["shell"], "bash", "{step}");
        assert!(step.get("if").is_none(), "the test cannot evaluate a run step's `if`: {step}");
        let github_output = runner_temp.join(format!("github_output_{index}"));
        std::fs::write(&github_output, "").expect("write");
        let added_paths = std::fs::read_to_string(&github_path).expect("read");
        let path = added_paths.lines().rev().chain(std::env::var("PATH").ok().as_deref()).collect::<Vec<_>>().join(":");
        let mut command = command("bash", workspace);
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(step["run"].as_str().expect("run"))
            .env("PATH", path)
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("RUNNER_TEMP", runner_temp);
        for (name, value) in step["env"].as_object().into_iter().flatten() {
            command.env(name, evaluate(value.as_str().expect("an env value"), &values));
        }
        let output = run(&mut command);
        log.push_str(&text(&output));
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&github_output).expect("read").lines() {
                let (name, value) = line.split_once('=').expect("name=value");
                values.insert(format!("steps.{id}.outputs.{name}"), value.to_owned());
            }
        }
        status = output.status.code();
        if status != Some(0) {
            break;
        }
    }
    let outputs = action["outputs"]
        .as_object()
        .expect("outputs")
        .iter()
        .map(|(name, output)| (name.clone(), evaluate(output["value"].as_str().expect("a value"), &values)))
        .collect();
    ActionRun { status, log, outputs }
}

/// The results in a SARIF report, as `RULE path:line`.
fn sarif_results(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the SARIF file");
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}:\n{text}"));
    assert_eq!(sarif["version"], "2.1.0", "{text}");
    let mut results = Vec::new();
    for run in sarif["runs"].as_array().expect("runs") {
        for result in run["results"].as_array().expect("results") {
            let location = &result["locations"][0]["physicalLocation"];
            results.push(format!(
                "{} {}:{}",
                result["ruleId"].as_str().expect("ruleId"),
                location["artifactLocation"]["uri"].as_str().expect("uri"),
                location["region"]["startLine"],
            ));
        }
    }
    results
}

/// Needs `connlint check --output-format sarif`.
#[test]
fn the_github_action_writes_sarif_and_fails_as_connlint_does() {
    let scratch = fresh_dir("action");
    let (leaky, clean, runner_temp) = (scratch.join("leaky"), scratch.join("clean"), scratch.join("runner-temp"));
    for dir in [&leaky, &clean, &runner_temp] {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::write(leaky.join("app.py"), LEAKY_PY).expect("write");
    std::fs::write(clean.join("lib.rs"), "fn f() {}\n").expect("write");

    let found = run_action(&leaky, &runner_temp, &[("install", "pip")]);
    assert_eq!(found.status, Some(1), "{}", found.log);
    assert_eq!(found.outputs["exit-code"], "1");
    assert_eq!(sarif_results(&leaky.join(&found.outputs["sarif-file"])), ["CL101 app.py:5"], "{}", found.log);

    let runner_temp = scratch.join("runner-temp-cargo");
    std::fs::create_dir_all(&runner_temp).expect("mkdir");
    let inputs =
        [("install", "cargo"), ("paths", "lib.rs\n."), ("sarif-file", "out/report.sarif"), ("upload-sarif", "false")];
    std::fs::create_dir_all(clean.join("out")).expect("mkdir");
    let passed = run_action(&clean, &runner_temp, &inputs);
    assert_eq!(passed.status, Some(0), "{}", passed.log);
    assert_eq!(sarif_results(&clean.join("out/report.sarif")), Vec::<String>::new());

    let wrong = run_action(&clean, &runner_temp, &[("install", "brew")]);
    assert_eq!(wrong.status, Some(2), "{}", wrong.log);
    assert!(wrong.log.contains("install must be pip or cargo"), "{}", wrong.log);
}
