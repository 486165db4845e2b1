//! Keeps the identity certificate renewed in a running gateway: the [`CertificateRenewal`]
//! actor reloads the own certificates every [`RELOAD_PERIOD`] (so one another replica issued is
//! trusted and issued from here too) and once a day runs
//! [`GatewayIdentity::renew_if_due`](crate::actors::identity::GatewayIdentity::renew_if_due),
//! which issues a new certificate once fewer than 180 days remain. Nothing to forget in cron.
//!
//! Replicas checking the same day may each issue one; both are valid, and the one that expires
//! last issues from then on.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use crate::actors::gateway::GatewayContext;
use crate::supervision::{protect, ChildLink, RestartCause, RestartPolicy, Supervisor};

/// Between reloads of the own certificates.
pub const RELOAD_PERIOD: Duration = Duration::from_secs(60);
/// Between renewal checks.
pub const CHECK_PERIOD: chrono::Duration = chrono::Duration::days(1);

/// Reloads and renews (see the module documentation). Holds only its schedule.
pub struct CertificateRenewal {
    context: Arc<GatewayContext>,
    link: ChildLink,
    running: bool,
    last_check: Option<DateTime<Utc>>,
}

impl CertificateRenewal {
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            return;
        }
        self.running = true;
        let now = Utc::now();
        let check = self
            .last_check
            .is_none_or(|last| now - last >= CHECK_PERIOD);
        let identity = self.context.identity.clone();
        let work = protect(async move {
            if check {
                identity.renew_if_due(now).await.map(|_| ())
            } else {
                identity.reload_certificates(now).await
            }
        });
        ctx.spawn(work.into_actor(self).map(move |outcome, actor, ctx| {
            actor.running = false;
            match outcome {
                Ok(Ok(())) => {
                    if check {
                        actor.last_check = Some(now);
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not reload or renew the identity certificate; retrying");
                }
                Err(panic) => {
                    tracing::error!(%panic, "the certificate renewal panicked");
                    actor.link.fail(RestartCause::Panic);
                    ctx.stop();
                }
            }
        }));
    }
}

impl Actor for CertificateRenewal {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.tick(ctx);
        ctx.run_interval(RELOAD_PERIOD, |actor, ctx| actor.tick(ctx));
    }
}

/// Starts the renewal under a root supervisor (every role: each trusts and issues from the own
/// certificates).
pub fn start(context: Arc<GatewayContext>) -> Addr<Supervisor<CertificateRenewal>> {
    let metrics = context.metrics.clone();
    Supervisor::root(
        "certificate_renewal",
        RestartPolicy::default(),
        move |link| CertificateRenewal {
            context: context.clone(),
            link,
            running: false,
            last_check: None,
        },
        |escalation| {
            tracing::error!(
                cause = escalation.cause.as_str(),
                "the certificate renewal keeps failing"
            );
        },
    )
    .with_metrics(metrics)
    .start()
}
