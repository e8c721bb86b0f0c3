//! Wiring: the agent, the channel senders, and [`run`], which runs the
//! consumer, one outbox sender per channel, the event relay and the probe
//! server until shutdown. The `fte-worker` binary calls [`Worker::from_env`]
//! then [`run`]; `fte run` builds a [`Worker`] next to the gateway and calls
//! [`run`] in-process. The reply senders are built in `senders`, and
//! [`StartupError`] says why starting failed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fte_bus::{Bootstrap, KafkaPublisher};
use fte_channels::GuardedSender;
use fte_runtime::Profile;
use fte_runtime::alerts::AlertBook;
use fte_runtime::readiness::Readiness;
use fte_runtime::settings::{
    AgentSettings, ChannelSettings, DatabaseSettings, EnabledChannels, KafkaSettings, Lookup,
    SettingsError, WorkerSettings,
};
use fte_store::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::agent::ReplyAgent;
use crate::agent_adapter::AgentAdapter;
use crate::collector;
use crate::consumer::{self, ConsumerConfig};
use crate::events::{EventSink, relay_pending};
use crate::gmail_sync::{self, GmailSync};
use crate::health::{self, HealthState};
use crate::sender::ChannelSender;
use crate::stall::LaneWatch;
use crate::{WorkerConfig, WorkerContext};

/// How often the relay publishes events a broker outage left behind.
pub const RELAY_INTERVAL: Duration = Duration::from_secs(5);

mod error;
mod senders;

pub use error::StartupError;
use senders::senders_for;
pub use senders::{channel_senders, gmail_mailbox};

/// Everything [`run`] runs.
pub struct Worker {
    /// Pool, agent, event sink and tunables.
    pub ctx: WorkerContext,
    /// The Kafka cluster (keeps an embedded broker alive).
    pub bootstrap: Arc<Bootstrap>,
    /// The producer (events and dead letters).
    pub publisher: KafkaPublisher,
    /// One guarded sender per enabled channel.
    pub senders: Vec<Arc<GuardedSender>>,
    /// Which channels run (`/health` reports the others `disabled`).
    pub enabled: EnabledChannels,
    /// Conditions that keep the worker out of rotation (`/ready` 503).
    pub readiness: Arc<Readiness>,
    /// Consumer group, concurrency and shutdown grace.
    pub consumer: ConsumerConfig,
    /// Where `/health`, `/ready` and `/metrics` listen; `None` serves none
    /// (when the host process already serves them).
    pub probe_addr: Option<SocketAddr>,
    /// The Gmail sync, when Gmail is configured.
    pub gmail: Option<GmailSync>,
}

impl Worker {
    /// Builds the worker from the environment: settings, pool, Kafka,
    /// agent and senders. Every setting is read before anything connects,
    /// so a misconfigured deployment fails at once naming the variable.
    pub async fn from_env() -> Result<Self, StartupError> {
        let lookup = Lookup::env();
        let profile = Profile::from_lookup(&lookup)?;
        let database = DatabaseSettings::from_lookup(&lookup, profile)?;
        let kafka = KafkaSettings::from_lookup(&lookup, profile)?;
        ChannelSettings::from_lookup(&lookup, profile)?;
        WorkerSettings::from_lookup(&lookup)?;
        AgentSettings::from_lookup(&lookup)?;
        let pool = fte_store::connect(&database).await?;
        if !profile.is_production() {
            // Local runs migrate on start; production migrates as a deploy step.
            fte_store::migrate(&pool).await?;
        }
        let bootstrap = Arc::new(Bootstrap::resolve(&kafka).await?);
        Self::build(&lookup, profile, pool, bootstrap).await
    }

    /// Builds the worker on an existing pool and cluster (what `fte run`
    /// calls next to the gateway).
    pub async fn build(
        lookup: &Lookup<'_>,
        profile: Profile,
        pool: PgPool,
        bootstrap: Arc<Bootstrap>,
    ) -> Result<Self, StartupError> {
        let settings = WorkerSettings::from_lookup(lookup)?;
        let config = WorkerConfig::from_lookup(lookup)?;
        let kafka = bootstrap.settings().clone();
        let publisher = KafkaPublisher::new(&bootstrap)?;
        let agent = agent_from_settings(&AgentSettings::from_lookup(lookup)?, pool.clone()).await?;
        let channels = ChannelSettings::from_lookup(lookup, profile)?;
        let mailbox = gmail_mailbox(&channels.gmail)?;
        let senders = senders_for(mailbox.clone(), &channels)?;
        let events: Arc<dyn EventSink> = Arc::new(publisher.clone());
        let gmail = mailbox.map(|mailbox| GmailSync::new(pool.clone(), mailbox, events.clone()));
        let mut consumer = ConsumerConfig::new(kafka.consumer_group.clone());
        consumer.concurrency = settings.concurrency;
        consumer.shutdown_grace = Duration::from_secs(settings.shutdown_grace_secs);
        consumer.retry.max_attempts = settings.retry_max_attempts;
        consumer.retry.max_elapsed = Duration::from_secs(settings.retry_max_secs);
        consumer.lanes = Arc::new(LaneWatch::new(
            consumer.group.clone(),
            fte_bus::topics::TICKETS_INCOMING,
            Duration::from_secs(settings.stuck_partition_secs),
        ));
        let probe_addr = format!("{}:{}", settings.metrics_host, settings.metrics_port)
            .parse()
            .map_err(|_| SettingsError::Invalid {
                var: "WORKER_METRICS_HOST",
                reason: "not an IP address".into(),
            })?;
        Ok(Self {
            ctx: WorkerContext {
                pool,
                agent,
                events,
                config,
            },
            bootstrap,
            publisher,
            senders,
            enabled: channels.enabled,
            readiness: Arc::new(Readiness::new()),
            consumer,
            probe_addr: Some(probe_addr),
            gmail,
        })
    }
}

