//! One step: wait for the previous step's marker, run the command, write this step's marker,
//! exit code and termination message, and choose the container's exit status (§4.3, §4.6).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

use crate::flags::{Flags, OnError};
use crate::process::{self, Ended};
use crate::step_results::StepResults;
use crate::termination::{self, Entry, EntryType, MessageError};
use crate::timestamp::rfc3339_millis;
use crate::when::{self, WhenError};
use crate::{artifacts, credentials};

/// How often the wait file is polled: short next to a container start (steps started at
/// once pay it once each, in series).
const POLL: Duration = Duration::from_millis(5);

/// Why the step could not be carried out as asked (the container then exits 1).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The command could not be started at all.
    #[error(
        "cannot run {program:?}: {source}; check that the image contains it and it is executable"
    )]
    Spawn {
        /// The program.
        program: String,
        /// Why exec failed.
        source: io::Error,
    },
    /// A marker, exit-code or stream file could not be written.
    #[error("cannot write {path}: {source}; check that the volume is mounted and writable")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The termination message could not be written (too large, or unwritable).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The `when` guard could not be decided.
    #[error("cannot decide the step's when expressions: {0}")]
    When(#[from] WhenError),
}

/// Run the whole step and return the container's exit status.
pub fn run(flags: &Flags) -> Result<i32, StepError> {
    if let Some(wait_file) = &flags.wait_file {
        if wait_for(wait_file, flags.wait_file_content) == Waited::PreviousFailed {
            // Skipped after an earlier failure: exit 1 as Skipped, without running (§4.3 step 1).
            let started_at = rfc3339_millis(SystemTime::now());
            not_run(flags, NotRun::AfterFailure, started_at, Vec::new())?;
            return Ok(1);
        }
    }
    let started_at = rfc3339_millis(SystemTime::now());
    let mut results = StepResults::new(&flags.steps_dir);
    let guard = when::holds(&flags.when, &mut results);
    let mut command: Vec<String> = results
        .splice(&flags.command)
        .iter()
        .map(|item| artifacts::substitute(item, &flags.steps_dir))
        .collect();
    let env: Vec<(String, String)> = substituted_env(&mut results)
        .into_iter()
        .map(|(name, value)| (name, artifacts::substitute(&value, &flags.steps_dir)))
        .collect();
    // Said on stderr for whoever reads the step's log, and in the termination message
    // (internal `Warning`, which Tekton's readers ignore) for the executor to report.
    let mut notes = Vec::new();
    for reference in results.missing() {
        let warning = format!("$({reference}) was not written by an earlier step; left as is");
        eprintln!("adze-entrypoint: {warning}");
        notes.push(Entry::internal("Warning", warning));
    }
    match guard {
        Ok(true) => {}
        Ok(false) => {
            // Skipped by its guard: the step succeeds without running (§4.3 step 3).
            not_run(flags, NotRun::Guarded, started_at, notes)?;
            return Ok(0);
        }
        Err(error) => {
            let error = StepError::from(error);
            notes.push(Entry::internal("Error", error.to_string()));
            not_run(flags, NotRun::Failed, started_at, notes)?;
            return Err(error);
        }
    }
    if let Some(step_dir) = &flags.step_metadata_dir {
        // `$(step.results.R.path)` and `$(step.artifacts.path)` point here; the step writes
        // without creating them first.
        for dir in [step_dir.join("results"), step_dir.join("artifacts")] {
            fs::create_dir_all(&dir).map_err(|source| StepError::Write { path: dir, source })?;
        }
        let script = command
            .first()
            .zip(step_dir.parent())
            .and_then(|(program, run_dir)| {
                artifacts::substituted_script(
                    program,
                    &flags.scripts_dir,
                    &flags.steps_dir,
                    run_dir,
                )
            });
        if let (Some(script), Some(program)) = (script, command.first_mut()) {
            *program = script.display().to_string();
        }
    }
    if let Some(source) = &flags.creds_source {
        for failure in credentials::copy_to_home(source, &flags.creds_dir) {
            eprintln!(
                "adze-entrypoint: cannot copy a credential into {}: {failure}",
                flags.creds_dir.display()
            );
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        for failure in credentials::copy_to_home(&flags.creds_dir, Path::new(&home)) {
            eprintln!("adze-entrypoint: cannot copy a credential into $HOME: {failure}");
        }
    }
    let ended = match execute(flags, &command, &env) {
        Ok(ended) => ended,
        Err(error) => {
            notes.push(Entry::internal("Error", error.to_string()));
            not_run(flags, NotRun::Failed, started_at, notes)?;
            return Err(error);
        }
    };
    let mut internal = vec![Entry::internal("StartedAt", started_at)];
    internal.extend(notes);
    let status = match ended {
        Ended::Exited(0) => {
            write_marker(flags, true)?;
            write_exit_code(flags, 0)?;
            0
        }
        Ended::Exited(code) if flags.on_error == OnError::Continue => {
            write_marker(flags, true)?;
            write_exit_code(flags, code)?;
            internal.push(Entry::internal("ExitCode", code.to_string()));
            0
        }
        Ended::Exited(code) => {
            write_marker(flags, false)?;
            code
        }
        Ended::TimedOut => {
            write_marker(flags, false)?;
            internal.push(Entry::internal("Reason", "TimeoutExceeded"));
            1
        }
    };
    // Results are reported whatever the outcome (§4.3 step 5); the marker is already written,
    // so a message that is too large fails this step but not the handshake.
    let mut entries =
        termination::read_results(&flags.results_dir, &flags.results, EntryType::TaskResult);
    if let Some(step_dir) = &flags.step_metadata_dir {
        entries.extend(termination::read_results(
            &step_dir.join("results"),
            &flags.step_results,
            EntryType::StepResult,
        ));
    }
    entries.extend(artifacts::entries(
        flags.step_metadata_dir.as_deref(),
        &flags.artifacts_dir,
    ));
    let started = internal[0].clone();
    entries.extend(internal);
    match termination::append(&flags.termination_path, &entries) {
        Err(MessageError::TooLarge) => {
            // Say why in what fits (internal key `Error`, which Tekton's readers ignore), so
            // the executor can report more than a bare exit code; the step still fails.
            let error = MessageError::TooLarge;
            let why = [started, Entry::internal("Error", error.to_string())];
            let _ = termination::append(&flags.termination_path, &why);
            Err(error.into())
        }
        written => written.map(|()| status).map_err(StepError::from),
    }
}

/// Why the command did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotRun {
    /// An earlier step failed: marker `.err`, reason `Skipped`.
    AfterFailure,
    /// The `when` guard is false: marker `out`, `exitCode` 0, reason `Skipped`.
    Guarded,
    /// It could not be started or its guard decided: marker `.err`, no reason.
    Failed,
}

