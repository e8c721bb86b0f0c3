//! Text as the CRM can store it.
//!
//! PostgreSQL refuses a NUL character in `text`, `varchar` and `jsonb`
//! values and refuses a `varchar(n)` value longer than `n` characters; both
//! are permanent refusals (SQLSTATE class 22), so a message carrying them
//! could never be stored. Every channel's edge (the web form's validation,
//! the WhatsApp webhook, the Gmail sync) and the worker again before
//! storing pass inbound messages through [`InboundMessage::sanitised`]:
//! NUL characters are removed everywhere (text, sender, metadata keys and
//! values) and the subject and the sender's name are cut to their columns'
//! sizes on a character boundary. Ids are never cut — two long ids cut to
//! one would merge two messages — so [`channel_message_id_problem`] tells
//! the edge to refuse them instead.

use crate::InboundMessage;

/// `tickets.subject varchar(500)`.
pub const SUBJECT_MAX_CHARS: usize = 500;
/// `customers.name varchar(255)`.
pub const NAME_MAX_CHARS: usize = 255;
/// `messages.channel_message_id` and `inbound_receipts.channel_message_id`,
/// `varchar(255)`.
pub const CHANNEL_MESSAGE_ID_MAX_CHARS: usize = 255;

/// `text` without NUL characters.
pub fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

/// `text` cut to at most `max` characters (never inside a character).
pub fn clip(mut text: String, max: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(max) {
        text.truncate(at);
    }
    text
}

/// `text` without NUL characters and cut to `max` characters.
pub fn storable(text: &str, max: usize) -> String {
    clip(without_nul(text), max)
}

/// Why a channel's message id cannot be stored, if it cannot: it is empty,
/// longer than [`CHANNEL_MESSAGE_ID_MAX_CHARS`], or holds a NUL or another
/// control character.
pub fn channel_message_id_problem(id: &str) -> Option<&'static str> {
    if id.trim().is_empty() {
        Some("the message has no channel message id")
    } else if id.chars().count() > CHANNEL_MESSAGE_ID_MAX_CHARS {
        Some("the channel message id is longer than 255 characters")
    } else if id.chars().any(char::is_control) {
        Some("the channel message id holds a control character")
    } else {
        None
    }
}

fn json_without_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Value::String(without_nul(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(json_without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = if k.contains('\0') { without_nul(&k) } else { k };
                    (k, json_without_nul(v))
                })
                .collect(),
        ),
        other => other,
    }
}

impl InboundMessage {
    /// The message as the CRM can store it (see the module doc). The id is
    /// left as it is; check it with [`channel_message_id_problem`].
    pub fn sanitised(mut self) -> Self {
        self.content = without_nul(&self.content);
        self.subject = self.subject.map(|s| storable(&s, SUBJECT_MAX_CHARS));
        self.sender.name = self.sender.name.map(|n| storable(&n, NAME_MAX_CHARS));
        self.sender.email = self.sender.email.map(|e| without_nul(&e));
        self.sender.phone = self.sender.phone.map(|p| without_nul(&p));
        self.metadata = json_without_nul(self.metadata);
        self
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::Channel;
    use crate::events::InboundSender;

    fn message() -> InboundMessage {
        InboundMessage {
            channel: Channel::Email,
            channel_message_id: "m1".into(),
            sender: InboundSender {
                email: Some("a\0@example.com".into()),
                phone: Some("+34\u{0}612345678".into()),
                name: Some(format!("Ana\0 {}", "é".repeat(300))),
            },
            subject: Some(format!("\0{}", "ß".repeat(600))),
            content: "hel\0lo".into(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: serde_json::json!({"thread\0": ["a\0b", {"k": "v\0"}], "n": 1}),
        }
    }

    #[test]
    fn nul_characters_are_removed_from_every_field_and_the_metadata() {
        let clean = message().sanitised();
        assert_eq!(clean.content, "hello");
        assert_eq!(clean.sender.email.as_deref(), Some("a@example.com"));
        assert_eq!(clean.sender.phone.as_deref(), Some("+34612345678"));
        assert!(!clean.subject.unwrap().contains('\0'));
        assert!(!clean.sender.name.unwrap().contains('\0'));
        assert_eq!(
            clean.metadata,
            serde_json::json!({"thread": ["ab", {"k": "v"}], "n": 1})
        );
    }

    #[test]
    fn subject_and_name_are_cut_to_their_columns_on_a_character_boundary() {
        let clean = message().sanitised();
        let subject = clean.subject.unwrap();
        assert_eq!(subject.chars().count(), SUBJECT_MAX_CHARS);
        assert!(
            subject.chars().all(|c| c == 'ß'),
            "two-byte characters stay whole"
        );
        let name = clean.sender.name.unwrap();
        assert_eq!(name.chars().count(), NAME_MAX_CHARS);
        assert!(name.starts_with("Ana é"));
        assert_eq!(clip("short".into(), 10), "short");
        assert_eq!(clip("😀😀😀".into(), 2), "😀😀");
    }

    #[test]
    fn ids_that_cannot_be_stored_are_named() {
        assert_eq!(channel_message_id_problem("SM123"), None);
        assert!(channel_message_id_problem(" ").is_some());
        assert!(channel_message_id_problem(&"x".repeat(256)).is_some());
        assert_eq!(channel_message_id_problem(&"x".repeat(255)), None);
        assert!(channel_message_id_problem("SM\0").is_some());
    }
}
