//! Group commit for the local object store.
//!
//! The per-object recipe (write, fsync the file, rename, fsync the directory) costs two fsyncs
//! per parcel; on the machines we measured that is most of the gateway's CPU (kernel time) and
//! caps ingest near 2,500 parcels a second. Concurrent `put`s are therefore handed to one task
//! that writes every waiting object to its temporary file, makes them all durable with one
//! `syncfs`, renames them into place, and makes the renames durable with a second `syncfs`.
//! Each caller hears back only after the second one, so the contract (durable, atomic replace)
//! is the same; only the number of flushes changes. The queue is bounded: bursts wait.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// Puts waiting for the writer at most; callers wait past it.
const QUEUE_CAPACITY: usize = 1024;
/// Most objects in one batch.
const MAX_BATCH: usize = 256;
/// Most bytes in one batch (a few large parcels make a batch on their own).
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

struct PutOp {
    path: PathBuf,
    body: Bytes,
    reply: oneshot::Sender<io::Result<()>>,
}

/// The handle `put` uses; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub struct ObjectWriter {
    sender: mpsc::Sender<PutOp>,
}

impl ObjectWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(root: PathBuf) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(root, receiver));
        ObjectWriter { sender }
    }

    /// Writes `body` to `path` durably (see the module docs), replacing any previous object.
    pub async fn put(&self, path: PathBuf, body: Bytes) -> io::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(PutOp { path, body, reply })
            .await
            .map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> io::Error {
    io::Error::other("the object writer stopped")
}

async fn run(root: PathBuf, mut receiver: mpsc::Receiver<PutOp>) {
    while let Some(first) = receiver.recv().await {
        let mut bytes = first.body.len();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match receiver.try_recv() {
                Ok(op) => {
                    bytes += op.body.len();
                    batch.push(op);
                }
                Err(_) => break,
            }
        }
        let root = root.clone();
        let (ops, results): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|op| (op.reply, (op.path, op.body)))
            .unzip();
        let written = tokio::task::spawn_blocking(move || write_batch(&root, results)).await;
        match written {
            Ok(results) => {
                for (reply, result) in ops.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(join) => {
                for reply in ops {
                    let _ = reply.send(Err(io::Error::other(format!(
                        "object batch failed: {join}"
                    ))));
                }
            }
        }
    }
}

/// Writes every object of the batch; returns one result per object, in order.
fn write_batch(root: &Path, objects: Vec<(PathBuf, Bytes)>) -> Vec<io::Result<()>> {
    let mut staged: Vec<io::Result<(PathBuf, PathBuf)>> = objects
        .into_iter()
        .map(|(path, body)| stage(root, &path, &body).map(|temporary| (temporary, path)))
        .collect();
    // One flush makes every staged file's content durable before any of them is renamed over a
    // key: a crash then leaves either the old object or the complete new one.
    if let Err(error) = sync_filesystem(root) {
        return abandon(staged, &error);
    }
    for entry in staged.iter_mut() {
        if let Ok((temporary, path)) = entry {
            if let Err(error) = fs::rename(&*temporary, &*path) {
                let _ = fs::remove_file(&*temporary);
                *entry = Err(error);
            }
        }
    }
    // The second flush makes the renames (and any directories created) durable.
    if let Err(error) = sync_filesystem(root) {
        return staged
            .into_iter()
            .map(|_| Err(io::Error::new(error.kind(), error.to_string())))
            .collect();
    }
    staged.into_iter().map(|entry| entry.map(|_| ())).collect()
}

/// Writes `body` to a hidden temporary file beside `path` (creating directories as needed).
fn stage(root: &Path, path: &Path, body: &[u8]) -> io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(root);
    fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let written = File::create(&temporary).and_then(|mut file| file.write_all(body));
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(temporary)
}

/// Flushes the whole file system holding `root` (data and metadata), as one `fsync` per file
/// would, but in one call.
fn sync_filesystem(root: &Path) -> io::Result<()> {
    let directory = File::open(root)?;
    rustix::fs::syncfs(&directory).map_err(io::Error::from)
}

fn abandon(staged: Vec<io::Result<(PathBuf, PathBuf)>>, error: &io::Error) -> Vec<io::Result<()>> {
    staged
        .into_iter()
        .map(|entry| {
            if let Ok((temporary, _)) = entry {
                let _ = fs::remove_file(temporary);
            }
            Err(io::Error::new(error.kind(), error.to_string()))
        })
        .collect()
}
