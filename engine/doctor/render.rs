//! The report as the user reads it: one line per check, then an indented `fix:` line under
//! each check that has one.

use super::{Check, Status};

/// The word a line starts with.
fn label(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok  ",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
    }
}

/// Every check as text, ending with a summary line.
pub fn report(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!("{} {}: {}\n", label(c.status), c.name, c.found));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("     fix: {fix}\n"));
        }
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    let warned = checks.iter().filter(|c| c.status == Status::Warn).count();
    if failed == 0 {
        out.push_str(&format!(
            "all {} checks passed ({warned} warning(s))\n",
            checks.len()
        ));
    } else {
        out.push_str(&format!(
            "{failed} of {} checks failed: apply the fixes above and run `adze doctor` again\n",
            checks.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_followed_by_its_fix_and_counted() {
        let checks = [
            Check::ok("container engine", "unix:///var/run/docker.sock answers"),
            Check::fail(
                "permission",
                "unix:///var/run/docker.sock: permission denied",
                "add your user to the docker group or run with sudo",
            ),
            Check::warn("image x", "absent locally", None),
        ];
        assert_eq!(
            report(&checks),
            "ok   container engine: unix:///var/run/docker.sock answers\n\
             FAIL permission: unix:///var/run/docker.sock: permission denied\n     \
             fix: add your user to the docker group or run with sudo\n\
             warn image x: absent locally\n\
             1 of 3 checks failed: apply the fixes above and run `adze doctor` again\n"
        );
    }

    #[test]
    fn warnings_alone_pass() {
        let checks = [
            Check::ok("engine", "Docker 27"),
            Check::warn("disk", "1.0 GiB free", Some("make room".into())),
        ];
        let text = report(&checks);
        assert!(
            text.ends_with("all 2 checks passed (1 warning(s))\n"),
            "{text}"
        );
        assert!(
            text.contains("warn disk: 1.0 GiB free\n     fix: make room\n"),
            "{text}"
        );
        assert!(crate::doctor::passed(&checks));
    }
}
