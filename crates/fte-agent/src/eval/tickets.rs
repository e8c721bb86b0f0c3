//! The ticket files `fte eval` replays and the realistic-mix weights: their
//! JSON shapes and how a ticket becomes an [`AgentRequest`]; [`EvalSet`],
//! the sets of tickets and the file each is read from.

use std::path::Path;

use chrono::{Duration as ChronoDuration, Utc};
use fte_domain::{Channel, ConversationId, CustomerId, TicketId};
use serde::Deserialize;

use super::error::EvalError;
use crate::types::{AgentRequest, HistoryEntry, HistoryRole};

/// A set of tickets to replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalSet {
    /// The sample tickets of `context/sample-tickets.json`.
    Samples,
    /// The tuning half of `context/eval/`.
    Tuning,
    /// The held-out half of `context/eval/`: figures only.
    HeldOut,
    /// The tuning half of the second, independently written batch.
    Tuning2,
    /// The held-out half of the second batch: figures only.
    HeldOut2,
    /// The tuning half of the third, independently written batch.
    Tuning3,
    /// The held-out half of the third batch: figures only.
    HeldOut3,
    /// The tuning half of the fourth, independently written batch.
    Tuning4,
    /// The held-out half of the fourth batch: figures only.
    HeldOut4,
}

impl EvalSet {
    /// Every set, in report order.
    pub const ALL: [EvalSet; 9] = [
        EvalSet::Samples,
        EvalSet::Tuning,
        EvalSet::Tuning2,
        EvalSet::Tuning3,
        EvalSet::Tuning4,
        EvalSet::HeldOut,
        EvalSet::HeldOut2,
        EvalSet::HeldOut3,
        EvalSet::HeldOut4,
    ];

    /// The set's name on the command line and in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            EvalSet::Samples => "samples",
            EvalSet::Tuning => "tuning",
            EvalSet::HeldOut => "held-out",
            EvalSet::Tuning2 => "tuning-2",
            EvalSet::HeldOut2 => "held-out-2",
            EvalSet::Tuning3 => "tuning-3",
            EvalSet::HeldOut3 => "held-out-3",
            EvalSet::Tuning4 => "tuning-4",
            EvalSet::HeldOut4 => "held-out-4",
        }
    }

    /// Parses a name of [`as_str`](Self::as_str).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name.trim())
    }

    pub(super) fn file(self) -> &'static str {
        match self {
            EvalSet::Samples => "context/sample-tickets.json",
            EvalSet::Tuning => "context/eval/tuning.json",
            EvalSet::HeldOut => "context/eval/held-out.json",
            EvalSet::Tuning2 => "context/eval/tuning-2.json",
            EvalSet::HeldOut2 => "context/eval/held-out-2.json",
            EvalSet::Tuning3 => "context/eval/tuning-3.json",
            EvalSet::HeldOut3 => "context/eval/held-out-3.json",
            EvalSet::Tuning4 => "context/eval/tuning-4.json",
            EvalSet::HeldOut4 => "context/eval/held-out-4.json",
        }
    }

    /// Whether per-ticket failures may be shown (never for a held-out half).
    pub fn reveals_failures(self) -> bool {
        !matches!(
            self,
            EvalSet::HeldOut | EvalSet::HeldOut2 | EvalSet::HeldOut3 | EvalSet::HeldOut4
        )
    }
}

#[derive(Debug, Deserialize)]
struct TicketFile {
    tickets: Vec<Ticket>,
}

/// One ticket with its expected behaviour.
#[derive(Debug, Deserialize)]
pub(crate) struct Ticket {
    pub id: String,
    pub channel: Channel,
    pub customer: Customer,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    pub expect: Expectation,
    /// Earlier turns of the same conversation, oldest first.
    #[serde(default)]
    pub history: Vec<Turn>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Customer {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Turn {
    pub role: HistoryRole,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Expectation {
    pub action: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default)]
    pub must_include: Vec<String>,
}

impl Expectation {
    /// Whether the ticket should end with a person.
    pub fn escalates(&self) -> bool {
        matches!(self.action.as_str(), "escalate" | "answer_and_escalate")
    }
}

/// Reads a ticket file.
pub(crate) fn read_tickets(path: &Path) -> Result<Vec<Ticket>, EvalError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| EvalError::Tickets(format!("{}: {e}", path.display())))?;
    let file: TicketFile = serde_json::from_str(&raw)
        .map_err(|e| EvalError::Tickets(format!("{}: {e}", path.display())))?;
    Ok(file.tickets)
}

