//! Wiring real dependencies from settings, and serving.

use anyhow::Context;
use fte_bus::{Bootstrap, KafkaPublisher};
use fte_runtime::Profile;
use fte_runtime::settings::{
    AlertSettings, ApiSettings, ChannelSettings, DatabaseSettings, Lookup, WebFormSettings,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::state::WebhookAuth;

/// Connects to PostgreSQL, creates the publisher for `bootstrap` and sets up
/// webhook verification from the Twilio and Gmail settings in the
/// environment. In production it fails unless staff keys (checked by
/// [`ApiSettings`]) and every channel of `CHANNELS_ENABLED` are fully
/// configured ([`ChannelSettings`]).
pub async fn build_state(
    profile: Profile,
    api: ApiSettings,
    database: &DatabaseSettings,
    bootstrap: &Bootstrap,
) -> anyhow::Result<AppState> {
    build_state_with(&Lookup::env(), profile, api, database, bootstrap).await
}

/// [`build_state`] reading the channel and alert settings from `lookup`
/// (`fte run` passes the environment with the local provider fakes' URLs
/// and test credentials laid over it).
pub async fn build_state_with(
    lookup: &Lookup<'_>,
    profile: Profile,
    api: ApiSettings,
    database: &DatabaseSettings,
    bootstrap: &Bootstrap,
) -> anyhow::Result<AppState> {
    let channels = ChannelSettings::from_lookup(lookup, profile)?;
    let (twilio, gmail) = (&channels.twilio, &channels.gmail);
    let webhooks = WebhookAuth::from_settings(profile, twilio, gmail)?;
    if api.staff_keys.is_empty() {
        tracing::warn!(
            "no staff keys (STAFF_API_KEYS): every staff endpoint answers 401 (dev profile only)"
        );
    }
    if api
        .staff_keys
        .iter()
        .any(|k| k.name == format!("key-{}", k.fingerprint()))
    {
        tracing::warn!(
            "STAFF_API_KEY_HASHES holds keys without an owner's name: their audit rows say \
             key-<fingerprint>; list them in STAFF_API_KEYS as name:sha256hex"
        );
    }
    let pool = fte_store::connect(database)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    let publisher =
        KafkaPublisher::new(bootstrap).context("Failed to create the Kafka producer")?;
    let alerts = AlertSettings::from_lookup(lookup)?;
    let web_form = WebFormSettings::from_lookup(lookup)?;
    if web_form.challenge.is_none() && profile.is_production() {
        tracing::warn!(
            "the web form runs without a bot challenge: set WEB_CHALLENGE_PROVIDER \
             (turnstile or hcaptcha) with its keys to require one"
        );
    }
    // The worker, built from the same settings, records the replies of a
    // provider without credentials instead of sending them (dev builds only).
    let delivery = crate::local::ChannelDelivery::from_configured(
        fte_channels::gmail::GmailConfig::from_settings(gmail).is_ok(),
        fte_channels::twilio::TwilioConfig::from_settings(twilio).is_ok(),
    )
    .with_enabled(&channels.enabled);
    let dead_letters = fte_bus::dead_letters::DeadLetterReader::new(bootstrap, publisher.clone());
    Ok(AppState::new(pool, publisher, api, profile, webhooks)
        .with_dead_letters(dead_letters)
        .with_alert_settings(alerts)
        .with_delivery(delivery)
        .with_web_form(&web_form)
        .with_enabled_channels(channels.enabled))
}

/// Serves the router on `listener` until `shutdown` fires, with the outbox
/// relay and the alert monitor running beside it (the process start is
/// recorded for the system metrics); then drains in-flight requests, stops
/// the relay and the monitor, and flushes the producer.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_with(listener, state, axum::Router::new(), shutdown).await
}

/// [`serve`] with `extra` routes beside the gateway's, each keeping its own
/// layers: `fte run` mounts the MCP endpoint (`fte-mcp`, which this crate
/// must not link) on the same port this way.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    extra: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address = listener
        .local_addr()
        .context("Failed to read the bound address")?;
    tracing::info!(%address, "gateway listening");
    let publisher = state.publisher.clone();
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(crate::outbox::relay(
        state.pool.clone(),
        publisher.clone(),
        relay_stop.clone(),
    ));
    if let Err(error) = fte_store::metrics::record_process_start(&state.pool, "api").await {
        tracing::warn!(%error, "process start not recorded");
    }
    let monitor = tokio::spawn(crate::routes::metrics::run_monitor(
        state.clone(),
        relay_stop.clone(),
    ));
    let app = crate::router(state)
        .merge(extra)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("The HTTP server failed");
    relay_stop.cancel();
    let _ = relay.await;
    let _ = monitor.await;
    served?;
    publisher
        .flush(std::time::Duration::from_secs(5))
        .context("Failed to flush the Kafka producer at shutdown")?;
    tracing::info!("gateway stopped");
    Ok(())
}
