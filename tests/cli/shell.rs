//! `adze completions` and `adze man`: scripts and pages generated from the clap definitions,
//! checked against the subcommands `adze --help` lists, so a command missing from either
//! fails here.

use std::path::Path;
use std::process::Command;

use super::Test;

/// The subcommands `adze --help` lists (clap's `help` included), in its order.
fn subcommands() -> Vec<String> {
    let help = Test::new().args(["--help"]).expect_status(0).run().stdout;
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("adze --help has a Commands section");
    // A command's line starts with two spaces and its name; wrapped descriptions are
    // indented further, and a blank line ends the section.
    let names: Vec<String> = section
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    for expected in ["run", "plan", "validate", "controller", "serve", "help"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in adze --help:\n{help}"
        );
    }
    names
}

/// The subcommands that have a man page: all but clap's `help`.
fn documented_subcommands() -> Vec<String> {
    subcommands().into_iter().filter(|n| n != "help").collect()
}

/// `adze completions SHELL`'s stdout.
fn completions(shell: &str) -> String {
    Test::new()
        .args(["completions", shell])
        .expect_status(0)
        .run()
        .stdout
}

/// Runs `bash -c SCRIPT` in `dir` and returns its stdout; fails on a non-zero exit.
fn bash(dir: &Path, script: &str) -> String {
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .current_dir(dir)
        .output()
        .expect("bash starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bash -c {script:?} failed:\n{stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 from bash")
}

/// What the generated bash function offers for the command line `words` (the last one is
/// the word being completed), as bash calls it on TAB.
fn bash_offers(dir: &Path, words: &[&str]) -> Vec<String> {
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = words.join(" ");
    let script = format!(
        "source ./adze.bash\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT={point}\n\
         _adze adze '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        point = line.len(),
        cur = words[cword],
        prev = words[cword - 1],
    );
    bash(dir, &script)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_registers_a_function_offering_every_subcommand() {
    let names = subcommands();
    let ran = Test::new()
        .args(["completions", "bash"])
        .expect_status(0)
        .stdout_contains("complete -F _adze")
        .run();
    // The root's candidate list (`opts="..."` of the `adze)` case) names each subcommand.
    let root_opts = ran
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("opts=\"-h -V"))
        .expect("the root's candidate list");
    let offered: Vec<&str> = root_opts
        .trim()
        .trim_start_matches("opts=\"")
        .trim_end_matches('"')
        .split_whitespace()
        .collect();
    for name in &names {
        assert!(
            offered.contains(&name.as_str()),
            "bash completion lacks {name}: {root_opts}"
        );
    }
    // And only those: hidden ones (`watchdog`) are for adze itself.
    let visible: Vec<&str> = offered
        .iter()
        .copied()
        .filter(|o| !o.starts_with('-'))
        .collect();
    assert_eq!(visible, names, "{root_opts}");
}

#[test]
fn bash_completion_is_valid_bash_and_completes_through_its_function() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("adze.bash"), completions("bash")).expect("write script");
    bash(dir.path(), "bash -n ./adze.bash");
    let registered = bash(dir.path(), "source ./adze.bash && complete -p adze");
    assert!(
        registered.contains("-F _adze") && registered.trim_end().ends_with(" adze"),
        "{registered}"
    );
    assert_eq!(bash_offers(dir.path(), &["adze", "r"]), ["run", "runs"]);
    assert_eq!(
        bash_offers(dir.path(), &["adze", "w"]),
        Vec::<String>::new()
    );
    // A subcommand's own flags, from the same definitions.
    assert_eq!(bash_offers(dir.path(), &["adze", "man", "--d"]), ["--dir"]);
    // With nothing typed, bash lists the flags too; the shells follow them.
    let shells: Vec<String> = bash_offers(dir.path(), &["adze", "completions", ""])
        .into_iter()
        .filter(|o| !o.starts_with('-'))
        .collect();
    assert_eq!(shells, ["bash", "zsh", "fish"]);
}

