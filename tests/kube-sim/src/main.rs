//! `kube-sim --listen 127.0.0.1:PORT --kubeconfig PATH`: serves until SIGTERM.

fn main() -> std::process::ExitCode {
    eprintln!("kube-sim: the API server is not built yet");
    std::process::ExitCode::from(2)
}
