//! The worker's step beside the gateway: a test agent, a worker context on
//! the test app's database, and helpers to run the step, call staff
//! endpoints and deliver replies through the worker's sender.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fte_domain::format::{self, Recipient};
use fte_domain::handoff::{ResponseHours, follow_up_promise};
use fte_domain::{EscalationReason, EventEnvelope, InboundMessage};
use fte_fakes::RecordingSender;
use fte_worker::agent::{
    AgentOutcome, AgentRequest, AgentUnavailable, EscalationDecision, ReplyAgent,
};
use fte_worker::events::EventSink;
use fte_worker::sender::ChannelSender;
use fte_worker::{Outcome, WorkerConfig, WorkerContext, handle_event};
use serde_json::{Value, json};

use super::{Answer, TestApp, spawn_app};

/// The owner of `STAFF_KEY`: who acts on every request made with it.
pub const STAFF: &str = super::STAFF_NAME;
pub const BOT_ANSWER: &str = "Open Settings, then Security, and follow the steps.";

/// Escalates a message that asks for a refund; answers anything else. Counts
/// the messages it was asked about.
#[derive(Default)]
pub struct Agent {
    asked: Mutex<usize>,
}

impl Agent {
    pub fn asked(&self) -> usize {
        *self.asked.lock().unwrap()
    }
}

#[async_trait]
impl ReplyAgent for Agent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        *self.asked.lock().unwrap() += 1;
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        let escalation = request
            .message
            .contains("refund")
            .then(|| EscalationDecision {
                reason: EscalationReason::Refund,
                summary: "asks for a refund of a duplicate charge".into(),
            });
        let text = match &escalation {
            Some(_) => format!(
                "I've passed this to our billing team. {}",
                follow_up_promise(request.human_response_hours)
            ),
            None => BOT_ANSWER.to_owned(),
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, &text),
            escalation,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.0,
            usage: fte_domain::TokenUsage::chat(6, 4),
            latency_ms: 5,
            tool_calls: json!([]),
        })
    }
}

/// The worker's events are not under test here.
pub struct NoEvents;

#[async_trait]
impl EventSink for NoEvents {
    async fn publish(
        &self,
        _topic: &str,
        _key: &str,
        _payload: &[u8],
        _headers: &[(&str, &str)],
    ) -> Result<(), String> {
        Ok(())
    }
}

pub struct Handoff {
    pub app: TestApp,
    pub agent: Arc<Agent>,
    pub worker: WorkerContext,
}

/// The gateway and the worker's step on one fresh database; the worker
/// acknowledges an escalated conversation at most once a second and
/// promises customers without a plan a person within 6 business hours.
pub async fn handoff() -> Handoff {
    let app = spawn_app().await;
    let agent = Arc::new(Agent::default());
    let worker = WorkerContext {
        pool: app.pool.clone(),
        agent: agent.clone(),
        events: Arc::new(NoEvents),
        config: WorkerConfig {
            escalated_ack_interval: Duration::from_secs(1),
            response_hours: ResponseHours {
                free: 6,
                ..ResponseHours::default()
            },
            ..WorkerConfig::default()
        },
    };
    Handoff { app, agent, worker }
}

/// Runs the worker's step on `event`, which must be new.
pub async fn handle(h: &Handoff, event: &EventEnvelope<InboundMessage>) -> fte_worker::Handled {
    match handle_event(&h.worker, event)
        .await
        .expect("the step succeeds")
    {
        Outcome::Handled(handled) => handled,
        Outcome::Duplicate => panic!("a new message was taken for a duplicate"),
    }
}

/// A staff `POST` with the bearer key, when given.
pub async fn staff_post(app: &TestApp, path: &str, body: &Value, key: Option<&str>) -> Answer {
    let mut request = app.client.post(app.url(path)).json(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("the gateway answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// Delivers every due reply of `channel` through the worker's sender.
pub async fn deliver(app: &TestApp, recorder: &Arc<RecordingSender>) {
    let sender = ChannelSender {
        pool: app.pool.clone(),
        sender: recorder.clone(),
        events: Arc::new(NoEvents),
        config: WorkerConfig::default(),
    };
    while sender.send_due().await.expect("a delivery round") > 0 {}
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
