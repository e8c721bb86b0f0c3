//! The Gmail mailbox against the fake API: tokens, watch, history sync,
//! full sync after a 404, retries and timeouts.

use std::sync::Arc;
use std::time::Duration;

use fte_channels::SendError;
use fte_channels::gmail::{GmailCredentials, GmailError, Mailbox, ServiceAccountKey};
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_fakes::pubsub::test_key_a;
use fte_testkit::channels::*;

#[tokio::test]
async fn new_inbox_messages_are_fetched_from_the_stored_history_id() {
    let (fake, mailbox) = gmail().await;
    let start = fake.history_id();
    for i in 0..3 {
        fake.deliver_inbound(&customer_mail(
            &format!("<m{i}@example.com>"),
            "Help",
            "",
            &format!("Question number {i}"),
        ));
    }

    let (emails, new_history_id) = mailbox.fetch_new_messages(start).await.unwrap();

    // Three messages across two history pages.
    assert_eq!(emails.len(), 3);
    assert_eq!(emails[2].text, "Question number 2");
    assert_eq!(new_history_id, fake.history_id());
    let (again, _) = mailbox.fetch_new_messages(new_history_id).await.unwrap();
    assert!(again.is_empty(), "nothing new after the stored id");
}

#[tokio::test]
async fn our_own_sent_replies_are_not_fetched_as_customer_mail() {
    let (fake, mailbox) = gmail().await;
    let start = fake.history_id();
    let (_, thread) = fake.deliver_inbound(&customer_mail("<q@example.com>", "Help", "", "Hi"));
    mailbox
        .client()
        .send_raw(
            &fte_channels::gmail::to_raw(format!(
                "From: {MAILBOX}\r\nTo: {CUSTOMER_EMAIL}\r\nSubject: Re: Help\r\n\r\nAnswer\r\n"
            )),
            Some(&thread),
        )
        .await
        .unwrap();

    let (emails, _) = mailbox.fetch_new_messages(start).await.unwrap();

    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].text, "Hi");
}

#[tokio::test]
async fn an_expired_history_id_asks_for_a_bounded_full_sync() {
    let (fake, mailbox) = gmail().await;
    let old = fake.history_id();
    fake.deliver_inbound(&customer_mail("<a@example.com>", "A", "", "first"));
    fake.deliver_inbound(&customer_mail("<b@example.com>", "B", "", "second"));
    fake.expire_history();

    let err = mailbox.fetch_new_messages(old).await.unwrap_err();
    assert_eq!(err, GmailError::HistoryTooOld);

    let (emails, history_id) = mailbox.recent_inbox(1).await.unwrap();
    assert_eq!(emails.len(), 1, "bounded by max");
    assert_eq!(emails[0].text, "second", "the newest");
    let (both, _) = mailbox.recent_inbox(10).await.unwrap();
    let texts: Vec<&str> = both.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["first", "second"], "handed over oldest first");
    assert_eq!(history_id, fake.history_id());
    assert!(mailbox.fetch_new_messages(history_id).await.is_ok());
}

#[tokio::test]
async fn malformed_messages_are_skipped_without_blocking_the_mailbox() {
    let (fake, mailbox) = gmail().await;
    let start = fake.history_id();
    fake.deliver_inbound("garbage without headers");
    fake.deliver_inbound(&customer_mail(
        "<ok@example.com>",
        "Ok",
        "",
        "A real question",
    ));

    let (emails, _) = mailbox.fetch_new_messages(start).await.unwrap();

    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].text, "A real question");
}

#[tokio::test]
async fn tokens_are_cached_and_an_expired_token_is_refreshed_once_on_401() {
    let (fake, mailbox) = gmail().await;
    mailbox.watch().await.unwrap();
    mailbox.watch().await.unwrap();
    assert_eq!(
        fake.token_requests(),
        1,
        "second call uses the cached token"
    );

    fake.expire_tokens();
    let watch = mailbox.watch().await.unwrap();

    assert_eq!(fake.token_requests(), 2, "one refresh after the 401");
    assert_eq!(watch.history_id, fake.history_id());
    assert_eq!(fake.watches(), vec!["projects/orbit-labs/topics/gmail"; 3]);
}

#[tokio::test]
async fn tokens_are_renewed_a_minute_before_they_expire() {
    let (fake, mailbox) = gmail().await;
    fake.set_token_lifetime(30);
    mailbox.watch().await.unwrap();
    mailbox.watch().await.unwrap();
    assert_eq!(
        fake.token_requests(),
        2,
        "a token with < 60 s left is not reused"
    );
}

