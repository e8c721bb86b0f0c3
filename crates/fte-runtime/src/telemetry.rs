//! Logging. Logs carry ids, never people: call sites log `conversation.id`,
//! `channel`, `duration_ms` and never an address, a number, a name or a
//! message body. Because one careless `%value` is enough to break that, every
//! formatted line also passes through [`RedactingWriter`], which replaces
//! anything shaped like an email address or an international phone number.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::LazyLock;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::settings::{Lookup, SettingsError};

/// What replaces a redacted email address.
pub const EMAIL_PLACEHOLDER: &str = "[email]";
/// What replaces a redacted phone number.
pub const PHONE_PLACEHOLDER: &str = "[phone]";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
        .expect("email pattern compiles")
});
// An international number: a plus sign, then 7–15 digits possibly separated
// by spaces, dots, dashes or parentheses. Requiring the `+` keeps UUIDs,
// timestamps and durations intact.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+\s?\(?\d(?:[\s().-]{0,2}\d){6,14}").expect("phone pattern compiles")
});

/// Replaces email addresses and international phone numbers in `text`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let after_email = EMAIL.replace_all(text, EMAIL_PLACEHOLDER);
    match PHONE.replace_all(&after_email, PHONE_PLACEHOLDER) {
        Cow::Borrowed(_) => after_email,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// A log-safe hint of an email address: its domain only (`***@example.com`).
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => "***".to_owned(),
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production, Kubernetes).
    Json,
    /// Human-readable lines (local runs).
    Pretty,
}

/// Logging settings.
#[derive(Clone, Debug)]
pub struct LogSettings {
    /// `LOG_FORMAT`: `json` (default) or `pretty`.
    pub format: LogFormat,
    /// `RUST_LOG` (`info`): the filter directives.
    pub filter: String,
}

impl LogSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let format = match lookup.get("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") | Some("text") => LogFormat::Pretty,
            Some(_) => {
                return Err(SettingsError::Invalid {
                    var: "LOG_FORMAT",
                    reason: "expected json or pretty".into(),
                });
            }
        };
        // rmcp logs every MCP session's start at info, and the stateless
        // /mcp endpoint starts one per request: it is kept to warnings.
        let filter = lookup.get("RUST_LOG").unwrap_or_else(|| {
            "info,sqlx=warn,rdkafka=warn,tower_http=info,hyper=warn,rmcp=warn".into()
        });
        Ok(Self { format, filter })
    }
}

/// Installs the global subscriber writing redacted lines to stderr. Safe to
/// call more than once (later calls are ignored), which tests rely on.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = RedactingMakeWriter::new(io::stderr);
    let result = match settings.format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init(),
    };
    // A second initialisation (tests, embedded runs) keeps the first one.
    drop(result);
}

/// A [`MakeWriter`] whose writers redact each formatted event before it
/// reaches the inner writer.
#[derive(Clone)]
pub struct RedactingMakeWriter<M> {
    inner: M,
}

impl<M> RedactingMakeWriter<M> {
    /// Wraps `inner` (for example `std::io::stderr`).
    pub fn new(inner: M) -> Self {
        Self { inner }
    }
}

impl<'a, M> MakeWriter<'a> for RedactingMakeWriter<M>
where
    M: MakeWriter<'a>,
{
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
            buffer: Vec::with_capacity(256),
        }
    }
}

/// Buffers one event and writes it redacted when dropped or flushed.
pub struct RedactingWriter<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    fn flush_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let redacted = redact(&text);
        self.inner.write_all(redacted.as_bytes())?;
        self.buffer.clear();
        Ok(())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // Nothing sensible can be done with a failing log sink.
        let _ = self.flush_buffer();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn redact_removes_emails_and_international_numbers() {
        let line =
            "from Maria.Santos@Example.com and whatsapp:+34 612 345 678 or +1 (555) 010-0142";
        let out = redact(line);
        assert!(!out.contains("Maria.Santos"), "{out}");
        assert!(!out.contains("612"), "{out}");
        assert!(!out.contains("010-0142"), "{out}");
        assert_eq!(out.matches(PHONE_PLACEHOLDER).count(), 2, "{out}");
        assert!(out.contains(EMAIL_PLACEHOLDER), "{out}");
    }

    #[test]
    fn redact_keeps_ids_timestamps_and_numbers() {
        let line = r#"{"ticket.id":"0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b","at":"2026-11-25T19:51:06+00:00","duration_ms":1234567}"#;
        assert_eq!(redact(line), line);
    }

    #[test]
    fn mask_email_keeps_only_the_domain() {
        assert_eq!(mask_email("maria@example.com"), "***@example.com");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_json_log_line_never_carries_an_email_or_phone_even_when_a_call_site_slips() {
        let sink = Captured::default();
        let make = {
            let sink = sink.clone();
            RedactingMakeWriter::new(move || sink.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(make)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let email = "emma.brown@example.com";
            let phone = "whatsapp:+15550100142";
            // A deliberate mistake: personal data passed as fields and in the message.
            tracing::info!(
                customer.email = email,
                customer.phone = phone,
                "reply sent to {email}"
            );
        });
        let output = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(
            output.contains("reply sent to"),
            "the event was written: {output}"
        );
        assert!(!output.contains("emma.brown"), "email leaked: {output}");
        assert!(!output.contains("15550100142"), "phone leaked: {output}");
        serde_json::from_str::<serde_json::Value>(output.trim()).expect("still valid JSON");
    }
}
