//! The worker's step beside the gateway: a test agent, a worker context on
//! the test app's database, and helpers to run the step, call staff
//! endpoints and deliver replies through the worker's sender.

use std::sync::Arc;
use std::time::Duration;

use fte_domain::{EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_worker::{WorkerConfig, WorkerContext};
use serde_json::{Value, json};

use super::{Answer, TestApp, spawn_app};
use crate::agents::{NoEvents, RefundAgent};

/// The owner of `STAFF_KEY`: who acts on every request made with it.
pub const STAFF: &str = super::STAFF_NAME;
/// What the bot answers when it does not escalate.
pub const BOT_ANSWER: &str = crate::agents::DEFAULT_ANSWER;

/// The gateway, the bot and the worker's step over the app's database.
pub struct Handoff {
    /// The gateway.
    pub app: TestApp,
    /// The bot.
    pub agent: Arc<RefundAgent>,
    /// The worker's step.
    pub worker: WorkerContext,
}

/// The gateway and the worker's step on one fresh database; the worker
/// acknowledges an escalated conversation at most once a second and
/// promises customers without a plan a person within 6 business hours.
pub async fn handoff() -> Handoff {
    let app = spawn_app().await;
    let agent = Arc::new(RefundAgent::default());
    let worker = WorkerContext {
        pool: app.pool.clone(),
        agent: agent.clone(),
        events: Arc::new(NoEvents),
        config: WorkerConfig {
            escalated_ack_interval: Duration::from_secs(1),
            response_hours: crate::worker::response_hours(),
            ..WorkerConfig::default()
        },
    };
    Handoff { app, agent, worker }
}

/// Runs the worker's step on `event`, which must be new.
pub async fn handle(h: &Handoff, event: &EventEnvelope<InboundMessage>) -> fte_worker::Handled {
    crate::worker::handle(&h.worker, event).await
}

/// A staff `POST` with the bearer key, when given.
pub async fn staff_post(app: &TestApp, path: &str, body: &Value, key: Option<&str>) -> Answer {
    app.post_as_staff(path, body, key).await
}

/// Delivers every due reply of `channel` through the worker's sender.
pub async fn deliver(app: &TestApp, recorder: &Arc<RecordingSender>) {
    crate::worker::deliver(&app.pool, recorder).await
}

/// Staff resolve `escalation` (the refund of the test agent's escalation).
pub async fn resolve(app: &TestApp, escalation: &str) -> Answer {
    staff_post(
        app,
        &format!("/escalations/{escalation}/resolve"),
        &json!({ "staff": STAFF, "resolution_notes": "Refunded the duplicate charge." }),
        Some(super::STAFF_KEY),
    )
    .await
}
