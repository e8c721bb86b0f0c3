//! Gmail replies against the fake: threading headers, several emails for a
//! long reply, subjects, timeouts and reconciliation by X-FTE-Reply-Id.

use std::time::Duration;

use fte_channels::gmail::{GmailSender, Mailbox};
use fte_channels::{EmailThread, ReplySender, SendError};
use fte_fakes::gmail::FakeGmail;
use fte_testkit::channels::*;
use std::sync::Arc;

fn thread_of(fake: &FakeGmail, subject: &str) -> EmailThread {
    let (_, thread_id) = fake.deliver_inbound(&customer_mail(
        "<CAF-orig@mail.gmail.com>",
        subject,
        "References: <older@mail.gmail.com>\r\n",
        "How do I export?",
    ));
    EmailThread {
        thread_id,
        in_reply_to_message_id: "<CAF-orig@mail.gmail.com>".into(),
        references: vec!["<older@mail.gmail.com>".into()],
    }
}

#[tokio::test]
async fn a_long_reply_is_sent_as_several_emails_in_the_customers_thread() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let thread = thread_of(&fake, "Export to CSV");
    let reply = email_reply(
        &[
            "(1/2) Hi Maria,\nFirst half. Ação!",
            "(2/2) Second half.\n— Orbitask Support",
        ],
        Some(thread.clone()),
    );

    let receipt = sender.send(&reply).await.unwrap();

    assert_eq!(receipt.provider_message_ids.len(), 2);
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    for (i, email) in sent.iter().enumerate() {
        assert_eq!(
            email.thread_id, thread.thread_id,
            "email {i} stays in the thread"
        );
        assert_eq!(
            email.header("In-Reply-To").as_deref(),
            Some("<CAF-orig@mail.gmail.com>")
        );
        assert_eq!(
            email.header("References").as_deref(),
            Some("<older@mail.gmail.com> <CAF-orig@mail.gmail.com>")
        );
        assert_eq!(
            email.header("Subject").as_deref(),
            Some("Re: Export to CSV")
        );
        assert_eq!(
            email.header("X-FTE-Reply-Id").as_deref(),
            Some(reply.idempotency_key.as_str())
        );
        assert_eq!(
            email.header("X-FTE-Reply-Part"),
            Some(format!("{}/2", i + 1))
        );
        assert_eq!(
            email.header("To").as_deref(),
            Some("maria.santos@example.com")
        );
        assert!(email.header("From").unwrap().contains(MAILBOX));
    }
    assert_eq!(sent[0].body_text(), "(1/2) Hi Maria,\r\nFirst half. Ação!");
    assert!(sent[1].body_text().starts_with("(2/2) Second half."));
}

#[tokio::test]
async fn an_email_carries_its_html_rendering_with_lists_and_links() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let reply = email_reply(
        &[
            "Hi Maria,\n\n1. Open Settings.\n2. Read https://help.orbitask.example/2fa.\n\n<b>not markup</b>\n— Orbitask Support",
        ],
        None,
    );

    sender.send(&reply).await.unwrap();

    let sent = fake.sent();
    assert!(
        sent[0]
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("multipart/alternative")),
        "{:?}",
        sent[0].header("Content-Type")
    );
    assert!(
        sent[0]
            .body_text()
            .starts_with("Hi Maria,\r\n\r\n1. Open Settings.")
    );
    let html = sent[0].body_html().expect("an HTML part");
    assert!(html.contains("<li>Open Settings.</li>"), "{html}");
    assert!(
        html.contains(
            r#"<a href="https://help.orbitask.example/2fa">https://help.orbitask.example/2fa</a>."#
        ),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;not markup&lt;/b&gt;"), "{html}");
    assert!(html.contains("Orbitask Support"), "{html}");
}

#[tokio::test]
async fn a_subject_that_already_starts_with_re_gets_no_second_re() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let thread = thread_of(&fake, "RE: Billing");
    let mut reply = email_reply(&["Answer"], Some(thread));
    reply.subject = Some("RE: Billing".into());
    sender.send(&reply).await.unwrap();
    assert_eq!(
        fake.sent()[0].header("Subject").as_deref(),
        Some("Re: Billing")
    );
}

