//! A step's command line: `/tekton/bin/entrypoint` with Tekton's flags, wrapping what the
//! step runs (its script, its command, or its image's ENTRYPOINT/CMD).
//!
//! The flags are the ones `entrypoint/src/flags.rs` parses; step `i` waits for step `i-1`'s
//! post file under `/tekton/run`, so the steps run in order although the kubelet starts
//! their containers together.

use std::collections::BTreeMap;

use super::credentials::CREDENTIALS_SOURCE_DIR;
use super::scripts::{step_script_key, SCRIPTS_DIR};
use super::volumes::Extras;
use super::TranslateError;
use crate::api::GoDuration;
use crate::plan::model::StepPlan;
use crate::run::TaskRunRequest;

/// Where `prepare` copies the entrypoint; every step's program.
pub const ENTRYPOINT_BIN: &str = "/tekton/bin/entrypoint";
/// The steps' handshake directory: `/tekton/run/<i>/out` and `/tekton/run/<i>/status`.
pub const RUN_DIR: &str = "/tekton/run";
/// The termination-message file of every step container.
pub const TERMINATION_PATH: &str = "/tekton/termination";
/// The file the first step waits on when sidecars must be ready first; filled from the Pod's
/// `tekton.dev/ready` annotation through the downward API.
pub const READY_FILE: &str = "/tekton/downward/ready";

/// An image's configured ENTRYPOINT and CMD, resolved by the caller from its registry or
/// engine: what a step without `command` or `script` runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageCommand {
    /// ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// CMD.
    pub cmd: Vec<String>,
}

/// The arguments of `/tekton/bin/entrypoint` for step `index`.
pub fn step_args(
    request: &TaskRunRequest,
    index: usize,
    images: &BTreeMap<String, ImageCommand>,
    extras: &Extras,
) -> Result<Vec<String>, TranslateError> {
    let step = &request.steps[index];
    let mut args: Vec<String> = Vec::new();
    if index > 0 {
        args.extend(["-wait_file".into(), format!("{RUN_DIR}/{}/out", index - 1)]);
    } else if extras.ready_file {
        args.extend(["-wait_file", READY_FILE, "-wait_file_content"].map(String::from));
    }
    let mut flag = |name: &str, value: String| {
        args.push(format!("-{name}"));
        args.push(value);
    };
    flag("post_file", format!("{RUN_DIR}/{index}/out"));
    flag("termination_path", TERMINATION_PATH.to_owned());
    flag("step_metadata_dir", format!("{RUN_DIR}/{index}/status"));
    // Results with a `value` are filled from step results by the driver, not written to files.
    // With the results sidecar they stay out of the termination message, as Tekton's
    // entrypoint leaves them under `results-from: sidecar-logs`.
    let results: Vec<&str> = request
        .results
        .iter()
        .filter(|r| r.value.is_none() && !extras.results_sidecar)
        .map(|r| r.name.as_str())
        .collect();
    if !results.is_empty() {
        flag("results", results.join(","));
    }
    if !step.results.is_empty() && !extras.results_sidecar {
        flag("step_results", step.results.join(","));
    }
    if let Some(timeout) = &step.timeout {
        GoDuration::parse(timeout).map_err(|_| TranslateError::InvalidStepTimeout {
            step: step.name.clone(),
            value: timeout.clone(),
        })?;
        flag("timeout", timeout.clone());
    }
    if let Some(on_error) = &step.on_error {
        flag("on_error", on_error.clone());
    }
    if !step.when.is_empty() {
        // Tekton's JSON list: the entrypoint decides once earlier steps' results exist.
        if let Ok(json) = serde_json::to_string(&step.when) {
            flag("when_expressions", json);
        }
    }
    if !request.credentials.is_empty() {
        flag("creds_source", CREDENTIALS_SOURCE_DIR.to_owned());
    }
    if let Some(path) = &step.stdout_path {
        flag("stdout_path", path.clone());
    }
    if let Some(path) = &step.stderr_path {
        flag("stderr_path", path.clone());
    }
    let mut program = program(index, step, images)?;
    args.push("-entrypoint".to_owned());
    args.push(program.remove(0));
    args.push("--".to_owned());
    args.extend(program);
    Ok(args)
}

