//! Layering, strictness, redaction and parsing of the whole configuration.

use std::collections::HashMap;
use std::path::PathBuf;

use super::*;

type TestResult = anyhow::Result<()>;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

fn with_file(path: PathBuf) -> ServeArgs {
    ServeArgs {
        config: Some(path),
        ..ServeArgs::default()
    }
}

#[test]
fn defaults_need_no_input() -> TestResult {
    let config = GatewayConfig::load(&ServeArgs::default(), &no_env)?;
    assert_eq!(config.listen.poweb.to_string(), "127.0.0.1:8080");
    assert_eq!(config.listen.pohttp.to_string(), "127.0.0.1:8081");
    assert_eq!(config.listen.cogrpc.to_string(), "127.0.0.1:8082");
    assert_eq!(config.listen.admin.to_string(), "127.0.0.1:8090");
    assert_eq!(config.data_dir, PathBuf::from("./awala-data"));
    assert_eq!(config.roles.len(), 4);
    assert!(config.internet_address_defaulted);
    assert_eq!(config.internet_address, DEFAULT_INTERNET_ADDRESS);
    assert!(config.dnssec);
    assert_eq!(config.limits.future_message_tolerance().as_secs(), 300);
    assert_eq!(config.limits.outbound_retry_max_backoff().as_secs(), 900);
    assert_eq!(config.limits.mailbox_overload, MailboxOverload::Block);
    Ok(())
}

#[test]
fn each_layer_overrides_the_previous() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(
        &dir,
        r#"
version = 1
internet_address = "file.example"
data_dir = "/from/file"
roles = ["poweb"]
[listen]
poweb = "0.0.0.0:1000"
pohttp = "0.0.0.0:1001"
cogrpc = "0.0.0.0:1002"
[log]
level = "debug"
"#,
    )?;
    let env = env_of(&[
        ("AWALA_INTERNET_ADDRESS", "env.example"),
        ("AWALA_POHTTP_LISTEN", "0.0.0.0:2001"),
        ("AWALA_COGRPC_LISTEN", "0.0.0.0:2002"),
        ("AWALA_LOG_LEVEL", "warn"),
        ("AWALA_ROLES", "pohttp,workers"),
    ]);
    let args = ServeArgs {
        cogrpc_listen: Some("0.0.0.0:3002".to_owned()),
        roles: Some("cogrpc".to_owned()),
        ..with_file(path)
    };
    let config = GatewayConfig::load(&args, &env)?;
    assert_eq!(
        config.data_dir,
        PathBuf::from("/from/file"),
        "file over defaults"
    );
    assert_eq!(
        config.listen.poweb.to_string(),
        "0.0.0.0:1000",
        "file over defaults"
    );
    assert_eq!(
        config.listen.admin.to_string(),
        "127.0.0.1:8090",
        "default kept"
    );
    assert_eq!(config.internet_address, "env.example", "env over file");
    assert!(!config.internet_address_defaulted);
    assert_eq!(
        config.listen.pohttp.to_string(),
        "0.0.0.0:2001",
        "env over file"
    );
    assert_eq!(config.log.level, LogLevel::Warn, "env over file");
    assert_eq!(
        config.listen.cogrpc.to_string(),
        "0.0.0.0:3002",
        "flag over env"
    );
    assert_eq!(
        config.roles,
        [Role::Cogrpc].into_iter().collect(),
        "flag over env"
    );
    Ok(())
}

#[test]
fn config_file_can_come_from_the_environment() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(&dir, "version = 1\ninternet_address = \"gw.example\"\n")?;
    let path_text = path.display().to_string();
    let config = GatewayConfig::load(
        &ServeArgs::default(),
        &env_of(&[("AWALA_CONFIG", &path_text)]),
    )?;
    assert_eq!(config.internet_address, "gw.example");
    assert!(!config.internet_address_defaulted);
    Ok(())
}

