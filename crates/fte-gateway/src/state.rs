//! Shared state handed to every handler, and how each webhook is verified.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fte_bus::KafkaPublisher;
use fte_bus::dead_letters::DeadLetterReader;
use fte_channels::challenge::ChallengeVerifier;
use fte_channels::gmail::PubSubVerifier;
use fte_runtime::Profile;
use fte_runtime::readiness::Readiness;
use fte_runtime::settings::{
    AlertSettings, ApiSettings, EnabledChannels, GmailSettings, TwilioSettings, WebFormSettings,
};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::estimate::Estimator;
use crate::ratelimit::RateLimiter;
use crate::routes::metrics::Monitor;
use crate::submit::Submitter;

/// How Twilio webhooks are verified.
#[derive(Clone)]
pub enum TwilioAuth {
    /// `X-Twilio-Signature` must verify with this auth token.
    Signed(SecretString),
    /// Dev only, without `TWILIO_AUTH_TOKEN`: unsigned requests are accepted
    /// (start-up warns loudly).
    Unsigned,
    /// WhatsApp is not in `CHANNELS_ENABLED`: the webhooks answer 404.
    Disabled,
}

/// How Gmail's Pub/Sub push requests are verified.
#[derive(Clone)]
pub enum GmailAuth {
    /// OIDC token or `?token=` secret, per settings.
    Verified(Arc<PubSubVerifier>),
    /// Dev only, without push verification settings: accepted with a warning.
    Unverified,
    /// Email is not in `CHANNELS_ENABLED`: the webhook answers 404.
    Disabled,
}

/// Webhook verification for both providers.
#[derive(Clone)]
pub struct WebhookAuth {
    /// WhatsApp (Twilio).
    pub twilio: TwilioAuth,
    /// Gmail push.
    pub gmail: GmailAuth,
}

/// Why webhook verification cannot be set up for this profile.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookAuthError {
    /// Production without a verification secret for an enabled channel.
    #[error(
        "production must verify {channel} webhooks: set {var} (or remove {name} from CHANNELS_ENABLED to switch the channel off)"
    )]
    Unverified {
        /// The channel, for people.
        channel: &'static str,
        /// Its name in `CHANNELS_ENABLED`.
        name: &'static str,
        /// The variable to set.
        var: &'static str,
    },
}

impl WebhookAuth {
    /// Verification as the settings ask for it. Production refuses an
    /// enabled channel whose webhooks could not be verified; dev accepts
    /// unverified webhooks and warns once per channel.
    pub fn from_settings(
        profile: Profile,
        twilio: &TwilioSettings,
        gmail: &GmailSettings,
    ) -> Result<Self, WebhookAuthError> {
        let twilio = match (&twilio.auth_token, twilio.enabled) {
            (_, false) => TwilioAuth::Disabled,
            (Some(token), true) => TwilioAuth::Signed(token.clone()),
            (None, true) if profile.is_production() => {
                return Err(WebhookAuthError::Unverified {
                    channel: "WhatsApp",
                    name: "whatsapp",
                    var: "TWILIO_AUTH_TOKEN",
                });
            }
            (None, true) => {
                tracing::warn!(
                    channel = "whatsapp",
                    "UNSIGNED WEBHOOKS ACCEPTED: TWILIO_AUTH_TOKEN is not set, so /webhooks/whatsapp \
                     takes any request (dev profile only; production refuses to start like this)"
                );
                TwilioAuth::Unsigned
            }
        };
        let gmail = match (PubSubVerifier::from_settings(gmail), gmail.enabled) {
            (_, false) => GmailAuth::Disabled,
            (Some(verifier), true) => GmailAuth::Verified(Arc::new(verifier)),
            (None, true) if profile.is_production() => {
                return Err(WebhookAuthError::Unverified {
                    channel: "Gmail push",
                    name: "email",
                    var: "GMAIL_PUBSUB_AUDIENCE and GMAIL_PUBSUB_SERVICE_ACCOUNT",
                });
            }
            (None, true) => {
                tracing::warn!(
                    channel = "email",
                    "UNVERIFIED WEBHOOKS ACCEPTED: neither GMAIL_PUBSUB_AUDIENCE nor \
                     GMAIL_PUBSUB_PUSH_TOKEN is set, so /webhooks/gmail takes any request \
                     (dev profile only)"
                );
                GmailAuth::Unverified
            }
        };
        Ok(Self { twilio, gmail })
    }
}

/// The per-IP limiters.
pub struct Limiters {
    /// `POST /support/submit`.
    pub submit: RateLimiter,
    /// The webhooks.
    pub webhooks: RateLimiter,
    /// Every staff endpoint (wrong keys count too).
    pub staff: RateLimiter,
    /// The public ticket status page.
    pub status: RateLimiter,
}

