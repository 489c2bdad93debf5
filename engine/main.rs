fn main() {
    std::process::exit(adze::cli::main());
}