#[test]
fn unknown_keys_are_rejected() -> TestResult {
    let dir = tempfile::tempdir()?;
    for text in [
        "version = 1\nlisten_poweb = \"0.0.0.0:1\"\n",
        "version = 1\n[listen]\npowebb = \"0.0.0.0:1\"\n",
        "version = 1\n[limits]\nmax_parcels = 3\n",
    ] {
        let path = write_config(&dir, text)?;
        let error = GatewayConfig::load(&with_file(path), &no_env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("unknown field"), "{text}: {error}");
    }
    Ok(())
}

#[test]
fn version_is_required_and_checked() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(&dir, "data_dir = \"/x\"\n")?;
    let result = GatewayConfig::load(&with_file(path), &no_env);
    assert!(matches!(result, Err(ConfigError::MissingVersion { .. })));
    let path = write_config(&dir, "version = 2\n")?;
    let result = GatewayConfig::load(&with_file(path), &no_env);
    assert!(matches!(
        result,
        Err(ConfigError::UnsupportedVersion { .. })
    ));
    Ok(())
}

fn load_error(args: &ServeArgs, env: &[(&str, &str)]) -> String {
    GatewayConfig::load(args, &env_of(env))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn bad_values_name_the_key_and_layer() -> TestResult {
    let error = load_error(&ServeArgs::default(), &[("AWALA_POWEB_LISTEN", "nowhere")]);
    assert!(error.contains("`listen.poweb`"), "{error}");
    assert!(error.contains("AWALA_POWEB_LISTEN"), "{error}");

    let args = ServeArgs {
        dns_server: Some("dns.example:53".to_owned()),
        ..ServeArgs::default()
    };
    let error = load_error(&args, &[]);
    assert!(
        error.contains("`dns_server`") && error.contains("--dns-server"),
        "{error}"
    );

    let error = load_error(
        &ServeArgs::default(),
        &[("AWALA_LIMITS_QUEUE_CAPACITY", "-1")],
    );
    assert!(error.contains("`limits.queue_capacity`"), "{error}");

    let error = load_error(&ServeArgs::default(), &[("AWALA_LOG_FORMAT", "xml")]);
    assert!(error.contains("`log.format`"), "{error}");

    let dir = tempfile::tempdir()?;
    let path = write_config(&dir, "version = 1\n[listen]\nadmin = \"nowhere\"\n")?;
    let error = load_error(&with_file(path.clone()), &[]);
    assert!(error.contains("admin"), "{error}");
    assert!(error.contains(&path.display().to_string()), "{error}");

    let path = write_config(&dir, "version = 1\n[limits]\npong_timeout_seconds = 0\n")?;
    let error = load_error(&with_file(path.clone()), &[]);
    assert!(error.contains("`limits.pong_timeout_seconds`"), "{error}");
    assert!(error.contains("config file"), "{error}");

    let path = write_config(&dir, "version = 1\ninternet_address = \"not a domain\"\n")?;
    let error = load_error(&with_file(path), &[]);
    assert!(error.contains("`internet_address`"), "{error}");
    Ok(())
}

#[test]
fn routes_merge_across_layers_and_are_validated() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(
        &dir,
        "version = 1\n[pohttp_routes]\n\"a.test\" = \"https://a.file/\"\n\"b.test\" = \"https://b.file/\"\n",
    )?;
    let args = ServeArgs {
        pohttp_routes: vec!["b.test=http://b.flag:81/".to_owned()],
        ..with_file(path)
    };
    let env = env_of(&[(
        "AWALA_POHTTP_ROUTES",
        "c.test=https://c.env/,a.test=https://a.env/",
    )]);
    let config = GatewayConfig::load(&args, &env)?;
    let routes: Vec<(&str, &str)> = config
        .pohttp_routes
        .iter()
        .map(|(a, u)| (a.as_str(), u.url().as_str()))
        .collect();
    assert_eq!(
        routes,
        [
            ("a.test", "https://a.env/"),
            ("b.test", "http://b.flag:81/"),
            ("c.test", "https://c.env/"),
        ]
    );

    let path = write_config(
        &dir,
        "version = 1\n[pohttp_routes]\n\"a.test\" = \"ftp://a/\"\n",
    )?;
    let error = load_error(&with_file(path), &[]);
    assert!(
        error.contains("`pohttp_routes`") && error.contains("ftp"),
        "{error}"
    );

    let args = ServeArgs {
        pohttp_routes: vec!["a.test".to_owned()],
        ..ServeArgs::default()
    };
    let error = load_error(&args, &[]);
    assert!(
        error.contains("--pohttp-route") && error.contains("ADDR=URL"),
        "{error}"
    );
    Ok(())
}