/// What handlers need: the database, the durable publisher and settings.
///
/// axum clones the state for every extractor and layer that asks for it, a
/// few times per request, so the state is one `Arc` over [`Shared`]: a clone
/// is one reference-count increment rather than a copy of every handle in it
/// (the pool, the producer and a dozen `Arc`s, each with its own atomic
/// increment and decrement). Fields are read through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields behind [`AppState`]. Built once at start-up; the `with_*`
/// builders change them before the state is shared.
#[derive(Clone)]
pub struct Shared {
    /// The PostgreSQL pool.
    pub pool: PgPool,
    /// The durable Kafka publisher.
    pub publisher: KafkaPublisher,
    /// Gateway settings.
    pub api: Arc<ApiSettings>,
    /// dev or production.
    pub profile: Profile,
    /// When the process started (for uptime in `/health`).
    pub started_at: Instant,
    /// Webhook verification.
    pub webhooks: Arc<WebhookAuth>,
    /// Rate limiters, sized from `api`.
    pub limiters: Arc<Limiters>,
    /// Group commit of web form submissions.
    pub submitter: Submitter,
    /// The in-process alerts and request-error samples (default
    /// thresholds until [`AppState::with_alert_settings`]).
    pub monitor: Arc<Monitor>,
    /// How each channel delivers replies, for `/health` (every channel
    /// through its provider until [`AppState::with_delivery`]).
    pub delivery: crate::local::ChannelDelivery,
    /// What the in-process provider fakes received, for `/dev/outbox` (dev
    /// profile only; `None` answers 404).
    pub outbound_log: Option<crate::local::SharedOutboundLog>,
    /// The web form's bot challenge, when one is configured
    /// ([`AppState::with_web_form`]).
    pub challenge: Option<Arc<ChallengeVerifier>>,
    /// The web form's response estimate.
    pub estimator: Arc<Estimator>,
    /// Which channels run (`CHANNELS_ENABLED`); the web form's routes answer
    /// 404 when it is off (every channel until
    /// [`AppState::with_enabled_channels`]).
    pub channels: Arc<EnabledChannels>,
    /// Conditions that keep this instance out of rotation (`/ready` 503).
    pub readiness: Arc<Readiness>,
    /// When the health checks first saw Kafka away, for the grace period.
    pub kafka_outage: Arc<crate::health::KafkaOutage>,
    /// Reads and replays `fte.dlq` for `/dlq` (set by
    /// [`AppState::with_dead_letters`]; without it `/dlq` answers 503).
    pub dead_letters: Option<Arc<DeadLetterReader>>,
}

impl AppState {
    /// State over real dependencies; the limiters are sized from `api`. Starts
    /// the submission committers, so call it inside the Tokio runtime.
    pub fn new(
        pool: PgPool,
        publisher: KafkaPublisher,
        api: ApiSettings,
        profile: Profile,
        webhooks: WebhookAuth,
    ) -> Self {
        let minute = Duration::from_secs(60);
        let limiters = Limiters {
            submit: RateLimiter::new(api.submit_rate_limit_per_minute, minute),
            webhooks: RateLimiter::new(api.webhook_rate_limit_per_minute, minute),
            staff: RateLimiter::new(api.staff_rate_limit_per_minute, minute),
            status: RateLimiter::new(api.status_rate_limit_per_minute, minute),
        };
        Self(Arc::new(Shared {
            submitter: Submitter::start(pool.clone(), publisher.clone()),
            pool,
            publisher,
            api: Arc::new(api),
            profile,
            started_at: Instant::now(),
            webhooks: Arc::new(webhooks),
            limiters: Arc::new(limiters),
            monitor: Arc::new(Monitor::new(AlertSettings::default())),
            delivery: crate::local::ChannelDelivery::default(),
            outbound_log: None,
            challenge: None,
            estimator: Arc::new(Estimator::default()),
            channels: Arc::default(),
            readiness: Arc::new(Readiness::new()),
            kafka_outage: Arc::default(),
            dead_letters: None,
        }))
    }

    /// The fields, for a builder: unique while the state is being built, so
    /// nothing is copied then (a state already shared is copied once).
    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// The same state reading and replaying `fte.dlq` with `reader`.
    pub fn with_dead_letters(mut self, reader: DeadLetterReader) -> Self {
        self.shared_mut().dead_letters = Some(Arc::new(reader));
        self
    }

    /// The same state with the web form's settings (its bot challenge).
    pub fn with_web_form(mut self, settings: &WebFormSettings) -> Self {
        self.shared_mut().challenge = settings
            .challenge
            .as_ref()
            .map(|challenge| Arc::new(ChallengeVerifier::new(challenge)));
        self
    }

    /// The same state with only `channels` running.
    pub fn with_enabled_channels(mut self, channels: EnabledChannels) -> Self {
        self.shared_mut().channels = Arc::new(channels);
        self
    }

    /// The same state with each channel's delivery as given.
    pub fn with_delivery(mut self, delivery: crate::local::ChannelDelivery) -> Self {
        self.shared_mut().delivery = delivery;
        self
    }

    /// The same state showing what `log` recorded on `/dev/outbox`.
    pub fn with_outbound_log(mut self, log: crate::local::SharedOutboundLog) -> Self {
        self.shared_mut().outbound_log = Some(log);
        self
    }

    /// The same state under `profile` (what `/dev/outbox` and the error
    /// bodies show depends on it).
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.shared_mut().profile = profile;
        self
    }

    /// The same state with these alert thresholds (and nothing holding).
    pub fn with_alert_settings(mut self, settings: AlertSettings) -> Self {
        self.shared_mut().monitor = Arc::new(Monitor::new(settings));
        self
    }
}
