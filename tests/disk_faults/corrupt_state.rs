//! A corrupt last-run record with `--only`: reported with its path and what is wrong, moved
//! aside, exit 2; nothing runs.

use crate::{run_in, unique};

#[test]
fn only_with_a_truncated_last_run_record_says_so_moves_it_aside_and_exits_2() {
    let dir = tempfile::tempdir().expect("working directory");
    let name = unique("disk-corrupt-record");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: {name}}}
spec:
  pipelineSpec:
    tasks:
    - name: first
      taskSpec:
        results: [{{name: word}}]
        steps:
        - {{name: say, image: adze-test/busybox:latest, script: printf hi > $(results.word.path)}}
    - name: second
      params: [{{name: word, value: $(tasks.first.results.word)}}]
      taskSpec:
        params: [{{name: word}}]
        steps:
        - {{name: echo, image: adze-test/busybox:latest, script: echo $(params.word)}}
"#
    );
    let runs = dir.path().join(".adze/runs");
    std::fs::create_dir_all(&runs).expect("mkdir");
    let record = runs.join(format!("{name}.json"));
    std::fs::write(
        &record,
        r#"{"version": 1, "pipeline_run": "x", "tasks": [{"task": "fi"#,
    )
    .expect("write record");

    let ran = run_in(dir.path(), &yaml, &["--only", "second"], &[]);

    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    let shown = format!(
        "the last run's record {} is unusable: it is cut short",
        record.display()
    );
    assert!(ran.stderr.contains(&shown), "{}", ran.stderr);
    assert!(ran.stderr.contains("moved aside to"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("run the PipelineRun once without --only/--from"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    assert!(!record.exists(), "the record was moved aside");
    let aside: Vec<_> = std::fs::read_dir(&runs)
        .expect("runs dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{name}.json.corrupt-")))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(ran.run, serde_json::Value::Null, "nothing ran");
}
