//! What an `s3://` object-store URL and the AWS credential variables say, parsed apart from any
//! I/O so the rules can be tested on strings.
//!
//! `s3://BUCKET?endpoint=http://HOST:PORT&region=REGION&prefix=SEGMENTS`: requests are always
//! path-style (`ENDPOINT/BUCKET/KEY`, which every S3-compatible server answers), plain HTTP is
//! allowed only when the endpoint says `http://`, and `prefix` namespaces every key so several
//! gateways (or test runs) can share a bucket; `inline_max=BYTES` sets how large a body may be
//! kept in the database instead (see [`super::inline`]). Credentials come from `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY` (optionally `AWS_SESSION_TOKEN`), or from files named by the same
//! variables with `_FILE` appended; without any, the store falls back to instance credentials.

use std::path::Path;

use super::validate_prefix;
use crate::backends::error::BackendError;

/// Region used when the URL names none (what S3-compatible servers accept by default).
pub const DEFAULT_REGION: &str = "us-east-1";

/// The parts of an `s3://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// `None`: AWS's own endpoint for the region.
    pub endpoint: Option<String>,
    pub region: String,
    /// Key namespace without a trailing slash; `None` for the bucket root.
    pub prefix: Option<String>,
    pub allow_http: bool,
    /// Bodies up to this size go in the database beside a PostgreSQL or MongoDB metadata store
    /// (`inline_max=`; 0 sends every body to the bucket). See [`super::inline`].
    pub inline_max: usize,
}

/// Largest `inline_max` accepted: database rows are not meant for parcels of megabytes.
pub const MAX_INLINE_MAX: usize = 1024 * 1024;

impl S3Config {
    /// Parses `s3://BUCKET?…`; unknown query parameters are refused, so a typo does not silently
    /// select AWS's endpoint.
    pub fn parse(raw: &str) -> Result<S3Config, BackendError> {
        let invalid = |why: &str| BackendError::internal(format!("invalid s3 url: {why}"));
        let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        if url.scheme() != "s3" {
            return Err(invalid("the scheme is not `s3`"));
        }
        let bucket = url.host_str().unwrap_or_default().to_string();
        if bucket.is_empty() {
            return Err(invalid("no bucket (expected s3://BUCKET?…)"));
        }
        if !url.path().is_empty() && url.path() != "/" {
            return Err(invalid(
                "a path after the bucket; use `prefix=` to namespace keys",
            ));
        }
        if url.username() != "" || url.password().is_some() || url.port().is_some() {
            return Err(invalid(
                "credentials or a port in the url; use AWS_* variables and `endpoint=`",
            ));
        }
        let mut config = S3Config {
            bucket,
            endpoint: None,
            region: DEFAULT_REGION.to_string(),
            prefix: None,
            allow_http: false,
            inline_max: super::inline::DEFAULT_INLINE_MAX,
        };
        for (name, value) in url.query_pairs() {
            match &*name {
                "endpoint" => {
                    let endpoint = url::Url::parse(&value)
                        .map_err(|e| invalid(&format!("endpoint {value:?}: {e}")))?;
                    match endpoint.scheme() {
                        "http" => config.allow_http = true,
                        "https" => {}
                        other => return Err(invalid(&format!("endpoint scheme `{other}`"))),
                    }
                    config.endpoint = Some(value.trim_end_matches('/').to_string());
                }
                "region" if !value.is_empty() => config.region = value.into_owned(),
                "prefix" => {
                    let prefix = value.trim_matches('/');
                    if !prefix.is_empty() {
                        validate_prefix(prefix)?;
                        config.prefix = Some(prefix.to_string());
                    }
                }
                "inline_max" => {
                    config.inline_max = value
                        .parse()
                        .ok()
                        .filter(|size| *size <= MAX_INLINE_MAX)
                        .ok_or_else(|| {
                        invalid(&format!(
                            "inline_max {value:?} is not a size in bytes up to {MAX_INLINE_MAX}"
                        ))
                    })?;
                }
                other => return Err(invalid(&format!("unknown parameter `{other}`"))),
            }
        }
        Ok(config)
    }

    /// `key` as stored in the bucket.
    pub fn full_key(&self, key: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}/{key}"),
            None => key.to_string(),
        }
    }

    /// `full` with the namespace removed; `None` if it lies outside the namespace.
    pub fn relative_key<'a>(&self, full: &'a str) -> Option<&'a str> {
        match &self.prefix {
            Some(prefix) => full.strip_prefix(prefix.as_str())?.strip_prefix('/'),
            None => Some(full),
        }
    }
}