#[tokio::test]
async fn a_send_that_times_out_after_gmail_stored_it_is_unknown_and_reconciled() {
    let fake = FakeGmail::start(MAILBOX, refresh_oauth()).await.unwrap();
    let mailbox = Arc::new(Mailbox::new(gmail_config(
        &fake,
        refresh_credentials(),
        Duration::from_millis(300),
    )));
    let sender = GmailSender::new(mailbox);
    let thread = thread_of(&fake, "Export");
    let reply = email_reply(&["Here is how."], Some(thread));
    fake.faults().hang_after_accept(1);

    let err = sender.send(&reply).await.unwrap_err();
    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");

    let receipt = sender
        .reconcile(&reply)
        .await
        .unwrap()
        .expect("found in the thread");
    assert_eq!(
        receipt.provider_message_ids,
        vec![fake.sent()[0].id.clone()]
    );
    let other = email_reply(&["Here is how."], None);
    assert_eq!(
        sender.reconcile(&other).await.unwrap(),
        None,
        "other ids are not matched"
    );
}

#[tokio::test]
async fn reconcile_without_a_thread_searches_sent_mail() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let reply = email_reply(&["New conversation."], None);
    sender.send(&reply).await.unwrap();
    let receipt = sender.reconcile(&reply).await.unwrap().unwrap();
    assert_eq!(
        receipt.provider_message_ids,
        vec![fake.sent()[0].id.clone()]
    );
}

#[tokio::test]
async fn sends_are_never_retried_and_errors_are_classified() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let reply = email_reply(&["Answer"], None);
    sender
        .send(&email_reply(&["warm the token"], None))
        .await
        .unwrap();
    let before = fake.faults().calls();

    fake.faults().fail_next(503, 1);
    assert!(matches!(
        sender.send(&reply).await,
        Err(SendError::Transient { .. })
    ));
    fake.faults().fail_next(400, 1);
    assert!(matches!(
        sender.send(&reply).await,
        Err(SendError::Permanent { .. })
    ));
    assert_eq!(fake.faults().calls() - before, 2, "one call per send");

    let mut bad_thread = email_reply(&["Answer"], None);
    bad_thread.thread = Some(EmailThread {
        thread_id: "does-not-exist".into(),
        in_reply_to_message_id: "<x@y>".into(),
        references: vec![],
    });
    assert!(matches!(
        sender.send(&bad_thread).await,
        Err(SendError::Permanent { .. })
    ));
}

#[tokio::test]
async fn a_401_on_send_refreshes_the_token_and_sends_exactly_once() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    sender.send(&email_reply(&["first"], None)).await.unwrap();
    fake.expire_tokens();

    sender.send(&email_reply(&["second"], None)).await.unwrap();

    assert_eq!(fake.token_requests(), 2);
    assert_eq!(fake.sent().len(), 2, "the refused request was not stored");
}

#[tokio::test]
async fn a_phone_recipient_is_refused() {
    let (_fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let mut reply = email_reply(&["x"], None);
    reply.to = whatsapp_reply(&["x"], None).to;
    assert!(matches!(
        sender.send(&reply).await,
        Err(SendError::Permanent { .. })
    ));
}

#[tokio::test]
async fn a_partly_sent_reply_is_reconciled_and_completed_without_duplicates() {
    let (fake, mailbox) = gmail().await;
    let sender = GmailSender::new(mailbox);
    let thread = thread_of(&fake, "Export");
    let reply = email_reply(&["(1/2) first", "(2/2) second"], Some(thread));
    fake.faults().pass_next(1);
    fake.faults().fail_next(503, 1);

    let err = sender.send(&reply).await.unwrap_err();
    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");
    let partial = sender.reconcile(&reply).await.unwrap().unwrap();
    assert_eq!(partial.provider_message_ids.len(), 1);

    // What the worker does: send the remaining parts under the same id.
    let mut rest = reply.clone();
    rest.parts = reply.parts[1..].to_vec();
    sender.send(&rest).await.unwrap();

    let complete = sender.reconcile(&reply).await.unwrap().unwrap();
    assert_eq!(complete.provider_message_ids.len(), 2);
    let bodies: Vec<String> = fake.sent().iter().map(|m| m.body_text()).collect();
    assert_eq!(bodies, vec!["(1/2) first", "(2/2) second"]);
}
