use super::*;
use crate::actors::cogrpc::deliver::accept_cargo;
use crate::actors::cogrpc::test_support::Fixture;
use crate::backends::metadata::SessionKeyRecord;
use crate::protocols::awala::keys::{EcCurve, SessionKeyPair};

/// Generous: a debug build on a loaded 2-core machine verifies RSA signatures slowly.
const DEADLINE: Duration = Duration::from_secs(120);

fn quick_settings() -> UnwrapperSettings {
    UnwrapperSettings {
        consumers: 1,
        poll_interval: Duration::from_millis(10),
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        max_attempts: 2,
        restart_policy: RestartPolicy::default(),
        root_policy: RestartPolicy::for_root(),
    }
}

/// Waits until `done` holds, polling the stores (never asserting on how long it took).
async fn wait_for<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < DEADLINE, "condition not reached");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn queue_depth(f: &Fixture, queue: QueueName) -> impl std::future::Future<Output = u64> {
    let backends = f.context.backends.queue.clone();
    async move { backends.depth(queue).await.expect("depth") }
}

#[actix_rt::test]
async fn delivered_cargo_is_unwrapped_and_its_parcel_queued_for_the_internet() {
    let f = Fixture::new().await;
    let parcel = f.internet_bound_parcel("via-worker");
    accept_cargo(&f.context, f.cargo(vec![parcel]), f.now)
        .await
        .expect("accepted");
    let stranger = SessionKeyPair::generate(EcCurve::P256).expect("key");
    let undecryptable = f.cargo_to(vec![], &stranger.session_key(), f.now);
    accept_cargo(&f.context, undecryptable, f.now)
        .await
        .expect("accepted: it is valid, only not for a key of ours");

    let _workers = start_cargo_unwrappers(Arc::clone(&f.router), quick_settings());
    wait_for(|| {
        let cargo = queue_depth(&f, QueueName::IncomingCargo);
        async move { cargo.await == 0 }
    })
    .await;
    assert_eq!(queue_depth(&f, QueueName::OutboundParcels).await, 1);
    let text = f.context.metrics.encode_text().expect("metrics");
    for series in [
        r#"gateway_cargo_unwrapped_total{outcome="ok"} 1"#,
        r#"gateway_cargo_unwrapped_total{outcome="undecryptable"} 1"#,
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
}

#[actix_rt::test]
async fn cargo_that_keeps_failing_is_retried_then_dead_lettered() {
    let f = Fixture::new().await;
    let pair = SessionKeyPair::generate(EcCurve::P256).expect("key");
    f.context
        .backends
        .metadata
        .save_session_key(&SessionKeyRecord {
            key_id: pair.id.as_bytes().to_vec(),
            owner_node_id: f.node_id().to_owned(),
            peer_id: None,
            created_at: f.now,
            sealed_key: b"not sealed".to_vec(),
        })
        .await
        .expect("save");
    accept_cargo(
        &f.context,
        f.cargo_to(vec![], &pair.session_key(), f.now),
        f.now,
    )
    .await
    .expect("accepted");

    let _workers = start_cargo_unwrappers(Arc::clone(&f.router), quick_settings());
    let queue = f.context.backends.queue.clone();
    wait_for(|| {
        let queue = queue.clone();
        async move {
            let dead = queue
                .dead_letters(QueueName::IncomingCargo, 10)
                .await
                .expect("dead letters");
            !dead.is_empty()
        }
    })
    .await;
    let dead = queue
        .dead_letters(QueueName::IncomingCargo, 10)
        .await
        .expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 2, "retried once before giving up");
    assert_eq!(queue_depth(&f, QueueName::IncomingCargo).await, 0);
}

#[test]
fn backoff_doubles_and_is_capped() {
    let settings = UnwrapperSettings {
        initial_backoff: Duration::from_secs(5),
        max_backoff: Duration::from_secs(60),
        ..UnwrapperSettings::default()
    };
    let delays: Vec<_> = (1..=6)
        .map(|attempt| settings.backoff(attempt).as_secs())
        .collect();
    assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
    assert_eq!(settings.backoff(u32::MAX), Duration::from_secs(60));
}
