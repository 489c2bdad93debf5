//! Embeds the prebuilt catalog (`tasks/*/` and `pipelines/*/`) into the adze binary: every
//! file of each folder, for `adze catalog show` and `init`, and the Task/Pipeline YAML among
//! them, which `taskRef`/`pipelineRef` names resolve against.
//!
//! Writes `$OUT_DIR/builtin_catalog.rs` with two `include_str!` tables, sorted by path so
//! builds are reproducible. A checkout without the folders gets empty tables.

use std::fmt::Write as _;
use std::path::Path;

/// The top-level folders that hold catalog entries, one sub-folder per Task or Pipeline.
const ROOTS: [&str; 2] = ["tasks", "pipelines"];

/// Files of a folder that are not Tekton objects to resolve names against.
const NOT_OBJECTS: [&str; 1] = ["rbac.yaml"];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut files: Vec<(String, String)> = Vec::new();
    for root in ROOTS {
        let dir = Path::new(&manifest).join(root);
        // Cargo watches every file under a directory named here.
        println!("cargo:rerun-if-changed={root}");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for folder in entries.flatten().filter(|e| e.path().is_dir()) {
            let Ok(inner) = std::fs::read_dir(folder.path()) else {
                continue;
            };
            for file in inner.flatten().filter(|e| e.path().is_file()) {
                let path = file.path();
                let text_like = path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "md"));
                if !text_like {
                    continue;
                }
                let relative = format!(
                    "{root}/{}/{}",
                    folder.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                );
                files.push((relative, path.to_string_lossy().into_owned()));
            }
        }
    }
    files.sort();
    let mut code = String::from(
        "/// Every file of the built-in catalog's folders: `(path from the repository root, text)`.\n\
         pub const FILES: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in &files {
        let _ = writeln!(code, "    ({relative:?}, include_str!({absolute:?})),");
    }
    code.push_str(
        "];\n\n/// Task and Pipeline YAML shipped inside the binary: `(path, text)`.\n\
         pub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in &files {
        let name = relative.rsplit('/').next().unwrap_or_default();
        let yaml = relative.ends_with(".yaml") || relative.ends_with(".yml");
        if yaml && !NOT_OBJECTS.contains(&name) {
            let _ = writeln!(code, "    ({relative:?}, include_str!({absolute:?})),");
        }
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("builtin_catalog.rs"), code)
        .expect("write builtin_catalog.rs");
}