#[test]
fn zsh_completion_names_every_subcommand_and_is_valid_zsh() {
    let script = completions("zsh");
    assert!(script.starts_with("#compdef adze"), "{script}");
    for name in subcommands() {
        // `_describe`'s entries are 'name:description'.
        assert!(
            script.contains(&format!("'{name}:")),
            "zsh completion lacks {name}"
        );
    }
    assert!(!script.contains("watchdog"), "a hidden command is offered");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("_adze");
    std::fs::write(&path, &script).expect("write script");
    let out = shell("zsh", &["-n", &path.to_string_lossy()]);
    assert!(
        out.status.success(),
        "zsh -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `program args…`; the shells come from tests/setup-shells.sh.
fn shell(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} runs ({e}): install it with `bash tests/setup-shells.sh`")
        })
}

#[test]
fn fish_completion_is_valid_fish_and_answers_subcommands_and_flags() {
    let script = completions("fish");
    assert!(script.contains("complete -c adze"), "{script}");
    for name in subcommands() {
        assert!(
            script.contains(&format!("__fish_adze_needs_command\" -f -a \"{name}\"")),
            "fish completion lacks {name}"
        );
    }
    assert!(!script.contains("watchdog"), "a hidden command is offered");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("adze.fish");
    std::fs::write(&path, &script).expect("write script");
    let path = path.to_string_lossy();
    let out = shell("fish", &["-n", &path]);
    assert!(
        out.status.success(),
        "fish -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // fish answers completions through the script: subcommands, then a subcommand's flags.
    let complete = |line: &str| {
        let out = shell(
            "fish",
            &["-c", &format!("source {path}; complete -C '{line}'")],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let words = |answer: &str| -> Vec<String> {
        answer
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(words(&complete("adze ru")), ["run", "runs"]);
    assert!(words(&complete("adze run --pu")).contains(&"--pull".to_owned()));
}

#[test]
fn an_unknown_shell_is_an_error_naming_the_choices() {
    let ran = Test::new()
        .args(["completions", "tcsh"])
        .expect_status(2)
        .stderr_contains("[possible values: bash, zsh, fish]")
        .run();
    assert_eq!(ran.stdout, "");
    insta::assert_snapshot!("completions_unknown_shell", ran.stderr);
}

#[test]
fn man_prints_the_page_of_adze_with_every_subcommand() {
    let page = Test::new().args(["man"]).expect_status(0).run().stdout;
    // The page opens with its title; roff may first define the apostrophe string (`.ie` and
    // `.el`), which is no content.
    let first = page
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .expect("a non-empty page");
    assert!(first.starts_with(".TH adze 1 "), "{first}");
    for name in documented_subcommands() {
        assert!(
            page.contains(&format!("adze\\-{name}(1)")),
            "adze(1) lacks {name}"
        );
    }
    assert!(!page.contains("adze\\-help(1)"), "no page exists for help");
    assert!(!page.contains("watchdog"), "a hidden command is listed");
}

#[test]
fn man_renders_without_roff_warnings() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let page = Test::new().args(["man"]).expect_status(0).run().stdout;
    std::fs::write(dir.path().join("adze.1"), page).expect("write page");
    // groff comes with man-db on Debian; -ww turns every warning on, -z discards the output.
    let out = bash(dir.path(), "groff -man -Tutf8 -ww -z adze.1 2>&1");
    assert_eq!(out, "", "groff warnings");
}

#[test]
fn man_dir_writes_one_page_per_subcommand() {
    let ran = Test::new()
        .args(["man", "--dir", "pages/man1"])
        .expect_status(0)
        .run();
    let dir = ran.dir.path().join("pages/man1");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .expect("the directory is created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert!(written.contains(&"adze.1".to_string()), "{written:?}");
    for name in documented_subcommands() {
        let file = format!("adze-{name}.1");
        assert!(written.contains(&file), "{file} missing: {written:?}");
        let page = std::fs::read_to_string(dir.join(&file)).expect("read page");
        assert!(page.contains(&format!(".TH adze-{name} 1 ")), "{file}");
    }
    // Nested subcommands get their own pages too.
    assert!(written.contains(&"adze-catalog-lint.1".to_string()));
    assert!(!written
        .iter()
        .any(|f| f.contains("help") || f.contains("watchdog")));
    assert!(
        ran.stderr
            .contains(&format!("wrote {} man pages to pages/man1", written.len())),
        "{}",
        ran.stderr
    );
}
