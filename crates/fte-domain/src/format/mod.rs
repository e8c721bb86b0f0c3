//! Channel formatting of a reply, from `context/brand-voice.md`.
//!
//! The agent writes one answer in light Markdown; these pure functions give
//! it the shape of each channel:
//!
//! - **email**: "Hi <first name>," (or "Hi there,"), the answer, a closing
//!   line, the signature "— Orbitask Support" and "Ticket: <id>"; at most 500
//!   words per email, longer answers split into numbered emails "(1/2)".
//! - **WhatsApp**: at most 300 characters, no greeting or signature, WhatsApp
//!   markup (`*bold*`); a longer answer is cut at a sentence (or word)
//!   boundary, ends with "…" and the line "Reply MORE for the rest", and the
//!   remainder is returned in [`FormattedReply::deferred`] for the worker to
//!   send when the customer replies MORE (format it again with
//!   [`format_reply`]: it may be deferred again).
//! - **web form**: at most 300 words, "Hello <first name>," then the answer
//!   in the small Markdown subset the status page renders safely (bold,
//!   links, bullet and numbered lists). No ticket line: the status page
//!   shows the ticket already.
//!
//! Every message returned fits its channel's [`ChannelLimits`]: the limits
//! count the whole message, greeting and signature included.

use serde::{Deserialize, Serialize};

use crate::channel::{Channel, ChannelLimits};

mod cut;
mod markdown;

use cut::{cut_at_boundary, pack_words, word_count};
pub use markdown::{markdown_to_plain, markdown_to_web, markdown_to_whatsapp, split_sentences};

/// The signature under every email.
pub const EMAIL_SIGNATURE: &str = "— Orbitask Support";
/// The closing line of every email, before the signature.
pub const EMAIL_CLOSING: &str = "If anything is still unclear, just reply to this email.";
/// The last line of a cut WhatsApp message.
pub const WHATSAPP_MORE_LINE: &str = "Reply MORE for the rest";

/// One answer shaped for a channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormattedReply {
    /// The messages to send now, in order (several only for long emails).
    pub messages: Vec<String>,
    /// WhatsApp only: the rest of a cut answer, sent when the customer
    /// replies MORE. Plain answer text, not yet formatted.
    pub deferred: Option<String>,
}

impl FormattedReply {
    /// All messages joined by blank lines (for storing one reply row).
    pub fn joined(&self) -> String {
        self.messages.join("\n\n")
    }
}

/// Who the reply is for: what the greeting and reference lines need.
#[derive(Clone, Copy, Debug)]
pub struct Recipient<'a> {
    /// The customer's first name, when known.
    pub first_name: Option<&'a str>,
    /// The customer's own ticket reference, shown as "Ticket: <id>" in
    /// emails (the web form's status page shows the ticket already).
    pub ticket_reference: &'a str,
}

/// Shapes `answer` (light Markdown) for `channel`.
pub fn format_reply(channel: Channel, recipient: Recipient<'_>, answer: &str) -> FormattedReply {
    match channel {
        Channel::Email => email(recipient, answer),
        Channel::Whatsapp => whatsapp(answer),
        Channel::WebForm => web_form(recipient, answer),
    }
}

/// The first name, trimmed, when it is usable in a greeting.
fn usable_name(name: Option<&str>) -> Option<&str> {
    name.map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 40)
}

/// Email: greeting, answer, closing, signature and ticket line, split into
/// numbered emails when the whole would exceed 500 words.
pub fn email(recipient: Recipient<'_>, answer: &str) -> FormattedReply {
    let greeting = match usable_name(recipient.first_name) {
        Some(name) => format!("Hi {name},"),
        None => "Hi there,".to_owned(),
    };
    let footer = format!(
        "{EMAIL_CLOSING}\n\n{EMAIL_SIGNATURE}\nTicket: {}",
        recipient.ticket_reference
    );
    let body = markdown_to_plain(answer);
    let ChannelLimits::Words(limit) = Channel::Email.limits() else {
        unreachable!("email limits are in words")
    };
    // "(1/2)" counts as a word; the overhead is the same for every part.
    let overhead = word_count(&greeting) + word_count(&footer) + 1;
    let budget = limit.saturating_sub(overhead).max(1);
    let parts = pack_words(&body, budget);
    let total = parts.len();
    let messages = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if total == 1 {
                format!("{greeting}\n\n{part}\n\n{footer}")
            } else {
                format!("{greeting}\n\n({}/{total})\n\n{part}\n\n{footer}", i + 1)
            }
        })
        .collect();
    FormattedReply {
        messages,
        deferred: None,
    }
}

