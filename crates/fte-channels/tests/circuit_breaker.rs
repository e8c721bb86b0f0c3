//! Graceful degradation: the circuit breaker opens after repeated provider
//! failures, fails fast while open, and recovers through a half-open probe.

use std::sync::Arc;
use std::time::Duration;

use fte_channels::{
    BreakerState, ChannelState, CircuitBreaker, GuardedSender, ReplySender, SendError,
};
use fte_domain::Channel;
use fte_fakes::RecordingSender;
use fte_testkit::channels::*;

#[tokio::test]
async fn repeated_provider_failures_open_the_circuit_and_calls_fail_fast() {
    let (fake, twilio) = twilio().await;
    let guarded = GuardedSender::new(Arc::new(twilio), 3, Duration::from_millis(300));
    let reply = whatsapp_reply(&["hello"], Some(1));
    fake.faults().fail_next(503, 3);

    for attempt in 1..=3 {
        let err = guarded.send(&reply).await.unwrap_err();
        assert!(
            matches!(err, SendError::Transient { .. }),
            "attempt {attempt}: {err:?}"
        );
    }
    assert_eq!(guarded.breaker().state(), BreakerState::Open);
    assert_eq!(guarded.state(), ChannelState::Degraded);

    let err = guarded.send(&reply).await.unwrap_err();
    assert!(matches!(err, SendError::CircuitOpen { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.retry_after().unwrap() <= Duration::from_millis(300));
    assert_eq!(
        fake.faults().calls(),
        3,
        "an open circuit does not call Twilio"
    );
}

#[tokio::test]
async fn after_the_cool_down_one_successful_probe_closes_the_circuit() {
    let (fake, twilio) = twilio().await;
    let guarded = GuardedSender::new(Arc::new(twilio), 2, Duration::from_millis(100));
    let reply = whatsapp_reply(&["hello"], Some(1));
    fake.go_down().await;
    for _ in 0..2 {
        assert!(guarded.send(&reply).await.is_err());
    }
    assert_eq!(guarded.breaker().state(), BreakerState::Open);

    fake.come_back().await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(guarded.breaker().state(), BreakerState::HalfOpen);

    guarded.send(&reply).await.unwrap();
    assert_eq!(guarded.breaker().state(), BreakerState::Closed);
    assert_eq!(guarded.state(), ChannelState::Active);
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn a_failed_probe_opens_the_circuit_again() {
    let (fake, twilio) = twilio().await;
    let guarded = GuardedSender::new(Arc::new(twilio), 1, Duration::from_millis(80));
    let reply = whatsapp_reply(&["hello"], Some(1));
    fake.faults().fail_next(500, 2);
    assert!(guarded.send(&reply).await.is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;

    let err = guarded.send(&reply).await.unwrap_err();
    assert!(
        matches!(err, SendError::Transient { .. }),
        "the probe reached Twilio: {err:?}"
    );
    assert_eq!(guarded.breaker().state(), BreakerState::Open);
    assert!(matches!(
        guarded.send(&reply).await,
        Err(SendError::CircuitOpen { .. })
    ));
}

#[tokio::test]
async fn refusals_from_a_healthy_provider_do_not_open_the_circuit() {
    let (fake, twilio) = twilio().await;
    let guarded = GuardedSender::new(Arc::new(twilio), 2, Duration::from_secs(30));
    fake.faults().fail_next(400, 5);
    for _ in 0..5 {
        let err = guarded
            .send(&whatsapp_reply(&["x"], Some(1)))
            .await
            .unwrap_err();
        assert!(matches!(err, SendError::Permanent { .. }));
    }
    assert_eq!(guarded.breaker().state(), BreakerState::Closed);
}

#[test]
fn only_one_half_open_probe_passes_at_a_time() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let breaker = CircuitBreaker::new(Channel::WebForm, 1, Duration::from_millis(10));
        breaker.record_failure();
        assert!(breaker.acquire().is_err());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(breaker.acquire().is_ok(), "the probe");
        assert!(breaker.acquire().is_err(), "a second concurrent probe");
        breaker.record_success();
        assert!(breaker.acquire().is_ok());
    });
}

#[tokio::test]
async fn the_channel_state_gauge_follows_the_breaker() {
    let gauge = || {
        fte_runtime::metrics::global()
            .channel_state
            .with_label_values(&["email"])
            .get()
    };
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    let guarded = GuardedSender::new(recorder.clone(), 1, Duration::from_millis(50));
    assert_eq!(gauge(), 1, "active");

    recorder.fail_next(SendError::Transient {
        reason: "HTTP 503".into(),
        retry_after: None,
    });
    assert!(guarded.send(&email_reply(&["x"], None)).await.is_err());
    assert_eq!(gauge(), 2, "degraded");

    tokio::time::sleep(Duration::from_millis(70)).await;
    guarded.send(&email_reply(&["x"], None)).await.unwrap();
    assert_eq!(gauge(), 1, "active again");
    assert_eq!(recorder.sent().len(), 1);
    let sent_total = fte_runtime::metrics::global()
        .replies_sent
        .with_label_values(&["email", "sent"])
        .get();
    assert!(sent_total >= 1);
}
