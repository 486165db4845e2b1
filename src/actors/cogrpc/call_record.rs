//! Counting a streaming `CollectCargo` call once its response stream is done: the call's work is
//! the stream, so its outcome and duration are only known when the stream ends or is dropped.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::Stream;
use tonic::Status;

use crate::protocols::cogrpc::CogrpcEndpoint;
use crate::telemetry::{Binding, Metrics, RequestOutcome};

/// The outcome label of a call that failed with `status`.
pub fn outcome_of(status: &Status) -> RequestOutcome {
    match status.code() {
        tonic::Code::Unavailable => RequestOutcome::Unavailable,
        tonic::Code::Internal | tonic::Code::Unknown => RequestOutcome::ServerError,
        _ => RequestOutcome::ClientError,
    }
}

/// One call of `endpoint`, recorded when dropped.
pub struct CallRecord {
    metrics: Metrics,
    endpoint: CogrpcEndpoint,
    started: Instant,
    /// Until the stream ends by itself, the courier went away first.
    outcome: RequestOutcome,
}

impl CallRecord {
    pub fn start(metrics: Metrics, endpoint: CogrpcEndpoint) -> CallRecord {
        CallRecord {
            metrics,
            endpoint,
            started: Instant::now(),
            outcome: RequestOutcome::ClientError,
        }
    }

    /// Records the call as failed with `status` now.
    pub fn fail(mut self, status: &Status) {
        self.outcome = outcome_of(status);
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.metrics.record_request(
            Binding::Cogrpc,
            self.endpoint.name(),
            self.outcome,
            self.started.elapsed(),
        );
    }
}

/// `stream`, with `record` taken when it ends: OK after the last item, the status of an error
/// item, or a client error if it is dropped before either.
pub struct Recorded<S> {
    stream: S,
    record: CallRecord,
    failed_opt: Option<RequestOutcome>,
}

impl<S> Recorded<S> {
    pub fn new(stream: S, record: CallRecord) -> Self {
        Recorded {
            stream,
            record,
            failed_opt: None,
        }
    }
}

impl<S, T> Stream for Recorded<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_next(cx);
        match &polled {
            Poll::Ready(Some(Err(status))) => this.failed_opt = Some(outcome_of(status)),
            Poll::Ready(None) => {
                this.record.outcome = this.failed_opt.unwrap_or(RequestOutcome::Ok);
            }
            _ => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn count(metrics: &Metrics, outcome: &str) -> bool {
        metrics.encode_text().expect("encode").contains(&format!(
            r#"gateway_requests_total{{binding="cogrpc",endpoint="collect_cargo",outcome="{outcome}"}} 1"#
        ))
    }

    #[tokio::test]
    async fn a_stream_that_ends_is_counted_ok_with_its_duration() {
        let metrics = Metrics::new().expect("metrics");
        let record = CallRecord::start(metrics.clone(), CogrpcEndpoint::CollectCargo);
        let items = futures::stream::iter(vec![Ok::<_, Status>(1), Ok(2)]);
        let collected: Vec<_> = Recorded::new(items, record).collect().await;
        assert_eq!(collected.len(), 2);
        assert!(count(&metrics, "ok"));
        assert!(metrics.encode_text().unwrap().contains(
            r#"gateway_request_duration_seconds_count{binding="cogrpc",endpoint="collect_cargo"} 1"#
        ));
    }

    #[tokio::test]
    async fn an_error_item_and_an_early_drop_are_counted_apart() {
        let metrics = Metrics::new().expect("metrics");
        let failing = futures::stream::iter(vec![Ok(1), Err(Status::unavailable("down"))]);
        let record = CallRecord::start(metrics.clone(), CogrpcEndpoint::CollectCargo);
        let _: Vec<_> = Recorded::new(failing, record).collect().await;
        assert!(count(&metrics, "unavailable"));
        let endless = futures::stream::iter(vec![Ok::<_, Status>(1), Ok(2)]);
        let record = CallRecord::start(metrics.clone(), CogrpcEndpoint::CollectCargo);
        let mut stream = Recorded::new(endless, record);
        let _ = stream.next().await;
        drop(stream);
        assert!(count(&metrics, "client_error"));
    }
}
