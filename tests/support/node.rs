//! Running the Node end-to-end scripts of `tests/interop/e2e/` against a running gateway.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

static SETUP: Once = Once::new();

/// The interop harness folder, with its pinned npm packages installed (once per test binary).
pub fn interop_dir() -> PathBuf {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    SETUP.call_once(|| {
        let status = Command::new("sh")
            .arg(interop.join("setup.sh"))
            .status()
            .expect("run setup.sh");
        assert!(status.success(), "npm setup failed");
    });
    interop
}

/// Runs `node <script> <args>` from the interop folder; panics with its output unless it exits
/// 0 and printed every `ok <check>` line named in `checks`.
pub fn run_e2e(script: &str, args: &[String], checks: &[&str]) -> String {
    let output = Command::new("node")
        .current_dir(interop_dir())
        .arg(script)
        .args(args)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for check in checks {
        assert!(
            stdout.contains(&format!("ok {check}")),
            "missing {check:?} in:\n{stdout}"
        );
    }
    stdout
}

/// A Node e2e script that pauses half-way: it prints `restart` and waits for a line on stdin
/// while the test restarts (or kills and restarts) the gateway.
pub struct PausingScript {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    transcript: String,
}

impl PausingScript {
    /// Starts `node <script> <args>` and returns once it printed `restart`.
    pub fn start_until_restart(script: &str, args: &[String]) -> PausingScript {
        let mut paused = PausingScript::start(script, args);
        paused.wait_for("restart");
        paused
    }

    /// Starts `node <script> <args>`.
    pub fn start(script: &str, args: &[String]) -> PausingScript {
        let mut child = Command::new("node")
            .current_dir(interop_dir())
            .arg(script)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run node");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        PausingScript {
            child,
            stdout,
            transcript: String::new(),
        }
    }

    /// Reads the script's output until it prints the line `expected`.
    pub fn wait_for(&mut self, expected: &str) {
        self.wait_for_line(expected, |line| line == expected);
    }

    /// Reads the script's output until a line starts with `prefix`; returns that line.
    pub fn wait_for_prefix(&mut self, prefix: &str) -> String {
        self.wait_for_line(prefix, |line| line.starts_with(prefix))
    }

    /// Reads lines (trimmed) until one `matches`; `what` names it if the script ends first.
    fn wait_for_line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        use std::io::BufRead;
        loop {
            let mut line = String::new();
            let read = self.stdout.read_line(&mut line).expect("read node output");
            self.transcript.push_str(&line);
            assert!(
                read > 0,
                "node exited before printing {what:?}:\n{}",
                self.transcript
            );
            if matches(line.trim()) {
                return line.trim().to_owned();
            }
        }
    }

    /// Writes a line to the script's stdin (letting it go on after a pause).
    pub fn send(&mut self, line: &str) {
        use std::io::Write;
        writeln!(self.child.stdin.as_mut().expect("stdin"), "{line}").expect("write stdin");
    }

    /// Lets the script go on, waits for it, and checks it printed every `ok <check>` line.
    pub fn resume_and_check(mut self, checks: &[&str]) {
        self.send("restarted");
        self.finish_and_check(checks);
    }

    /// Waits for the script to end and checks it printed every `ok <check>` line.
    pub fn finish_and_check(mut self, checks: &[&str]) {
        use std::io::Read;
        let mut rest = String::new();
        self.stdout
            .read_to_string(&mut rest)
            .expect("read node output");
        self.transcript.push_str(&rest);
        let status = self.child.wait().expect("wait node");
        assert!(status.success(), "node failed:\n{}", self.transcript);
        for check in checks {
            assert!(
                self.transcript.contains(&format!("ok {check}")),
                "missing {check:?}:\n{}",
                self.transcript
            );
        }
    }
}