/// What the step runs, program first: its script, its command, or its image's
/// ENTRYPOINT (+ CMD when the step has no args) or CMD when ENTRYPOINT is empty (§4.2);
/// the step's args follow. Never empty.
fn program(
    index: usize,
    step: &StepPlan,
    images: &BTreeMap<String, ImageCommand>,
) -> Result<Vec<String>, TranslateError> {
    let mut program = if step.script.is_some() {
        vec![format!(
            "{SCRIPTS_DIR}/{}",
            step_script_key(index, &step.name)
        )]
    } else if !step.command.is_empty() {
        step.command.clone()
    } else {
        let image = images
            .get(&step.image)
            .ok_or_else(|| TranslateError::MissingImageCommand {
                step: step.name.clone(),
                image: step.image.clone(),
            })?;
        let mut command = image.entrypoint.clone();
        if command.is_empty() || step.args.is_empty() {
            command.extend(image.cmd.iter().cloned());
        }
        if command.is_empty() {
            return Err(TranslateError::EmptyImageCommand {
                step: step.name.clone(),
                image: step.image.clone(),
            });
        }
        command
    };
    program.extend(step.args.iter().cloned());
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: Extras = Extras {
        scripts: false,
        ready_file: false,
        results_sidecar: false,
    };

    fn request(step: StepPlan) -> TaskRunRequest {
        TaskRunRequest {
            name: "tr".into(),
            steps: vec![step],
            ..TaskRunRequest::default()
        }
    }

    fn images(entrypoint: &[&str], cmd: &[&str]) -> BTreeMap<String, ImageCommand> {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        BTreeMap::from([(
            "img".to_owned(),
            ImageCommand {
                entrypoint: strings(entrypoint),
                cmd: strings(cmd),
            },
        )])
    }

    fn tail(args: &[String]) -> Vec<&str> {
        let at = args
            .iter()
            .position(|a| a == "-entrypoint")
            .expect("-entrypoint");
        args[at + 1..].iter().map(String::as_str).collect()
    }

    #[test]
    fn a_step_without_command_runs_its_images_entrypoint_and_cmd() {
        let step = StepPlan {
            name: "s".into(),
            image: "img".into(),
            ..StepPlan::default()
        };
        let args = step_args(&request(step.clone()), 0, &images(&["/ep"], &["a"]), &PLAIN);
        assert_eq!(tail(&args.unwrap()), ["/ep", "--", "a"]);
        // With args of its own the image's CMD is replaced.
        let with_args = StepPlan {
            args: vec!["b".into()],
            ..step.clone()
        };
        let args = step_args(
            &request(with_args.clone()),
            0,
            &images(&["/ep"], &["a"]),
            &PLAIN,
        );
        assert_eq!(tail(&args.unwrap()), ["/ep", "--", "b"]);
        // No ENTRYPOINT: CMD is the command.
        let args = step_args(&request(with_args), 0, &images(&[], &["/cmd", "x"]), &PLAIN);
        assert_eq!(tail(&args.unwrap()), ["/cmd", "--", "x", "b"]);
        let missing = step_args(&request(step.clone()), 0, &BTreeMap::new(), &PLAIN);
        assert!(matches!(
            missing,
            Err(TranslateError::MissingImageCommand { step, .. }) if step == "s"
        ));
        let empty = step_args(&request(step), 0, &images(&[], &[]), &PLAIN);
        assert!(matches!(
            empty,
            Err(TranslateError::EmptyImageCommand { .. })
        ));
    }

    #[test]
    fn a_step_guard_is_passed_as_tekton_s_json_list() {
        let step = StepPlan {
            name: "s".into(),
            command: vec!["true".into()],
            when: vec![crate::api::WhenExpression {
                cel: Some("'$(steps.a.results.r)' == 'go'".into()),
                ..Default::default()
            }],
            ..StepPlan::default()
        };
        let args = step_args(&request(step), 0, &BTreeMap::new(), &PLAIN).unwrap();
        let at = args
            .iter()
            .position(|a| a == "-when_expressions")
            .expect("-when_expressions");
        assert_eq!(
            args[at + 1],
            r#"[{"cel":"'$(steps.a.results.r)' == 'go'"}]"#
        );
    }

    #[test]
    fn a_bad_step_timeout_is_refused() {
        let step = StepPlan {
            name: "s".into(),
            command: vec!["true".into()],
            timeout: Some("soon".into()),
            ..StepPlan::default()
        };
        let got = step_args(&request(step), 0, &BTreeMap::new(), &PLAIN);
        assert!(matches!(
            got,
            Err(TranslateError::InvalidStepTimeout { .. })
        ));
    }
}
