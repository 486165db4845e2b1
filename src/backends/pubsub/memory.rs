//! In-process notifications (`memory://`): one bounded `tokio::sync::broadcast` per channel.
//!
//! A channel exists while it has subscribers: the last subscription to drop removes it, and a
//! publish to a channel nobody listens to creates nothing. Channel count and per-channel buffer
//! are bounded, so memory stays bounded whatever peers do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{Notification, Notifier, Subscription};
use crate::backends::error::BackendError;

/// Bounds of the in-process notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifierLimits {
    /// Messages buffered per channel for the slowest subscriber before it lags.
    pub channel_capacity: usize,
    /// Most channels with subscribers at once; past it `subscribe` fails with `Unavailable`.
    pub max_channels: usize,
    /// Longest channel name.
    pub max_channel_length: usize,
}

impl Default for NotifierLimits {
    fn default() -> Self {
        NotifierLimits {
            channel_capacity: 64,
            max_channels: 100_000,
            max_channel_length: 256,
        }
    }
}

type Channels = Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>;

/// A [`Notifier`] within one process.
#[derive(Debug, Clone)]
pub struct MemoryNotifier {
    channels: Channels,
    limits: NotifierLimits,
}

impl MemoryNotifier {
    pub fn new(limits: NotifierLimits) -> Self {
        MemoryNotifier {
            channels: Arc::default(),
            limits: NotifierLimits {
                channel_capacity: limits.channel_capacity.max(1),
                ..limits
            },
        }
    }

    /// Channels that currently have subscribers.
    pub fn channel_count(&self) -> usize {
        lock(&self.channels).len()
    }

    fn check_channel(&self, channel: &str) -> Result<(), BackendError> {
        check_channel(&self.limits, channel)
    }
}

/// Refuses empty channel names and names longer than the limit (every notifier's rule).
pub(super) fn check_channel(limits: &NotifierLimits, channel: &str) -> Result<(), BackendError> {
    if channel.is_empty() || channel.len() > limits.max_channel_length {
        return Err(BackendError::internal(format!(
            "channel name of {} bytes (1 to {} allowed)",
            channel.len(),
            limits.max_channel_length
        )));
    }
    Ok(())
}

/// A poisoned lock only means another thread panicked mid-update of a map of senders, which
/// leaves it consistent; carry on.
fn lock(channels: &Channels) -> MutexGuard<'_, HashMap<String, broadcast::Sender<Bytes>>> {
    channels
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A subscription's receiver, which removes its channel when it is the last one to go.
struct Subscriber {
    receiver: broadcast::Receiver<Bytes>,
    channels: Channels,
    channel: String,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let mut channels = lock(&self.channels);
        if let Some(sender) = channels.get(&self.channel) {
            // Our receiver is still alive here (fields drop after this), so one means only us.
            // Two subscribers dropping at once may both see two and leave the channel behind;
            // `publish` and `subscribe` sweep such channels.
            if sender.receiver_count() <= 1 {
                channels.remove(&self.channel);
            }
        }
    }
}

#[async_trait]
impl Notifier for MemoryNotifier {
    async fn publish(&self, channel: &str, message: Bytes) -> Result<usize, BackendError> {
        self.check_channel(channel)?;
        let mut channels = lock(&self.channels);
        let Some(sender) = channels.get(channel) else {
            return Ok(0);
        };
        match sender.send(message) {
            Ok(receivers) => Ok(receivers),
            // Only fails without receivers: nobody to notify, and the channel is stale.
            Err(_) => {
                channels.remove(channel);
                Ok(0)
            }
        }
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, BackendError> {
        self.check_channel(channel)?;
        let receiver = {
            let mut channels = lock(&self.channels);
            match channels.get(channel) {
                Some(sender) => sender.subscribe(),
                None => {
                    if channels.len() >= self.limits.max_channels {
                        channels.retain(|_, sender| sender.receiver_count() > 0);
                    }
                    if channels.len() >= self.limits.max_channels {
                        return Err(BackendError::unavailable(format!(
                            "too many notification channels ({})",
                            self.limits.max_channels
                        )));
                    }
                    let (sender, receiver) = broadcast::channel(self.limits.channel_capacity);
                    channels.insert(channel.to_string(), sender);
                    receiver
                }
            }
        };
        let subscriber = Subscriber {
            receiver,
            channels: self.channels.clone(),
            channel: channel.to_string(),
        };
        let stream = stream::unfold(subscriber, |mut subscriber| async move {
            let item = match subscriber.receiver.recv().await {
                Ok(message) => Notification::Message(message),
                Err(RecvError::Lagged(skipped)) => Notification::Lagged(skipped),
                Err(RecvError::Closed) => return None,
            };
            Some((item, subscriber))
        });
        Ok(stream.boxed())
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::StreamExt;

    use super::{MemoryNotifier, NotifierLimits};
    use crate::backends::error::BackendErrorKind;
    use crate::backends::pubsub::Notifier;

    fn notifier(channel_capacity: usize) -> MemoryNotifier {
        MemoryNotifier::new(NotifierLimits {
            channel_capacity,
            max_channels: 2,
            ..NotifierLimits::default()
        })
    }

    async fn open(channel_capacity: usize) -> ((), Arc<dyn Notifier>) {
        ((), Arc::new(notifier(channel_capacity)))
    }

    crate::pubsub_conformance!(open);

    #[tokio::test]
    async fn channels_without_subscribers_are_removed_and_bounded() {
        let notifier = notifier(4);
        let a = notifier.subscribe("a").await.expect("subscribe");
        let a2 = notifier.subscribe("a").await.expect("subscribe");
        let b = notifier.subscribe("b").await.expect("subscribe");
        let full = notifier
            .subscribe("c")
            .await
            .err()
            .expect("too many channels");
        assert_eq!(full.kind, BackendErrorKind::Unavailable);
        drop(a);
        assert_eq!(notifier.channel_count(), 2, "a still has a subscriber");
        drop(a2);
        drop(b);
        assert_eq!(notifier.channel_count(), 0);
        assert_eq!(notifier.publish("a", "x".into()).await.expect("publish"), 0);
        assert_eq!(notifier.channel_count(), 0, "publishing creates nothing");
        let mut c = notifier.subscribe("c").await.expect("room again");
        notifier.publish("c", "y".into()).await.expect("publish");
        assert!(c.next().await.is_some());
    }
}
