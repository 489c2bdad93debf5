//! `adze-entrypoint`: Tekton's step entrypoint. Every step container runs it as its command; it
//! waits for the previous step, runs the step's real command, and leaves the step's outcome
//! where the next step and the executor read it (spec §4.2–4.6).
//!
//! # Design
//!
//! One synchronous pass, no async runtime and no shell, so the binary can be built static
//! (`-C target-feature=+crt-static --target x86_64-unknown-linux-gnu`) and run in any image:
//! busybox, musl, distroless.
//!
//! - [`flags`] parses Tekton's flag set the way Go's `flag` package does (`-name value`,
//!   `-name=value`, `--name`; flags end at `--` or the first positional word).
//! - [`step`] is the per-step algorithm of §4.3: poll `-wait_file` (its `.err` twin means an
//!   earlier step failed: record `StartedAt`, reason `Skipped`, write our own `.err`, exit 1),
//!   record `StartedAt`, run the command with `-timeout`, tee its streams to
//!   `-stdout_path`/`-stderr_path`, then write the marker, the `exitCode` file and the
//!   termination message per the table of §4.3/§4.6.
//! - [`init`] is the init container's mode, `adze-entrypoint init DST [DIR | LINK=TARGET ...]`:
//!   copy this executable into the shared bin volume (0755), create the step directories
//!   (0777) and link `/tekton/steps/step-<name>` to them.
//! - [`step_results`] fills in `$(steps.S.results.R)` in the command, the environment and the
//!   `when` guard from `-steps_dir` (`/tekton/steps/step-S/results/R`), after the wait;
//!   [`when`] decides the guard (`in`/`notin`/CEL; false: `Skipped`, marker `out`, exit 0; a
//!   CEL expression that fails or gives no bool fails the step).
//! - [`process`] forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the command (PID 1 has no default
//!   action for them), reaps orphans while PID 1, and kills the command's process group on
//!   timeout.
//! - [`artifacts`] reports the step's and the Task's `provenance.json` (types 5 and 6) and
//!   fills in `$(steps.S.inputs.A)`/`$(steps.S.outputs.A)`; [`credentials`] copies
//!   `-creds_source` (the Pod's Secret) into `/tekton/creds`, then `/tekton/creds` into
//!   `$HOME`, before the command runs, as Tekton's creds-init and entrypoint do.
//! - [`termination`] owns the message: `{"key","value","type"}` entries appended to what is
//!   already there, refused above 4096 bytes with Tekton's own words.
//!
//! Usage errors exit 2 with the usage text (as Go's `flag` does); a step that cannot be carried
//! out (command missing, unwritable volume, message too large) exits 1 after writing `.err`
//! when it had not written a marker yet.
//!
//! # Invariants
//!
//! - Exactly one marker per step: `<post_file>` or `<post_file>.err`, written before the
//!   termination message, so later steps are released even when the message is refused.
//! - `onError: continue` never makes the container fail: exit 0, marker `out`, `exitCode` and
//!   `ExitCode` hold the command's real status.
//! - Result values are reported verbatim; a declared result nobody wrote is left out, not an
//!   error.
//! - No panics on any command line or file contents.
//!
//! `tests/in_containers.rs` runs the static build in busybox, Debian and an image with no files
//! but the bind-mounted entrypoint, and `init` as the Pod's `prepare` container runs it
//! (uid 65532, read-only root) from `adze-test/entrypoint:latest`, the image
//! tests/setup-docker.sh imports from the static build.
//!
//! # Not yet
//!
//! - keep-pod-on-cancel (`Cancelled`, exit 9), debug breakpoints, `-run_always`.
//! - The `tknz:` compressed message.
//! - Resolving the image's ENTRYPOINT/CMD: the caller passes the resolved command.
//! - `$$` escapes and Kubernetes' own `$(VAR)` expansion are the kubelet's, not done here.

mod artifacts;
mod credentials;
mod duration;
mod flags;
mod init;
mod process;
mod step;
mod step_results;
mod termination;
mod timestamp;
mod when;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("init") {
        return match init::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("adze-entrypoint: {error}");
                ExitCode::from(1)
            }
        };
    }
    let flags = match flags::parse(&args) {
        Ok(flags) => flags,
        Err(error) => {
            eprintln!("adze-entrypoint: {error}\n{}", flags::USAGE);
            return ExitCode::from(2);
        }
    };
    if let Err(error) = process::forward_signals() {
        eprintln!("adze-entrypoint: cannot catch signals to forward them: {error}");
        return ExitCode::from(1);
    }
    match step::run(&flags) {
        // Exit statuses outside 0..=255 cannot happen on Unix; clamp rather than panic.
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(1)),
        Err(error) => {
            eprintln!("adze-entrypoint: {error}");
            ExitCode::from(1)
        }
    }
}
