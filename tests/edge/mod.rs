//! Raw-socket clients for the edge-limit tests: slow and hostile HTTP clients need control over
//! every byte and pause, which no HTTP client library gives. Every wait has a deadline.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Bounds every read, so a broken server fails a test instead of hanging it.
pub const GUARD: Duration = Duration::from_secs(30);

/// A response head: status and headers (lower-cased names).
#[derive(Debug, Clone)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Connects to `port` on 127.0.0.1 from `source` (any 127.0.0.0/8 address works on Linux
/// loopback, so tests can play many source addresses).
pub async fn connect_from(source: IpAddr, port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .expect("bind source");
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("connect")
}

pub async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect")
}

/// A request head with `Connection: close`; `extra` lines end with `\r\n`.
pub fn head(method: &str, path: &str, extra: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n{extra}\r\n")
}

/// Reads until a whole response head arrived; `None` if the connection ended first.
pub async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<Head> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|window| window == b"\r\n\r\n") {
            return Some(parse_head(&raw[..end]));
        }
        let read = tokio::time::timeout(GUARD, stream.read(&mut chunk))
            .await
            .expect("the server neither answered nor closed");
        match read {
            Ok(0) | Err(_) => return None,
            Ok(count) => raw.extend_from_slice(&chunk[..count]),
        }
    }
}

fn parse_head(raw: &[u8]) -> Head {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Head { status, headers }
}

/// Waits until the server closes `stream` (reading and discarding whatever it sends); returns
/// how long that took, or `None` if it was still open at `deadline`.
pub async fn closed_within(
    stream: &mut (impl AsyncRead + Unpin),
    deadline: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        let remaining = deadline.checked_sub(started.elapsed())?;
        match tokio::time::timeout(remaining, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Whether `stream` is still open: nothing to read and no end of stream right now.
pub async fn still_open(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(50), stream.peek(&mut chunk))
        .await
        .is_err()
}

/// One whole request on a fresh connection from 127.0.0.1; returns the response head.
pub async fn request(port: u16, method: &str, path: &str, extra: &str, body: &[u8]) -> Head {
    request_from(
        IpAddr::from([127, 0, 0, 1]),
        port,
        method,
        path,
        extra,
        body,
    )
    .await
}

/// One whole request on a fresh connection from `source`; returns the response head.
pub async fn request_from(
    source: IpAddr,
    port: u16,
    method: &str,
    path: &str,
    extra: &str,
    body: &[u8],
) -> Head {
    let mut stream = connect_from(source, port).await;
    let extra = format!("{extra}content-length: {}\r\n", body.len());
    stream
        .write_all(head(method, path, &extra).as_bytes())
        .await
        .expect("write head");
    // The server may answer (429, 503) and close before reading the body.
    let _ = stream.write_all(body).await;
    read_head(&mut stream)
        .await
        .unwrap_or_else(|| panic!("{method} {path}: closed without an answer"))
}

/// Sends `head_text`, then one byte every `pause`, until the write fails (the server
/// closed) or `bytes` were sent. Runs until then; spawn it.
pub async fn trickle(
    mut stream: impl AsyncWrite + Unpin,
    head_text: String,
    bytes: usize,
    pause: Duration,
) {
    if stream.write_all(head_text.as_bytes()).await.is_err() {
        return;
    }
    for _ in 0..bytes {
        tokio::time::sleep(pause).await;
        if stream.write_all(b"a").await.is_err() {
            return;
        }
    }
}