#[test]
fn egress_allow_merges_across_layers_and_is_validated() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(
        &dir,
        "version = 1\negress_allow = [\"10.0.0.0/8\", \"PDC.Corp.Example\"]\n",
    )?;
    let args = ServeArgs {
        egress_allow: vec!["127.0.0.1".to_owned()],
        ..with_file(path)
    };
    let env = env_of(&[("AWALA_EGRESS_ALLOW", "fd00::/8,10.0.0.0/8")]);
    let config = GatewayConfig::load(&args, &env)?;
    let entries: Vec<String> = config
        .egress_allow
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        entries,
        ["10.0.0.0/8", "pdc.corp.example", "fd00::/8", "127.0.0.1/32"]
    );

    let path = write_config(&dir, "version = 1\negress_allow = [\"10.0.0.0/40\"]\n")?;
    let error = load_error(&with_file(path), &[]);
    assert!(
        error.contains("egress_allow") && error.contains("prefix length"),
        "{error}"
    );
    let error = load_error(&ServeArgs::default(), &[("AWALA_EGRESS_ALLOW", "a b")]);
    assert!(
        error.contains("`egress_allow`") && error.contains("AWALA_EGRESS_ALLOW"),
        "{error}"
    );
    let args = ServeArgs {
        egress_allow: vec!["0x7f.1".to_owned()],
        ..ServeArgs::default()
    };
    let error = load_error(&args, &[]);
    assert!(error.contains("--egress-allow"), "{error}");
    Ok(())
}

#[test]
fn roles_parse() {
    assert_eq!(parse_roles("all").map(|r| r.len()), Ok(4));
    assert_eq!(
        parse_roles(" PoWeb , workers ,"),
        Ok([Role::Poweb, Role::Workers].into_iter().collect())
    );
    assert!(parse_roles("poweb,smtp").is_err_and(|e| e.contains("smtp")));
    assert!(parse_roles(",").is_err());
    let error = load_error(&ServeArgs::default(), &[("AWALA_ROLES", "web")]);
    assert!(
        error.contains("`roles`") && error.contains("AWALA_ROLES"),
        "{error}"
    );
}

#[test]
fn secrets_are_redacted_when_printed() -> TestResult {
    let env = env_of(&[
        (
            "AWALA_DATABASE_URL",
            "postgres://awala:s3cret@db:5432/awala",
        ),
        ("AWALA_QUEUE_URL", "amqp://guest:guest@rabbit:5672/%2f"),
        (
            "AWALA_POHTTP_ROUTES",
            "a.test=https://user:routepass@a.test/",
        ),
    ]);
    let config = GatewayConfig::load(&ServeArgs::default(), &env)?;
    let printed = config.to_redacted_toml()?;
    let debugged = format!("{config:?}");
    for output in [&printed, &debugged] {
        assert!(!output.contains("s3cret"), "{output}");
        assert!(!output.contains("guest@"), "{output}");
        assert!(!output.contains("routepass"), "{output}");
    }
    assert!(
        printed.contains("postgres://awala:REDACTED@db:5432/awala"),
        "{printed}"
    );
    assert!(printed.contains("version = 1"), "{printed}");
    // The real values are still there for the code that connects.
    let database = config.backends.database_url.as_ref().map(Secret::expose);
    assert_eq!(database, Some("postgres://awala:s3cret@db:5432/awala"));
    Ok(())
}

