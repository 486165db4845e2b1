//! The one subscriber connection of a process and the task that owns it.
//!
//! Local subscribers talk to the hub through a bounded command queue (subscribe) and an
//! unbounded one (release, sent from `Drop`, at most one per subscription). The hub keeps a
//! bounded `broadcast` per channel, so a slow subscriber lags (and is told how far) instead of
//! holding anyone else up. A Redis SUBSCRIBE is sent for the first local subscriber of a channel
//! and answered before `subscribe` returns, so everything published afterwards is delivered;
//! UNSUBSCRIBE follows the last one's release. Commands are handled in order by the one task,
//! which is what keeps a release and a re-subscription of the same channel from crossing.
//!
//! When the connection drops the hub reconnects with capped exponential backoff, subscribes to
//! every channel that still has subscribers again, then sends each of them a "resubscribed"
//! marker, which the subscription turns into `Lagged(0)`. While it is disconnected, new
//! subscriptions fail with `Unavailable`. The hub stops when the last notifier handle is
//! dropped; subscription streams then end.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use deadpool_redis::redis::aio::{PubSubSink, PubSubStream};
use deadpool_redis::redis::{self, Msg};
use futures::stream::{self, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::{mpsc, oneshot, watch};

use super::redis::redis_error;
use super::{Notification, NotifierLimits, Subscription};
use crate::backends::error::BackendError;

/// Subscribe requests waiting for the hub; past it, `subscribe` waits (backpressure).
const COMMAND_QUEUE: usize = 256;
/// Longest wait for a connection or for the answer to a (UN)SUBSCRIBE.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection backoff: doubles from the first value up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the hub sends each subscriber of a channel.
#[derive(Debug, Clone)]
enum Item {
    Message(Bytes),
    /// The connection was re-established: messages may have been missed meanwhile.
    Resubscribed,
}

type Reply = oneshot::Sender<Result<broadcast::Receiver<Item>, BackendError>>;

struct SubscribeCommand {
    channel: String,
    reply: Reply,
}

/// The notifier's handle on the hub task.
#[derive(Clone)]
pub(super) struct Hub {
    commands: mpsc::Sender<SubscribeCommand>,
    releases: mpsc::UnboundedSender<String>,
    connected: watch::Receiver<bool>,
}

impl Hub {
    /// Spawns the hub task on the current tokio runtime.
    pub(super) fn start(client: redis::Client, limits: NotifierLimits) -> Hub {
        let (commands, command_receiver) = mpsc::channel(COMMAND_QUEUE);
        let (releases, release_receiver) = mpsc::unbounded_channel();
        let (connected_sender, connected) = watch::channel(false);
        let task = HubTask {
            client,
            limits,
            commands: command_receiver,
            releases: release_receiver,
            channels: HashMap::new(),
            connected: connected_sender,
        };
        tokio::spawn(task.run());
        Hub {
            commands,
            releases,
            connected,
        }
    }

    /// Subscribes to `channel` (the full Redis name).
    pub(super) async fn subscribe(&self, channel: String) -> Result<Subscription, BackendError> {
        let stopped = || BackendError::unavailable("the redis subscriber task has stopped");
        let (reply, answer) = oneshot::channel();
        let command = SubscribeCommand {
            channel: channel.clone(),
            reply,
        };
        self.commands.send(command).await.map_err(|_| stopped())?;
        let receiver = answer.await.map_err(|_| stopped())??;
        let subscriber = Subscriber {
            receiver,
            _release: Release {
                channel,
                releases: self.releases.clone(),
            },
        };
        let stream = stream::unfold(subscriber, |mut subscriber| async move {
            let item = match subscriber.receiver.recv().await {
                Ok(Item::Message(message)) => Notification::Message(message),
                Ok(Item::Resubscribed) => Notification::Lagged(0),
                Err(RecvError::Lagged(skipped)) => Notification::Lagged(skipped),
                Err(RecvError::Closed) => return None,
            };
            Some((item, subscriber))
        });
        Ok(stream.boxed())
    }

    /// Waits up to `wait` for the subscriber connection to be up; says whether it is.
    pub(super) async fn wait_connected(&self, wait: Duration) -> bool {
        let mut connected = self.connected.clone();
        let up = tokio::time::timeout(wait, connected.wait_for(|up| *up)).await;
        matches!(up, Ok(Ok(_)))
    }

    /// `Unavailable` while the subscriber connection is down.
    pub(super) fn health_check(&self) -> Result<(), BackendError> {
        if self.commands.is_closed() {
            return Err(BackendError::unavailable(
                "the redis subscriber task has stopped",
            ));
        }
        if !*self.connected.borrow() {
            return Err(BackendError::unavailable(
                "the redis subscriber connection is down (reconnecting)",
            ));
        }
        Ok(())
    }
}

/// A local subscription. Fields drop in order: the receiver first, so that when the hub reads
/// the release, the receiver count it checks no longer includes this one.
struct Subscriber {
    receiver: broadcast::Receiver<Item>,
    _release: Release,
}

struct Release {
    channel: String,
    releases: mpsc::UnboundedSender<String>,
}

impl Drop for Release {
    fn drop(&mut self) {
        // Fails only once the hub has stopped, when there is nothing left to release.
        let _ = self.releases.send(std::mem::take(&mut self.channel));
    }
}

/// Why the connected loop ended.
enum Exit {
    /// Every notifier handle is gone: stop.
    Stopped,
    /// The connection failed: reconnect.
    Lost(BackendError),
}

struct HubTask {
    client: redis::Client,
    limits: NotifierLimits,
    commands: mpsc::Receiver<SubscribeCommand>,
    releases: mpsc::UnboundedReceiver<String>,
    /// Channels subscribed in Redis (or to be, after a reconnection), with their local fan-out.
    channels: HashMap<String, broadcast::Sender<Item>>,
    connected: watch::Sender<bool>,
}

impl HubTask {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            let Some(result) = self.offline_until(connect(self.client.clone())).await else {
                return;
            };
            let exit = match result {
                Ok((sink, stream)) => {
                    failures = 0;
                    let exit = self.serve(sink, stream).await;
                    self.connected.send_replace(false);
                    exit
                }
                Err(error) => Exit::Lost(error),
            };
            match exit {
                Exit::Stopped => return,
                Exit::Lost(error) => {
                    tracing::warn!(error = %error, "redis subscriber connection lost; reconnecting")
                }
            }
            let backoff = FIRST_BACKOFF
                .saturating_mul(2u32.saturating_pow(failures))
                .min(MAX_BACKOFF);
            failures = failures.saturating_add(1);
            if self
                .offline_until(tokio::time::sleep(backoff))
                .await
                .is_none()
            {
                return;
            }
        }
    }

    /// Runs `future` while answering commands as a disconnected hub does; `None` if the hub
    /// must stop.
    async fn offline_until<F: Future>(&mut self, future: F) -> Option<F::Output> {
        tokio::pin!(future);
        loop {
            tokio::select! {
                output = &mut future => return Some(output),
                command = self.commands.recv() => {
                    let command = command?;
                    let _ = command.reply.send(Err(BackendError::unavailable(
                        "redis is unreachable (the subscriber connection is reconnecting)",
                    )));
                }
                Some(channel) = self.releases.recv() => {
                    if self.unused(&channel) {
                        self.channels.remove(&channel);
                    }
                }
            }
        }
    }

    /// Serves commands and fans messages out until the connection fails or the hub stops.
    async fn serve(&mut self, mut sink: PubSubSink, mut stream: PubSubStream) -> Exit {
        // Channels still in use from before a reconnection: subscribe again, then tell their
        // subscribers that messages may have been missed meanwhile.
        if !self.channels.is_empty() {
            let channels: Vec<&String> = self.channels.keys().collect();
            if let Err(error) = timed(sink.subscribe(&channels), "subscribing again").await {
                return Exit::Lost(error);
            }
            for sender in self.channels.values() {
                let _ = sender.send(Item::Resubscribed);
            }
        }
        self.connected.send_replace(true);
        loop {
            let result = tokio::select! {
                message = stream.next() => match message {
                    Some(message) => self.fan_out(&mut sink, message).await,
                    None => Err(BackendError::unavailable("redis closed the subscriber connection")),
                },
                command = self.commands.recv() => match command {
                    Some(command) => self.subscribe(&mut sink, command).await,
                    None => return Exit::Stopped,
                },
                Some(channel) = self.releases.recv() => self.release(&mut sink, channel).await,
            };
            if let Err(error) = result {
                return Exit::Lost(error);
            }
        }
    }

    async fn fan_out(&mut self, sink: &mut PubSubSink, message: Msg) -> Result<(), BackendError> {
        let channel = message.get_channel_name();
        let Some(sender) = self.channels.get(channel) else {
            return Ok(()); // Unsubscribed meanwhile.
        };
        let item = Item::Message(Bytes::copy_from_slice(message.get_payload_bytes()));
        if sender.send(item).is_err() {
            // Nobody listens any more (a subscriber whose `subscribe` call was abandoned after
            // the hub answered leaves no release behind): unsubscribe now.
            let channel = channel.to_string();
            return self.release(sink, channel).await;
        }
        Ok(())
    }

    /// Answers a subscribe command; an error means the connection is no longer usable.
    async fn subscribe(
        &mut self,
        sink: &mut PubSubSink,
        command: SubscribeCommand,
    ) -> Result<(), BackendError> {
        let SubscribeCommand { channel, reply } = command;
        if let Some(sender) = self.channels.get(&channel) {
            let _ = reply.send(Ok(sender.subscribe()));
            return Ok(());
        }
        if self.channels.len() >= self.limits.max_channels {
            let unused: Vec<String> = self
                .channels
                .iter()
                .filter(|(_, sender)| sender.receiver_count() == 0)
                .map(|(channel, _)| channel.clone())
                .collect();
            for channel in unused {
                self.release(sink, channel).await?;
            }
        }
        if self.channels.len() >= self.limits.max_channels {
            let _ = reply.send(Err(BackendError::unavailable(format!(
                "too many notification channels ({})",
                self.limits.max_channels
            ))));
            return Ok(());
        }
        match timed(sink.subscribe(&channel), "subscribing").await {
            Ok(()) => {
                let (sender, receiver) = broadcast::channel(self.limits.channel_capacity);
                self.channels.insert(channel, sender);
                let _ = reply.send(Ok(receiver));
                Ok(())
            }
            Err(error) => {
                // A failed or unanswered SUBSCRIBE leaves the connection in doubt: start over.
                let _ = reply.send(Err(error.clone()));
                Err(error)
            }
        }
    }

    /// Unsubscribes from `channel` if nobody uses it any more.
    async fn release(
        &mut self,
        sink: &mut PubSubSink,
        channel: String,
    ) -> Result<(), BackendError> {
        if !self.unused(&channel) {
            return Ok(());
        }
        self.channels.remove(&channel);
        timed(sink.unsubscribe(&channel), "unsubscribing").await
    }

    fn unused(&self, channel: &str) -> bool {
        self.channels
            .get(channel)
            .is_some_and(|sender| sender.receiver_count() == 0)
    }
}

/// Opens a subscriber connection.
async fn connect(client: redis::Client) -> Result<(PubSubSink, PubSubStream), BackendError> {
    let pubsub = tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| BackendError::unavailable("connecting to redis: timed out"))?
        .map_err(|e| redis_error("connecting to redis", e))?;
    Ok(pubsub.split())
}

/// Awaits a subscriber-connection call within [`REDIS_TIMEOUT`].
async fn timed(
    call: impl Future<Output = redis::RedisResult<()>>,
    context: &str,
) -> Result<(), BackendError> {
    match tokio::time::timeout(REDIS_TIMEOUT, call).await {
        Ok(result) => result.map_err(|e| redis_error(context, e)),
        Err(_) => Err(BackendError::unavailable(format!(
            "{context}: no answer from redis within {REDIS_TIMEOUT:?}"
        ))),
    }
}
