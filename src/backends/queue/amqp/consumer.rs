//! A push consumer on its own channel: `basic.qos(prefetch)`, manual acks, and a task that hands
//! deliveries over until the consumer is dropped or the channel fails.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use tokio::sync::mpsc;

use super::topology::{short, Names};
use super::{events, lost, Inner};
use crate::backends::error::BackendError;
use crate::backends::queue::{Consumer, Delivery, DeliveryId, QueueName};

/// What a consumer holds of a delivery until it is settled: enough to publish a copy (a retry
/// or a dead letter).
pub struct Held {
    pub body: Bytes,
    pub properties: BasicProperties,
    pub attempts: u32,
}

/// A live consumer's channel and its unsettled deliveries, by delivery tag.
pub struct ConsumerEntry {
    pub channel: Channel,
    unsettled: Mutex<HashMap<u64, Held>>,
}

impl ConsumerEntry {
    /// Takes a delivery to settle it; `None` if it was settled already.
    pub fn take(&self, tag: u64) -> Option<Held> {
        self.unsettled.lock().ok()?.remove(&tag)
    }

    /// Gives back a delivery whose settling failed, so it can be settled again.
    pub fn put_back(&self, tag: u64, held: Held) {
        if let Ok(mut unsettled) = self.unsettled.lock() {
            unsettled.insert(tag, held);
        }
    }
}

/// Opens a consumer of `queue`; runs on the queue's runtime.
pub(super) async fn start(
    inner: Arc<Inner>,
    queue: QueueName,
    prefetch: usize,
) -> Result<Consumer, BackendError> {
    let link = inner.link().await?;
    let channel = match link.connection.create_channel().await {
        Ok(channel) => channel,
        Err(error) => {
            inner.drop_link().await;
            return Err(lost("opening a consumer channel", error));
        }
    };
    let prefetch = u16::try_from(prefetch.max(1)).unwrap_or(u16::MAX);
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| lost("setting the prefetch", e))?;
    let names = Names::new(&inner.options.prefix, queue);
    let id = inner.next_consumer.fetch_add(1, Ordering::Relaxed);
    let stream = channel
        .basic_consume(
            short(&names.work),
            format!("awala-{id}").into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| lost("starting a consumer", e))?;
    let entry = Arc::new(ConsumerEntry {
        channel: channel.clone(),
        unsettled: Mutex::default(),
    });
    if let Ok(mut consumers) = inner.consumers.lock() {
        consumers.insert(id, Arc::clone(&entry));
    }
    let (sender, receiver) = mpsc::channel(usize::from(prefetch));
    tokio::spawn(forward(inner, queue, id, entry, stream, sender));
    Ok(Consumer::new(receiver, ()))
}

/// Hands deliveries to the consumer until it is dropped or the channel fails, then closes the
/// channel, which gives back whatever was not settled.
async fn forward(
    inner: Arc<Inner>,
    queue: QueueName,
    id: u64,
    entry: Arc<ConsumerEntry>,
    mut stream: lapin::Consumer,
    sender: mpsc::Sender<Result<Delivery, BackendError>>,
) {
    loop {
        let next = tokio::select! {
            () = sender.closed() => break,
            next = stream.next() => next,
        };
        let delivery = match next {
            Some(Ok(delivery)) => delivery,
            Some(Err(error)) => {
                let _ = sender.send(Err(lost("consuming", error))).await;
                inner.drop_link().await;
                break;
            }
            None => {
                let message = "RabbitMQ cancelled the consumer";
                let _ = sender.send(Err(BackendError::unavailable(message))).await;
                break;
            }
        };
        let decoded = events::decode(&delivery.properties, delivery.redelivered);
        let body = Bytes::from(delivery.data);
        entry.put_back(
            delivery.delivery_tag,
            Held {
                body: body.clone(),
                properties: delivery.properties,
                attempts: decoded.attempts,
            },
        );
        let handed = Delivery {
            id: DeliveryId {
                queue,
                tag: delivery.delivery_tag,
                token: id,
            },
            body,
            attributes: decoded.attributes,
            attempts: decoded.attempts,
        };
        if sender.send(Ok(handed)).await.is_err() {
            break;
        }
    }
    if let Ok(mut consumers) = inner.consumers.lock() {
        consumers.remove(&id);
    }
    if entry.channel.status().connected() {
        let _ = entry.channel.close(200, "consumer closed".into()).await;
    }
}
