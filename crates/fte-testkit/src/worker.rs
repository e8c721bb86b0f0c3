//! Shared test helpers: a scripted agent, a recording event sink, inbound
//! events as the gateway publishes them, and a context on a fresh database.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use fte_domain::events::InboundSender;
use fte_domain::format::{self, Recipient};
use fte_domain::{Channel, EscalationReason, EventEnvelope, InboundMessage};
use fte_store::PgPool;
use fte_worker::agent::{
    AgentOutcome, AgentRequest, AgentUnavailable, EscalationDecision, ReplyAgent,
};
use fte_worker::events::EventSink;
use fte_worker::{WorkerConfig, WorkerContext};

/// What the scripted agent does with the next message.
#[derive(Clone, Debug)]
pub enum Script {
    /// Answers with this text.
    Answer(String),
    /// Escalates for this reason.
    Escalate(EscalationReason),
    /// Answers and resolves the ticket.
    Resolve,
    /// Fails as if its infrastructure were down.
    Fail,
    /// Thinks this long, then answers.
    Slow(std::time::Duration),
    /// Repeats every history entry it was given, as a model talked into
    /// "summarising the account" would.
    EchoHistory,
}

/// An agent that follows a script (default: a short answer) and keeps
/// every request it got.
#[derive(Default)]
pub struct ScriptedAgent {
    script: Mutex<VecDeque<Script>>,
    requests: Mutex<Vec<AgentRequest>>,
    gate: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
}

/// Holds every turn of a [`ScriptedAgent`] until released.
pub struct Gate(Arc<tokio::sync::Semaphore>);

impl Gate {
    /// Lets every held and later turn through.
    pub fn release(&self) {
        self.0.add_permits(1_000_000);
    }
}

impl ScriptedAgent {
    pub fn then(&self, step: Script) {
        self.script.lock().unwrap().push_back(step);
    }

    /// Makes every turn wait (after recording its request) until the gate
    /// is released.
    pub fn hold(&self) -> Gate {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(0));
        *self.gate.lock().unwrap() = Some(semaphore.clone());
        Gate(semaphore)
    }

    pub fn requests(&self) -> Vec<AgentRequest> {
        self.requests.lock().unwrap().clone()
    }
}

pub const DEFAULT_ANSWER: &str = "Open Settings, then Security, and follow the steps.";

#[async_trait]
impl ReplyAgent for ScriptedAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        self.requests.lock().unwrap().push(request.clone());
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            let _permit = gate.acquire().await.expect("the gate stays open");
        }
        let step = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Script::Answer(DEFAULT_ANSWER.into()));
        let reference = request.ticket_id.to_string();
        let recipient = Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        let (text, escalation, resolve) = match step {
            Script::Answer(text) => (text, None, false),
            Script::Escalate(reason) => (
                "A person from our team will follow up.".to_owned(),
                Some(EscalationDecision {
                    reason,
                    summary: format!("customer asked about {reason}"),
                }),
                false,
            ),
            Script::Resolve => ("Glad it works now!".to_owned(), None, true),
            Script::Fail => return Err(AgentUnavailable("scripted failure".into())),
            Script::EchoHistory => {
                let earlier: Vec<&str> =
                    request.history.iter().map(|h| h.content.as_str()).collect();
                (
                    format!("Here is what you told us before: {}", earlier.join(" / ")),
                    None,
                    false,
                )
            }
            Script::Slow(pause) => {
                tokio::time::sleep(pause).await;
                (DEFAULT_ANSWER.to_owned(), None, false)
            }
        };
        Ok(AgentOutcome {
            reply: format::format_reply(request.channel, recipient, &text),
            escalation,
            resolve_ticket: resolve,
            ticket_category: None,
            sentiment: 0.25,
            usage: fte_domain::TokenUsage::chat(30, 12),
            latency_ms: 7,
            tool_calls: serde_json::json!([{ "name": "search_knowledge_base" }]),
        })
    }
}

/// An event sink that keeps what it was given.
#[derive(Default)]
pub struct RecordingEvents {
    pub published: Mutex<Vec<(String, String, serde_json::Value)>>,
    /// The headers of each published event, in the same order.
    pub headers: Mutex<Vec<Vec<(String, String)>>>,
}

impl RecordingEvents {
    pub fn on_topic(&self, topic: &str) -> Vec<serde_json::Value> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _, _)| t == topic)
            .map(|(_, _, v)| v.clone())
            .collect()
    }
}

#[async_trait]
impl EventSink for RecordingEvents {
    async fn publish(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<(), String> {
        self.headers.lock().unwrap().push(
            headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        let value = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        self.published
            .lock()
            .unwrap()
            .push((topic.to_owned(), key.to_owned(), value));
        Ok(())
    }
}

pub struct Harness {
    pub pool: PgPool,
    pub agent: Arc<ScriptedAgent>,
    pub events: Arc<RecordingEvents>,
    pub ctx: WorkerContext,
}

pub async fn harness() -> Harness {
    let pool = fte_store::testing::fresh_database().await;
    let agent = Arc::new(ScriptedAgent::default());
    let events = Arc::new(RecordingEvents::default());
    let ctx = WorkerContext {
        pool: pool.clone(),
        agent: agent.clone(),
        events: events.clone(),
        config: WorkerConfig::default(),
    };
    Harness {
        pool,
        agent,
        events,
        ctx,
    }
}

/// An inbound message event as the gateway publishes it.
pub fn inbound(
    channel: Channel,
    channel_message_id: &str,
    email: Option<&str>,
    phone: Option<&str>,
    name: Option<&str>,
    content: &str,
) -> EventEnvelope<InboundMessage> {
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: channel_message_id.to_owned(),
            sender: InboundSender {
                email: email.map(str::to_owned),
                phone: phone.map(str::to_owned),
                name: name.map(str::to_owned),
                ..InboundSender::default()
            },
            subject: match channel {
                Channel::Whatsapp => None,
                _ => Some("Question".to_owned()),
            },
            content: content.to_owned(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: serde_json::json!({}),
        },
    )
}

/// `event` as its channel proves it: the email and phone it carries marked
/// verified (an authenticated Gmail message, a signed Twilio webhook, a web
/// form with a valid identity token).
pub fn proven(mut event: EventEnvelope<InboundMessage>) -> EventEnvelope<InboundMessage> {
    let sender = &mut event.payload.sender;
    sender.email_verified = sender.email.is_some();
    sender.phone_verified = sender.phone.is_some();
    event
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A minimal reply for driving a sender directly.
pub fn outbound_reply(channel: Channel) -> fte_channels::OutboundReply {
    fte_channels::OutboundReply {
        channel,
        to: fte_channels::Recipient::Email(
            fte_domain::EmailAddress::parse("a@example.com").unwrap(),
        ),
        subject: None,
        parts: vec!["hello".into()],
        thread: None,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        last_inbound_at: None,
        ticket_reference: None,
    }
}
