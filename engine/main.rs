//! The `adze` binary: everything lives in the library; this only maps outcomes to exit codes.

/// Loading, validating and planning allocate many small strings and nodes; with glibc's
/// allocator malloc/free were a fifth of `adze plan` on large pipelines.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(adze::cli::main().code());
}
