//! The `fte-api` binary fails closed: with no `FTE_PROFILE` it runs in the
//! production profile and refuses to start without what production needs,
//! naming the missing variables, before it connects to anything.

use std::process::Command;

fn start(vars: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fte-api"))
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
fn without_a_profile_or_settings_the_gateway_refuses_to_start_naming_what_is_missing() {
    let (ok, text) = start(&[]);
    assert!(!ok, "it must exit non-zero: {text}");
    assert!(text.contains("PUBLIC_BASE_URL"), "{text}");
    let (ok, text) = start(&[("PUBLIC_BASE_URL", "https://support.example")]);
    assert!(!ok, "{text}");
    assert!(text.contains("STAFF_API_KEYS"), "{text}");
}

#[test]
fn without_a_profile_an_enabled_channel_without_credentials_stops_start_up() {
    let staff_key = format!("ops:{}", "a".repeat(64));
    // Unreachable on purpose: the settings are refused before any connection.
    let (ok, text) = start(&[
        ("PUBLIC_BASE_URL", "https://support.example"),
        ("STAFF_API_KEYS", &staff_key),
        ("DATABASE_URL", "postgres://fte@127.0.0.1:1/fte"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"),
    ]);
    assert!(!ok, "it must exit non-zero: {text}");
    for named in ["CHANNELS_ENABLED", "GMAIL_MAILBOX", "GMAIL_PUBSUB_AUDIENCE"] {
        assert!(text.contains(named), "{named} is not named: {text}");
    }
}
