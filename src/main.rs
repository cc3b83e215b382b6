fn main() -> std::process::ExitCode {
    connlint::cli::main()
}
