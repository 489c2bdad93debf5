//! The `adze` binary: everything lives in the library; this only maps outcomes to exit codes.

fn main() {
    std::process::exit(adze::cli::main().code());
}
