//! Housekeeping: deleting what expired and what no record names, on a schedule and on demand.
//!
//! One sweep deletes expired parcels (entry, then body), parcel collection and CCA records,
//! expired certificates, session keys no message can still name, and bodies no index entry
//! names: a crash between writing a body and its entry, or between deleting an entry and its
//! body, leaves one behind. Every store is swept through its trait, so this works alike on the
//! embedded default and on every distributed backend; MongoDB's TTL indexes only get there
//! first for the records they cover.
//!
//! The [`Housekeeper`] actor runs a sweep when it starts and then every `period`, and one more
//! whenever [`SweepNow`] asks (the admin API). A sweep that panics stops the actor, and its
//! supervisor starts a fresh one; a backend error is logged and counted, and the next sweep
//! retries. Several replicas may sweep at once: every deletion is idempotent.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use crate::actors::cogrpc::session_key_housekeeping::delete_unusable_session_keys;
use crate::actors::gateway::GatewayContext;
use crate::backends::metadata::MAX_PAGE;
use crate::backends::BackendError;
use crate::supervision::{
    protect, send_bounded, ChildLink, CurrentChild, RestartCause, RestartPolicy, Supervisor,
};

/// Metric `stage` label of sweep failures.
const STAGE: &str = "housekeeping";
/// Where parcel bodies live in the object store; keys continue with the receipt time.
const BODY_PREFIX: &str = "parcels/gateway-bound/";
/// Keys listed per call while looking for bodies no entry names.
const LIST_PAGE: usize = 1_000;

/// When sweeps run.
#[derive(Debug, Clone)]
pub struct HousekeepingSettings {
    /// Between scheduled sweeps.
    pub period: Duration,
    /// How old (by receipt time) a body no entry names must be before it goes: a body is
    /// written just before its entry, so a younger one may belong to a request in progress.
    pub orphan_grace: Duration,
}

impl Default for HousekeepingSettings {
    fn default() -> Self {
        HousekeepingSettings {
            period: Duration::from_secs(60 * 60),
            orphan_grace: Duration::from_secs(60 * 60),
        }
    }
}

/// What one sweep deleted, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub expired_parcels: u64,
    pub parcel_collections: u64,
    pub cca_fulfilments: u64,
    pub certificates: u64,
    pub session_keys: u64,
    pub orphan_bodies: u64,
}

impl SweepReport {
    /// `(kind, count)` pairs, the `kind` label of the deletion metric.
    pub fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("expired_parcel", self.expired_parcels),
            ("parcel_collection", self.parcel_collections),
            ("cca_fulfilment", self.cca_fulfilments),
            ("certificate", self.certificates),
            ("session_key", self.session_keys),
            ("orphan_body", self.orphan_bodies),
        ]
    }

    pub fn total(&self) -> u64 {
        self.counts().iter().map(|(_, count)| count).sum()
    }
}

/// One sweep at `now`.
pub async fn sweep(
    context: &GatewayContext,
    settings: &HousekeepingSettings,
    now: DateTime<Utc>,
) -> Result<SweepReport, BackendError> {
    let metadata = &context.backends.metadata;
    let mut report = SweepReport {
        expired_parcels: delete_expired_parcels(context, now).await?,
        ..SweepReport::default()
    };
    report.parcel_collections = metadata.delete_expired_parcel_collections(now).await?;
    report.cca_fulfilments = metadata.delete_expired_cca_fulfilments(now).await?;
    report.certificates = metadata.delete_expired_certificates(now).await?;
    report.session_keys = delete_unusable_session_keys(context, now).await?;
    let cutoff = chrono::Duration::from_std(settings.orphan_grace)
        .ok()
        .and_then(|grace| now.checked_sub_signed(grace))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    report.orphan_bodies = delete_orphan_bodies(context, cutoff).await?;
    for (kind, count) in report.counts() {
        context.metrics.record_housekeeping_deleted(kind, count);
    }
    Ok(report)
}

/// Expired entries a page at a time, each followed by its body.
async fn delete_expired_parcels(
    context: &GatewayContext,
    now: DateTime<Utc>,
) -> Result<u64, BackendError> {
    let mut deleted = 0;
    loop {
        let object_keys = context
            .backends
            .metadata
            .delete_expired_parcels(now, MAX_PAGE)
            .await?;
        for object_key in &object_keys {
            context.backends.objects.delete(object_key).await?;
        }
        deleted += object_keys.len() as u64;
        if object_keys.len() < MAX_PAGE {
            return Ok(deleted);
        }
    }
}

