//! `fte simulate`: play a customer against a running gateway.
//!
//! - `fte simulate whatsapp` posts a Twilio webhook, signed as Twilio signs
//!   it when `TWILIO_AUTH_TOKEN` is set (against `PUBLIC_BASE_URL`, the URL
//!   the gateway verifies, or `--base-url` when that is unset); in the dev
//!   profile without a token the gateway accepts it unsigned.
//! - `fte simulate web` submits the web support form, then polls the
//!   ticket's status page for the agent's reply.
//! - `fte simulate email` drops a customer email into a fake Gmail (the one
//!   `fte run` starts without Gmail credentials, found through
//!   `.fte/fakes.json`, or the `fte-fakes` binary's) through its control
//!   route, then posts the Pub/Sub push Gmail would send to
//!   `/webhooks/gmail`, signed as Pub/Sub signs it (an OIDC token from the
//!   fakes' test key for the configured audience and service account) when
//!   those are known, else unsigned (accepted only in the dev profile
//!   without push verification settings). The push carries history id 1:
//!   the worker syncs from the id it stored, never from the push's.
//!
//! What the customer typed goes to the gateway and the agent's answer to
//! stdout; nothing personal is logged.

use std::time::Duration;

use anyhow::{Context, bail};
use fte_channels::twilio::compute_signature;
use fte_domain::PhoneNumber;
use serde::Deserialize;

/// Where the gateway listens by default (`API_PORT`'s default).
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8000";

/// The Twilio number our WhatsApp sender uses in simulations.
const OUR_WHATSAPP_NUMBER: &str = "whatsapp:+14155238886";

/// How often the status page is polled for a reply.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// A simulated WhatsApp message.
#[derive(Clone, Debug)]
pub struct WhatsappMessage {
    /// The customer's number, in any spelling `PhoneNumber` accepts.
    pub from: String,
    /// What the customer wrote.
    pub body: String,
    /// The customer's WhatsApp profile name.
    pub name: Option<String>,
}

/// Posts `message` to `{base_url}/webhooks/whatsapp`, signed with
/// `auth_token` over `{public_base_url}/webhooks/whatsapp` when given;
/// returns the gateway's status code. Fails on an invalid number or when
/// the gateway cannot be reached.
pub async fn whatsapp(
    client: &reqwest::Client,
    base_url: &str,
    public_base_url: &str,
    auth_token: Option<&str>,
    message: &WhatsappMessage,
) -> anyhow::Result<reqwest::StatusCode> {
    let phone = PhoneNumber::parse(&message.from)
        .map_err(|e| anyhow::anyhow!("--from is not a phone number: {e}"))?;
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let mut params = vec![
        ("MessageSid".to_owned(), sid),
        (
            "AccountSid".to_owned(),
            "AC00000000000000000000000000000000".to_owned(),
        ),
        ("From".to_owned(), format!("whatsapp:{}", phone.as_str())),
        ("To".to_owned(), OUR_WHATSAPP_NUMBER.to_owned()),
        ("Body".to_owned(), message.body.clone()),
        ("NumMedia".to_owned(), "0".to_owned()),
        (
            "WaId".to_owned(),
            phone.as_str().trim_start_matches('+').to_owned(),
        ),
    ];
    if let Some(name) = &message.name {
        params.push(("ProfileName".to_owned(), name.clone()));
    }
    let path = "/webhooks/whatsapp";
    let mut request = client
        .post(format!("{}{path}", base_url.trim_end_matches('/')))
        .form(&params);
    if let Some(token) = auth_token {
        let url = format!("{}{path}", public_base_url.trim_end_matches('/'));
        request = request.header(
            "X-Twilio-Signature",
            compute_signature(token, &url, &params),
        );
    }
    let response = request.send().await.with_context(|| {
        format!("Failed to reach the gateway at {base_url} (is `fte run` running?)")
    })?;
    Ok(response.status())
}

/// A simulated web form submission.
#[derive(Clone, Debug)]
pub struct WebSubmission {
    /// The customer's email address.
    pub email: String,
    /// The customer's name.
    pub name: String,
    /// The subject line.
    pub subject: String,
    /// The request.
    pub message: String,
    /// general, technical, billing, feedback or bug_report.
    pub category: String,
}

/// What a web form simulation saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebOutcome {
    /// The ticket the gateway created.
    pub ticket_id: String,
    /// The agent's first reply, if it came in time.
    pub reply: Option<String>,
}

#[derive(Deserialize)]
struct Submitted {
    ticket_id: String,
    /// Opens the ticket's thread.
    access_key: String,
}

#[derive(Deserialize)]
struct TicketStatus {
    messages: Vec<TicketMessage>,
}

#[derive(Deserialize)]
struct TicketMessage {
    role: String,
    content: String,
}