/// Web form: "Hello <first name>," and the answer in the status page's
/// Markdown subset ([`markdown_to_web`]), cut at a sentence boundary to stay
/// within 300 words.
pub fn web_form(recipient: Recipient<'_>, answer: &str) -> FormattedReply {
    let greeting = match usable_name(recipient.first_name) {
        Some(name) => format!("Hello {name},"),
        None => "Hello there,".to_owned(),
    };
    let body = markdown_to_web(answer);
    let ChannelLimits::Words(limit) = Channel::WebForm.limits() else {
        unreachable!("web form limits are in words")
    };
    let budget = limit.saturating_sub(word_count(&greeting));
    let body = if word_count(&body) <= budget {
        body
    } else {
        // The status page shows one reply; keep the first part that fits.
        pack_words(&body, budget).swap_remove(0)
    };
    FormattedReply {
        messages: vec![format!("{greeting}\n\n{body}")],
        deferred: None,
    }
}

/// WhatsApp: converted markup, at most 300 characters, the rest deferred.
pub fn whatsapp(answer: &str) -> FormattedReply {
    let text = markdown_to_whatsapp(answer);
    let ChannelLimits::Characters(limit) = Channel::Whatsapp.limits() else {
        unreachable!("WhatsApp limits are in characters")
    };
    if text.chars().count() <= limit {
        return FormattedReply {
            messages: vec![text],
            deferred: None,
        };
    }
    let suffix = format!("…\n{WHATSAPP_MORE_LINE}");
    let budget = limit - suffix.chars().count();
    let (head, rest) = cut_at_boundary(&text, budget);
    FormattedReply {
        messages: vec![format!("{}{suffix}", head.trim_end())],
        deferred: Some(rest.trim().to_owned()).filter(|r| !r.is_empty()),
    }
}

