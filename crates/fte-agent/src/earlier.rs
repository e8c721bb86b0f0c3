//! Acknowledging earlier contact: "I see you wrote to us by email earlier
//! about …" for a contact on another channel within the last 24 hours
//! ([`cross_channel_note`]), and "I see you wrote to us by WhatsApp on
//! 29 November about …" when the customer refers to an earlier
//! conversation ("last week", "I contacted you before") that the history
//! holds, up to 90 days back ([`earlier_contact_note`]).
//!
//! Both read only the request's history, which the worker has already cut
//! to what the reply's recipient may see: a claimed sender's request holds
//! nothing of the customer's earlier contact, so no acknowledgement can
//! reveal it.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use fte_domain::Channel;

use crate::triage::fold;
use crate::types::{AgentRequest, HistoryEntry, HistoryRole};

/// Earlier contact on another channel within this window is acknowledged.
const CROSS_CHANNEL_WINDOW_HOURS: i64 = 24;

/// "I see you wrote to us by email earlier about …" when the customer wrote
/// on another channel within the last 24 hours.
pub fn cross_channel_note(request: &AgentRequest) -> Option<String> {
    let since = Utc::now() - Duration::hours(CROSS_CHANNEL_WINDOW_HOURS);
    let earlier = request.history.iter().rev().find(|h| {
        h.role == HistoryRole::Customer
            && h.channel != request.channel
            && h.created_at >= since
            && !h.content.trim().is_empty()
    })?;
    let channel = match earlier.channel {
        Channel::Email => "email",
        Channel::Whatsapp => "WhatsApp",
        Channel::WebForm => "the web form",
    };
    let words: Vec<&str> = earlier.content.split_whitespace().take(10).collect();
    let mut topic = words.join(" ");
    topic = topic.trim_end_matches(['.', '?', '!', ',']).to_owned();
    if earlier.content.split_whitespace().count() > 10 {
        topic.push('…');
    }
    Some(format!(
        "I see you wrote to us by {channel} earlier about \"{topic}\"."
    ))
}

/// How far back an earlier conversation is acknowledged.
pub const EARLIER_CONTACT_DAYS: i64 = 90;

/// Phrases (folded) by which a customer refers to an earlier contact.
const REFERENCES: [&str; 19] = [
    "last week",
    "days ago",
    "day ago",
    "the other day",
    "last time",
    "previous",
    "previously",
    "earlier",
    "follow up",
    "following up",
    "contacted you",
    "wrote to you",
    "semana pasada",
    "hace unos dias",
    "la semaine derniere",
    "il y a quelques jours",
    "letzte woche",
    "vor ein paar tagen",
    "ja escrevi",
];

/// Words too common to tie a message to an earlier conversation.
const COMMON: [&str; 24] = [
    "that",
    "this",
    "with",
    "about",
    "what",
    "when",
    "your",
    "have",
    "from",
    "last",
    "week",
    "wrote",
    "contacted",
    "again",
    "still",
    "there",
    "they",
    "would",
    "could",
    "please",
    "thanks",
    "hello",
    "before",
    "earlier",
];

/// Words of a summary's opening message kept in the acknowledgement.
const TOPIC_WORDS: usize = 10;

/// The acknowledgement a reply begins with, if any: a recent contact on
/// another channel first, else the earlier conversation the message refers
/// to.
pub fn acknowledgement(request: &AgentRequest) -> Option<String> {
    cross_channel_note(request).or_else(|| earlier_contact_note(request))
}