/// Bodies received before `cutoff` that no entry names.
///
/// The store lists a bounded page of keys from the start of a prefix, and keys continue with
/// the receipt time in fixed-width digits. So a full page is split by the next character into
/// narrower prefixes, those that can only hold keys at or after the cutoff are skipped, and
/// every key before it is visited once, in bounded pages, however many live parcels there are.
async fn delete_orphan_bodies(
    context: &GatewayContext,
    cutoff: DateTime<Utc>,
) -> Result<u64, BackendError> {
    let (metadata, objects) = (&context.backends.metadata, &context.backends.objects);
    let cutoff_key = format!("{BODY_PREFIX}{:016}", cutoff.timestamp_micros().max(0));
    let mut deleted = 0;
    let mut prefixes = vec![BODY_PREFIX.to_owned()];
    while let Some(prefix) = prefixes.pop() {
        let keys = objects.list(&prefix, LIST_PAGE).await?;
        if keys.len() >= LIST_PAGE && prefix.len() < cutoff_key.len() {
            // Pushed in reverse so that older ranges are visited first.
            for digit in ('0'..='9').rev() {
                let narrower = format!("{prefix}{digit}");
                if narrower.as_str() <= &cutoff_key[..narrower.len()] {
                    prefixes.push(narrower);
                }
            }
            continue;
        }
        let old: Vec<String> = keys
            .into_iter()
            .filter(|key| key.as_str() < cutoff_key.as_str())
            .collect();
        let in_use = metadata.parcel_object_keys_in_use(&old).await?;
        for key in old.iter().filter(|key| !in_use.contains(*key)) {
            objects.delete(key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// Asks for a sweep now; answers with what it deleted.
#[derive(Message)]
#[rtype(result = "Result<SweepReport, String>")]
pub struct SweepNow;

/// Runs sweeps (see the module documentation). Holds nothing but its schedule.
pub struct Housekeeper {
    context: Arc<GatewayContext>,
    settings: HousekeepingSettings,
    link: ChildLink,
    scheduled_running: bool,
}

impl Housekeeper {
    fn start_scheduled(&mut self, ctx: &mut Context<Self>) {
        if self.scheduled_running {
            return;
        }
        self.scheduled_running = true;
        let work = run_protected(self.context.clone(), self.settings.clone());
        ctx.spawn(work.into_actor(self).map(|outcome, actor, ctx| {
            actor.scheduled_running = false;
            // Logged and counted in `finish`; nobody waits on a scheduled sweep.
            let _ = actor.finish(outcome, ctx);
        }));
    }

    fn finish(
        &mut self,
        outcome: SweepOutcome,
        ctx: &mut Context<Self>,
    ) -> Result<SweepReport, String> {
        match outcome {
            SweepOutcome::Done(report) => {
                if report.total() > 0 {
                    tracing::info!(?report, "housekeeping deleted expired and unnamed data");
                }
                Ok(report)
            }
            SweepOutcome::Failed(error) => {
                self.context.metrics.record_error(error_type(&error), STAGE);
                tracing::warn!(%error, "housekeeping sweep failed; the next one retries");
                Err(error.to_string())
            }
            SweepOutcome::Panicked(message) => {
                tracing::error!(%message, "housekeeping sweep panicked");
                self.link.fail(RestartCause::Panic);
                ctx.stop();
                Err(format!("the sweep panicked: {message}"))
            }
        }
    }
}

enum SweepOutcome {
    Done(SweepReport),
    Failed(BackendError),
    Panicked(String),
}

async fn run_protected(
    context: Arc<GatewayContext>,
    settings: HousekeepingSettings,
) -> SweepOutcome {
    let run = protect(async move { sweep(&context, &settings, Utc::now()).await }).await;
    match run {
        Ok(Ok(report)) => SweepOutcome::Done(report),
        Ok(Err(error)) => SweepOutcome::Failed(error),
        Err(panic) => SweepOutcome::Panicked(panic.to_string()),
    }
}

impl Actor for Housekeeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.start_scheduled(ctx);
        ctx.run_interval(self.settings.period, |actor, ctx| {
            actor.start_scheduled(ctx)
        });
    }
}

impl Handler<SweepNow> for Housekeeper {
    type Result = ResponseActFuture<Self, Result<SweepReport, String>>;

    fn handle(&mut self, _: SweepNow, _: &mut Self::Context) -> Self::Result {
        let work = run_protected(self.context.clone(), self.settings.clone());
        Box::pin(
            work.into_actor(self)
                .map(|outcome, actor, ctx| actor.finish(outcome, ctx)),
        )
    }
}

/// Longest an on-demand sweep may take before the caller stops waiting (it carries on).
const SWEEP_NOW_TIMEOUT: Duration = Duration::from_secs(300);

/// The running housekeeper, as the admin API reaches it.
#[derive(Clone)]
pub struct HousekeepingHandle {
    supervisor: Addr<Supervisor<Housekeeper>>,
}

impl HousekeepingHandle {
    /// Runs a sweep now and answers with what it deleted.
    pub async fn sweep_now(&self) -> Result<SweepReport, String> {
        let child = send_bounded(
            &self.supervisor,
            CurrentChild::<Housekeeper>::new(),
            SWEEP_NOW_TIMEOUT,
        )
        .await
        .map_err(|error| format!("housekeeping supervisor: {error}"))?
        .ok_or_else(|| "the housekeeper is restarting; try again shortly".to_owned())?;
        send_bounded(&child, SweepNow, SWEEP_NOW_TIMEOUT)
            .await
            .map_err(|error| format!("housekeeper: {error}"))?
    }
}

/// Starts the housekeeper under a root supervisor, which restarts it after a panic.
pub fn start(context: Arc<GatewayContext>, settings: HousekeepingSettings) -> HousekeepingHandle {
    let metrics = context.metrics.clone();
    let supervisor = Supervisor::root(
        "housekeeper",
        RestartPolicy::default(),
        move |link| Housekeeper {
            context: context.clone(),
            settings: settings.clone(),
            link,
            scheduled_running: false,
        },
        |escalation| {
            tracing::error!(
                cause = escalation.cause.as_str(),
                "housekeeping keeps failing; still retrying at the longest backoff"
            );
        },
    )
    .with_metrics(metrics)
    .start();
    HousekeepingHandle { supervisor }
}

fn error_type(error: &BackendError) -> &'static str {
    if error.kind.is_retryable() {
        "unavailable"
    } else {
        "internal"
    }
}

#[cfg(test)]
#[path = "housekeeping_tests.rs"]
mod tests;
