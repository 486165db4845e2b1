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

/// The `gateway_*` series a PromQL expression names.
fn series_in(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find("gateway_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        found.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    found
}

#[test]
fn every_dashboard_panel_queries_series_we_export_and_every_metric_has_a_panel() {
    use awala_gateway::telemetry::METRIC_NAMES;
    let text = std::fs::read_to_string(deploy("grafana/awala-gateway.json")).expect("read");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    assert_eq!(dashboard["uid"], "awala-gateway");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let mut used = std::collections::BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("a title");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let names = series_in(expr);
            assert!(
                !names.is_empty(),
                "{title}: `{expr}` names no gateway series"
            );
            for name in names {
                // A histogram's series carry its name plus `_bucket`, `_sum` or `_count`.
                let metric = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .filter(|base| METRIC_NAMES.contains(base))
                    .unwrap_or(&name);
                assert!(
                    METRIC_NAMES.contains(&metric),
                    "{title}: `{name}` is not a series the gateway exports"
                );
                used.insert(metric.to_owned());
            }
        }
    }
    for name in METRIC_NAMES {
        assert!(used.contains(*name), "no panel shows {name}");
    }
}