/// The agent the settings describe: the tool-calling agent over an
/// OpenAI-compatible model when `OPENAI_API_KEY` is set, else the offline
/// agent, both over hybrid search with the configured embedder.
pub async fn agent_from_settings(
    settings: &AgentSettings,
    pool: PgPool,
) -> Result<Arc<dyn ReplyAgent>, StartupError> {
    let agent = fte_agent::agent_from_settings(settings, pool)
        .await
        .map_err(|e| StartupError::Agent(format!("{e:#}")))?;
    Ok(Arc::new(AgentAdapter(agent)))
}

/// Runs the worker until `shutdown`: the probe server, one outbox sender
/// per channel, the event relay, the metrics collector (group
/// `fte-metrics-collector`), the alert evaluation and the consumer. The
/// process start is recorded for the system metrics. On shutdown the consumer
/// finishes in-flight messages and commits, the senders finish their round,
/// the relay publishes once more and the producer is flushed.
pub async fn run(worker: Worker, shutdown: CancellationToken) -> Result<(), StartupError> {
    let Worker {
        ctx,
        bootstrap,
        publisher,
        senders,
        enabled,
        readiness,
        consumer: consumer_config,
        probe_addr,
        gmail,
    } = worker;
    let mut tasks = JoinSet::new();
    let alert_book = Arc::new(AlertBook::for_process("worker"));
    if let Err(error) = fte_store::metrics::record_process_start(&ctx.pool, "worker").await {
        tracing::warn!(%error, "process start not recorded");
    }

    if let Some(addr) = probe_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        tracing::info!(%addr, "worker probes listening");
        let app = health::router(HealthState {
            pool: ctx.pool.clone(),
            publisher: publisher.clone(),
            senders: senders.clone(),
            enabled,
            alerts: alert_book.clone(),
            readiness,
            lanes: Some(consumer_config.lanes.clone()),
        });
        let stop = shutdown.clone();
        tasks.spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
            {
                tracing::error!(%error, "probe server failed");
            }
        });
    }

    for sender in &senders {
        let loop_ = ChannelSender {
            pool: ctx.pool.clone(),
            sender: sender.clone(),
            events: ctx.events.clone(),
            config: ctx.config.clone(),
        };
        tasks.spawn(loop_.run(shutdown.clone()));
    }

    tasks.spawn(crate::rates::run(ctx.pool.clone(), shutdown.clone()));
    tasks.spawn(crate::alerts::run(
        ctx.pool.clone(),
        ctx.config.alerts.clone(),
        Some(consumer_config.lanes.clone()),
        alert_book,
        shutdown.clone(),
    ));

    let mut collector_config = ConsumerConfig::new(collector::GROUP);
    collector_config.shutdown_grace = consumer_config.shutdown_grace;
    collector_config.retry = consumer_config.retry;
    let collector_run = collector::run(
        ctx.pool.clone(),
        bootstrap.clone(),
        publisher.clone(),
        collector_config,
        consumer_config.group.clone(),
        shutdown.clone(),
    );
    tasks.spawn(async move {
        if let Err(error) = collector_run.await {
            // Metrics stop, customers are still answered: log it loudly.
            tracing::error!(%error, "metrics collector failed");
        }
    });

    let relay_pool = ctx.pool.clone();
    let relay_sink: Arc<dyn EventSink> = ctx.events.clone();
    let relay_stop = shutdown.clone();
    tasks.spawn(async move {
        loop {
            let stopping = tokio::select! {
                () = relay_stop.cancelled() => true,
                () = tokio::time::sleep(RELAY_INTERVAL) => false,
            };
            if let Err(error) = relay_pending(&relay_pool, relay_sink.as_ref(), 500).await {
                tracing::warn!(%error, "event relay round failed");
            }
            if stopping {
                break;
            }
        }
    });

    let gmail_task = gmail.map(|sync| {
        let mut config = ConsumerConfig::new(gmail_sync::GROUP);
        config.shutdown_grace = consumer_config.shutdown_grace;
        config.retry = consumer_config.retry;
        let (bootstrap, publisher, stop) = (bootstrap.clone(), publisher.clone(), shutdown.clone());
        tokio::spawn(async move {
            // The first renewal comes a day after a successful start, or
            // right away (then every minute until it works) after a failed
            // one. Started here so a slow Gmail never delays the consumer.
            let first_renewal = match sync.start_watch().await {
                Ok(()) => gmail_sync::WATCH_RENEWAL_INTERVAL,
                Err(error) => {
                    // Notifications still sync: with no stored history id
                    // a notification runs the bounded full sync.
                    tracing::warn!(error = %error, "Gmail watch not started");
                    Duration::ZERO
                }
            };
            let renewal = sync.spawn_watch_renewal(first_renewal, stop.clone());
            let synced = gmail_sync::run(sync, &bootstrap, publisher, config, stop.clone()).await;
            if let Err(error) = &synced {
                // Fail loudly: without the sync no email reaches the agent.
                tracing::error!(%error, "Gmail sync failed; stopping the worker");
                stop.cancel();
            }
            renewal.abort();
            synced
        })
    });

    let consumed = consumer::run(
        ctx,
        &bootstrap,
        publisher.clone(),
        consumer_config,
        shutdown.clone(),
    )
    .await;
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    let gmail_synced = match gmail_task {
        Some(task) => task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "Gmail sync task panicked");
            Ok(())
        }),
        None => Ok(()),
    };
    publisher.flush(Duration::from_secs(10))?;
    consumed?;
    gmail_synced?;
    tracing::info!("worker stopped");
    Ok(())
}