/// "I see you wrote to us by <channel> on <date> about …" when the message
/// refers to an earlier contact and an entry of the history (up to
/// [`EARLIER_CONTACT_DAYS`] back, summaries included) shares a significant
/// word with it; the most recent of the best matches wins.
pub fn earlier_contact_note(request: &AgentRequest) -> Option<String> {
    let folded = fold(&request.message);
    if !REFERENCES.iter().any(|r| folded.contains(r)) {
        return None;
    }
    let asked = significant_words(&request.message);
    let since = Utc::now() - Duration::days(EARLIER_CONTACT_DAYS);
    let (_, entry) = request
        .history
        .iter()
        .filter(|h| matches!(h.role, HistoryRole::Customer | HistoryRole::Summary))
        .filter(|h| h.created_at >= since)
        .map(|h| {
            (
                significant_words(topic_of(h)).intersection(&asked).count(),
                h,
            )
        })
        .filter(|(shared, _)| *shared > 0)
        .max_by_key(|(shared, h)| (*shared, h.created_at))?;
    let channel = match entry.channel {
        Channel::Email => "email",
        Channel::Whatsapp => "WhatsApp",
        Channel::WebForm => "the web form",
    };
    let words: Vec<&str> = topic_of(entry)
        .split_whitespace()
        .take(TOPIC_WORDS)
        .collect();
    let mut topic = words.join(" ");
    topic = topic.trim_end_matches(['.', '?', '!', ',']).to_owned();
    if topic_of(entry).split_whitespace().count() > TOPIC_WORDS {
        topic.push('…');
    }
    Some(format!(
        "I see you wrote to us by {channel} on {} about \"{topic}\".",
        entry.created_at.format("%-d %B")
    ))
}

/// What an entry is about: a summary's opening message, else its text.
fn topic_of(entry: &HistoryEntry) -> &str {
    if entry.role == HistoryRole::Summary
        && let Some((_, rest)) = entry.content.split_once("opened with: \"")
    {
        return rest.trim_end_matches('"');
    }
    &entry.content
}

fn significant_words(text: &str) -> HashSet<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 && !COMMON.contains(w))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(message: &str, history: Vec<HistoryEntry>) -> AgentRequest {
        AgentRequest {
            history,
            ..AgentRequest::for_test(Channel::Email, message)
        }
    }

    fn entry(role: HistoryRole, channel: Channel, days_ago: i64, content: &str) -> HistoryEntry {
        HistoryEntry {
            role,
            channel,
            content: content.into(),
            created_at: Utc::now() - Duration::days(days_ago),
        }
    }

    #[test]
    fn a_reference_to_last_week_finds_the_conversation_of_six_days_ago() {
        let history = vec![
            entry(
                HistoryRole::Summary,
                Channel::Whatsapp,
                6,
                "Earlier conversation on whatsapp from 29 November 2026 to 29 November 2026, 4 messages; the customer opened with: \"The Gantt export cuts off the last column of my board\"",
            ),
            entry(
                HistoryRole::Customer,
                Channel::Email,
                1,
                "How do I invite a guest?",
            ),
        ];
        let note = earlier_contact_note(&request(
            "I contacted you last week about the Gantt export, it still cuts columns.",
            history,
        ))
        .expect("the earlier conversation is acknowledged");
        assert!(
            note.starts_with("I see you wrote to us by WhatsApp on "),
            "{note}"
        );
        assert!(note.contains("The Gantt export cuts off"), "{note}");
    }

    #[test]
    fn no_reference_or_no_matching_conversation_means_no_note() {
        let history = vec![entry(
            HistoryRole::Customer,
            Channel::Whatsapp,
            6,
            "The Gantt export cuts off the last column",
        )];
        assert_eq!(
            earlier_contact_note(&request("How do I export to Gantt?", history.clone())),
            None,
            "the message does not refer to an earlier contact"
        );
        assert_eq!(
            earlier_contact_note(&request("I wrote to you last week about billing", history)),
            None,
            "nothing in the history is about it"
        );
        let old = vec![entry(
            HistoryRole::Customer,
            Channel::Whatsapp,
            120,
            "The Gantt export cuts off the last column",
        )];
        assert_eq!(
            earlier_contact_note(&request("Following up on the Gantt export", old)),
            None,
            "beyond 90 days"
        );
    }
}
