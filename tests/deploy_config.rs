//! The configs shipped in deploy/ load with the gateway's own config loader and say what their
//! comments promise: the example TOML files and the TOML the Helm chart puts in its ConfigMap.

use std::path::{Path, PathBuf};

use awala_gateway::config::{parse_roles, GatewayConfig, Role, Secret, ServeArgs};

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

/// Loads a config file through every layer (file, then validation), with no environment.
fn load(path: &Path) -> GatewayConfig {
    let args = ServeArgs {
        config: Some(path.to_owned()),
        ..ServeArgs::default()
    };
    GatewayConfig::load(&args, &|_| None)
        .unwrap_or_else(|error| panic!("{} does not load: {error}", path.display()))
}

fn scheme(url: &Option<Secret>) -> Option<&str> {
    url.as_ref()
        .and_then(|url| url.expose().split_once("://"))
        .map(|(scheme, _)| scheme)
}

fn schemes(config: &GatewayConfig) -> [Option<&str>; 4] {
    let backends = &config.backends;
    [
        scheme(&backends.database_url),
        scheme(&backends.object_store_url),
        scheme(&backends.queue_url),
        scheme(&backends.pubsub_url),
    ]
}

#[test]
fn embedded_example_names_the_embedded_backends() {
    let config = load(&deploy("config/embedded.toml"));
    assert_eq!(
        schemes(&config),
        [
            Some("sqlite"),
            Some("file"),
            Some("embedded"),
            Some("memory")
        ]
    );
    assert_eq!(config.roles, Role::ALL.into_iter().collect());
    assert_eq!(config.keys.kek_file, None, "kek.bin in the data directory");
    assert!(!config.internet_address_defaulted);
    assert!(config.listen.admin.ip().is_loopback(), "admin stays local");
}

#[test]
fn distributed_example_names_the_distributed_backends_and_a_shared_kek() {
    let config = load(&deploy("config/distributed.toml"));
    assert_eq!(
        schemes(&config),
        [Some("postgres"), Some("s3"), Some("amqp"), Some("redis")]
    );
    assert_eq!(
        config.keys.kek_file.as_deref(),
        Some(Path::new("/var/run/secrets/awala/kek"))
    );
    let edge: std::collections::BTreeSet<Role> = [Role::Poweb, Role::Pohttp, Role::Cogrpc].into();
    assert_eq!(config.roles, edge);
    // No credentials in the file: they come from AWALA_* variables or *_file secrets.
    let backends = &config.backends;
    for url in [
        &backends.database_url,
        &backends.object_store_url,
        &backends.queue_url,
        &backends.pubsub_url,
    ] {
        let url =
            url::Url::parse(url.as_ref().map(Secret::expose).unwrap_or_default()).expect("a url");
        assert_eq!(url.password(), None, "{url}");
    }
}

/// The block scalar `key: |` of a YAML file (two-space indented), without parsing YAML.
fn yaml_block(text: &str, key: &str) -> String {
    let mut lines = text.lines().skip_while(|line| *line != format!("{key}: |"));
    assert!(lines.next().is_some(), "no `{key}: |` block");
    lines
        .take_while(|line| line.is_empty() || line.starts_with("  "))
        .map(|line| line.strip_prefix("  ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_helm_chart_config_map_toml_loads_and_matches_its_templates() {
    let values_path = deploy("helm/awala-gateway/values.yaml");
    let values = std::fs::read_to_string(&values_path).expect("values.yaml");
    let toml = yaml_block(&values, "gatewayToml");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, &toml).expect("write");
    let config = load(&path);
    // What deployment.yaml assumes: every listener on all interfaces at the container ports it
    // declares, probes on the admin port, and the data directory on its emptyDir.
    let ports: Vec<u16> = [
        config.listen.poweb,
        config.listen.pohttp,
        config.listen.cogrpc,
        config.listen.admin,
    ]
    .iter()
    .map(|address| {
        assert!(address.ip().is_unspecified(), "{address}");
        address.port()
    })
    .collect();
    assert_eq!(ports, [8080, 8081, 8082, 8090]);
    assert_eq!(config.data_dir, Path::new("/var/lib/awala"));
    let deployment =
        std::fs::read_to_string(deploy("helm/awala-gateway/templates/deployment.yaml"))
            .expect("deployment.yaml");
    assert!(deployment.contains("mountPath: /var/lib/awala\n"));
    assert!(deployment.contains("containerPort: 8090"));
    for probe in ["path: /live", "path: /ready"] {
        assert!(deployment.contains(probe), "{probe}");
    }
    // Each component's roles are ones `--roles` accepts.
    for roles in ["poweb,pohttp,cogrpc", "workers"] {
        parse_roles(roles).expect(roles);
    }
}
