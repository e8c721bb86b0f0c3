//! Provider clients wired to the fakes of `fte-fakes`, fast retry
//! policies, and replies and customer emails to send through them.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fte_channels::gmail::{GmailConfig, GmailCredentials, Mailbox};
use fte_channels::http::RetryPolicy;
use fte_channels::twilio::{TwilioConfig, TwilioSender};
use fte_channels::{EmailThread, OutboundReply, Recipient};
use fte_domain::{Channel, EmailAddress, PhoneNumber};
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_fakes::twilio::FakeTwilio;
use secrecy::SecretString;

/// Our mailbox.
pub const MAILBOX: &str = "support@orbitlabs.example";
/// The customer's address.
pub const CUSTOMER_EMAIL: &str = "maria.santos@example.com";
/// The customer's WhatsApp number.
pub const CUSTOMER_PHONE: &str = "+34612345678";
/// The Twilio account SID of the fake.
pub const SID: &str = "ACtest0000000000000000000000000001";
/// Its auth token.
pub const TOKEN: &str = "test-auth-token";
/// The WhatsApp template used outside the 24-hour window.
pub const TEMPLATE: &str = "HXtemplate000000000000000000000001";

/// Three attempts a few milliseconds apart.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

/// A WhatsApp reply of `parts`; the customer last wrote that many
/// minutes ago, when given.
pub fn whatsapp_reply(parts: &[&str], last_inbound_minutes_ago: Option<i64>) -> OutboundReply {
    OutboundReply {
        channel: Channel::Whatsapp,
        to: Recipient::Phone(PhoneNumber::parse(CUSTOMER_PHONE).unwrap()),
        subject: None,
        parts: parts.iter().map(|p| (*p).to_owned()).collect(),
        thread: None,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        last_inbound_at: last_inbound_minutes_ago
            .map(|m| Utc::now() - chrono::TimeDelta::minutes(m)),
        ticket_reference: Some("T-1042".into()),
    }
}

/// An email reply of `parts`, in `thread` when given.
pub fn email_reply(parts: &[&str], thread: Option<EmailThread>) -> OutboundReply {
    OutboundReply {
        channel: Channel::Email,
        to: Recipient::Email(EmailAddress::parse(CUSTOMER_EMAIL).unwrap()),
        subject: Some("Export to CSV".into()),
        parts: parts.iter().map(|p| (*p).to_owned()).collect(),
        thread,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        last_inbound_at: None,
        ticket_reference: Some("T-1042".into()),
    }
}

/// The Twilio fake and a sender wired to it.
pub async fn twilio() -> (FakeTwilio, TwilioSender) {
    twilio_with_timeout(Duration::from_secs(5)).await
}

/// [`twilio`] with a request timeout of `timeout`.
pub async fn twilio_with_timeout(timeout: Duration) -> (FakeTwilio, TwilioSender) {
    let fake = FakeTwilio::start(SID, TOKEN).await.unwrap();
    let sender = TwilioSender::new(TwilioConfig {
        api_base_url: fake.base_url(),
        account_sid: SID.into(),
        auth_token: SecretString::from(TOKEN),
        whatsapp_number: PhoneNumber::parse("+14155238886").unwrap(),
        template_content_sid: Some(TEMPLATE.into()),
        timeout,
    })
    .with_retry_policy(fast_retry());
    (fake, sender)
}

/// The fake's OAuth client with a refresh token.
pub fn refresh_oauth() -> FakeOAuth {
    FakeOAuth::RefreshToken {
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        refresh_token: "rtoken".into(),
    }
}

/// Credentials matching [`refresh_oauth`].
pub fn refresh_credentials() -> GmailCredentials {
    GmailCredentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: SecretString::from("csecret"),
        refresh_token: SecretString::from("rtoken"),
    }
}

/// A mailbox configuration pointed at `fake`.
pub fn gmail_config(
    fake: &FakeGmail,
    credentials: GmailCredentials,
    timeout: Duration,
) -> GmailConfig {
    GmailConfig {
        api_base_url: fake.base_url(),
        token_url: fake.token_url(),
        mailbox: MAILBOX.into(),
        from_name: "Orbitask Support".into(),
        credentials,
        pubsub_topic: Some("projects/orbit-labs/topics/gmail".into()),
        timeout,
        retry: fast_retry(),
    }
}

/// The Gmail fake and a mailbox wired to it.
pub async fn gmail() -> (FakeGmail, Arc<Mailbox>) {
    let fake = FakeGmail::start(MAILBOX, refresh_oauth()).await.unwrap();
    let mailbox = Arc::new(Mailbox::new(gmail_config(
        &fake,
        refresh_credentials(),
        Duration::from_secs(5),
    )));
    (fake, mailbox)
}

/// A plain customer email; `extra_headers` are inserted before the body.
pub fn customer_mail(message_id: &str, subject: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: Maria Santos <{CUSTOMER_EMAIL}>\r\nTo: {MAILBOX}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}\r\n"
    )
}
