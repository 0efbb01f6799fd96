//! The configuration's layers, checks and printout, tested through `Config::load`.

use std::io::Write as _;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<Vec<_>>()
        .into_iter()
}

fn toml_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn load(file: Option<&str>, vars: &[(&str, &str)], cli: &ServeArgs) -> Result<Config, ConfigError> {
    let file = file.map(toml_file);
    Config::load(file.as_ref().map(|f| f.path()), env(vars), cli)
}

/// The message `main` prints: each error in the chain, joined as anyhow's `{:#}` does.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        out.push_str(": ");
        out.push_str(&err.to_string());
        source = err.source();
    }
    out
}

#[test]
fn defaults_apply_without_file_env_or_flags() {
    let config = load(None, &[], &ServeArgs::default()).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.public_url(), "http://127.0.0.1:8080");
    assert_eq!(config.limits.max_request_body, ByteSize(64 << 20));
    assert_eq!(config.flush_scheduler_interval, Duration::from_secs(1));
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let file = r#"
        data_dir = "/from/file"
        listen = "10.0.0.1:1000"
        log_format = "json"
        num_partitions = 3
        checkpoint_interval = "5m"
        [limits]
        max_request_body = "1 GiB"
        idle_timeout = "90s"
    "#;
    let vars = [
        ("RUNNEL_DATA_DIR", "/from/env"),
        ("RUNNEL_LISTEN", "10.0.0.2:2000"),
        ("RUNNEL_CHECKPOINT_INTERVAL", "10s"),
        ("RUNNEL_LIMITS_MAX_REQUEST_BODY", "512KiB"),
    ];
    let cli = ServeArgs {
        data_dir: Some(PathBuf::from("/from/flag")),
        ..ServeArgs::default()
    };
    let config = load(Some(file), &vars, &cli).unwrap();
    assert_eq!(
        config.data_dir,
        PathBuf::from("/from/flag"),
        "flag over env"
    );
    assert_eq!(config.listen.to_string(), "10.0.0.2:2000", "env over file");
    assert_eq!(
        config.recovery_point_checkpoint_interval,
        Duration::from_secs(10)
    );
    assert_eq!(config.limits.max_request_body, ByteSize(512 << 10));
    assert_eq!(config.num_partitions, 3, "file over default");
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.limits.idle_timeout, Duration::from_secs(90));
    assert_eq!(
        config.node_id,
        defaults::DEFAULT_NODE_ID,
        "default when unset"
    );
    assert_eq!(config.shutdown_timeout, defaults::DEFAULT_SHUTDOWN_TIMEOUT);
}

#[test]
fn topic_defaults_merge_file_then_env() {
    let file = r#"
        [topic_defaults]
        "retention.ms" = 604800000
        "flush.messages" = "1"
    "#;
    let vars = [("RUNNEL_TOPIC_DEFAULTS_RETENTION_MS", "3600000")];
    let config = load(Some(file), &vars, &ServeArgs::default()).unwrap();
    let expected = BTreeMap::from([
        ("flush.messages".to_owned(), "1".to_owned()),
        ("retention.ms".to_owned(), "3600000".to_owned()),
    ]);
    assert_eq!(config.topic_defaults, expected);
}

#[test]
fn bad_listen_address_names_the_key_file_and_value() {
    let file = toml_file(r#"listen = "localhost""#);
    let err = Config::load(Some(file.path()), env(&[]), &ServeArgs::default()).unwrap_err();
    let message = chain(&err);
    assert!(
        message.starts_with("invalid value \"localhost\" for `listen` in "),
        "{message}"
    );
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("expected IP:port"), "{message}");
}

#[test]
fn bad_env_value_names_the_variable() {
    let err = load(
        None,
        &[("RUNNEL_LIMITS_IDLE_TIMEOUT", "60")],
        &ServeArgs::default(),
    )
    .unwrap_err();
    assert_eq!(
        chain(&err),
        "invalid value \"60\" for environment variable RUNNEL_LIMITS_IDLE_TIMEOUT: \
         missing unit; write e.g. \"30s\" (units: ms, s, m, h, d)"
    );
    let err = load(
        None,
        &[("RUNNEL_NUM_PARTITIONS", "0")],
        &ServeArgs::default(),
    )
    .unwrap_err();
    assert_eq!(
        chain(&err),
        "invalid value \"0\" for environment variable RUNNEL_NUM_PARTITIONS: must be greater than zero"
    );
    let err = load(None, &[("RUNNEL_NODE_ID", "-1")], &ServeArgs::default()).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::InvalidValue {
            reason: ValueError::Integer(_),
            ..
        }
    ));
    let err = load(None, &[("RUNNEL_LOG_FORMAT", "xml")], &ServeArgs::default()).unwrap_err();
    assert!(chain(&err).ends_with("expected `text` or `json`"));
}

