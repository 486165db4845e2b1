//! The supervision rules on paused tokio time.

use super::*;
use std::sync::Mutex;

type Events = mpsc::UnboundedReceiver<&'static str>;

#[test]
fn backoff_doubles_is_capped_and_escalates_within_the_window() {
    let secs = Duration::from_secs;
    let mut policy = RestartPolicy::new(secs(1), secs(5), 4, secs(60));
    let t0 = Instant::now();
    let decisions: Vec<_> = (0..5).map(|i| policy.next_delay(t0 + secs(i))).collect();
    assert_eq!(
        decisions,
        [
            RestartDecision::RestartAfter(secs(1)),
            RestartDecision::RestartAfter(secs(2)),
            RestartDecision::RestartAfter(secs(4)),
            RestartDecision::RestartAfter(secs(5)),
            RestartDecision::Escalate,
        ]
    );
    // Once the window has slid past the old restarts, backoff starts over.
    assert_eq!(
        policy.next_delay(t0 + secs(3) + secs(60)),
        RestartDecision::RestartAfter(secs(1))
    );
    policy.reset();
    assert_eq!(
        policy.next_delay(t0 + secs(64)),
        RestartDecision::RestartAfter(secs(1))
    );
}

#[test]
fn huge_restart_counts_saturate_instead_of_overflowing() {
    let mut policy = RestartPolicy::new(
        Duration::from_secs(1),
        Duration::from_secs(900),
        100,
        Duration::MAX,
    );
    let now = Instant::now();
    let last = (0..80).map(|_| policy.next_delay(now)).last();
    assert_eq!(
        last,
        Some(RestartDecision::RestartAfter(Duration::from_secs(900)))
    );
}

/// A worker that processes jobs from a shared store and removes each only once it is done,
/// so whatever it was doing when it died is still in the store for its successor.
struct Worker {
    store: Arc<Mutex<Vec<u32>>>,
    done: Arc<Mutex<Vec<u32>>>,
    /// Attempts left that will panic mid-work.
    panics_left: Arc<Mutex<u32>>,
    events: mpsc::UnboundedSender<&'static str>,
    link: ChildLink,
}

impl Actor for Worker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let _ = self.events.send("started");
        ctx.notify(ProcessNext);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct ProcessNext;

#[derive(Message)]
#[rtype(result = "()")]
struct Kill;

impl Handler<ProcessNext> for Worker {
    type Result = ();

    fn handle(&mut self, _: ProcessNext, ctx: &mut Self::Context) {
        let next = self
            .store
            .lock()
            .ok()
            .and_then(|store| store.first().copied());
        let Some(job) = next else {
            self.link.completed();
            ctx.stop();
            return;
        };
        let crash = self.panics_left.lock().is_ok_and(|mut left| {
            let crash = *left > 0;
            *left = left.saturating_sub(1);
            crash
        });
        let work = async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if crash {
                panic!("malformed input in job {job}");
            }
            job * 10
        };
        ctx.spawn(
            protect(work)
                .into_actor(self)
                .map(move |result, worker, ctx| match result {
                    Ok(output) => {
                        if let Ok(mut store) = worker.store.lock() {
                            store.retain(|j| *j != job);
                        }
                        if let Ok(mut done) = worker.done.lock() {
                            done.push(output);
                        }
                        ctx.notify(ProcessNext);
                    }
                    Err(_) => {
                        worker.link.fail(RestartCause::Panic);
                        ctx.stop();
                    }
                }),
        );
    }
}

impl Handler<Kill> for Worker {
    type Result = ();

    fn handle(&mut self, _: Kill, ctx: &mut Self::Context) {
        ctx.stop(); // No cause recorded: the link reports `Killed`.
    }
}

struct Fixture {
    store: Arc<Mutex<Vec<u32>>>,
    done: Arc<Mutex<Vec<u32>>>,
    events: Events,
    escalations: mpsc::UnboundedReceiver<Escalation>,
    supervisor: Addr<Supervisor<Worker>>,
    stats: Arc<SupervisorStats>,
}

