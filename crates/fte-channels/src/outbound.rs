//! Addressing a reply: who it goes to on each channel, the Gmail thread it
//! answers in, and its subject line. The worker (the agent's replies) and
//! the gateway (staff replies) both build their [`OutboundReply`] payloads
//! from these, so a person's reply reaches the customer exactly where the
//! bot's would.
//!
//! [`OutboundReply`]: crate::OutboundReply

use fte_domain::{Channel, EmailAddress, PhoneNumber};

use crate::{EmailThread, Recipient};

/// Keys of the Gmail metadata the gateway stores on an inbound email.
pub mod email_metadata {
    /// Gmail's `threadId`.
    pub const THREAD_ID: &str = "thread_id";
    /// The message's `Message-ID` header, with angle brackets.
    pub const MESSAGE_ID: &str = "message_id";
    /// The `References` chain: an array of ids with angle brackets.
    pub const REFERENCES: &str = "references";
}

/// The customer has no address on the reply's channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoRecipient {
    /// WhatsApp needs a phone number.
    #[error("a WhatsApp reply needs the customer's phone number")]
    Phone,
    /// Email and the web form need an email address.
    #[error("an email or web form reply needs the customer's email address")]
    Email,
}

/// Who a reply on `channel` goes to: the phone on WhatsApp, the email
/// address on email and the web form.
pub fn recipient(
    channel: Channel,
    email: Option<&EmailAddress>,
    phone: Option<&PhoneNumber>,
) -> Result<Recipient, NoRecipient> {
    match channel {
        Channel::Whatsapp => phone
            .cloned()
            .map(Recipient::Phone)
            .ok_or(NoRecipient::Phone),
        Channel::Email | Channel::WebForm => email
            .cloned()
            .map(Recipient::Email)
            .ok_or(NoRecipient::Email),
    }
}

/// The Gmail thread to answer in, from an inbound email's metadata; `None`
/// on other channels or when the ids are missing.
pub fn email_thread(channel: Channel, metadata: &serde_json::Value) -> Option<EmailThread> {
    if channel != Channel::Email {
        return None;
    }
    let thread_id = metadata
        .get(email_metadata::THREAD_ID)?
        .as_str()?
        .to_owned();
    let in_reply_to = metadata
        .get(email_metadata::MESSAGE_ID)?
        .as_str()?
        .to_owned();
    let references = metadata
        .get(email_metadata::REFERENCES)
        .and_then(|r| r.as_array())
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some(EmailThread {
        thread_id,
        in_reply_to_message_id: in_reply_to,
        references,
    })
}

/// The reply's subject: an email answers "Re: <subject>"; the web form
/// keeps its subject; blank subjects are dropped.
pub fn reply_subject(channel: Channel, subject: Option<&str>) -> Option<String> {
    let subject = subject?.trim();
    if subject.is_empty() {
        return None;
    }
    if channel == Channel::Email && !subject.to_lowercase().starts_with("re:") {
        return Some(format!("Re: {subject}"));
    }
    Some(subject.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_channel_answers_on_its_own_address() {
        let email = EmailAddress::parse("maria@example.com").unwrap();
        let phone = PhoneNumber::parse("+14155550100").unwrap();
        assert!(matches!(
            recipient(Channel::Whatsapp, Some(&email), Some(&phone)),
            Ok(Recipient::Phone(_))
        ));
        assert!(matches!(
            recipient(Channel::WebForm, Some(&email), None),
            Ok(Recipient::Email(_))
        ));
        assert_eq!(
            recipient(Channel::Whatsapp, Some(&email), None),
            Err(NoRecipient::Phone)
        );
        assert_eq!(
            recipient(Channel::Email, None, Some(&phone)),
            Err(NoRecipient::Email)
        );
    }

    #[test]
    fn an_email_reply_threads_under_the_customer_message() {
        let meta = json!({"thread_id": "t1", "message_id": "<m1@x>", "references": ["<m0@x>"]});
        let thread = email_thread(Channel::Email, &meta).unwrap();
        assert_eq!(thread.thread_id, "t1");
        assert_eq!(thread.in_reply_to_message_id, "<m1@x>");
        assert_eq!(thread.references, vec!["<m0@x>"]);
        assert_eq!(email_thread(Channel::WebForm, &meta), None);
        assert_eq!(email_thread(Channel::Email, &json!({})), None);
        assert_eq!(
            reply_subject(Channel::Email, Some("Invoice")),
            Some("Re: Invoice".into())
        );
        assert_eq!(
            reply_subject(Channel::Email, Some("RE: Invoice")),
            Some("RE: Invoice".into())
        );
        assert_eq!(
            reply_subject(Channel::WebForm, Some("Invoice")),
            Some("Invoice".into())
        );
        assert_eq!(reply_subject(Channel::Email, Some("  ")), None);
    }
}
