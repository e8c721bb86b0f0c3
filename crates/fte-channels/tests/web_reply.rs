//! Web form replies: the customer is notified by email through Gmail or an
//! SMTP relay, or not at all; and no send path logs personal data.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fte_channels::gmail::GmailSender;
use fte_channels::web::{Notifier, SmtpNotifier, WebReplySender};
use fte_channels::{GuardedSender, OutboundReply, ReplySender, SendError};
use fte_domain::Channel;
use fte_fakes::smtp::FakeSmtp;
use fte_testkit::channels::*;

fn web_reply(body: &str) -> OutboundReply {
    let mut reply = email_reply(&[body], None);
    reply.channel = Channel::WebForm;
    reply.subject = None;
    reply
}

#[tokio::test]
async fn web_replies_are_notified_through_gmail_and_reconciled_from_sent() {
    let (fake, mailbox) = gmail().await;
    let sender = WebReplySender::new(Notifier::Gmail(Arc::new(GmailSender::for_channel(
        mailbox,
        Channel::WebForm,
    ))));
    let reply = web_reply(
        "Hello Maria,\n\nYour workspace is **restored**. See [the guide](https://help.orbitask.example/restore).",
    );

    let receipt = sender.send(&reply).await.unwrap();

    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(receipt.provider_message_ids, vec![sent[0].id.clone()]);
    assert_eq!(
        sent[0].header("Subject").as_deref(),
        Some("Your Orbitask support request (Ticket: T-1042)")
    );
    let text = sent[0].body_text();
    assert!(
        text.contains(
            "Your workspace is restored. See the guide (https://help.orbitask.example/restore)."
        ),
        "the text part reads the Markdown as plain text: {text}"
    );
    let html = sent[0].body_html().expect("an HTML part");
    assert!(html.contains("<strong>restored</strong>"), "{html}");
    assert!(
        html.contains(r#"<a href="https://help.orbitask.example/restore">the guide</a>"#),
        "{html}"
    );
    assert_eq!(sent[0].header("In-Reply-To"), None, "a new conversation");
    let found = sender.reconcile(&reply).await.unwrap().unwrap();
    assert_eq!(found.provider_message_ids, receipt.provider_message_ids);
}

#[tokio::test]
async fn web_replies_are_notified_through_an_smtp_relay() {
    let smtp = FakeSmtp::start().await.unwrap();
    let notifier = SmtpNotifier::new(
        &smtp.url(),
        "Orbitask Support <support@orbitlabs.example>",
        Duration::from_secs(5),
    )
    .unwrap();
    let sender = WebReplySender::new(Notifier::Smtp(Box::new(notifier)));
    let reply = web_reply("Hello Maria,\n\n1. Open **Settings**.\n2. Done.");

    sender.send(&reply).await.unwrap();

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, vec![CUSTOMER_EMAIL.to_owned()]);
    assert_eq!(messages[0].mail_from, "support@orbitlabs.example");
    assert!(
        messages[0]
            .data
            .contains(&format!("X-FTE-Reply-Id: {}", reply.idempotency_key))
    );
    let data = &messages[0].data;
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(
        data.contains("text/plain") && data.contains("text/html"),
        "{data}"
    );
    assert!(
        data.contains("1. Open Settings.\r\n2. Done."),
        "the text part without the Markdown marks: {data}"
    );
    assert!(
        data.contains("<li>Open <strong>Settings</strong>.</li>"),
        "the HTML part renders the list and the bold: {data}"
    );
    assert!(matches!(
        sender.reconcile(&reply).await,
        Err(SendError::Unknown { .. })
    ));
}

#[tokio::test]
async fn an_unreachable_smtp_relay_is_a_transient_failure() {
    let notifier = SmtpNotifier::new(
        "smtp://127.0.0.1:9",
        "support@orbitlabs.example",
        Duration::from_secs(2),
    )
    .unwrap();
    let sender = WebReplySender::new(Notifier::Smtp(Box::new(notifier)));
    let err = sender.send(&web_reply("Hello")).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn with_no_notifier_the_status_page_is_the_only_copy() {
    let sender = WebReplySender::new(Notifier::None);
    let receipt = sender.send(&web_reply("Hello")).await.unwrap();
    assert!(receipt.provider_message_ids.is_empty());
    let err = sender
        .send(&whatsapp_reply(&["x"], Some(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Permanent { .. }),
        "phone recipients are refused"
    );
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn sending_logs_ids_and_outcomes_but_never_people_or_bodies() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (fake, twilio) = twilio().await;
    let guarded = GuardedSender::new(Arc::new(twilio), 1, Duration::from_millis(50));
    let reply = whatsapp_reply(&["Secret body about invoices"], Some(1));
    guarded.send(&reply).await.unwrap();
    fake.faults().fail_next(503, 1);
    let _ = guarded.send(&reply).await;

    let (gmail_fake, mailbox) = gmail().await;
    let start = gmail_fake.history_id();
    gmail_fake.deliver_inbound("not an email");
    gmail_fake.deliver_inbound(&customer_mail(
        "<p@example.com>",
        "Private subject",
        "",
        "Private text",
    ));
    mailbox.fetch_new_messages(start).await.unwrap();
    GmailSender::new(mailbox)
        .send(&email_reply(&["Private reply"], None))
        .await
        .unwrap();

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("reply delivered"),
        "the test must see log lines: {logs}"
    );
    for secret in [
        "612345678",
        "maria",
        "Secret body",
        "Private",
        "4155238886",
        TOKEN,
    ] {
        assert!(
            !logs.to_lowercase().contains(&secret.to_lowercase()),
            "`{secret}` leaked:\n{logs}"
        );
    }
}
