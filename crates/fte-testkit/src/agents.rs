//! Stand-ins for the model and for Kafka where a test drives the worker's
//! step directly: a scripted agent, the refund bot of the staff tests, an
//! event sink that records and one that drops.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fte_domain::EscalationReason;
use fte_domain::format::{self, Recipient};
use fte_domain::handoff::follow_up_promise;
use fte_worker::agent::{
    AgentOutcome, AgentRequest, AgentUnavailable, EscalationDecision, ReplyAgent,
};
use fte_worker::events::EventSink;
use serde_json::json;

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
    gate: Mutex<Option<Held>>,
}

/// The turns a [`Gate`] holds: every one, or those whose message contains
/// a text.
struct Held {
    gate: Arc<tokio::sync::Semaphore>,
    containing: Option<String>,
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
    /// Queues what the agent does with a later message.
    pub fn then(&self, step: Script) {
        self.script.lock().unwrap().push_back(step);
    }

    /// Makes every turn wait (after recording its request) until the gate
    /// is released.
    pub fn hold(&self) -> Gate {
        self.hold_where(None)
    }

    /// Makes the turns whose message contains `text` wait (after recording
    /// their request) until the gate is released; the others go on.
    pub fn hold_containing(&self, text: &str) -> Gate {
        self.hold_where(Some(text.to_owned()))
    }

    fn hold_where(&self, containing: Option<String>) -> Gate {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        *self.gate.lock().unwrap() = Some(Held {
            gate: gate.clone(),
            containing,
        });
        Gate(gate)
    }

    /// Every request the agent got, oldest first.
    pub fn requests(&self) -> Vec<AgentRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// What the agents here answer when they do not escalate.
pub const DEFAULT_ANSWER: &str = "Open Settings, then Security, and follow the steps.";

#[async_trait]
impl ReplyAgent for ScriptedAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        self.requests.lock().unwrap().push(request.clone());
        let gate = self.gate.lock().unwrap().as_ref().and_then(|held| {
            let holds = held
                .containing
                .as_deref()
                .is_none_or(|text| request.message.contains(text));
            holds.then(|| held.gate.clone())
        });
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
            tool_calls: json!([{ "name": "search_knowledge_base" }]),
        })
    }
}

/// An event sink that keeps what it was given.
#[derive(Default)]
pub struct RecordingEvents {
    /// Every event as `(topic, key, payload)`.
    pub published: Mutex<Vec<(String, String, serde_json::Value)>>,
    /// The headers of each published event, in the same order.
    pub headers: Mutex<Vec<Vec<(String, String)>>>,
}

impl RecordingEvents {
    /// The payloads published on `topic`.
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

/// The bot of the staff tests: escalates a message asking for a refund,
/// answers anything else with [`DEFAULT_ANSWER`]. Counts the messages it
/// was asked about.
#[derive(Default)]
pub struct RefundAgent {
    asked: Mutex<usize>,
}

impl RefundAgent {
    /// How many messages the bot was asked about.
    pub fn asked(&self) -> usize {
        *self.asked.lock().unwrap()
    }
}

#[async_trait]
impl ReplyAgent for RefundAgent {
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
            None => DEFAULT_ANSWER.to_owned(),
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

/// An event sink for tests whose events are not under test.
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