/// The request the worker would build for the ticket: a new customer, the
/// ticket's earlier turns as the conversation's history on its channel.
pub(crate) fn request_for(ticket: &Ticket) -> AgentRequest {
    let turns = ticket.history.len() as i64;
    let history = ticket
        .history
        .iter()
        .enumerate()
        .map(|(index, turn)| HistoryEntry {
            role: turn.role,
            channel: ticket.channel,
            content: turn.message.clone(),
            created_at: Utc::now() - ChronoDuration::minutes(2 * (turns - index as i64)),
        })
        .collect();
    AgentRequest {
        customer_id: CustomerId::new(),
        conversation_id: ConversationId::new(),
        ticket_id: TicketId::new(),
        channel: ticket.channel,
        customer_first_name: ticket
            .customer
            .name
            .split_whitespace()
            .next()
            .map(str::to_owned),
        plan: None,
        human_response_hours: fte_domain::handoff::ResponseHours::default().for_plan(None),
        subject: ticket.subject.clone(),
        message: ticket.message.clone(),
        history,
    }
}

#[derive(Debug, Deserialize)]
struct MixFile {
    classes: Vec<MixClass>,
}

/// A class of a realistic day's traffic and its share.
#[derive(Debug, Deserialize)]
pub(crate) struct MixClass {
    action: String,
    #[serde(default)]
    reason: Option<String>,
    weight: f64,
}

/// Reads `realistic-mix.json`.
pub(crate) fn read_mix(path: &Path) -> Result<Vec<MixClass>, EvalError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| EvalError::Tickets(format!("{}: {e}", path.display())))?;
    let file: MixFile = serde_json::from_str(&raw)
        .map_err(|e| EvalError::Tickets(format!("{}: {e}", path.display())))?;
    Ok(file.classes)
}

/// The escalation rate of a realistic day: each class's weight is shared by
/// its tickets in the set, classes without tickets are left out and the
/// other weights renormalised (as `context/eval/split.py` computes it).
/// `escalated` pairs each ticket's expectation with whether it escalated.
pub(crate) fn weighted_escalation_rate(
    classes: &[MixClass],
    escalated: &[(&Expectation, bool)],
) -> Option<f64> {
    let class_of = |expect: &Expectation| {
        classes.iter().position(|c| {
            c.action == expect.action
                && c.reason
                    .as_ref()
                    .is_none_or(|r| expect.reason.as_ref() == Some(r))
        })
    };
    let mut counts = vec![(0usize, 0usize); classes.len()];
    for (expect, did) in escalated {
        if let Some(class) = class_of(expect) {
            counts[class].0 += 1;
            counts[class].1 += usize::from(*did);
        }
    }
    let (mut rate, mut weights) = (0.0, 0.0);
    for (class, (tickets, escalated)) in classes.iter().zip(counts) {
        if tickets > 0 {
            rate += class.weight * escalated as f64 / tickets as f64;
            weights += class.weight;
        }
    }
    (weights > 0.0).then(|| rate / weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(action: &str, reason: Option<&str>) -> Expectation {
        Expectation {
            action: action.into(),
            reason: reason.map(str::to_owned),
            facts: Vec::new(),
            must_include: Vec::new(),
        }
    }

    #[test]
    fn the_weighted_rate_shares_each_class_weight_among_its_tickets() {
        let classes = vec![
            MixClass {
                action: "answer".into(),
                reason: None,
                weight: 0.8,
            },
            MixClass {
                action: "escalate".into(),
                reason: Some("pricing".into()),
                weight: 0.2,
            },
            MixClass {
                action: "greet".into(),
                reason: None,
                weight: 0.5,
            },
        ];
        let answer = expect("answer", None);
        let pricing = expect("escalate", Some("pricing"));
        // Half the answerable questions wrongly escalated, every pricing one
        // rightly: 0.8 * 0.5 + 0.2 * 1 over 1.0 (greet has no ticket).
        let rate = weighted_escalation_rate(
            &classes,
            &[(&answer, true), (&answer, false), (&pricing, true)],
        )
        .expect("classes present");
        assert!((rate - 0.6).abs() < 1e-9, "rate {rate}");
    }
}
