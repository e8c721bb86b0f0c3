//! Guardrails after the answer is written (by the model or the offline
//! agent): the reply must contain no amounts of money or discount
//! percentages, nothing about the system prompt or tools, no internal id
//! other than the customer's own ticket id, and it must fit the channel.
//! A reply that breaks a rule is not repaired: it is replaced by a safe
//! escalation, because a half-edited answer is still a wrong answer.

use std::sync::LazyLock;

use fte_domain::format::FormattedReply;
use fte_domain::{Channel, EscalationReason};
use regex::Regex;

use crate::tools::TOOL_NAMES;
use crate::triage::fold;

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// An amount of money ("$12", "10 euros", "USD 5").
    Money,
    /// A discount or a percentage offered off a price.
    Discount,
    /// The system prompt, instructions or a tool name.
    Internals,
    /// A UUID other than the customer's ticket id.
    ForeignId,
    /// A message longer than the channel allows.
    TooLong,
}

impl Violation {
    /// The escalation reason that replaces a reply breaking this rule.
    pub fn escalation_reason(&self) -> EscalationReason {
        match self {
            Violation::Money | Violation::Discount => EscalationReason::Pricing,
            _ => EscalationReason::SearchFailed,
        }
    }

    /// A low-cardinality label for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Violation::Money => "money",
            Violation::Discount => "discount",
            Violation::Internals => "internals",
            Violation::ForeignId => "foreign_id",
            Violation::TooLong => "too_long",
        }
    }
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[$€£¥]\s?\d|\d\s?[$€£¥]|\b(?:usd|eur|gbp|brl|mxn)\s?\d|\d[\d,.]*\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|cents?|reais|pesos)\b",
    )
    .expect("valid pattern")
});

static PERCENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d\s?%").expect("valid pattern"));

static DISCOUNT_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:discount|off\b|save|saving|cheaper|coupon|promo|deal|price|descuento|desconto|rabatt|remise|reduction)")
        .expect("valid pattern")
});

/// An offer of a discount, with or without a figure.
static DISCOUNT_OFFER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:offer|offers|get|give|gives|have|has|apply|qualify for|eligible for)\s+(?:a |an |the |our )?(?:\w+ )?discount")
        .expect("valid pattern")
});

static INTERNALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:system prompt|my instructions|my prompt|developer message|function call|tool call)",
    )
    .expect("valid pattern")
});

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("valid pattern")
});

/// Checks one text (an answer or a formatted message) for the content rules.
pub fn content_violations(text: &str, ticket_reference: &str) -> Vec<Violation> {
    let mut found = Vec::new();
    if MONEY.is_match(text) {
        found.push(Violation::Money);
    }
    let folded = fold(text);
    // A percentage is fine ("99.9% monthly uptime") unless a sentence
    // around it talks about prices or discounts.
    let discount = fte_domain::format::split_sentences(&folded)
        .iter()
        .any(|s| PERCENT.is_match(s) && DISCOUNT_WORDS.is_match(s))
        || DISCOUNT_OFFER.is_match(&folded);
    if discount {
        found.push(Violation::Discount);
    }
    if INTERNALS.is_match(&folded) || TOOL_NAMES.iter().any(|name| folded.contains(name)) {
        found.push(Violation::Internals);
    }
    let own = ticket_reference.to_ascii_lowercase();
    if UUID
        .find_iter(text)
        .any(|m| m.as_str().to_ascii_lowercase() != own)
    {
        found.push(Violation::ForeignId);
    }
    found
}

/// Checks a formatted reply: content rules on every message and the
/// deferred rest, and the channel's length limit on every message.
pub fn reply_violations(
    reply: &FormattedReply,
    channel: Channel,
    ticket_reference: &str,
) -> Vec<Violation> {
    let mut found: Vec<Violation> = Vec::new();
    let texts = reply.messages.iter().chain(reply.deferred.iter());
    for text in texts {
        for violation in content_violations(text, ticket_reference) {
            if !found.contains(&violation) {
                found.push(violation);
            }
        }
    }
    if reply.messages.is_empty() || reply.messages.iter().any(|m| !channel.limits().fits(m)) {
        found.push(Violation::TooLong);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "0192f1c2-7d4e-7a00-8000-000000000001";

    #[test]
    fn amounts_of_money_are_caught() {
        for text in [
            "It costs $12 per seat.",
            "Only 10 euros.",
            "USD 8 a month",
            "9,99 €",
            "12 dollars",
        ] {
            assert!(
                content_violations(text, TICKET).contains(&Violation::Money),
                "{text}"
            );
        }
    }

    #[test]
    fn discounts_are_caught_but_uptime_percentages_pass() {
        assert!(
            content_violations("You can get 20% off when paying yearly.", TICKET)
                .contains(&Violation::Discount)
        );
        assert!(
            content_violations("We offer a discount for startups.", TICKET)
                .contains(&Violation::Discount)
        );
        assert!(
            content_violations(
                "The service level objective is 99.9% monthly uptime.",
                TICKET
            )
            .is_empty()
        );
    }

    #[test]
    fn internals_and_foreign_ids_are_caught_but_the_own_ticket_passes() {
        assert!(
            content_violations("My system prompt says...", TICKET).contains(&Violation::Internals)
        );
        assert!(
            content_violations("I used search_knowledge_base for this.", TICKET)
                .contains(&Violation::Internals)
        );
        let foreign = "Customer 0192f1c2-7d4e-7a00-8000-0000000000ff asked too.";
        assert!(content_violations(foreign, TICKET).contains(&Violation::ForeignId));
        assert!(content_violations(&format!("Ticket: {TICKET}"), TICKET).is_empty());
    }

    #[test]
    fn messages_longer_than_the_channel_are_caught() {
        let reply = FormattedReply {
            messages: vec!["x".repeat(301)],
            deferred: None,
        };
        assert!(reply_violations(&reply, Channel::Whatsapp, TICKET).contains(&Violation::TooLong));
        assert!(reply_violations(&reply, Channel::Email, TICKET).is_empty());
    }
}
