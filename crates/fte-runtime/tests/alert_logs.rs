//! The alert log lines, in a test binary of their own: tracing caches
//! whether a log call site is enabled process-wide, and a test in another
//! thread that reaches the same call site while no subscriber is set could
//! turn it off for a scoped subscriber here.

use std::sync::Mutex;

use chrono::{Duration, Utc};
use fte_runtime::alerts::{AlertBook, Firing, LATENCY_HIGH};

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn one_json_log_line_when_an_alert_starts_and_one_when_it_clears() {
    let sink = Captured::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let book = AlertBook::for_process("worker");
    let t0 = Utc::now();
    tracing::subscriber::with_default(subscriber, || {
        for step in 0..3 {
            let at = t0 + Duration::seconds(step);
            book.update(
                at,
                vec![Firing {
                    name: LATENCY_HIGH,
                    scope: "email".into(),
                    reason: "slow".into(),
                }],
            );
        }
        book.update(t0 + Duration::seconds(3), vec![]);
        book.update(t0 + Duration::seconds(4), vec![]);
    });
    let output = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let events: Vec<&str> = lines
        .iter()
        .map(|line| line["fields"]["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(events, ["alert_started", "alert_cleared"], "{output}");
    assert_eq!(lines[0]["fields"]["alert.name"], LATENCY_HIGH);
    assert_eq!(lines[0]["fields"]["alert.scope"], "email");
    assert_eq!(lines[0]["fields"]["process"], "worker");
    assert_eq!(lines[1]["fields"]["duration_secs"], 3);
}
