//! The admin listener's status page, loaded in headless Chromium (Debian's `chromium`): the
//! test reads what the browser shows, not just what the server sent.
//!
//! Without Chromium the test says so and passes, unless `AWALA_TEST_REQUIRE_CHROMIUM=1`
//! (`scripts/test.sh` installs it and sets that).

mod support;

use std::process::Command;

use support::gateway::{request, Gateway, GatewayOptions};

const TOKEN: &str = "status-page-token";

fn chromium() -> Option<String> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let found = candidates.into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("AWALA_TEST_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "AWALA_TEST_REQUIRE_CHROMIUM=1 but no Chromium is installed"
        );
        eprintln!("skipping: no Chromium (apt-get install chromium)");
    }
    found.map(str::to_owned)
}

/// The DOM Chromium built from `url`, after its load event.
fn dump_dom(browser: &str, url: &str, profile: &std::path::Path) -> String {
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "chromium failed: {output:?}");
    String::from_utf8(output.stdout).expect("utf-8 DOM")
}

/// The text of the element with `id` in a DOM dump (elements of this page hold no markup).
fn text_of(dom: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {dom}"));
    let row = &dom[start..];
    let is_row = dom[..start].ends_with("<tr ");
    let end = if is_row {
        row.find("</tr>")
    } else {
        row.find("</")
    }
    .expect("closed");
    let mut text = String::new();
    let mut in_tag = true;
    for c in row[..end].chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_status_page_shows_readiness_mailboxes_and_actors_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let options = GatewayOptions {
        roles: Some("poweb,pohttp,workers".into()),
        env: vec![("AWALA_ADMIN_TOKEN".into(), TOKEN.into())],
        ..GatewayOptions::default()
    };
    let gateway = Gateway::start_with(&dir.path().join("data"), "gw.example.com", &options);

    let refused = request(gateway.admin_port, "GET", "/status", &[], b"").expect("request");
    assert_eq!(refused.status, 401);
    let wrong =
        request(gateway.admin_port, "GET", "/status?token=nope", &[], b"").expect("request");
    assert_eq!(wrong.status, 401);
    // The token in the query opens the page only, not the API.
    let api = request(
        gateway.admin_port,
        "GET",
        &format!("/v1/queues?token={TOKEN}"),
        &[],
        b"",
    )
    .expect("request");
    assert_eq!(api.status, 401);

    let url = format!(
        "http://127.0.0.1:{}/status?token={TOKEN}",
        gateway.admin_port
    );
    let dom = dump_dom(&browser, &url, &dir.path().join("chromium"));
    assert!(
        dom.contains("<title>Awala gateway gw.example.com</title>"),
        "{dom}"
    );
    assert_eq!(text_of(&dom, "address"), "gw.example.com");
    assert_eq!(text_of(&dom, "ready"), "ok");
    for backend in ["queue", "metadata", "objects", "pubsub", "keys"] {
        assert_eq!(
            text_of(&dom, &format!("backend-{backend}")),
            format!("{backend} ok"),
            "{dom}"
        );
    }
    for queue in ["incoming_cargo", "outbound_parcels"] {
        assert_eq!(
            text_of(&dom, &format!("queue-{queue}")),
            format!("{queue} 0 0")
        );
    }
    let outbound = text_of(&dom, "actor-outbound_delivery");
    assert!(
        outbound.starts_with("workers outbound_delivery running"),
        "{outbound}"
    );
    assert!(text_of(&dom, "role-poweb").contains("up"), "{dom}");
}
