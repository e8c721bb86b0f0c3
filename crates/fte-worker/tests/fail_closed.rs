//! The `fte-worker` binary fails closed: with no `FTE_PROFILE` it runs in the
//! production profile and refuses to start without what production needs,
//! naming the missing variables, before it connects to anything.

use std::process::Command;

fn start(vars: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fte-worker"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn without_a_profile_or_settings_the_worker_refuses_to_start_naming_the_database() {
    let (ok, text) = start(&[]);
    assert!(!ok, "it must exit non-zero: {text}");
    assert!(text.contains("DATABASE_URL"), "{text}");
}

#[test]
fn without_a_profile_a_channel_without_credentials_stops_start_up() {
    // Unreachable on purpose: the settings are refused before any connection.
    let (ok, text) = start(&[
        ("DATABASE_URL", "postgres://fte@127.0.0.1:1/fte"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"),
    ]);
    assert!(!ok, "it must exit non-zero: {text}");
    for named in [
        "CHANNELS_ENABLED",
        "email",
        "GMAIL_MAILBOX",
        "GMAIL_PUBSUB_SERVICE_ACCOUNT",
    ] {
        assert!(text.contains(named), "{named} is not named: {text}");
    }
    let (ok, text) = start(&[
        ("DATABASE_URL", "postgres://fte@127.0.0.1:1/fte"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"),
        ("CHANNELS_ENABLED", "whatsapp"),
        ("TWILIO_ACCOUNT_SID", "AC0123"),
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("TWILIO_AUTH_TOKEN"), "{text}");
}
