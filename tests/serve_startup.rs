//! What `serve` leaves behind as it starts, as an operator running it under a supervisor sees it:
//! plain-text logs on a pipe, and a data directory only the gateway's user can enter.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::gateway::{free_port, request};

/// How long a debug build may take to create its identity and listen on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long `serve` may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts `serve` with stderr on a pipe, waits for it to answer `/health`, stops it with SIGTERM
/// and returns everything it wrote to stderr.
fn serve_and_stop(data_dir: &Path) -> String {
    let admin_port = free_port();
    let listen = |port: u16| format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--roles", "poweb", "--data-dir"])
        .arg(data_dir)
        .args(["--internet-address", "gw.example.com"])
        .args(["--poweb-listen", &listen(free_port())])
        .args(["--pohttp-listen", &listen(free_port())])
        .args(["--admin-listen", &listen(admin_port)])
        .args(["--cogrpc-listen", &listen(free_port())])
        .env("AWALA_LOG_LEVEL", "info")
        .env_remove("RUST_LOG")
        // Colour must go because stderr is a pipe, not because of NO_COLOR.
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn awala-gateway");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let fail = |child: &mut std::process::Child, what: &str| -> ! {
        let _ = child.kill();
        let _ = child.wait();
        let logged: Vec<String> = lines.try_iter().collect();
        panic!("{what}:\n{}", logged.join("\n"));
    };

    // Ready once every server runs, not at the first `listening` line: a stop signal sent
    // before the servers watch for it would go unseen.
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            fail(&mut child, "the gateway exited early");
        }
        let health = request(admin_port, "GET", "/health", &[], b"");
        if health.is_ok_and(|response| response.status == 200) {
            break;
        }
        if Instant::now() > deadline {
            fail(&mut child, "the gateway did not start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + STOP_TIMEOUT;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("try_wait") {
            break exit;
        }
        if Instant::now() > deadline {
            fail(&mut child, "the gateway did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The reader ends at end of file, once the gateway has exited.
    let logged = lines.iter().collect::<Vec<_>>().join("\n");
    assert!(exit.success(), "gateway exited with {exit}:\n{logged}");
    logged
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn logs_on_a_pipe_have_no_colour_codes_and_a_new_data_dir_is_private() {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("data");
    let logged = serve_and_stop(&data_dir);
    assert!(!logged.contains("\x1b["), "colour codes in:\n{logged}");
    assert!(logged.contains("INFO"), "{logged}");
    assert!(logged.contains("listening"), "{logged}");
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&data_dir.join("kek.bin")), 0o600);
    assert!(
        !logged.contains("accessible to group or others"),
        "{logged}"
    );
}

#[test]
fn an_existing_open_data_dir_keeps_its_mode_with_a_warning() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let logged = serve_and_stop(data_dir.path());
    assert_eq!(mode(data_dir.path()), 0o755);
    let warning = logged
        .lines()
        .find(|line| line.contains("accessible to group or others"))
        .unwrap_or_else(|| panic!("no warning in:\n{logged}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("0755"), "{warning}");
}

/// A broker that does not answer stops start-up with a clear error instead of serving without a
/// mailbox (its own process: a refused AMQP connection leaves lapin 4.12 unable to connect again
/// in that process, see issue 15's note).
#[test]
fn an_unreachable_broker_stops_start_up_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_awala-gateway"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--queue", "amqp://guest:guest@127.0.0.1:1/%2f"])
        .args([
            "--poweb-listen",
            "127.0.0.1:0",
            "--pohttp-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--cogrpc-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run awala-gateway");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RabbitMQ"), "{stderr}");
    assert!(stderr.contains("unavailable"), "{stderr}");
}
