//! The WhatsApp sender against the fake Twilio: parts, the 24-hour window,
//! failure classification, timeouts and reconciliation.

use std::time::Duration;

use fte_channels::{ReplySender, SendError};
use fte_testkit::channels::*;

#[tokio::test]
async fn each_part_is_one_api_call_with_free_text_inside_the_window() {
    let (fake, sender) = twilio().await;
    let reply = whatsapp_reply(&["First part.", "Second part."], Some(30));

    let receipt = sender.send(&reply).await.unwrap();

    assert_eq!(receipt.provider_message_ids.len(), 2);
    assert!(!receipt.used_template);
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body.as_deref(), Some("First part."));
    assert_eq!(sent[1].body.as_deref(), Some("Second part."));
    assert_eq!(sent[0].to, "whatsapp:+34612345678");
    assert_eq!(sent[0].from, "whatsapp:+14155238886");
    assert_eq!(receipt.provider_message_ids[0], sent[0].sid);
}

#[tokio::test]
async fn outside_the_24_hour_window_the_approved_template_is_sent() {
    let (fake, sender) = twilio().await;
    let reply = whatsapp_reply(
        &["Free text the customer cannot receive now."],
        Some(25 * 60),
    );

    let receipt = sender.send(&reply).await.unwrap();

    assert!(receipt.used_template);
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, None);
    assert_eq!(sent[0].content_sid.as_deref(), Some(TEMPLATE));
    let variables: serde_json::Value =
        serde_json::from_str(sent[0].content_variables.as_deref().unwrap()).unwrap();
    assert_eq!(variables["1"], "T-1042");
}

#[tokio::test]
async fn bodies_over_1600_characters_are_refused_without_calling_twilio() {
    let (fake, sender) = twilio().await;
    let long = "a".repeat(1601);
    let reply = whatsapp_reply(&[&long], Some(1));

    let err = sender.send(&reply).await.unwrap_err();

    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert!(fake.sent().is_empty());
    assert_eq!(fake.faults().calls(), 0);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_transient_and_client_errors_permanent() {
    let (fake, sender) = twilio().await;
    let reply = whatsapp_reply(&["hello"], Some(1));
    for (status, transient) in [
        (429u16, true),
        (500, true),
        (503, true),
        (400, false),
        (401, false),
    ] {
        fake.faults().fail_next(status, 1);
        let err = sender.send(&reply).await.unwrap_err();
        assert_eq!(err.is_retryable(), transient, "HTTP {status}: {err:?}");
        if !transient {
            assert!(matches!(err, SendError::Permanent { .. }), "HTTP {status}");
        }
    }
    // Sends are never retried inside the client: one call per attempt.
    assert_eq!(fake.faults().calls(), 5);
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_timeout_after_twilio_accepted_is_unknown_and_reconcile_finds_the_message() {
    let (fake, sender) = twilio_with_timeout(Duration::from_millis(300)).await;
    let reply = whatsapp_reply(&["Your export is ready."], Some(5));
    fake.faults().hang_after_accept(1);

    let err = sender.send(&reply).await.unwrap_err();
    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");

    let receipt = sender
        .reconcile(&reply)
        .await
        .unwrap()
        .expect("message was accepted");
    assert_eq!(
        receipt.provider_message_ids,
        vec![fake.sent()[0].sid.clone()]
    );
}

#[tokio::test]
async fn reconcile_reports_nothing_when_twilio_never_got_the_message() {
    let (_fake, sender) = twilio().await;
    let reply = whatsapp_reply(&["Never sent."], Some(5));
    assert_eq!(sender.reconcile(&reply).await.unwrap(), None);
}

#[tokio::test]
async fn reconcile_lists_with_bounded_retries_on_server_errors() {
    let (fake, sender) = twilio().await;
    let reply = whatsapp_reply(&["hello"], Some(5));
    sender.send(&reply).await.unwrap();

    fake.faults().fail_next(503, 2);
    assert!(
        sender.reconcile(&reply).await.unwrap().is_some(),
        "third attempt succeeds"
    );

    fake.faults().fail_next(503, 3);
    let err = sender.reconcile(&reply).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    // 1 send + 3 + 3 list attempts.
    assert_eq!(fake.faults().calls(), 7);
}

#[tokio::test]
async fn a_slow_twilio_times_out_as_unknown() {
    let (fake, sender) = twilio_with_timeout(Duration::from_millis(200)).await;
    fake.faults().set_delay(Duration::from_secs(2));
    let err = sender
        .send(&whatsapp_reply(&["hi"], Some(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");
}

#[tokio::test]
async fn a_twilio_that_is_down_is_a_transient_failure() {
    let (fake, sender) = twilio().await;
    fake.go_down().await;
    let err = sender
        .send(&whatsapp_reply(&["hi"], Some(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");

    fake.come_back().await.unwrap();
    sender
        .send(&whatsapp_reply(&["hi"], Some(1)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failure_after_the_first_part_is_unknown_not_transient() {
    let (fake, sender) = twilio().await;
    let reply = whatsapp_reply(&["one", "two"], Some(1));
    fake.faults().pass_next(1);
    fake.faults().fail_next(503, 1);

    let err = sender.send(&reply).await.unwrap_err();

    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");
    let receipt = sender.reconcile(&reply).await.unwrap().unwrap();
    assert_eq!(
        receipt.provider_message_ids.len(),
        1,
        "only the first part arrived"
    );
    assert_eq!(receipt.provider_message_ids[0], fake.sent()[0].sid);
}