/// Static credentials for request signing.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl S3Credentials {
    /// Credentials from the process environment (see the module docs).
    pub fn from_env() -> Result<Option<S3Credentials>, BackendError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Credentials from `lookup` (an environment), reading `*_FILE` variables' files.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<S3Credentials>, BackendError> {
        let read = |name: &str| -> Result<Option<String>, BackendError> {
            let direct = lookup(name).filter(|value| !value.is_empty());
            let file = lookup(&format!("{name}_FILE")).filter(|value| !value.is_empty());
            match (direct, file) {
                (Some(_), Some(_)) => Err(BackendError::internal(format!(
                    "both {name} and {name}_FILE are set; set one"
                ))),
                (Some(value), None) => Ok(Some(value)),
                (None, Some(path)) => read_secret_file(Path::new(&path))
                    .map(Some)
                    .map_err(|why| BackendError::internal(format!("{name}_FILE {path}: {why}"))),
                (None, None) => Ok(None),
            }
        };
        let id = read("AWS_ACCESS_KEY_ID")?;
        let secret = read("AWS_SECRET_ACCESS_KEY")?;
        let session_token = read("AWS_SESSION_TOKEN")?;
        match (id, secret) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Some(S3Credentials {
                access_key_id,
                secret_access_key,
                session_token,
            })),
            (None, None) => Ok(None),
            _ => Err(BackendError::internal(
                "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE forms) \
                 is set; set both",
            )),
        }
    }
}

/// Reads a secret file, refusing one that group or others may read. The same rule as the
/// config's `*_file` secrets (backends do not depend on the config module, hence the copy).
fn read_secret_file(path: &Path) -> Result<String, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "readable by group or others (mode {mode:o}); run `chmod 600` on it"
            ));
        }
    }
    let content = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let value = content.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err("empty".to_string());
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{S3Config, S3Credentials};

    #[test]
    fn parses_bucket_endpoint_region_and_prefix() {
        let config = S3Config::parse(
            "s3://awala-test?endpoint=http://127.0.0.1:9000&region=eu-west-2&prefix=gw1/run",
        )
        .expect("parse");
        assert_eq!(
            config,
            S3Config {
                bucket: "awala-test".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "eu-west-2".into(),
                prefix: Some("gw1/run".into()),
                allow_http: true,
                inline_max: crate::backends::objects::inline::DEFAULT_INLINE_MAX,
            }
        );
        let off = S3Config::parse("s3://b?inline_max=0").expect("parse");
        assert_eq!(off.inline_max, 0);
        assert_eq!(config.full_key("a/b"), "gw1/run/a/b");
        assert_eq!(config.relative_key("gw1/run/a/b"), Some("a/b"));
        assert_eq!(config.relative_key("gw1/running/a"), None);

        let aws = S3Config::parse("s3://bucket").expect("parse");
        assert_eq!(aws.region, super::DEFAULT_REGION);
        assert_eq!(aws.full_key("k"), "k");
        assert_eq!(
            (aws.endpoint, aws.prefix, aws.allow_http),
            (None, None, false)
        );
        let https = S3Config::parse("s3://b?endpoint=https://s3.example/").expect("parse");
        assert_eq!(https.endpoint.as_deref(), Some("https://s3.example"));
        assert!(!https.allow_http);
    }

    #[test]
    fn refuses_what_it_would_misread() {
        for url in [
            "s3://",
            "s3:///key",
            "s3://bucket/path",
            "s3://bucket?endpont=http://x",
            "s3://bucket?inline_max=big",
            "s3://bucket?inline_max=-1",
            "s3://bucket?inline_max=1048577",
            "s3://bucket?endpoint=ftp://x",
            "s3://bucket?prefix=../up",
            "s3://key:secret@bucket",
            "file:///bucket",
        ] {
            assert!(S3Config::parse(url).is_err(), "{url}");
        }
    }

    fn lookup(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn credentials_come_from_variables_or_private_files() {
        let direct = S3Credentials::from_lookup(lookup(&[
            ("AWS_ACCESS_KEY_ID", "id".into()),
            ("AWS_SECRET_ACCESS_KEY", "secret".into()),
        ]))
        .expect("read")
        .expect("some");
        assert!(!format!("{direct:?}").contains("secret"));
        assert_eq!(
            (direct.access_key_id.as_str(), direct.session_token),
            ("id", None)
        );
        assert_eq!(S3Credentials::from_lookup(lookup(&[])).expect("read"), None);
        let half = S3Credentials::from_lookup(lookup(&[("AWS_ACCESS_KEY_ID", "id".into())]));
        assert!(half.is_err());

        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-file\n").expect("write");
        let vars = [
            ("AWS_ACCESS_KEY_ID", "id".to_string()),
            ("AWS_SECRET_ACCESS_KEY_FILE", file.display().to_string()),
        ];
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let open = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(&file, open).expect("chmod");
            let error = S3Credentials::from_lookup(lookup(&vars)).expect_err("world-readable");
            assert!(error.message.contains("chmod 600"), "{error}");
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(&file, private).expect("chmod");
        }
        let from_file = S3Credentials::from_lookup(lookup(&vars))
            .expect("read")
            .expect("some");
        assert_eq!(from_file.secret_access_key, "from-file");
        let both = [
            ("AWS_ACCESS_KEY_ID", "id".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "x".to_string()),
            ("AWS_SECRET_ACCESS_KEY_FILE", file.display().to_string()),
        ];
        assert!(S3Credentials::from_lookup(lookup(&both)).is_err());
    }
}