#[test]
fn bad_units_in_file_are_rejected() {
    let err = load(
        Some("[limits]\nmax_request_body = \"10 MeB\""),
        &[],
        &ServeArgs::default(),
    )
    .unwrap_err();
    let message = chain(&err);
    assert!(
        message.contains("for `limits.max_request_body` in "),
        "{message}"
    );
    assert!(message.contains("unknown unit \"MeB\""), "{message}");
    let ok = load(
        Some("[limits]\nmax_request_body = 1024"),
        &[],
        &ServeArgs::default(),
    )
    .unwrap();
    assert_eq!(ok.limits.max_request_body, ByteSize(1024));
}

#[test]
fn unknown_toml_key_is_rejected() {
    let err = load(Some("num_partition = 3"), &[], &ServeArgs::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }));
    assert!(
        chain(&err).contains("unknown field `num_partition`"),
        "{}",
        chain(&err)
    );
}

#[test]
fn wrong_toml_type_is_rejected() {
    let err = load(
        Some("num_partitions = \"three\""),
        &[],
        &ServeArgs::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }));
}

#[test]
fn missing_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let err = Config::load(Some(&path), env(&[]), &ServeArgs::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("absent.toml"));
}

#[test]
fn public_url_is_checked_and_trailing_slash_stripped() {
    let cli = |url: &str| ServeArgs {
        public_url: Some(url.to_owned()),
        ..ServeArgs::default()
    };
    let config = load(None, &[], &cli("https://runnel.example.com/kafka/")).unwrap();
    assert_eq!(config.public_url(), "https://runnel.example.com/kafka");
    for (bad, reason) in [
        ("runnel.example.com", ValueError::UrlScheme),
        ("ftp://host", ValueError::UrlScheme),
        ("http://", ValueError::UrlScheme),
        ("http://user:secret@host", ValueError::UrlCredentials),
        ("http://host/?x=1", ValueError::UrlCharacters),
    ] {
        match load(None, &[], &cli(bad)) {
            Err(ConfigError::InvalidValue {
                origin,
                reason: got,
                ..
            }) => {
                assert_eq!(got, reason, "{bad}");
                assert_eq!(origin.to_string(), "flag --public-url");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn public_url_defaults_to_the_bound_address() {
    let config = load(None, &[("RUNNEL_LISTEN", "[::1]:0")], &ServeArgs::default()).unwrap();
    assert_eq!(config.public_url(), "http://[::1]:0");
    let bound: SocketAddr = "[::1]:41234".parse().unwrap();
    assert_eq!(config.public_url_for(bound), "http://[::1]:41234");
}

#[test]
fn unrecognized_runnel_variables_are_collected_not_fatal() {
    let vars = [
        ("RUNNEL_NUM_PARTITIONZ", "2"),
        ("RUNNEL_CONFIG", "/etc/runnel.toml"),
        ("HOME", "/root"),
    ];
    let config = load(None, &vars, &ServeArgs::default()).unwrap();
    assert_eq!(config.unrecognized_env, ["RUNNEL_NUM_PARTITIONZ"]);
}

#[test]
fn every_key_has_a_distinct_env_var() {
    let vars: std::collections::BTreeSet<String> = Key::ALL.iter().map(|k| k.env_var()).collect();
    assert_eq!(vars.len(), Key::ALL.len());
    assert!(vars.contains("RUNNEL_LIMITS_MAX_REQUEST_BODY"));
    assert!(vars.contains("RUNNEL_NUM_PARTITIONS"));
}

/// The sample config at the workspace root, shipped as documentation.
const EXAMPLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../runnel.example.toml"
));

#[test]
fn example_config_loads_and_documents_the_defaults() {
    let as_shipped = load(Some(EXAMPLE), &[], &ServeArgs::default()).unwrap();
    assert_eq!(as_shipped, Config::default());

    // Uncomment every `# key = value` line: each must be a real key, and the value shown
    // must be the built-in default (public_url, topic_defaults and the cluster have none).
    let uncommented: String = EXAMPLE
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("# ").unwrap_or(line);
            let key = rest.split(" = ").next().unwrap_or_default();
            let is_setting = rest.contains(" = ")
                && !key.is_empty()
                && key
                    .trim_matches('"')
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
            if is_setting { rest } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let every_key = load(Some(&uncommented), &[], &ServeArgs::default()).unwrap();
    assert_eq!(
        every_key.public_url.as_deref(),
        Some("https://runnel.example.com")
    );
    assert_eq!(
        every_key
            .topic_defaults
            .get("retention.ms")
            .map(String::as_str),
        Some("604800000")
    );
    assert_eq!(every_key.topic_defaults.len(), 6);
    // The cluster example is an example, not the default (a single node has no peers).
    assert_eq!(every_key.peers.len(), 3);
    let expected = Config {
        public_url: every_key.public_url.clone(),
        topic_defaults: every_key.topic_defaults.clone(),
        cluster_listen: every_key.cluster_listen,
        peers: every_key.peers.clone(),
        ..Config::default()
    };
    assert_eq!(every_key, expected);
}

#[test]
fn effective_config_prints_as_loadable_toml() {
    let file = r#"
        data_dir = "/var/lib/runnel"
        node_id = 7
        log_check_interval = "250ms"
        shutdown_timeout = "0s"
        [limits]
        max_request_body = "10MiB"
        max_concurrent_requests = 64
        [topic_defaults]
        "retention.ms" = 604800000
        "cleanup.policy" = "compact"
    "#;
    let config = load(Some(file), &[], &ServeArgs::default()).unwrap();
    let printed = config.to_redacted_toml();
    assert!(
        printed.contains("max_request_body = \"10 MiB\""),
        "{printed}"
    );
    assert!(
        printed.contains("\"retention.ms\" = \"604800000\""),
        "{printed}"
    );
    let reloaded = load(Some(&printed), &[], &ServeArgs::default()).unwrap();
    let expected = Config {
        public_url: Some(config.public_url()),
        ..config
    };
    assert_eq!(reloaded, expected);
}

#[test]
fn a_cluster_is_configured_by_flags() {
    let cli = ServeArgs {
        node_id: Some(2),
        cluster_listen: Some("127.0.0.1:9093".parse().unwrap()),
        peers: Some("1@a.example:9093, 2@127.0.0.1:9093,3@[::1]:9094".into()),
        ..ServeArgs::default()
    };
    let config = load(None, &[], &cli).unwrap();
    assert_eq!(config.node_id, 2);
    assert_eq!(
        config.peers.into_iter().collect::<Vec<_>>(),
        [
            (1, "a.example:9093".to_owned()),
            (2, "127.0.0.1:9093".to_owned()),
            (3, "[::1]:9094".to_owned())
        ]
    );
}

#[test]
fn bad_peer_lists_are_refused_with_the_offending_item() {
    for (peers, names) in [
        ("1@host", "\"1@host\""),
        ("x@host:1", "\"x@host:1\""),
        ("0@host:1", "\"0@host:1\""),
        ("1@:9093", "\"1@:9093\""),
        ("1@host:99999", "\"1@host:99999\""),
        ("1@a:1,1@b:2", "node id 1 appears twice"),
    ] {
        let err = load(None, &[("RUNNEL_PEERS", peers)], &ServeArgs::default()).unwrap_err();
        let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(
            text.contains("RUNNEL_PEERS") && text.contains(names),
            "{peers}: {text}"
        );
    }
}

#[test]
fn join_names_one_broker_and_needs_a_cluster_port_but_no_peers() {
    let vars = [
        ("RUNNEL_JOIN", "broker-1.example:9093"),
        ("RUNNEL_CLUSTER_LISTEN", "127.0.0.1:9096"),
        ("RUNNEL_NODE_ID", "4"),
    ];
    let config = load(None, &vars, &ServeArgs::default()).unwrap();
    assert_eq!(config.join.as_deref(), Some("broker-1.example:9093"));
    let err = load(None, &vars[..1], &ServeArgs::default()).unwrap_err();
    assert!(err.to_string().contains("cluster_listen"), "{err}");
    let both = [
        ("RUNNEL_JOIN", "127.0.0.1:9093"),
        ("RUNNEL_CLUSTER_LISTEN", "127.0.0.1:9096"),
        ("RUNNEL_PEERS", "1@127.0.0.1:9096"),
    ];
    let err = load(None, &both, &ServeArgs::default()).unwrap_err();
    assert!(err.to_string().contains("exclude each other"), "{err}");
    for bad in ["127.0.0.1", ":9093", "host:port", "host:70000"] {
        let err = load(None, &[("RUNNEL_JOIN", bad)], &ServeArgs::default()).unwrap_err();
        let text = chain(&err);
        assert!(text.contains("HOST:PORT"), "{bad}: {text}");
    }
}

#[test]
fn peers_need_a_cluster_port_and_this_node_among_them() {
    let vars = [("RUNNEL_PEERS", "1@127.0.0.1:9093,2@127.0.0.1:9094")];
    let err = load(None, &vars, &ServeArgs::default()).unwrap_err();
    assert!(err.to_string().contains("cluster_listen"), "{err}");
    let vars = [
        ("RUNNEL_PEERS", "1@127.0.0.1:9093,2@127.0.0.1:9094"),
        ("RUNNEL_CLUSTER_LISTEN", "127.0.0.1:9095"),
        ("RUNNEL_NODE_ID", "3"),
    ];
    let err = load(None, &vars, &ServeArgs::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("node_id 3 is not among the peers (1, 2)"),
        "{err}"
    );
    let vars = [
        ("RUNNEL_BROKER_HEARTBEAT_INTERVAL", "10s"),
        ("RUNNEL_BROKER_SESSION_TIMEOUT", "5s"),
    ];
    let err = load(None, &vars, &ServeArgs::default()).unwrap_err();
    assert!(err.to_string().contains("must be shorter"), "{err}");
}