fn start(jobs: Vec<u32>, panics: u32) -> Fixture {
    let store = Arc::new(Mutex::new(jobs));
    let done = Arc::new(Mutex::new(Vec::new()));
    let panics_left = Arc::new(Mutex::new(panics));
    let (events_tx, events) = mpsc::unbounded_channel();
    let (escalate_tx, escalations) = mpsc::unbounded_channel();
    let (s, d, c) = (store.clone(), done.clone(), panics_left);
    let policy = RestartPolicy::new(
        Duration::from_secs(5),
        Duration::from_secs(60),
        2,
        Duration::from_secs(600),
    );
    let supervisor = Supervisor::new(
        "test_worker",
        policy,
        move |link| Worker {
            store: s.clone(),
            done: d.clone(),
            panics_left: c.clone(),
            events: events_tx.clone(),
            link,
        },
        move |escalation| {
            let _ = escalate_tx.send(escalation);
        },
    );
    let stats = supervisor.stats();
    Fixture {
        store,
        done,
        events,
        escalations,
        supervisor: supervisor.start(),
        stats,
    }
}

async fn next_event(events: &mut Events) -> Option<&'static str> {
    tokio::time::timeout(Duration::from_secs(3600), events.recv())
        .await
        .ok()
        .flatten()
}

async fn wait_until_stopped<A: Actor>(addr: &Addr<A>) {
    while addr.connected() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn snapshot(shared: &Arc<Mutex<Vec<u32>>>) -> Vec<u32> {
    shared.lock().map(|v| v.clone()).unwrap_or_default()
}

#[actix_rt::test]
async fn a_panic_mid_work_restarts_after_backoff_and_the_work_completes() {
    tokio::time::pause();
    let mut f = start(vec![1, 2], 1);
    let t0 = Instant::now();
    assert_eq!(next_event(&mut f.events).await, Some("started"));
    assert_eq!(
        next_event(&mut f.events).await,
        Some("started"),
        "restarted"
    );
    assert!(
        t0.elapsed() >= Duration::from_secs(5),
        "restarted only after the backoff"
    );
    wait_until_stopped(&f.supervisor).await;
    assert_eq!(snapshot(&f.done), [10, 20], "job 1 survived the crash");
    assert!(snapshot(&f.store).is_empty());
    assert_eq!(f.stats.failures(RestartCause::Panic), 1);
    assert_eq!(f.stats.restarts(), 1);
    assert!(f.escalations.try_recv().is_err());
}

#[actix_rt::test]
async fn a_child_killed_mid_work_restarts_and_the_work_completes() {
    tokio::time::pause();
    let mut f = start(vec![7], 0);
    assert_eq!(next_event(&mut f.events).await, Some("started"));
    let child = send_bounded(&f.supervisor, CurrentChild::new(), Duration::from_secs(1)).await;
    let Ok(Some(child)) = child else {
        panic!("no child: {child:?}");
    };
    tokio::time::sleep(Duration::from_millis(50)).await; // Mid-way through job 7.
    assert_eq!(try_send_bounded(&child, Kill), Ok(()));
    assert_eq!(
        next_event(&mut f.events).await,
        Some("started"),
        "restarted"
    );
    wait_until_stopped(&f.supervisor).await;
    assert_eq!(snapshot(&f.done), [70]);
    assert_eq!(f.stats.failures(RestartCause::Killed), 1);
    assert_eq!(
        send_bounded(&child, Kill, Duration::from_secs(1)).await,
        Err(MailboxError::Closed)
    );
}

#[actix_rt::test]
async fn escalates_after_max_restarts_in_the_window() {
    tokio::time::pause();
    let mut f = start(vec![1], 3);
    for _ in 0..3 {
        assert_eq!(next_event(&mut f.events).await, Some("started"));
    }
    let escalation = tokio::time::timeout(Duration::from_secs(3600), f.escalations.recv()).await;
    assert_eq!(
        escalation.ok().flatten(),
        Some(Escalation {
            actor: "test_worker",
            cause: RestartCause::Panic
        })
    );
    wait_until_stopped(&f.supervisor).await;
    assert_eq!(f.stats.failures(RestartCause::Panic), 3);
    assert_eq!(f.stats.restarts(), 2);
    assert_eq!(f.stats.escalations(), 1);
    assert_eq!(
        snapshot(&f.store),
        [1],
        "the job is still there for an operator"
    );
}

#[actix_rt::test]
async fn a_root_restarts_an_escalated_subtree_with_backoff_and_never_gives_up() {
    tokio::time::pause();
    let store = Arc::new(Mutex::new(vec![5]));
    let done = Arc::new(Mutex::new(Vec::new()));
    // Each subtree lives through two panics (one restart), then escalates: four subtrees
    // fail, the fifth finishes the job after one more panic.
    let panics_left = Arc::new(Mutex::new(9));
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (exhausted_tx, mut exhausted) = mpsc::unbounded_channel();
    let status = Arc::new(WorkerStatus::new(1));
    let metrics = Metrics::new().unwrap();
    let secs = Duration::from_secs;
    let subtree = {
        let (store, done, panics_left, status) = (
            store.clone(),
            done.clone(),
            panics_left.clone(),
            status.clone(),
        );
        move |link: ChildLink| {
            let (s, d, c, e) = (
                store.clone(),
                done.clone(),
                panics_left.clone(),
                events_tx.clone(),
            );
            Supervisor::new(
                "test_worker",
                RestartPolicy::new(secs(1), secs(1), 1, secs(600)),
                move |link| Worker {
                    store: s.clone(),
                    done: d.clone(),
                    panics_left: c.clone(),
                    events: e.clone(),
                    link,
                },
                |_| {}, // The parent hears of it through the link.
            )
            .with_status(status.clone(), true)
            .linked(link)
        }
    };
    let root = Supervisor::root(
        "test_root",
        RestartPolicy::new(secs(10), secs(30), 2, secs(3600)),
        subtree,
        move |escalation| {
            let _ = exhausted_tx.send(escalation);
        },
    )
    .with_metrics(metrics.clone())
    .with_status(status.clone(), false);
    let (root_stats, root_stopped) = (root.stats(), root.stopped());
    let t0 = Instant::now();
    let root = root.start();

    for _ in 0..6 {
        assert_eq!(next_event(&mut events).await, Some("started"));
    }
    // Three subtrees escalated: the root ran out of restarts and says so, but goes on.
    let first = tokio::time::timeout(secs(3600), exhausted.recv()).await;
    assert_eq!(
        first.ok().flatten(),
        Some(Escalation {
            actor: "test_root",
            cause: RestartCause::Panic, // The cause at the bottom travels up.
        })
    );
    assert!(status.is_failing());
    assert!(root.connected(), "a root never stops on failures");

    root_stopped.await;
    assert!(
        t0.elapsed() >= secs(10 + 20 + 30 + 30),
        "root backoff was honoured"
    );
    assert_eq!(snapshot(&done), [50], "the job survived every crash");
    assert_eq!(root_stats.restarts(), 4);
    assert_eq!(root_stats.escalations(), 2);
    assert_eq!(root_stats.failures(RestartCause::Panic), 4);
    assert_eq!(status.running(), 0, "the worker finished and stopped");
    let text = metrics.encode_text().unwrap();
    assert!(
        text.contains(r#"gateway_actor_escalations_total{actor="test_root"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"gateway_actor_restarts_total{actor="test_root",cause="panic"} 4"#),
        "{text}"
    );
}

#[derive(Message)]
#[rtype(result = "()")]
struct PanicHere;

impl Handler<PanicHere> for Worker {
    type Result = ();

    fn handle(&mut self, _: PanicHere, _: &mut Self::Context) {
        panic!("unprotected handler panic");
    }
}

#[actix_rt::test]
async fn an_unprotected_handler_panic_is_still_restarted() {
    tokio::time::pause();
    let mut f = start(vec![3], 0);
    assert_eq!(next_event(&mut f.events).await, Some("started"));
    let child = send_bounded(&f.supervisor, CurrentChild::new(), Duration::from_secs(1)).await;
    let Ok(Some(child)) = child else {
        panic!("no child: {child:?}");
    };
    assert_eq!(try_send_bounded(&child, PanicHere), Ok(()));
    assert_eq!(
        next_event(&mut f.events).await,
        Some("started"),
        "restarted"
    );
    wait_until_stopped(&f.supervisor).await;
    assert_eq!(snapshot(&f.done), [30]);
    // The context (and the link in the actor) is dropped while unwinding, so the cause is
    // still right; the rest of that handler's work is lost, hence `protect`.
    assert_eq!(f.stats.failures(RestartCause::Panic), 1);
    assert_eq!(f.stats.failures(RestartCause::Killed), 0);
}

#[actix_rt::test]
async fn protect_turns_a_panic_into_an_error() {
    let ok = protect(async { 2 + 2 }).await;
    assert_eq!(ok, Ok(4));
    let failed = protect(async { panic!("bad bytes") }).await;
    assert_eq!(
        failed.map_err(|e| e.message),
        Err::<(), _>("bad bytes".to_owned())
    );
}

#[test]
fn protect_sync_turns_a_panic_into_an_error() {
    assert_eq!(protect_sync(|| 2 + 2), Ok(4));
    let failed = protect_sync(|| -> () { panic!("bad {}", "bytes") });
    assert_eq!(failed.map_err(|e| e.message), Err("bad bytes".to_owned()));
}

#[actix_rt::test]
async fn shutdown_drains_until_the_deadline() {
    tokio::time::pause();
    let shutdown = Shutdown::new();
    let mut quick = shutdown.listener();
    actix_rt::spawn(async move {
        quick.recv().await;
    });
    let slow = shutdown.listener();
    let outcome = shutdown.drain(Duration::from_secs(30)).await;
    assert_eq!(outcome, DrainOutcome::DeadlineExceeded { remaining: 1 });
    assert!(slow.is_shutdown());

    let shutdown = Shutdown::new();
    let mut worker = shutdown.listener();
    actix_rt::spawn(async move {
        worker.recv().await;
        tokio::time::sleep(Duration::from_secs(1)).await; // Finishing the current item.
    });
    assert_eq!(
        shutdown.drain(Duration::from_secs(30)).await,
        DrainOutcome::Drained
    );
}

#[actix_rt::test]
async fn time_lost_behind_a_full_mailbox_is_counted() {
    struct Busy;
    impl Actor for Busy {
        type Context = Context<Self>;
    }
    impl Handler<Kill> for Busy {
        type Result = ();
        fn handle(&mut self, _: Kill, ctx: &mut Self::Context) {
            // Stuck on one message: nothing behind it is handled for a minute.
            ctx.wait(actix::fut::wrap_future(tokio::time::sleep(
                Duration::from_secs(60),
            )));
        }
    }
    tokio::time::pause();
    let metrics = Metrics::new().unwrap();
    let addr = start_with_capacity(Busy, 1);
    let blocked = |metrics: &Metrics| {
        let text = metrics.encode_text().unwrap();
        text.lines()
            .find_map(|line| {
                line.strip_prefix(r#"gateway_mailbox_blocked_seconds_total{actor="busy"} "#)
            })
            .map_or(0.0, |value| value.parse::<f64>().unwrap())
    };
    let timeout = Duration::from_secs(2);
    let first = send_bounded_recorded(&addr, Kill, timeout, &metrics, "busy").await;
    assert_eq!(first, Ok(()), "answered at once: nothing recorded");
    assert_eq!(blocked(&metrics), 0.0);
    for _ in 0..2 {
        let stuck = send_bounded_recorded(&addr, Kill, timeout, &metrics, "busy").await;
        assert_eq!(stuck, Err(MailboxError::Timeout));
    }
    assert!(blocked(&metrics) >= 4.0, "{}", blocked(&metrics));
}

#[actix_rt::test]
async fn a_full_mailbox_is_reported_not_ignored() {
    struct Idle;
    impl Actor for Idle {
        type Context = Context<Self>;
        fn started(&mut self, ctx: &mut Self::Context) {
            ctx.set_mailbox_capacity(1);
        }
    }
    impl Handler<Kill> for Idle {
        type Result = ();
        fn handle(&mut self, _: Kill, _: &mut Self::Context) {}
    }
    tokio::time::pause();
    let addr = start_with_capacity(Idle, 1);
    // Nothing runs the actor until we yield, so the mailbox fills up.
    let results: Vec<_> = (0..3).map(|_| try_send_bounded(&addr, Kill)).collect();
    assert!(results.contains(&Err(MailboxError::Full)), "{results:?}");
}
