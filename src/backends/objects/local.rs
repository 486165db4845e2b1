//! Objects as files under a root directory (`file://<data_dir>/objects`).
//!
//! Why not `object_store`'s `LocalFileSystem`: it writes a staging file and renames it into place
//! without any fsync, so after a power cut a parcel we answered 202 for (or the old version of a
//! replaced one) can be empty or gone. Here `put` writes a hidden temporary file in the target
//! directory, flushes it, renames it over the key and flushes again — the POSIX recipe for a
//! durable atomic replace — with the flushes shared by concurrent puts (group commit, see
//! `local_batch`). The blocking file calls run on tokio's blocking pool.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::OnceCell;

use super::local_batch::ObjectWriter;
use super::local_small::{SmallObjects, INLINE_LIMIT};
use super::{validate_key, validate_prefix, ObjectStore, MAX_LIST, MAX_OBJECT_SIZE};
use crate::backends::error::BackendError;

/// An [`ObjectStore`] on the local file system.
#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    root: PathBuf,
    /// Started on the first `put`, inside the runtime that calls it.
    writer: Arc<OnceLock<ObjectWriter>>,
    /// Objects up to `INLINE_LIMIT`, opened on first use (opening is async).
    small: Arc<OnceCell<SmallObjects>>,
}

impl LocalObjectStore {
    /// Uses `root` (created if missing) as the store.
    pub fn open(root: &Path) -> Result<Self, BackendError> {
        fs::create_dir_all(root)
            .map_err(|e| BackendError::from_io(&format!("creating {}", root.display()), e))?;
        Ok(LocalObjectStore {
            root: root.to_path_buf(),
            writer: Arc::new(OnceLock::new()),
            small: Arc::new(OnceCell::new()),
        })
    }

    async fn small(&self) -> Result<&SmallObjects, BackendError> {
        self.small
            .get_or_try_init(|| SmallObjects::open(&self.root))
            .await
    }

    /// Removes the file of `key`, if any (no directory flush: see `delete`).
    async fn remove_file(&self, path: PathBuf) -> Result<(), BackendError> {
        blocking("deleting an object", move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BackendError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

async fn blocking<T: Send + 'static>(
    context: &'static str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackendError::internal(format!("{context}: task failed: {e}")))?
        .map_err(|e| BackendError::from_io(context, e))
}

/// The content of the file at `path`, `None` if there is none; refuses files over the object
/// size limit.
fn read_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let length = file.metadata()?.len();
    if length > MAX_OBJECT_SIZE as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "object over the size limit",
        ));
    }
    let mut body = Vec::with_capacity(length as usize);
    io::Read::read_to_end(
        &mut io::Read::take(file, MAX_OBJECT_SIZE as u64 + 1),
        &mut body,
    )?;
    Ok(Some(body))
}