/// Submits the form at `{base_url}/support/submit`, then polls
/// `/support/ticket/{id}` (with the ticket's access key, which opens its
/// thread) for the agent's reply for up to `wait`. Fails
/// when the gateway refuses the form (its answer is in the error).
pub async fn web(
    client: &reqwest::Client,
    base_url: &str,
    submission: &WebSubmission,
    wait: Duration,
) -> anyhow::Result<WebOutcome> {
    let base = base_url.trim_end_matches('/');
    let response = client
        .post(format!("{base}/support/submit"))
        .json(&serde_json::json!({
            "name": submission.name,
            "email": submission.email,
            "subject": submission.subject,
            "category": submission.category,
            "message": submission.message,
            "website": "",
        }))
        .send()
        .await
        .with_context(|| {
            format!("Failed to reach the gateway at {base_url} (is `fte run` running?)")
        })?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("the gateway refused the form ({status}): {body}");
    }
    let submitted: Submitted = response
        .json()
        .await
        .context("The gateway's answer has no ticket_id")?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(reply) =
            agent_reply(client, base, &submitted.ticket_id, &submitted.access_key).await?
        {
            return Ok(WebOutcome {
                ticket_id: submitted.ticket_id,
                reply: Some(reply),
            });
        }
        if tokio::time::Instant::now() + POLL_EVERY > deadline {
            return Ok(WebOutcome {
                ticket_id: submitted.ticket_id,
                reply: None,
            });
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

async fn agent_reply(
    client: &reqwest::Client,
    base: &str,
    ticket_id: &str,
    access_key: &str,
) -> anyhow::Result<Option<String>> {
    let response = client
        .get(format!("{base}/support/ticket/{ticket_id}"))
        .header("x-ticket-access-key", access_key)
        .send()
        .await
        .context("Failed to read the ticket's status")?;
    if !response.status().is_success() {
        bail!("the ticket's status page answered {}", response.status());
    }
    let status: TicketStatus = response
        .json()
        .await
        .context("The ticket's status page is not what the API documents")?;
    Ok(status
        .messages
        .into_iter()
        .find(|m| m.role == "agent")
        .map(|m| m.content))
}

/// A simulated customer email.
#[derive(Clone, Debug)]
pub struct EmailMessage {
    /// The customer's address.
    pub from: String,
    /// The subject line.
    pub subject: String,
    /// What the customer wrote.
    pub body: String,
}

/// What an email simulation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailOutcome {
    /// The Gmail message id the fake gave the email.
    pub gmail_message_id: String,
    /// The gateway's answer to the push.
    pub push_status: reqwest::StatusCode,
}

#[derive(Deserialize)]
struct Delivered {
    id: String,
}

/// Who a signed push claims to come from: the push subscription's audience
/// and service account (`GMAIL_PUBSUB_AUDIENCE`,
/// `GMAIL_PUBSUB_SERVICE_ACCOUNT`), signed with the fakes' test key.
#[derive(Clone, Debug)]
pub struct PushIdentity {
    /// The audience the gateway expects.
    pub audience: String,
    /// The push service account the gateway expects.
    pub service_account: String,
}

/// Delivers `message` to `mailbox` in the fake Gmail at `gmail_base_url`
/// (its `/_fake/inbound` control route), then posts the push notification
/// to `{base_url}/webhooks/gmail`, signed for `push` when given. Fails when
/// either cannot be reached or the fake refuses the email.
pub async fn email(
    client: &reqwest::Client,
    base_url: &str,
    gmail_base_url: &str,
    mailbox: &str,
    push: Option<&PushIdentity>,
    message: &EmailMessage,
) -> anyhow::Result<EmailOutcome> {
    use base64::Engine;
    let message_id = format!("<sim-{}@fte.local>", uuid::Uuid::new_v4().simple());
    let date = chrono::Utc::now().to_rfc2822();
    let raw = format!(
        "From: {from}\r\nTo: {mailbox}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: {date}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{body}\r\n",
        from = message.from,
        subject = message.subject,
        body = message.body,
    );
    let response = client
        .post(format!(
            "{}/_fake/inbound",
            gmail_base_url.trim_end_matches('/')
        ))
        .body(raw)
        .send()
        .await
        .with_context(|| format!("Failed to reach the fake Gmail at {gmail_base_url}"))?;
    if !response.status().is_success() {
        bail!("the fake Gmail refused the email ({})", response.status());
    }
    let delivered: Delivered = response
        .json()
        .await
        .context("The fake Gmail's answer has no message id")?;
    let data = serde_json::json!({ "emailAddress": mailbox, "historyId": 1 });
    let body = serde_json::json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
            "messageId": format!("sim-{}", uuid::Uuid::new_v4().simple()),
            "publishTime": chrono::Utc::now().to_rfc3339(),
        },
        "subscription": "projects/fte-local/subscriptions/gmail-push",
    });
    let mut request = client
        .post(format!("{}/webhooks/gmail", base_url.trim_end_matches('/')))
        .json(&body);
    if let Some(identity) = push {
        let claims =
            fte_fakes::pubsub::PushClaims::valid(&identity.audience, &identity.service_account);
        request = request.header(
            "Authorization",
            fte_fakes::pubsub::PushSigner::new(fte_fakes::pubsub::test_key_a()).bearer(&claims),
        );
    }
    let response = request.send().await.with_context(|| {
        format!("Failed to reach the gateway at {base_url} (is `fte run` running?)")
    })?;
    Ok(EmailOutcome {
        gmail_message_id: delivered.id,
        push_status: response.status(),
    })
}

#[cfg(test)]
mod tests;
