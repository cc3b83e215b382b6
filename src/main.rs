// jemalloc where ruff uses it too: ruff's parser and the lowering allocate many small objects,
// and glibc's malloc and free were about a sixth of the CPU time on CPython's `Lib`.
#[cfg(all(
    not(target_os = "windows"),
    not(target_os = "openbsd"),
    not(target_os = "aix"),
    not(target_os = "android"),
    any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "powerpc64", target_arch = "riscv64")
))]
mod allocator {
    #[global_allocator]
    static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

    /// jemalloc's settings, read once at start (`_RJEM_MALLOC_CONF` in the environment still
    /// overrides them). By default jemalloc gives the threads several arenas and keeps the pages
    /// a run frees for ten seconds, longer than a whole check takes: pages freed in one phase or
    /// arena stay resident while another phase takes fresh ones. One arena, and freed pages
    /// returned to the system after 5 ms, lower the peak resident memory on CPython's `Lib` by
    /// about 2 MB (42.0 → 39.6 MB) at no measurable cost in time; returning them at once (0 ms)
    /// costs a third more wall time in `madvise` calls (docs/performance.md).
    #[unsafe(export_name = "_rjem_malloc_conf")]
    static MALLOC_CONF: MallocConf = MallocConf(c"narenas:1,dirty_decay_ms:5".as_ptr());

    /// The `const char *` jemalloc reads its settings from.
    #[repr(transparent)]
    struct MallocConf(*const std::ffi::c_char);

    // SAFETY: the pointer is to a string literal, which is immutable and lives as long as the
    // program.
    unsafe impl Sync for MallocConf {}
}

fn main() -> std::process::ExitCode {
    connlint::cli::main()
}