/// Shapes an answer that must go out whole, such as a staff member's
/// reply: email and web form as [`format_reply`]; WhatsApp converted and
/// cut at sentence (or word) boundaries into as many messages of at most
/// 300 characters as it takes, in order, with nothing deferred.
pub fn format_whole(channel: Channel, recipient: Recipient<'_>, answer: &str) -> Vec<String> {
    if channel != Channel::Whatsapp {
        return format_reply(channel, recipient, answer).messages;
    }
    let ChannelLimits::Characters(limit) = Channel::Whatsapp.limits() else {
        unreachable!("WhatsApp limits are in characters")
    };
    let text = markdown_to_whatsapp(answer);
    let mut rest = text.as_str();
    let mut messages = Vec::new();
    while rest.chars().count() > limit {
        let (head, tail) = cut_at_boundary(rest, limit);
        messages.push(head.trim_end().to_owned());
        rest = tail.trim_start();
    }
    if !rest.is_empty() || messages.is_empty() {
        messages.push(rest.to_owned());
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "7f1c2e4a-0000-7000-8000-000000000001";

    fn maria() -> Recipient<'static> {
        Recipient {
            first_name: Some("Maria"),
            ticket_reference: TICKET,
        }
    }

    #[test]
    fn a_whole_whatsapp_answer_is_split_into_messages_that_each_fit() {
        let sentence = "Your refund of the duplicate charge was approved today. ";
        let answer = sentence.repeat(12);
        let messages = format_whole(Channel::Whatsapp, maria(), &answer);
        assert!(messages.len() >= 3, "{messages:?}");
        for message in &messages {
            assert!(message.chars().count() <= 300, "{message}");
            assert!(!message.contains(WHATSAPP_MORE_LINE), "{message}");
            assert!(message.ends_with('.'), "cut at a sentence: {message}");
        }
        let words: usize = messages.iter().map(|m| m.split_whitespace().count()).sum();
        assert_eq!(words, answer.split_whitespace().count(), "nothing is lost");
        let email = format_whole(Channel::Email, maria(), "Done.");
        assert_eq!(
            email,
            format_reply(Channel::Email, maria(), "Done.").messages
        );
    }

    #[test]
    fn email_greets_by_first_name_and_signs_with_the_ticket_reference() {
        let reply = format_reply(
            Channel::Email,
            maria(),
            "The link expires after 30 minutes.",
        );
        assert_eq!(reply.messages.len(), 1);
        let email = &reply.messages[0];
        assert!(email.starts_with("Hi Maria,\n\n"), "{email}");
        assert!(email.contains("The link expires after 30 minutes."));
        assert!(email.contains(EMAIL_CLOSING));
        assert!(
            email.ends_with(&format!("— Orbitask Support\nTicket: {TICKET}")),
            "{email}"
        );
        assert_eq!(reply.deferred, None);
    }

    #[test]
    fn email_without_a_name_says_hi_there() {
        let recipient = Recipient {
            first_name: None,
            ticket_reference: TICKET,
        };
        let reply = email(recipient, "Answer.");
        assert!(reply.messages[0].starts_with("Hi there,"));
    }

    #[test]
    fn long_email_is_split_into_numbered_emails_within_500_words() {
        let paragraph = "Open the menu and choose the option you need now. ".repeat(20);
        let answer = vec![paragraph; 8].join("\n\n"); // 1,600 words
        let reply = email(maria(), &answer);
        let total = reply.messages.len();
        assert!(total >= 4, "expected several emails, got {total}");
        for (i, message) in reply.messages.iter().enumerate() {
            assert!(
                Channel::Email.limits().fits(message),
                "email {} too long",
                i + 1
            );
            assert!(
                message.contains(&format!("({}/{total})", i + 1)),
                "{message}"
            );
            assert!(message.contains("Ticket: "));
        }
        let words_out: usize = reply
            .messages
            .iter()
            .map(|m| m.matches("Open the menu").count())
            .sum();
        assert_eq!(words_out, 160, "no sentence may be lost or repeated");
    }

    #[test]
    fn whatsapp_converts_markdown_and_has_no_greeting_or_signature() {
        let reply = whatsapp(
            "## Turn on 2FA\n\n- Open **Profile > Security > Two-factor authentication**.\n- Scan the code.",
        );
        assert_eq!(
            reply.messages,
            vec![
                "Turn on 2FA\nOpen *Profile > Security > Two-factor authentication*.\nScan the code."
            ]
        );
        assert!(!reply.messages[0].contains("Orbitask Support"));
        assert!(!reply.messages[0].contains("Hi "));
    }

    #[test]
    fn long_whatsapp_answer_is_cut_at_a_sentence_with_the_more_line_and_the_rest_deferred() {
        let answer = "Automations are rules of the form When then. ".repeat(12);
        let reply = whatsapp(&answer);
        let first = &reply.messages[0];
        assert!(
            first.chars().count() <= 300,
            "{} chars",
            first.chars().count()
        );
        assert!(first.ends_with("…\nReply MORE for the rest"), "{first}");
        assert!(
            first.contains("then.…"),
            "cut after a full sentence: {first}"
        );
        let rest = reply.deferred.expect("the remainder is kept");
        let head = first.trim_end_matches("…\nReply MORE for the rest");
        assert_eq!(
            format!("{head} {rest}")
                .split_whitespace()
                .collect::<Vec<_>>(),
            answer.split_whitespace().collect::<Vec<_>>(),
            "head and remainder together are the whole answer"
        );
    }

    #[test]
    fn whatsapp_never_cuts_right_after_a_step_number() {
        let answer = format!(
            "{}\n1. Open the task.\n2. Open the due-date picker > Repeat and choose weekly.",
            "Intro sentence here. ".repeat(12)
        );
        let reply = whatsapp(&answer);
        let first = &reply.messages[0];
        assert!(!first.contains("2.…") && !first.contains("1.…"), "{first}");
    }

    #[test]
    fn whatsapp_without_sentence_ends_is_cut_at_a_word() {
        let answer = "word ".repeat(100);
        let reply = whatsapp(&answer);
        let first = &reply.messages[0];
        assert!(first.chars().count() <= 300);
        assert!(first.starts_with("word word"));
        assert!(!first.contains("wor…"), "never cut inside a word: {first}");
        assert!(reply.deferred.is_some());
    }

    #[test]
    fn web_form_says_hello_and_has_no_ticket_line() {
        let reply = format_reply(
            Channel::WebForm,
            maria(),
            "Invitation links expire after 7 days.",
        );
        assert_eq!(
            reply.messages,
            vec!["Hello Maria,\n\nInvitation links expire after 7 days.".to_owned()]
        );
    }

    #[test]
    fn web_form_keeps_the_markdown_subset_the_status_page_renders() {
        let reply = format_reply(
            Channel::WebForm,
            maria(),
            "## Steps\n\n1. Open __Settings__ > `Security`.\n2. See [the guide](https://help.orbitask.example/2fa).\n- **Done**",
        );
        assert_eq!(
            reply.messages[0],
            "Hello Maria,\n\n**Steps**\n\n1. Open **Settings** > Security.\n2. See \
             [the guide](https://help.orbitask.example/2fa).\n- **Done**"
        );
    }

    #[test]
    fn web_form_stays_within_300_words() {
        let answer = "This sentence has exactly seven words in it. ".repeat(80);
        let reply = web_form(maria(), &answer);
        assert_eq!(reply.messages.len(), 1);
        assert!(Channel::WebForm.limits().fits(&reply.messages[0]));
        assert!(!reply.messages[0].contains("Ticket:"));
        assert!(reply.messages[0].ends_with("in it."), "cut at a sentence");
    }
}
