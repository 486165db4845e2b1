//! `awala-gateway admin`: the admin API from the command line.
//!
//! `--url` (default `http://127.0.0.1:8090`, the default admin listener) and `--token` (or
//! `AWALA_ADMIN_TOKEN`) say where and as whom; `--json` prints the API's answer as it came.

use std::time::Duration;

use anyhow::Context;

/// How long a command waits for the gateway (a sweep of a large store takes a while).
const TIMEOUT: Duration = Duration::from_secs(600);

#[derive(clap::Args, Debug)]
pub struct AdminArgs {
    /// The gateway's admin listener.
    #[arg(long, default_value = "http://127.0.0.1:8090")]
    url: String,
    /// The admin API's bearer token.
    #[arg(long, env = "AWALA_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print the API's JSON answer instead of a summary.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(clap::Subcommand, Debug)]
enum AdminCommand {
    /// Registered private gateways: certificate expiry, last seen, what is stored for each and
    /// its live sessions (the first 1,000, in id order).
    PrivateGateways,
    /// One private gateway.
    PrivateGateway { id: String },
    /// Revoke a private gateway: its certificates stop being accepted, its sessions close and
    /// what is stored for it is deleted.
    Revoke { id: String },
    /// Delete expired parcels and records and bodies no record names, now.
    PurgeExpired,
    /// The durable mailboxes and how many messages wait in each.
    Queues,
    /// The oldest dead letters of a queue (`incoming_cargo` or `outbound_parcels`), or retry or
    /// drop one of them by its id.
    DeadLetters {
        queue: String,
        #[command(subcommand)]
        action: Option<DeadLetterAction>,
    },
    /// The roles and supervised subtrees of the process behind the URL, with restart counts.
    Actors,
}

#[derive(clap::Subcommand, Debug)]
enum DeadLetterAction {
    /// Put the dead letter back in its queue, its attempts counted afresh.
    Retry { id: String },
    /// Delete the dead letter for good.
    Drop { id: String },
}

pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(admin(args))
}

async fn admin(args: AdminArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
    let base = args.url.trim_end_matches('/');
    let gateways = format!("{base}/v1/private-gateways");
    let request = match &args.command {
        AdminCommand::PrivateGateways => client.get(format!("{gateways}?limit=1000")),
        AdminCommand::PrivateGateway { id } => client.get(format!("{gateways}/{id}")),
        AdminCommand::Revoke { id } => client.post(format!("{gateways}/{id}/revoke")),
        AdminCommand::PurgeExpired => client.post(format!("{base}/v1/purge-expired")),
        AdminCommand::Queues => client.get(format!("{base}/v1/queues")),
        AdminCommand::DeadLetters { queue, action } => {
            let letters = format!("{base}/v1/queues/{queue}/dead-letters");
            match action {
                None => client.get(letters),
                Some(DeadLetterAction::Retry { id }) => {
                    client.post(format!("{letters}/{id}/retry"))
                }
                Some(DeadLetterAction::Drop { id }) => client.delete(format!("{letters}/{id}")),
            }
        }
        AdminCommand::Actors => client.get(format!("{base}/v1/actors")),
    };
    let request = match &args.token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request
        .send()
        .await
        .with_context(|| format!("reaching the admin API at {base}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .with_context(|| format!("reading the answer ({status})"))?;
    let body: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the answer ({status}) is not JSON"))?;
    if !status.is_success() {
        let reason = body["error"].as_str().unwrap_or("no reason given");
        anyhow::bail!("the gateway answered {status}: {reason}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    print_summary(&args.command, &body);
    Ok(())
}

/// One line per item, for a terminal.
fn print_summary(command: &AdminCommand, body: &serde_json::Value) {
    let empty = Vec::new();
    match command {
        AdminCommand::PrivateGateways => {
            let gateways = body.as_array().unwrap_or(&empty);
            if gateways.is_empty() {
                println!("no private gateways");
            }
            for gateway in gateways {
                print_gateway(gateway);
            }
        }
        AdminCommand::PrivateGateway { .. } => print_gateway(body),
        AdminCommand::Revoke { .. } => println!(
            "revoked {}: {} parcels purged, {} sessions closed{}",
            text(&body["id"]),
            body["parcels_purged"],
            body["sessions_closed"],
            if body["newly_revoked"] == true {
                ""
            } else {
                " (it had been revoked already)"
            }
        ),
        AdminCommand::PurgeExpired => {
            for (kind, count) in body.as_object().into_iter().flatten() {
                println!("{kind:<20} {count}");
            }
        }
        AdminCommand::Queues => {
            for queue in body.as_array().unwrap_or(&empty) {
                println!("{:<20} {}", text(&queue["queue"]), queue["depth"]);
            }
        }
        AdminCommand::DeadLetters {
            action: Some(_), ..
        } => println!("{} {}", text(&body["action"]), text(&body["message_id"])),
        AdminCommand::DeadLetters { action: None, .. } => {
            let letters = body.as_array().unwrap_or(&empty);
            if letters.is_empty() {
                println!("no dead letters");
            }
            for letter in letters {
                println!(
                    "{}  {}  attempts {}  {} B  {}",
                    text(&letter["message_id"]),
                    text(&letter["dead_at"]),
                    letter["attempts"],
                    letter["body_bytes"],
                    text(&letter["reason"])
                );
            }
        }
        AdminCommand::Actors => {
            for role in body["roles"].as_array().unwrap_or(&empty) {
                let up = if role["up"] == true { "up" } else { "DOWN" };
                println!("{} ({up})", text(&role["role"]));
                for component in role["components"].as_array().unwrap_or(&empty) {
                    println!(
                        "  {:<24} {:<10} running {}/{}  restarts {}  escalations {}",
                        text(&component["component"]),
                        text(&component["state"]),
                        component["running"],
                        component["expected"],
                        component["restarts"],
                        component["escalations"]
                    );
                }
            }
        }
    }
}

fn print_gateway(gateway: &serde_json::Value) {
    let state = if gateway["revoked"] == true {
        "REVOKED"
    } else {
        "active"
    };
    println!(
        "{}  {state}  certificate until {}  last seen {}  parcels {}  bytes {}  sessions {}",
        text(&gateway["id"]),
        text(&gateway["certificate_expiry"]),
        text(&gateway["last_seen"]),
        gateway["parcels_stored"],
        gateway["bytes_stored"],
        gateway["live_sessions"]
    );
}

fn text(value: &serde_json::Value) -> &str {
    value.as_str().unwrap_or("-")
}