#[test]
fn printed_config_without_secrets_reloads_identically() -> TestResult {
    let args = ServeArgs {
        internet_address: Some("gw.example".to_owned()),
        pohttp_routes: vec!["a.test=https://a.test/".to_owned()],
        egress_allow: vec!["10.0.0.0/8".to_owned(), "pdc.corp.example".to_owned()],
        dns_server: Some("9.9.9.9:53".to_owned()),
        ..ServeArgs::default()
    };
    let config = GatewayConfig::load(&args, &no_env)?;
    let printed = config.to_redacted_toml()?;
    let reloaded = GatewayConfig::from_toml(std::path::Path::new("printed"), &printed)?;
    assert_eq!(reloaded, config, "{printed}");
    Ok(())
}

#[cfg(unix)]
#[test]
fn secret_files_are_read_and_must_be_private() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let secret = dir.path().join("database-url");
    std::fs::write(&secret, "postgres://u:filepass@db/awala\n")?;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))?;
    let secret_text = secret.display().to_string();
    let config_path = write_config(
        &dir,
        &format!("version = 1\n[backends]\ndatabase_url_file = {secret_text:?}\n"),
    )?;
    let config = GatewayConfig::load(&with_file(config_path.clone()), &no_env)?;
    let database = config.backends.database_url.as_ref().map(Secret::expose);
    assert_eq!(database, Some("postgres://u:filepass@db/awala"));
    let printed = config.to_redacted_toml()?;
    assert!(!printed.contains("filepass"), "{printed}");
    assert!(printed.contains("database_url_file") && !printed.contains("\ndatabase_url ="));

    // An env value replaces the file named by an earlier layer.
    let env = env_of(&[("AWALA_DATABASE_URL", "sqlite:///x")]);
    let config = GatewayConfig::load(&with_file(config_path.clone()), &env)?;
    let database = config.backends.database_url.as_ref().map(Secret::expose);
    assert_eq!(database, Some("sqlite:///x"));

    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640))?;
    let result = GatewayConfig::load(&with_file(config_path), &no_env);
    assert!(
        matches!(
            result,
            Err(ConfigError::SecretFile {
                source: SecretFileError::TooOpen { .. },
                ..
            })
        ),
        "{result:?}"
    );

    let both = write_config(
        &dir,
        &format!(
            "version = 1\n[backends]\ndatabase_url = \"sqlite:///x\"\ndatabase_url_file = {secret_text:?}\n"
        ),
    )?;
    let result = GatewayConfig::load(&with_file(both), &no_env);
    assert!(matches!(result, Err(ConfigError::ConflictingSecret { .. })));
    Ok(())
}

#[test]
fn empty_env_values_count_as_unset() -> TestResult {
    let config = GatewayConfig::load(
        &ServeArgs::default(),
        &env_of(&[("AWALA_POWEB_LISTEN", "")]),
    )?;
    assert_eq!(config.listen.poweb.to_string(), "127.0.0.1:8080");
    Ok(())
}

#[test]
fn edge_limits_come_from_env_and_refuse_zero_deadlines() -> TestResult {
    let config = GatewayConfig::load(
        &ServeArgs::default(),
        &env_of(&[
            ("AWALA_LIMITS_HTTP_BODY_TIMEOUT_SECONDS", "7"),
            ("AWALA_LIMITS_MAX_COGRPC_CALLS", "3"),
            ("AWALA_LIMITS_REGISTRATION_CONCURRENCY", "0"),
        ]),
    )?;
    assert_eq!(config.limits.http_body_timeout().as_secs(), 7);
    assert_eq!(config.limits.http_header_timeout().as_secs(), 10);
    assert_eq!(config.limits.max_cogrpc_calls, 3);
    assert_eq!(config.limits.registration_concurrency, 0, "0: one per core");
    // Zero would switch a deadline off (actix-web reads 0 as "none").
    for variable in [
        "AWALA_LIMITS_HTTP_HEADER_TIMEOUT_SECONDS",
        "AWALA_LIMITS_HTTP_BODY_TIMEOUT_SECONDS",
        "AWALA_LIMITS_COGRPC_IDLE_TIMEOUT_SECONDS",
        "AWALA_LIMITS_REGISTRATION_RATE_PER_MINUTE",
    ] {
        let error = load_error(&ServeArgs::default(), &[(variable, "0")]);
        assert!(error.contains("greater than zero"), "{variable}: {error}");
    }
    Ok(())
}