#[tokio::test]
async fn refused_credentials_are_an_auth_error() {
    let fake = FakeGmail::start(MAILBOX, refresh_oauth()).await.unwrap();
    let wrong = GmailCredentials::RefreshToken {
        client_id: "cid".into(),
        client_secret: secrecy::SecretString::from("wrong"),
        refresh_token: secrecy::SecretString::from("rtoken"),
    };
    let mailbox = Mailbox::new(gmail_config(&fake, wrong, Duration::from_secs(5)));
    let err = mailbox.watch().await.unwrap_err();
    assert!(matches!(err, GmailError::Auth(_)), "{err:?}");
}

#[tokio::test]
async fn a_service_account_signs_an_rs256_assertion_for_the_mailbox() {
    let key = test_key_a();
    let email = "fte-gmail@orbit-labs.iam.gserviceaccount.com";
    let fake = FakeGmail::start(
        MAILBOX,
        FakeOAuth::ServiceAccount {
            public_key_pem: key.public_pem.into(),
            client_email: email.into(),
        },
    )
    .await
    .unwrap();
    let sa = ServiceAccountKey::parse(&key.service_account_json(email)).unwrap();
    let mailbox = Mailbox::new(gmail_config(
        &fake,
        GmailCredentials::ServiceAccount(sa),
        Duration::from_secs(5),
    ));

    mailbox.watch().await.unwrap();
    assert_eq!(fake.token_requests(), 1);

    // Another key for the same account is refused by the token endpoint.
    let other = fte_fakes::pubsub::test_key_b();
    let sa = ServiceAccountKey::parse(&other.service_account_json(email)).unwrap();
    let forged = Mailbox::new(gmail_config(
        &fake,
        GmailCredentials::ServiceAccount(sa),
        Duration::from_secs(5),
    ));
    assert!(matches!(forged.watch().await, Err(GmailError::Auth(_))));
}

#[tokio::test]
async fn reads_are_retried_on_429_and_5xx_a_bounded_number_of_times() {
    let (fake, mailbox) = gmail().await;
    let start = fake.history_id();
    fake.deliver_inbound(&customer_mail("<r@example.com>", "R", "", "retry me"));
    mailbox.watch().await.unwrap();
    let calls_before = fake.faults().calls();

    fake.faults().fail_next(429, 1);
    fake.faults().fail_next(503, 1);
    let (emails, _) = mailbox.fetch_new_messages(start).await.unwrap();
    assert_eq!(emails.len(), 1, "succeeds on the third attempt");

    fake.faults().fail_next(500, 3);
    let err = mailbox.fetch_new_messages(start).await.unwrap_err();
    assert!(
        matches!(err, GmailError::Provider(SendError::Transient { .. })),
        "{err:?}"
    );
    // history (3 attempts) + get (1), then history (3 failed attempts).
    assert_eq!(fake.faults().calls() - calls_before, 7);
}

#[tokio::test]
async fn a_slow_api_times_out_as_a_transient_read_failure() {
    let fake = FakeGmail::start(MAILBOX, refresh_oauth()).await.unwrap();
    let mailbox = Arc::new(Mailbox::new(gmail_config(
        &fake,
        refresh_credentials(),
        Duration::from_millis(150),
    )));
    fake.faults().set_delay(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let err = mailbox.fetch_new_messages(1000).await.unwrap_err();
    assert!(
        matches!(err, GmailError::Provider(SendError::Transient { .. })),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "every attempt is bounded"
    );
}

#[tokio::test]
async fn the_watch_renewal_loop_renews_at_once_and_then_periodically() {
    let (fake, mailbox) = gmail().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(mailbox.clone().renew_watch_loop(
        Duration::from_millis(50),
        move |watch| {
            let _ = tx.send(watch.history_id);
        },
    ));
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("renewed in time")
            .unwrap();
    }
    task.abort();
    assert!(fake.watches().len() >= 2);
}

#[tokio::test]
async fn a_message_deleted_before_the_fetch_is_skipped_but_a_refusal_is_an_error() {
    let (fake, mailbox) = gmail().await;
    let start = fake.history_id();
    let (gone, _) = fake.deliver_inbound(&customer_mail("<g@example.com>", "G", "", "gone"));
    fake.deliver_inbound(&customer_mail("<k@example.com>", "K", "", "kept"));
    fake.delete_message(&gone);

    let (emails, _) = mailbox.fetch_new_messages(start).await.unwrap();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].text, "kept");

    // history.list passes, then messages.get is refused: not silently skipped.
    fake.faults().pass_next(1);
    fake.faults().fail_next(403, 1);
    let err = mailbox.fetch_new_messages(start).await.unwrap_err();
    assert!(
        matches!(err, GmailError::Provider(SendError::Permanent { .. })),
        "{err:?}"
    );
}
