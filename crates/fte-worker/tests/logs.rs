//! Logs carry ids, never people: a whole message's journey (answer,
//! escalation, failed and retried delivery) logs no address, number, name
//! or message body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fte_channels::SendError;
use fte_domain::{Channel, EscalationReason};
use fte_fakes::RecordingSender;
use fte_testkit::worker::{Script, harness, inbound};
use fte_worker::handle_event;
use fte_worker::sender::ChannelSender;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_message_journey_logs_ids_but_no_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness().await;
    handle_event(
        &h.ctx,
        &inbound(
            Channel::Email,
            "g-1",
            Some("Zelda.Quinn@example.com"),
            Some("+34 699 111 222"),
            Some("Zelda Quinn"),
            "my secret invoice question",
        ),
    )
    .await
    .unwrap();
    h.agent.then(Script::Escalate(EscalationReason::Refund));
    handle_event(
        &h.ctx,
        &inbound(
            Channel::Email,
            "g-2",
            Some("zelda.quinn@example.com"),
            None,
            Some("Zelda Quinn"),
            "refund my secret invoice",
        ),
    )
    .await
    .unwrap();
    let recorder = Arc::new(RecordingSender::new(Channel::Email));
    recorder.fail_next(SendError::Transient {
        reason: "503".into(),
        retry_after: None,
    });
    let sender = ChannelSender {
        pool: h.pool.clone(),
        sender: recorder.clone(),
        events: h.events.clone(),
        config: fte_worker::WorkerConfig::default(),
    };
    sender.send_due().await.unwrap();
    sqlx::query("update reply_outbox set next_attempt_at = now()")
        .execute(&h.pool)
        .await
        .unwrap();
    sender.send_due().await.unwrap();
    assert_eq!(recorder.sent().len(), 2, "both replies went out");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("conversation.id") && logs.contains("ticket.id"),
        "the journey is logged with its ids:\n{logs}"
    );
    for secret in [
        "zelda",
        "Zelda",
        "Quinn",
        // Whole digit runs of the phone: a short fragment like "699" also
        // occurs by chance in ids and timings.
        "699111222",
        "699 111",
        "111 222",
        "secret invoice",
    ] {
        assert!(
            !logs.contains(secret),
            "`{secret}` leaked into the logs:\n{logs}"
        );
    }
}