#[test]
fn backend_flags_override_env_and_print_redacted() -> TestResult {
    let env = env_of(&[
        ("AWALA_DATABASE_URL", "sqlite:///env.sqlite"),
        ("AWALA_OBJECT_STORE_URL", "file:///env-objects"),
        ("AWALA_QUEUE_URL", "embedded://"),
        ("AWALA_PUBSUB_URL", "memory://"),
    ]);
    let args = ServeArgs {
        database: Some("postgres://awala:flagpass@db:5432/awala".to_owned()),
        objects: Some("s3://parcels?secret_key=flagkey".to_owned()),
        queue: Some("amqp://guest:mqpass@mq:5672/%2f".to_owned()),
        pubsub: Some("redis://:cachepass@cache:6379".to_owned()),
        ..ServeArgs::default()
    };
    let config = GatewayConfig::load(&args, &env)?;
    let backends = &config.backends;
    let exposed = |secret: &Option<Secret>| secret.as_ref().map(|s| s.expose().to_owned());
    assert_eq!(
        exposed(&backends.database_url).as_deref(),
        Some("postgres://awala:flagpass@db:5432/awala")
    );
    assert_eq!(
        exposed(&backends.object_store_url).as_deref(),
        Some("s3://parcels?secret_key=flagkey")
    );
    assert_eq!(
        exposed(&backends.queue_url).as_deref(),
        Some("amqp://guest:mqpass@mq:5672/%2f")
    );
    assert_eq!(
        exposed(&backends.pubsub_url).as_deref(),
        Some("redis://:cachepass@cache:6379")
    );
    let printed = config.to_redacted_toml()?;
    for secret in ["flagpass", "flagkey", "mqpass", "cachepass"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("postgres://awala:REDACTED@db:5432/awala"));

    // A bad flag value names the flag.
    let error = load_error(
        &ServeArgs {
            kek_file: Some(PathBuf::from("/k")),
            ..ServeArgs::default()
        },
        &[("AWALA_KEK", "short")],
    );
    assert!(
        error.contains("keys.kek") && error.contains("AWALA_KEK") && !error.contains("short"),
        "{error}"
    );
    Ok(())
}

#[test]
fn kek_sources_come_from_file_env_and_flags_but_the_key_never_from_toml() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_config(&dir, "version = 1\n[keys]\nkek_file = \"/etc/awala/kek\"\n")?;
    let config = GatewayConfig::load(&with_file(path.clone()), &no_env)?;
    assert_eq!(config.keys.kek_file, Some(PathBuf::from("/etc/awala/kek")));
    assert_eq!(config.keys.kek, None);

    let env = env_of(&[
        ("AWALA_KEK_FILE", "/run/env-kek"),
        (
            "AWALA_KEK",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ),
    ]);
    let config = GatewayConfig::load(&with_file(path.clone()), &env)?;
    assert_eq!(config.keys.kek_file, Some(PathBuf::from("/run/env-kek")));
    let printed = config.to_redacted_toml()?;
    assert!(!printed.contains("0e0f"), "{printed}");
    assert!(!printed.contains("\nkek ="), "{printed}");
    assert!(printed.contains("kek_file = \"/run/env-kek\""), "{printed}");

    let args = ServeArgs {
        kek_file: Some(PathBuf::from("/flag/kek")),
        ..with_file(path)
    };
    let config = GatewayConfig::load(&args, &env)?;
    assert_eq!(config.keys.kek_file, Some(PathBuf::from("/flag/kek")));
    assert!(config.keys.kek.is_some(), "the value stays: it wins later");

    // The key itself in a config file would be one more copy of it: refused.
    let inline = write_config(&dir, "version = 1\n[keys]\nkek = \"AAAA\"\n")?;
    let error = load_error(&with_file(inline), &[]);
    assert!(error.contains("kek"), "{error}");
    Ok(())
}