/// Write the marker, exit code and message of a step whose command did not run; `notes`
/// (internal `Warning` and `Error` entries) go into the message too.
fn not_run(
    flags: &Flags,
    why: NotRun,
    started_at: String,
    notes: Vec<Entry>,
) -> Result<(), StepError> {
    write_marker(flags, why == NotRun::Guarded)?;
    if why == NotRun::Guarded {
        write_exit_code(flags, 0)?;
    }
    let mut entries = vec![Entry::internal("StartedAt", started_at)];
    if why != NotRun::Failed {
        entries.push(Entry::internal("Reason", "Skipped"));
    }
    entries.extend(notes);
    termination::append(&flags.termination_path, &entries)?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Waited {
    PreviousSucceeded,
    PreviousFailed,
}

/// Poll until `path` (non-empty if `need_content`) or `path.err` exists. Waits as long as it
/// takes: the TaskRun timeout (the pod's deadline) is what bounds a step that never starts.
fn wait_for(path: &Path, need_content: bool) -> Waited {
    let err_path = with_suffix(path, ".err");
    loop {
        if err_path.exists() {
            return Waited::PreviousFailed;
        }
        if let Ok(meta) = fs::metadata(path) {
            if !need_content || meta.len() > 0 {
                return Waited::PreviousSucceeded;
            }
        }
        thread::sleep(POLL);
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Write `<post_file>` on success, `<post_file>.err` on failure (no post file: nothing to do).
fn write_marker(flags: &Flags, succeeded: bool) -> Result<(), StepError> {
    let Some(post_file) = &flags.post_file else {
        return Ok(());
    };
    let path = if succeeded {
        post_file.clone()
    } else {
        with_suffix(post_file, ".err")
    };
    write_file(&path, b"")
}

fn write_exit_code(flags: &Flags, code: i32) -> Result<(), StepError> {
    let Some(dir) = &flags.step_metadata_dir else {
        return Ok(());
    };
    write_file(&dir.join("exitCode"), code.to_string().as_bytes())
}

fn write_file(path: &Path, contents: &[u8]) -> Result<(), StepError> {
    let write = || {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, contents)
    };
    write().map_err(|source| StepError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The environment variables whose values hold `$(steps.S.results.R)`, substituted.
fn substituted_env(results: &mut StepResults<'_>) -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let value = value.into_string().ok()?;
            value.contains("$(steps.").then(|| {
                (
                    name.to_string_lossy().into_owned(),
                    results.substitute(&value),
                )
            })
        })
        .collect()
}

/// Start `command` (no shell) in its own process group with `env` overriding the inherited
/// environment, copy its streams where asked, and wait for it or the timeout.
fn execute(
    flags: &Flags,
    command: &[String],
    env: &[(String, String)],
) -> Result<Ended, StepError> {
    // An array spliced from an empty result can leave nothing to run.
    let Some((program, args)) = command.split_first() else {
        return Err(StepError::Spawn {
            program: String::new(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the command is empty"),
        });
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::inherit())
        .process_group(0);
    let (stdout_file, stderr_file) = open_stream_files(flags)?;
    if stdout_file.is_some() {
        command.stdout(Stdio::piped());
    }
    if stderr_file.is_some() {
        command.stderr(Stdio::piped());
    }
    let mut child = command.spawn().map_err(|source| StepError::Spawn {
        program: program.clone(),
        source,
    })?;
    process::started(child.id());
    let mut copiers = Vec::new();
    if let (Some(file), Some(stream)) = (stdout_file, child.stdout.take()) {
        copiers.push(tee(stream, io::stdout(), file));
    }
    if let (Some(file), Some(stream)) = (stderr_file, child.stderr.take()) {
        copiers.push(tee(stream, io::stderr(), file));
    }
    let ended = process::wait(child.id(), flags.timeout);
    if ended != Ended::TimedOut {
        // After a timeout a grandchild may still hold the pipes open; do not wait for it.
        for copier in copiers {
            let _ = copier.join();
        }
    }
    Ok(ended)
}

type SharedFile = Arc<Mutex<File>>;

/// Open the stream copies; one path for both streams shares one file so lines interleave.
fn open_stream_files(flags: &Flags) -> Result<(Option<SharedFile>, Option<SharedFile>), StepError> {
    let open = |path: &PathBuf| -> Result<SharedFile, StepError> {
        let open = || {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(path)
        };
        open()
            .map(|file| Arc::new(Mutex::new(file)))
            .map_err(|source| StepError::Write {
                path: path.clone(),
                source,
            })
    };
    let stdout = flags.stdout_path.as_ref().map(open).transpose()?;
    let stderr = match (&flags.stderr_path, &stdout) {
        (Some(path), Some(shared)) if Some(path) == flags.stdout_path.as_ref() => {
            Some(shared.clone())
        }
        (Some(path), _) => Some(open(path)?),
        (None, _) => None,
    };
    Ok((stdout, stderr))
}

/// Copy `stream` to the container's own stream and to `file` as it arrives.
fn tee(
    mut stream: impl Read + Send + 'static,
    mut own: impl Write + Send + 'static,
    file: SharedFile,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            let read = match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            // A closed container stream must not stop the copy to the file, nor the reverse.
            let _ = own.write_all(&buffer[..read]).and_then(|()| own.flush());
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(&buffer[..read]);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::parse;
    use std::time::Instant;

    /// A step's run directory, as `/tekton/run/<i>` and `/tekton/termination` would be.
    struct Pod {
        dir: tempfile::TempDir,
    }

    impl Pod {
        fn new() -> Self {
            Pod {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn path(&self, rest: &str) -> PathBuf {
            self.dir.path().join(rest)
        }
        /// Flags for step `i` with the usual Tekton wiring, then `extra` and the command.
        fn flags(&self, i: usize, extra: &[&str], command: &[&str]) -> Flags {
            let mut args: Vec<String> = Vec::new();
            if i > 0 {
                args.extend([
                    "-wait_file".into(),
                    self.path(&format!("run/{}/out", i - 1))
                        .display()
                        .to_string(),
                ]);
            }
            for (flag, value) in [
                ("-post_file", format!("run/{i}/out")),
                ("-termination_path", "termination".into()),
                ("-step_metadata_dir", format!("run/{i}/status")),
                ("-results_dir", "results".into()),
                ("-steps_dir", "steps".into()),
                ("-artifacts_dir", "artifacts".into()),
                ("-scripts_dir", "scripts".into()),
                ("-creds_dir", "creds".into()),
            ] {
                args.extend([flag.into(), self.path(&value).display().to_string()]);
            }
            args.extend(extra.iter().map(|s| s.to_string()));
            args.push("--".into());
            args.extend(command.iter().map(|s| s.to_string()));
            parse(&args).unwrap()
        }
        fn message(&self) -> serde_json::Value {
            serde_json::from_str(&fs::read_to_string(self.path("termination")).unwrap()).unwrap()
        }
        /// The internal entries of the message, `StartedAt` checked for shape and left out.
        fn internal(&self) -> Vec<(String, String)> {
            let message = self.message();
            let mut internal = Vec::new();
            for entry in message.as_array().unwrap() {
                if entry["type"] != 3 {
                    continue;
                }
                let key = entry["key"].as_str().unwrap().to_string();
                let value = entry["value"].as_str().unwrap().to_string();
                if key == "StartedAt" {
                    assert_eq!(value.len(), "2006-01-02T15:04:05.000Z".len(), "{value}");
                    assert!(value.ends_with('Z'), "{value}");
                } else {
                    internal.push((key, value));
                }
            }
            internal
        }
        fn exists(&self, rest: &str) -> bool {
            self.path(rest).exists()
        }
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn success_writes_out_and_exit_code_zero() {
        let pod = Pod::new();
        assert_eq!(run(&pod.flags(0, &[], &["/bin/true"])).unwrap(), 0);
        assert!(pod.exists("run/0/out") && !pod.exists("run/0/out.err"));
        assert_eq!(
            fs::read_to_string(pod.path("run/0/status/exitCode")).unwrap(),
            "0"
        );
        assert_eq!(pod.internal(), pairs(&[]));
    }

    #[test]
    fn failure_stops_with_the_command_status() {
        let pod = Pod::new();
        assert_eq!(
            run(&pod.flags(0, &[], &["/bin/sh", "-c", "exit 3"])).unwrap(),
            3
        );
        assert!(pod.exists("run/0/out.err") && !pod.exists("run/0/out"));
        assert!(!pod.exists("run/0/status/exitCode"));
        assert_eq!(pod.internal(), pairs(&[]));
    }

    #[test]
    fn on_error_continue_succeeds_and_records_the_code() {
        let pod = Pod::new();
        let flags = pod.flags(0, &["-on_error", "continue"], &["/bin/sh", "-c", "exit 3"]);
        assert_eq!(run(&flags).unwrap(), 0);
        assert!(pod.exists("run/0/out") && !pod.exists("run/0/out.err"));
        assert_eq!(
            fs::read_to_string(pod.path("run/0/status/exitCode")).unwrap(),
            "3"
        );
        assert_eq!(pod.internal(), pairs(&[("ExitCode", "3")]));
    }

    #[test]
    fn a_failed_previous_step_skips_this_one() {
        let pod = Pod::new();
        assert_eq!(run(&pod.flags(0, &[], &["/bin/false"])).unwrap(), 1);
        let marker = pod.path("ran");
        let touch = format!("touch {}", marker.display());
        assert_eq!(
            run(&pod.flags(1, &[], &["/bin/sh", "-c", &touch])).unwrap(),
            1
        );
        assert!(!marker.exists(), "a skipped step must not run its command");
        assert!(pod.exists("run/1/out.err"));
        assert_eq!(pod.internal(), pairs(&[("Reason", "Skipped")]));
    }

    #[test]
    fn waits_for_the_previous_step() {
        let pod = Pod::new();
        let flags = pod.flags(1, &[], &["/bin/true"]);
        let waiting = thread::spawn(move || run(&flags).unwrap());
        thread::sleep(Duration::from_millis(50));
        assert!(
            !waiting.is_finished(),
            "step 1 started before step 0 finished"
        );
        fs::create_dir_all(pod.path("run/0")).unwrap();
        fs::write(pod.path("run/0/out"), "").unwrap();
        assert_eq!(waiting.join().unwrap(), 0);
        assert!(pod.exists("run/1/out"));
    }

    #[test]
    fn wait_file_content_waits_for_bytes() {
        let pod = Pod::new();
        let ready = pod.path("ready");
        fs::write(&ready, "").unwrap();
        let args: Vec<String> = [
            "-wait_file",
            &ready.display().to_string(),
            "-wait_file_content",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "-termination_path".into(),
            pod.path("termination").display().to_string(),
        ])
        .chain(["/bin/true".into()])
        .collect();
        let flags = parse(&args).unwrap();
        let waiting = thread::spawn(move || run(&flags).unwrap());
        thread::sleep(Duration::from_millis(50));
        assert!(
            !waiting.is_finished(),
            "an empty ready file must keep the step waiting"
        );
        fs::write(&ready, "ready").unwrap();
        assert_eq!(waiting.join().unwrap(), 0);
    }

    #[test]
    fn timeout_kills_the_command() {
        let pod = Pod::new();
        let started = Instant::now();
        let flags = pod.flags(0, &["-timeout", "100ms"], &["/bin/sleep", "30"]);
        assert_eq!(run(&flags).unwrap(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(pod.exists("run/0/out.err"));
        assert_eq!(pod.internal(), pairs(&[("Reason", "TimeoutExceeded")]));
    }

    #[test]
    fn a_missing_command_fails_the_step() {
        let pod = Pod::new();
        let error = run(&pod.flags(0, &[], &["/nonexistent/program"])).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/program"),
            "{error}"
        );
        assert!(pod.exists("run/0/out.err"));
    }

    #[test]
    fn results_are_reported_verbatim_with_types() {
        let pod = Pod::new();
        let script = format!(
            "mkdir -p {results} {step}/results && printf 'abc\\n' > {results}/digest && printf v > {step}/results/s",
            results = pod.path("results").display(),
            step = pod.path("run/0/status").display(),
        );
        let flags = pod.flags(
            0,
            &["-results", "digest,missing", "-step_results", "s"],
            &["/bin/sh", "-c", &script],
        );
        assert_eq!(run(&flags).unwrap(), 0);
        let message = pod.message();
        let entries = message.as_array().unwrap();
        assert_eq!(
            entries[0],
            serde_json::json!({"key": "digest", "value": "abc\n", "type": 1})
        );
        assert_eq!(
            entries[1],
            serde_json::json!({"key": "s", "value": "v", "type": 4})
        );
        assert_eq!(entries.len(), 3, "two results and StartedAt: {message}");
    }

    #[test]
    fn a_too_large_message_fails_after_the_marker() {
        let pod = Pod::new();
        let script = format!(
            "mkdir -p {results} && head -c 5000 /dev/zero | tr '\\0' x > {results}/big",
            results = pod.path("results").display()
        );
        let error =
            run(&pod.flags(0, &["-results", "big"], &["/bin/sh", "-c", &script])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Termination message is above max allowed size 4096, caused by large task result."
        );
        // The command succeeded, so the next step is released.
        assert!(pod.exists("run/0/out"));
        // The message says why, in what fits.
        let error: Vec<_> = pod
            .message()
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["key"] == "Error" && e["type"] == 3)
            .map(|e| e["value"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            error,
            ["Termination message is above max allowed size 4096, caused by large task result."]
        );
    }

    #[test]
    fn streams_are_copied_to_files() {
        let pod = Pod::new();
        let out = pod.path("logs/out");
        let err = pod.path("logs/err");
        let flags = pod.flags(
            0,
            &[
                "-stdout_path",
                &out.display().to_string(),
                "-stderr_path",
                &err.display().to_string(),
            ],
            &["/bin/sh", "-c", "echo to-out; echo to-err >&2"],
        );
        assert_eq!(run(&flags).unwrap(), 0);
        assert_eq!(fs::read_to_string(&out).unwrap(), "to-out\n");
        assert_eq!(fs::read_to_string(&err).unwrap(), "to-err\n");
    }

    #[test]
    fn one_path_for_both_streams_keeps_their_order() {
        let pod = Pod::new();
        let both = pod.path("both").display().to_string();
        let flags = pod.flags(
            0,
            &["-stdout_path", &both, "-stderr_path", &both],
            &[
                "/bin/sh",
                "-c",
                "echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three",
            ],
        );
        assert_eq!(run(&flags).unwrap(), 0);
        assert_eq!(fs::read_to_string(&both).unwrap(), "one\ntwo\nthree\n");
    }

    #[test]
    fn provenance_files_are_reported_as_artifacts() {
        let pod = Pod::new();
        fs::create_dir_all(pod.path("artifacts")).unwrap();
        let step = pod.path("run/0/status/artifacts/provenance.json");
        let task = pod.path("artifacts/provenance.json");
        let script = format!(
            "echo '{{\"outputs\":[]}}' > {}; echo '{{}}' > {}",
            step.display(),
            task.display()
        );
        let flags = pod.flags(0, &[], &["/bin/sh", "-c", &script]);
        assert_eq!(run(&flags).unwrap(), 0);
        let message = pod.message();
        let artifacts: Vec<_> = message
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == 5 || e["type"] == 6)
            .map(|e| (e["type"].as_u64().unwrap(), e["value"].as_str().unwrap()))
            .collect();
        assert_eq!(artifacts, [(5, "{\"outputs\":[]}\n"), (6, "{}\n")]);
    }

    /// Step `name`'s result `result`, as `/tekton/steps/step-<name>/results/<result>`.
    fn write_step_result(pod: &Pod, name: &str, result: &str, value: &str) {
        let dir = pod.path(&format!("steps/step-{name}/results"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(result), value).unwrap();
    }

    #[test]
    fn step_results_are_substituted_in_the_command() {
        let pod = Pod::new();
        write_step_result(&pod, "first", "list", r#"["a b","c"]"#);
        write_step_result(&pod, "first", "word", "hi");
        let out = pod.path("out").display().to_string();
        let script = format!("printf '%s|' \"$@\" > {out}");
        let flags = pod.flags(
            0,
            &[],
            &[
                "/bin/sh",
                "-c",
                &script,
                "sh",
                "$(steps.first.results.list[*])",
                "<$(steps.first.results.word)>",
                "$(steps.first.results.none)",
            ],
        );
        assert_eq!(run(&flags).unwrap(), 0);
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            "a b|c|<hi>|$(steps.first.results.none)|"
        );
    }

    #[test]
    fn a_false_guard_skips_the_step_successfully() {
        let pod = Pod::new();
        write_step_result(&pod, "check", "answer", "no");
        let marker = pod.path("ran");
        let touch = format!("touch {}", marker.display());
        let when =
            r#"[{"input":"$(steps.check.results.answer)","operator":"in","values":["yes"]}]"#;
        let flags = pod.flags(0, &["-when_expressions", when], &["/bin/sh", "-c", &touch]);
        assert_eq!(run(&flags).unwrap(), 0);
        assert!(!marker.exists(), "a step skipped by when must not run");
        assert!(pod.exists("run/0/out") && !pod.exists("run/0/out.err"));
        assert_eq!(
            fs::read_to_string(pod.path("run/0/status/exitCode")).unwrap(),
            "0"
        );
        assert_eq!(pod.internal(), pairs(&[("Reason", "Skipped")]));
        // A true guard runs it.
        let pod = Pod::new();
        write_step_result(&pod, "check", "answer", "yes");
        let flags = pod.flags(0, &["-when_expressions", when], &["/bin/sh", "-c", &touch]);
        assert_eq!(run(&flags).unwrap(), 0);
        assert!(marker.exists());
    }

    #[test]
    fn an_undecidable_guard_fails_the_step() {
        let pod = Pod::new();
        let flags = pod.flags(
            0,
            &["-when_expressions", r#"[{"cel":"undeclared == 1"}]"#],
            &["/bin/true"],
        );
        let error = run(&flags).unwrap_err();
        assert!(error.to_string().contains("CEL"), "{error}");
        assert!(pod.exists("run/0/out.err"));
        // The executor reads why from the message, not from the step's log.
        assert_eq!(pod.internal(), pairs(&[("Error", &error.to_string())]));
    }

    #[test]
    fn why_a_command_could_not_start_and_unwritten_references_are_in_the_message() {
        let pod = Pod::new();
        let flags = pod.flags(
            0,
            &[],
            &["/nonexistent/program", "$(steps.early.results.r)"],
        );
        let error = run(&flags).unwrap_err();
        assert_eq!(
            pod.internal(),
            pairs(&[
                (
                    "Warning",
                    "$(steps.early.results.r) was not written by an earlier step; left as is"
                ),
                ("Error", &error.to_string()),
            ])
        );
        let pod = Pod::new();
        let flags = pod.flags(0, &[], &["/bin/echo", "$(steps.early.results.r)"]);
        assert_eq!(run(&flags).unwrap(), 0);
        assert_eq!(
            pod.internal(),
            pairs(&[(
                "Warning",
                "$(steps.early.results.r) was not written by an earlier step; left as is"
            )])
        );
    }
}
