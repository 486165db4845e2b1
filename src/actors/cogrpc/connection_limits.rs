//! CogRPC's edge limits that tonic does not have: a cap on open connections, an idle timeout
//! for connections without calls (REF's `grpc.max_connection_idle_ms`), and the admission of
//! calls through the same [`LoadShield`] type the HTTP bindings use.
//!
//! - [`limit_incoming`] wraps the listener: a connection past `limits.max_cogrpc_connections`
//!   is closed as soon as it is accepted (the courier sees `UNAVAILABLE` and retries), so
//!   refusing costs no HTTP/2 state. Each admitted connection holds a slot until it closes.
//! - [`TrackedConnection`] is the connection tonic serves. It counts the calls open on it
//!   (through the [`CallGuard`]s the handlers hold) and, once it has had none for the idle
//!   timeout, ends its read side, which makes hyper close the connection. Bytes alone (pings,
//!   settings) do not keep a connection open: a client that never calls is closed on time.
//! - [`CallGuard`] is what a call holds for as long as its response stream lives: a load-shield
//!   permit and its place in its connection's call count.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpIncoming};

use crate::telemetry::Metrics;

/// `stage` label of refused connections.
const ACCEPT_STAGE: &str = "cogrpc_accept";

/// How long an idle connection is watched once more before it is closed, for a call whose
/// headers were just read but whose handler has not registered it yet: closing then would cut a
/// call the courier has already sent.
const SETTLE: Duration = Duration::from_millis(200);

/// The calls open on one connection, and since when it has had none.
#[derive(Debug)]
struct Activity {
    open_calls: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What tonic puts in every request's extensions for a [`TrackedConnection`].
#[derive(Debug, Clone)]
pub struct CogrpcConnectInfo {
    pub remote_addr: Option<SocketAddr>,
    activity: Arc<Activity>,
}

/// Held by a call for as long as its response stream lives.
#[derive(Debug)]
pub struct CallGuard {
    _permit: OwnedSemaphorePermit,
    activity_opt: Option<Arc<Activity>>,
}

impl CallGuard {
    /// A call admitted with `permit` on the connection described by `info_opt` (none when the
    /// server was not given tracked connections, as in unit tests).
    pub fn new(permit: OwnedSemaphorePermit, info_opt: Option<&CogrpcConnectInfo>) -> Self {
        let activity_opt = info_opt.map(|info| Arc::clone(&info.activity));
        if let Some(activity) = &activity_opt {
            activity.open_calls.fetch_add(1, Ordering::SeqCst);
        }
        CallGuard {
            _permit: permit,
            activity_opt,
        }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(activity) = &self.activity_opt {
            // Set before the count drops, so an idle check never sees zero calls with a stale
            // time.
            *activity
                .idle_since
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
            activity.open_calls.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Keeps `stream` (a call's responses) and `guard` alive together.
pub fn hold<S>(stream: S, guard: CallGuard) -> Pin<Box<dyn Stream<Item = S::Item> + Send>>
where
    S: Stream + Send + 'static,
{
    Box::pin(stream.map(move |item| {
        let _held = &guard;
        item
    }))
}

/// The listener's connections, at most `max_connections` open at once, each closed after
/// `idle_timeout` without calls.
pub fn limit_incoming(
    incoming: TcpIncoming,
    max_connections: usize,
    idle_timeout: Duration,
    metrics: Metrics,
) -> impl Stream<Item = io::Result<TrackedConnection>> {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    incoming.filter_map(move |accepted| {
        let admitted = match accepted {
            Ok(stream) => match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => Some(Ok(TrackedConnection::new(stream, slot, idle_timeout))),
                Err(_) => {
                    tracing::debug!("cogrpc connection refused: too many open");
                    metrics.record_error("too_many_connections", ACCEPT_STAGE);
                    tokio::spawn(refuse(stream));
                    None
                }
            },
            Err(error) => Some(Err(error)),
        };
        futures::future::ready(admitted)
    })
}

/// The server preface (empty SETTINGS) then GOAWAY with no stream processed and
/// `REFUSED_STREAM`, which gRPC clients report as `UNAVAILABLE` and may retry elsewhere.
const REFUSAL: [u8; 26] = [
    0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, length 0, stream 0
    0, 0, 8, 0x7, 0, 0, 0, 0, 0, // GOAWAY, length 8, stream 0
    0, 0, 0, 0, // last stream id: none
    0, 0, 0, 0x7, // REFUSED_STREAM
];

/// How long a refused connection is read (and the bytes dropped) after the GOAWAY: closing with
/// the client's preface unread would reset the connection, and the client could lose the GOAWAY.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Tells a connection past the cap to go away, then closes it; bounded by [`REFUSAL_LINGER`].
async fn refuse(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.write_all(&REFUSAL).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(read) if read > 0) {}
    })
    .await;
}

/// One admitted connection: see the module documentation.
pub struct TrackedConnection {
    stream: TcpStream,
    activity: Arc<Activity>,
    idle_timeout: Duration,
    timer: Pin<Box<Sleep>>,
    /// The `idle_since` an idle check saw, while it waits [`SETTLE`] to confirm.
    settling_opt: Option<Instant>,
    idle: bool,
    _slot: OwnedSemaphorePermit,
}

impl TrackedConnection {
    fn new(stream: TcpStream, slot: OwnedSemaphorePermit, idle_timeout: Duration) -> Self {
        let now = Instant::now();
        TrackedConnection {
            stream,
            activity: Arc::new(Activity {
                open_calls: AtomicUsize::new(0),
                idle_since: Mutex::new(now),
            }),
            idle_timeout,
            timer: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            settling_opt: None,
            idle: false,
            _slot: slot,
        }
    }

    /// Whether the connection has been idle for the timeout; otherwise the timer is armed for
    /// the next check, with `cx`'s waker.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> bool {
        while self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if self.activity.open_calls.load(Ordering::SeqCst) > 0 {
                self.settling_opt = None;
                self.timer.as_mut().reset(now + self.idle_timeout);
                continue;
            }
            let idle_since = self.activity.idle_since();
            let expiry = idle_since + self.idle_timeout;
            if now < expiry {
                self.settling_opt = None;
                self.timer.as_mut().reset(expiry);
                continue;
            }
            match self.settling_opt {
                Some(seen) if seen == idle_since => return true,
                _ => {
                    self.settling_opt = Some(idle_since);
                    self.timer.as_mut().reset(now + SETTLE);
                }
            }
        }
        false
    }
}

impl AsyncRead for TrackedConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.idle || this.poll_idle(cx) {
            if !this.idle {
                tracing::debug!("closing cogrpc connection idle for its timeout");
                this.idle = true;
            }
            // End of stream: hyper closes a connection whose peer stopped sending.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Connected for TrackedConnection {
    type ConnectInfo = CogrpcConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        CogrpcConnectInfo {
            remote_addr: self.stream.peer_addr().ok(),
            activity: Arc::clone(&self.activity),
        }
    }
}
