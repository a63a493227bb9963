//! The `strata` binary: all of it is in [`cli`].

mod cli;

/// jemalloc, as Polars recommends: fewer page faults and less fragmentation
/// than glibc malloc under many threads (measured in docs/performance.md).
#[cfg(all(target_family = "unix", not(target_os = "emscripten")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
