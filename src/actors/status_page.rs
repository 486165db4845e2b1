//! `GET /status` on the admin listener: a small read-only HTML page for an operator's browser,
//! rendered on the server from what `/ready` and the admin API report (no script, no assets).
//! It sits behind the admin API's gate; a browser that cannot send `Authorization` may give
//! the token as `?token=` instead.

use std::fmt::Write;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Data;
use actix_web::HttpResponse;

use crate::actors::gateway::GatewayContext;
use crate::actors::readiness::{self, BackendCheck, Readiness};
use crate::backends::queue::QueueName;

/// Dead letters counted per queue at most (the page says "at least" past it).
const DEAD_LETTER_COUNT_CAP: usize = 100;

/// One mailbox's line on the page; `None` where the queue did not answer.
pub struct QueueLine {
    pub queue: &'static str,
    pub depth: Option<u64>,
    pub dead_letters: Option<usize>,
}

/// Everything the page shows, gathered before rendering so [`render`] stays pure.
pub struct StatusView<'a> {
    pub internet_address: &'a str,
    pub version: &'a str,
    pub readiness: &'a Readiness,
    pub queues: &'a [QueueLine],
}

pub async fn page(context: Data<GatewayContext>) -> HttpResponse {
    let readiness = readiness::check(&context, readiness::CHECK_TIMEOUT).await;
    let mut queues = Vec::new();
    for queue in QueueName::ALL {
        let backend = &context.backends.queue;
        queues.push(QueueLine {
            queue: queue.as_str(),
            depth: backend.depth(queue).await.ok(),
            dead_letters: backend
                .dead_letters(queue, DEAD_LETTER_COUNT_CAP)
                .await
                .ok()
                .map(|letters| letters.len()),
        });
    }
    let html = render(&StatusView {
        internet_address: &context.internet_address,
        version: env!("CARGO_PKG_VERSION"),
        readiness: &readiness,
        queues: &queues,
    });
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html);
    // Read-only and of the moment: never cached, never framed by another site.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn backend_row(out: &mut String, name: &str, check: &BackendCheck) {
    let detail = check.error.as_deref().unwrap_or("");
    let _ = write!(
        out,
        "<tr id=\"backend-{name}\"><td>{name}</td><td class=\"{status}\">{status}</td><td>{}</td></tr>",
        escape(detail),
        status = check.status,
    );
}

fn or_unknown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "unknown".to_owned(), |value| value.to_string())
}

/// The page's HTML.
pub fn render(view: &StatusView<'_>) -> String {
    let readiness = view.readiness;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Awala gateway {address}</title><style>\
         body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}\
         td,th{{border:1px solid #ccc;padding:.3em .8em;text-align:left}}\
         .ok,.up,.running{{color:#060}}.error,.down,.unavailable,.failed{{color:#a00}}\
         </style></head><body><h1>Awala gateway <span id=\"address\">{address}</span></h1>\
         <p>Version <span id=\"version\">{version}</span>. Ready: \
         <strong id=\"ready\" class=\"{ready}\">{ready}</strong></p>",
        address = escape(view.internet_address),
        version = escape(view.version),
        ready = readiness.status,
    );
    out.push_str("<h2>Backends</h2><table><tr><th>backend</th><th>status</th><th>error</th></tr>");
    let backends = &readiness.backends;
    for (name, check) in [
        ("queue", &backends.queue),
        ("metadata", &backends.metadata),
        ("objects", &backends.objects),
        ("pubsub", &backends.pubsub),
        ("keys", &backends.keys),
    ] {
        backend_row(&mut out, name, check);
    }
    out.push_str("</table><h2>Mailboxes</h2><table><tr><th>queue</th><th>waiting</th><th>dead letters</th></tr>");
    for line in view.queues {
        let dead = match line.dead_letters {
            Some(count) if count >= DEAD_LETTER_COUNT_CAP => format!("{count} or more"),
            other => or_unknown(other),
        };
        let _ = write!(
            out,
            "<tr id=\"queue-{queue}\"><td>{queue}</td><td class=\"depth\">{depth}</td><td class=\"dead\">{dead}</td></tr>",
            queue = line.queue,
            depth = or_unknown(line.depth),
        );
    }
    out.push_str("</table><h2>Roles and supervised actors</h2><table><tr><th>role</th><th>actor</th><th>state</th><th>running</th><th>restarts</th><th>escalations</th></tr>");
    for role in &readiness.roles {
        let role_state = if role.up { "up" } else { "down" };
        if role.components.is_empty() {
            let _ = write!(
                out,
                "<tr id=\"role-{name}\"><td>{name}</td><td>(server)</td><td class=\"{role_state}\">{role_state}</td><td></td><td></td><td></td></tr>",
                name = role.role,
            );
        }
        for component in &role.components {
            let state = format!("{:?}", component.state).to_ascii_lowercase();
            let _ = write!(
                out,
                "<tr id=\"actor-{actor}\"><td>{role}</td><td>{actor}</td><td class=\"{state}\">{state}</td>\
                 <td>{running}/{expected}</td><td class=\"restarts\">{restarts}</td><td>{escalations}</td></tr>",
                role = role.role,
                actor = component.component,
                running = component.running,
                expected = component.expected,
                restarts = component.restarts,
                escalations = component.escalations,
            );
        }
    }
    out.push_str("</table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::readiness::BackendChecks;

    #[test]
    fn the_page_shows_each_part_and_escapes_what_it_did_not_write() {
        let ok = || BackendCheck {
            status: "ok",
            error: None,
        };
        let readiness = Readiness {
            status: "unavailable",
            backends: BackendChecks {
                queue: ok(),
                metadata: BackendCheck {
                    status: "error",
                    error: Some("<script>alert(1)</script>".to_owned()),
                },
                objects: ok(),
                pubsub: ok(),
                keys: ok(),
            },
            roles: Vec::new(),
        };
        let queues = [QueueLine {
            queue: "outbound_parcels",
            depth: Some(7),
            dead_letters: Some(DEAD_LETTER_COUNT_CAP),
        }];
        let html = render(&StatusView {
            internet_address: "gw.example.com",
            version: "1.2.3",
            readiness: &readiness,
            queues: &queues,
        });
        assert!(html.contains("<strong id=\"ready\" class=\"unavailable\">unavailable</strong>"));
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("<td class=\"depth\">7</td><td class=\"dead\">100 or more</td>"));
    }
}
