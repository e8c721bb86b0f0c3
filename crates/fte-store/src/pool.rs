//! The connection pool and its health.

use std::time::Duration;

use std::str::FromStr;

use fte_runtime::metrics;
use fte_runtime::settings::{DatabaseSettings, DatabaseSslMode};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

/// What can go wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query or connection failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The database did not answer in time.
    #[error("database did not answer within {0:?}")]
    Timeout(Duration),
}

impl StoreError {
    /// The database could not be reached (or did not answer in time): the
    /// same request would fail alike right now, and may succeed later. A
    /// caller answers "try again" rather than reporting a fault.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => is_unreachable(error),
            StoreError::Timeout(_) => true,
            StoreError::Migrate(_) => false,
        }
    }
}

/// Whether `error` means PostgreSQL could not be reached (no connection in
/// time, the pool closed, the socket or TLS failed, or the server answered
/// with a SQLSTATE that [`crate::failure::kind_of_sqlstate`] calls
/// unavailable: shutting down, restarting, not accepting connections, out of
/// resources), as opposed to a query the database refused.
pub fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            crate::failure::kind_of_sqlstate(&code) == crate::FailureKind::Unavailable
        }),
        _ => false,
    }
}

/// Runs `attempt` again while it fails because PostgreSQL is unreachable,
/// with a short backoff (50 ms doubling to 400 ms), until `budget` has
/// passed; then returns the last result. A server restart shorter than the
/// budget (a managed database's failover of a few hundred milliseconds, a
/// restart for a configuration change) is ridden through instead of
/// answered with 503. Only for work that wrote nothing when it failed
/// (taking a connection, beginning a transaction, a read).
pub async fn ride_through<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = Duration::from_millis(50);
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let result = match tokio::time::timeout(remaining, attempt()).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Timeout(budget)),
        };
        match result {
            Err(error)
                if error.is_unavailable()
                    && !matches!(error, StoreError::Timeout(_))
                    && tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(400));
            }
            other => return other,
        }
    }
}

/// Makes ring the process-wide rustls crypto provider, unless one is set.
///
/// sqlx's TLS builds its rustls configuration from that process-wide
/// provider. The binaries compile in both of rustls' providers (reqwest
/// brings aws-lc-rs, sqlx and lettre ring), and with two and none chosen
/// rustls cannot pick one and panics at the first TLS connection to
/// PostgreSQL — which `crates/fte-store/tests/tls.rs` showed in the
/// workspace build. A provider installed earlier wins.
fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The connection options of `settings`: the URL, with `DATABASE_SSLMODE`
/// and `DATABASE_SSLROOTCERT` laid over it when set.
pub fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, StoreError> {
    let mut options = PgConnectOptions::from_str(settings.expose_url())?;
    if let Some(mode) = settings.ssl_mode {
        options = options.ssl_mode(match mode {
            DatabaseSslMode::Disable => PgSslMode::Disable,
            DatabaseSslMode::Allow => PgSslMode::Allow,
            DatabaseSslMode::Prefer => PgSslMode::Prefer,
            DatabaseSslMode::Require => PgSslMode::Require,
            DatabaseSslMode::VerifyCa => PgSslMode::VerifyCa,
            DatabaseSslMode::VerifyFull => PgSslMode::VerifyFull,
        });
    }
    if let Some(root_cert) = &settings.ssl_root_cert {
        options = options.ssl_root_cert(root_cert);
    }
    Ok(options)
}

/// Opens a pool. Connections are checked before use, so after a PostgreSQL
/// restart broken connections are replaced instead of failing requests.
/// The first connection is made eagerly: start-up fails fast with a clear
/// error when the database is unreachable (or its certificate is not
/// trusted).
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    ensure_crypto_provider();
    let options = connect_options(settings)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .idle_timeout(Duration::from_secs(300))
        .test_before_acquire(true)
        .connect_with(options)
        .await?;
    metrics::global()
        .db_pool_max_connections
        .set(i64::from(settings.max_connections));
    Ok(pool)
}

/// Checks that PostgreSQL answers a trivial query within `timeout`,
/// riding through a restart shorter than that (see [`ride_through`]).
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<(), StoreError> {
    ride_through(timeout, || async {
        sqlx::query("select 1")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::Database)
    })
    .await
}

/// Publishes the pool's idle / in-use counts as `fte_db_pool_connections`
/// and returns the in-use share of the maximum (0..1).
pub fn record_pool_metrics(pool: &PgPool) -> f64 {
    let size = i64::from(pool.size());
    let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
    let in_use = (size - idle).max(0);
    let m = metrics::global();
    m.db_pool_connections.with_label_values(&["idle"]).set(idle);
    m.db_pool_connections
        .with_label_values(&["in_use"])
        .set(in_use);
    let max = i64::from(pool.options().get_max_connections()).max(1);
    m.db_pool_max_connections.set(max);
    in_use as f64 / max as f64
}