/// Depth-first walk in key order: a directory sorts as its name plus `/`, which is where its
/// keys fall among its siblings' names.
fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    limit: usize,
    out: &mut Vec<String>,
) -> io::Result<()> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // temporary files
        }
        let is_dir = entry.file_type()?.is_dir();
        let sort_name = if is_dir { format!("{name}/") } else { name };
        entries.push((sort_name, entry.path(), is_dir));
    }
    entries.sort();
    for (_, path, is_dir) in entries {
        if out.len() >= limit {
            break;
        }
        let key = path
            .strip_prefix(root)
            .map_err(io::Error::other)?
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        if is_dir {
            // Descend only where keys with the prefix can be.
            let as_prefix = format!("{key}/");
            if as_prefix.starts_with(prefix) || prefix.starts_with(&as_prefix) {
                walk(root, &path, prefix, limit, out)?;
            }
        } else if key.starts_with(prefix) {
            out.push(key);
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        if body.len() > MAX_OBJECT_SIZE {
            return Err(BackendError::internal(format!(
                "object of {} bytes is over the limit of {MAX_OBJECT_SIZE}",
                body.len()
            )));
        }
        if body.len() <= INLINE_LIMIT {
            self.small().await?.put(key, body).await?;
            // A larger earlier version of the same key would otherwise shadow nothing but
            // linger; readers already prefer the table.
            return self.remove_file(path).await;
        }
        self.writer
            .get_or_init(|| ObjectWriter::spawn(self.root.clone()))
            .put(path, body)
            .await
            .map_err(|e| BackendError::from_io("writing an object", e))?;
        // Readers prefer the table: a smaller earlier version must go once the file is durable.
        self.small().await?.delete(key).await.map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        let path = self.path_of(key)?;
        if let Some(body) = self.small().await?.get(key).await? {
            return Ok(Some(body));
        }
        let read = blocking("reading an object", move || read_file(&path)).await?;
        Ok(read.map(Bytes::from))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Bytes>>, BackendError> {
        let paths = keys
            .iter()
            .map(|key| self.path_of(key))
            .collect::<Result<Vec<_>, _>>()?;
        let small = self.small().await?.get_many(keys).await?;
        let mut bodies: Vec<Option<Bytes>> =
            keys.iter().map(|key| small.get(key).cloned()).collect();
        // The rest are files (or missing): one trip to the blocking pool for all of them.
        let missing: Vec<(usize, PathBuf)> = bodies
            .iter()
            .zip(paths)
            .enumerate()
            .filter(|(_, (body, _))| body.is_none())
            .map(|(index, (_, path))| (index, path))
            .collect();
        if missing.is_empty() {
            return Ok(bodies);
        }
        let read = blocking("reading objects", move || {
            missing
                .into_iter()
                .map(|(index, path)| Ok((index, read_file(&path)?)))
                .collect::<io::Result<Vec<_>>>()
        })
        .await?;
        for (index, body) in read {
            bodies[index] = body.map(Bytes::from);
        }
        Ok(bodies)
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        // No directory fsync: callers delete the metadata entry (durably) first, so an object a
        // crash brings back is unreachable garbage for housekeeping, never a resurrected parcel,
        // and an fsync per acknowledgement would cap collection at a few hundred parcels a second.
        if self.small().await?.delete(key).await? {
            return Ok(());
        }
        self.remove_file(path).await
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let owned_prefix = prefix.to_string();
        let limit = limit.min(MAX_LIST);
        let mut keys = blocking("listing objects", move || {
            let mut keys = Vec::new();
            walk(&root, &root, &owned_prefix, limit, &mut keys)?;
            Ok(keys)
        })
        .await?;
        keys.extend(self.small().await?.list(prefix, limit).await?);
        keys.sort();
        keys.dedup();
        keys.truncate(limit);
        Ok(keys)
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        let root = self.root.clone();
        blocking("object store health check", move || {
            // Writability, not just existence: a read-only remount must fail readiness.
            let mut file = File::create(root.join(".health"))?;
            file.write_all(b"ok")?;
            file.sync_all()
        })
        .await?;
        self.small().await?.health_check().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::LocalObjectStore;
    use crate::backends::objects::ObjectStore;

    async fn open() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalObjectStore::open(&dir.path().join("objects")).expect("open");
        (dir, Arc::new(store))
    }

    crate::objects_conformance!(open());

    fn large(byte: u8) -> bytes::Bytes {
        vec![byte; super::INLINE_LIMIT + 1].into()
    }

    #[tokio::test]
    async fn no_temporary_files_are_left_behind() {
        let (dir, store) = open().await;
        store.put("a/b", large(1)).await.expect("put");
        store.put("a/b", large(2)).await.expect("replace");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("objects/a"))
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec!["b"]);
    }

    #[tokio::test]
    async fn small_objects_stay_out_of_the_file_tree() {
        let (dir, store) = open().await;
        store.put("s/k", "small".into()).await.expect("put");
        assert!(!dir.path().join("objects/s/k").exists());
        assert_eq!(store.get("s/k").await.expect("get"), Some("small".into()));
        assert_eq!(
            store.list("", 10).await.expect("list"),
            vec!["s/k".to_string()]
        );
    }

    #[tokio::test]
    async fn a_key_can_change_size_class_both_ways() {
        let (dir, store) = open().await;
        store.put("c/k", "small".into()).await.expect("small");
        store.put("c/k", large(7)).await.expect("large");
        assert_eq!(store.get("c/k").await.expect("get"), Some(large(7)));
        assert!(dir.path().join("objects/c/k").exists());
        store.put("c/k", "small again".into()).await.expect("small");
        assert_eq!(
            store.get("c/k").await.expect("get"),
            Some("small again".into())
        );
        assert!(!dir.path().join("objects/c/k").exists());
        assert_eq!(
            store.list("c/", 10).await.expect("list"),
            vec!["c/k".to_string()]
        );
        store.delete("c/k").await.expect("delete");
        assert_eq!(store.get("c/k").await.expect("get"), None);
    }
}
