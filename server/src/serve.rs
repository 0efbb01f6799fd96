//! `runnel serve`: join the metadata quorum, open the broker, bind the gateway, run until
//! shutdown, close cleanly.
//!
//! Start-up joins the metadata quorum (a one-voter quorum for a single node) and agrees on the
//! cluster id, opens (and if needed recovers) every log, binds the listener (for the address it
//! registers), registers and waits to be unfenced, migrates a single-node `meta.json` into the
//! metadata log and makes the logs match the applied image, and replays `__consumer_offsets`
//! and `_schemas`, before it serves, so `/ready` answering means the data is served.
//! Shutdown stops accepting, drains in-flight requests and WebSockets (each for at most
//! `shutdown_timeout`), stops background maintenance, then flushes and closes every log and
//! writes the clean-shutdown marker.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::broker::{Broker, BrokerConfig};
use crate::config::Config;
use crate::gateway::{self, AppState, Limits};
use crate::group::GroupCoordinator;
use crate::metadata;
use runnel_schema_registry::registry::RegistryConfig;

/// Raises the soft open-file limit to the hard one, as Kafka's operations guide asks of its
/// operators: every partition keeps a file open, and the broker sizes its budget from the limit.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                info!(from = ?limit.current, to = ?limit.maximum, "raised the open-file limit")
            }
            Err(e) => warn!(cause = %e, "could not raise the open-file limit"),
        }
    }
}

/// Runs the broker until `shutdown` is cancelled.
///
/// # Errors
/// The data directory cannot be opened, the address cannot be bound, or logs fail to close.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    raise_open_file_limit();
    crate::broker::topic_config::TopicConfig::validate_broker_defaults(&config.topic_defaults)
        .context("invalid [topic_defaults]")?;
    // The quorum first: the broker opens under the cluster id it agrees on.
    let metadata = Arc::new(metadata::open(&config).await?);
    let cluster_id = match metadata::agree_cluster_id(&metadata, &config, &shutdown).await {
        Ok(id) => id,
        Err(e) => {
            let _ = metadata.shutdown().await;
            return Err(e);
        }
    };
    let broker_config = BrokerConfig {
        data_dir: config.data_dir.clone(),
        cluster_id: Some(cluster_id),
        broker_id: config.node_id,
        num_partitions: config.num_partitions,
        topic_defaults: config.topic_defaults.clone(),
        log_check_interval: config.flush_scheduler_interval,
        checkpoint_interval: config.recovery_point_checkpoint_interval,
    };
    let broker = tokio::task::spawn_blocking(move || Broker::open(broker_config))
        .await
        .context("broker start-up panicked")?
        .with_context(|| format!("cannot open data directory {}", config.data_dir.display()))?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let bound = listener.local_addr().context("no local address")?;
    let public_url = config.public_url_for(bound);
    metadata::register(&metadata, &public_url, &shutdown).await?;
    metadata::wait_unfenced(&metadata, config.node_id, &shutdown).await?;
    {
        let broker = Arc::clone(&broker);
        let node = Arc::clone(&metadata);
        tokio::task::spawn_blocking(move || broker.attach(node))
            .await
            .context("joining the metadata log panicked")?
            .context("cannot bring the topics in line with the metadata log")?;
    }

    // Replays __consumer_offsets (creating it on first start) before anything is served.
    let groups = {
        let broker = Arc::clone(&broker);
        tokio::task::spawn_blocking(move || GroupCoordinator::open_with_defaults(broker))
            .await
            .context("group coordinator start-up panicked")?
            .context("cannot load committed offsets from __consumer_offsets")?
    };

    // Replays _schemas (if it exists) before anything is served.
    let registry = crate::schemas::open_registry(
        Arc::clone(&broker),
        RegistryConfig {
            default_level: config.schema_compatibility_level,
            ..RegistryConfig::default()
        },
    )
    .await?;

    let maintenance_stop = CancellationToken::new();
    let state = AppState {
        broker: Arc::clone(&broker),
        groups: Arc::clone(&groups),
        registry: Arc::clone(&registry),
        public_url: Arc::from(public_url.as_str()),
        cluster: metadata::ClusterView::of(&metadata, maintenance_stop.clone()),
    };
    let limits = Limits::from_config(&config.limits, config.consumer_instance_timeout);
    // WebSocket sockets outlive their upgrade request: they close (1001) on `shutdown` and are
    // drained below, before the logs close.
    let ws = gateway::ws::WsRuntime::new(
        gateway::ws::WsLimits::from_config(&config.limits),
        shutdown.clone(),
    );
    let app = gateway::router(state, limits).layer(axum::Extension(ws.clone()));
    // Other brokers' requests: produce and reads of the partitions this one leads, and the
    // HTTP requests of the groups it coordinates and of the registry it writes.
    metadata.serve_data(Arc::new(gateway::forward::PeerService::new(
        Arc::clone(&broker),
        app.clone(),
    )));

    let maintenance = tokio::spawn(Arc::clone(&broker).run_maintenance(maintenance_stop.clone()));
    // Topic changes committed through other brokers, and leaders moving.
    let follower = tokio::spawn(Arc::clone(&broker).follow_metadata(maintenance_stop.clone()));
    // Session expiry and topic-change rebalances of consumer groups.
    let reaper = tokio::spawn(Arc::clone(&groups).run(maintenance_stop.clone()));
    // The registry of a broker that does not lead `_schemas` follows the one that does.
    let schemas = tokio::spawn(crate::schemas::follow(
        Arc::clone(&registry),
        Arc::clone(&broker),
        maintenance_stop.clone(),
    ));
    info!(address = %bound, public_url = %public_url, "runnel listening");

    gateway::listener::serve(
        listener,
        app,
        gateway::listener::ConnectionLimits {
            header_read_timeout: config.limits.header_read_timeout,
            idle_timeout: config.limits.idle_timeout,
        },
        shutdown,
        config.shutdown_timeout,
    )
    .await;
    ws.drain(config.shutdown_timeout).await;

    maintenance_stop.cancel();
    if let Err(e) = maintenance.await {
        warn!(cause = %e, "maintenance task ended abnormally");
    }
    if let Err(e) = reaper.await {
        warn!(cause = %e, "group coordinator task ended abnormally");
    }
    if let Err(e) = schemas.await {
        warn!(cause = %e, "schema registry follower ended abnormally");
    }
    if let Err(e) = follower.await {
        warn!(cause = %e, "metadata follower task ended abnormally");
    }
    tokio::task::spawn_blocking(move || broker.close())
        .await
        .context("shutdown panicked")?
        .context("logs did not close cleanly")?;
    // Last: a broker stays a live member of the cluster until its data is safe.
    if let Err(e) = metadata.shutdown().await {
        warn!(cause = %e, "metadata node did not stop cleanly");
    }
    info!("shutdown complete");
    Ok(())
}
