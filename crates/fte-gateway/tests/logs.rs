//! Logs carry ids, routes and reason kinds, never people: this test captures
//! everything the gateway logs (unredacted) while it handles personal data.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fte_testkit::gateway::{
    STAFF_KEY, STAFF_NAME, TWILIO_TOKEN, spawn_app, valid_form, whatsapp_params,
};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_gateway_never_logs_names_addresses_phone_numbers_or_message_bodies() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "fte_gateway=trace,fte_store=trace,fte_channels=trace",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let app = spawn_app().await;

    assert_eq!(app.submit(&valid_form()).await.status, 200);
    let mut invalid = valid_form();
    invalid["phone"] = json!("612 345 678");
    assert_eq!(app.submit(&invalid).await.status, 422);
    let params = whatsapp_params("SMlog1");
    assert_eq!(
        app.post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post_twilio("/webhooks/whatsapp", &params, Some("54321-forged"))
            .await
            .status,
        403
    );
    assert_eq!(
        app.get_as_staff("/metrics/channels", Some("guessed-staff-key-91"))
            .await
            .status,
        401
    );
    // The worker takes the two messages (its store calls log too).
    app.let_worker_take(2).await;
    // A staff read is audited with one log line that names no one.
    assert_eq!(
        app.get_as_staff(
            "/customers/lookup?email=maria.santos@example.com",
            Some(STAFF_KEY)
        )
        .await
        .status,
        200
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("web form request accepted")
            && logs.contains("rejected a Twilio webhook")
            && logs.contains("staff action")
            && logs.contains("customer.lookup"),
        "the capture works: {logs}"
    );
    for secret in [
        "maria",
        "Santos",
        // Whole digit runs of the phone: a short fragment like "612" also
        // occurs by chance in ids and timings.
        "612 345",
        "612345678",
        "CSV export",
        "4155550100",
        "Emma",
        "Slack",
        "54321-forged",
        "guessed-staff-key-91",
        STAFF_KEY,
        STAFF_NAME,
    ] {
        assert!(
            !logs.contains(secret),
            "`{secret}` appears in the logs:\n{logs}"
        );
    }
}
