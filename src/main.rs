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
    /// overrides them). By default jemalloc gives two threads eight arenas, keeps the pages a
    /// run frees for ten seconds (longer than a whole check takes) and lets each thread keep
    /// freed blocks of up to 32 KiB for itself: memory freed in one phase, arena or thread stays
    /// resident while another takes fresh pages. Two arenas, freed pages returned to the system
    /// after 100 ms, and thread caches of blocks up to 4 KiB lower the peak resident memory on
    /// CPython's `Lib` by about 2 MB (40.7 → 38.5 MB) at no measurable cost in time. One arena,
    /// or pages returned sooner, lower it by one or two MB more but cost 5–20% more time in lock
    /// waits and `madvise` calls (docs/performance.md).
    #[unsafe(export_name = "_rjem_malloc_conf")]
    static MALLOC_CONF: MallocConf = MallocConf(c"narenas:2,dirty_decay_ms:100,tcache_max:4096".as_ptr());

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
