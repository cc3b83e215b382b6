// jemalloc where ruff uses it too: ruff's parser and the lowering allocate many small objects,
// and glibc's malloc and free were about a sixth of the CPU time on CPython's `Lib`.
#[cfg(all(
    not(target_os = "windows"),
    not(target_os = "openbsd"),
    not(target_os = "aix"),
    not(target_os = "android"),
    any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "powerpc64", target_arch = "riscv64")
))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    connlint::cli::main()
}
