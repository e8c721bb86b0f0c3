//! `fte-fakes`: starts every provider fake on loopback ports, prints their
//! URLs and test credentials as one JSON line on stdout (for the multi-process
//! harness and the local run), and runs until Ctrl-C or SIGTERM.
//!
//! Also starts an OpenAI-compatible model (`OPENAI_BASE_URL`) answering after
//! `--model-latency-ms` (default 1000), and the control plane (`admin` in the
//! JSON; see `fte_fakes::admin`).
//!
//!     fte-fakes [--model-latency-ms N]

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fte_fakes::gmail::{FakeGmail, FakeOAuth};
use fte_fakes::pubsub::{FakeJwks, test_key_a};
use fte_fakes::responder::FakeModel;
use fte_fakes::smtp::FakeSmtp;
use fte_fakes::twilio::FakeTwilio;
use serde_json::json;

const MAILBOX: &str = "support@orbitlabs.example";
const TWILIO_SID: &str = "ACfake00000000000000000000000000";
const TWILIO_TOKEN: &str = "fake-twilio-auth-token";
const OAUTH_CLIENT_ID: &str = "fake-client-id";
const OAUTH_CLIENT_SECRET: &str = "fake-client-secret";
const OAUTH_REFRESH_TOKEN: &str = "fake-refresh-token";
const PUSH_AUDIENCE: &str = "fte-local-push";
const PUSH_SERVICE_ACCOUNT: &str = "gmail-push@orbit-labs.iam.gserviceaccount.com";
const MODEL_API_KEY: &str = "fake-openai-key";
const DEFAULT_MODEL_LATENCY_MS: u64 = 1000;

/// `--model-latency-ms N` from the command line.
fn model_latency() -> anyhow::Result<Duration> {
    let mut args = std::env::args().skip(1);
    let mut latency_ms = DEFAULT_MODEL_LATENCY_MS;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model-latency-ms" => {
                let value = args.next().context("--model-latency-ms needs a value")?;
                latency_ms = value
                    .parse()
                    .with_context(|| format!("--model-latency-ms: not a number: {value}"))?;
            }
            other => {
                anyhow::bail!("unknown argument {other}; usage: fte-fakes [--model-latency-ms N]")
            }
        }
    }
    Ok(Duration::from_millis(latency_ms))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let latency = model_latency()?;
    let gmail = FakeGmail::start(
        MAILBOX,
        FakeOAuth::RefreshToken {
            client_id: OAUTH_CLIENT_ID.into(),
            client_secret: OAUTH_CLIENT_SECRET.into(),
            refresh_token: OAUTH_REFRESH_TOKEN.into(),
        },
    )
    .await?;
    let twilio = Arc::new(FakeTwilio::start(TWILIO_SID, TWILIO_TOKEN).await?);
    let jwks = FakeJwks::start(vec![test_key_a()]).await?;
    let smtp = FakeSmtp::start().await?;
    let model = FakeModel::start(latency).await?;
    let admin_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let admin_url = format!("http://{}", admin_listener.local_addr()?);
    let admin = fte_fakes::admin::router(twilio.clone());
    tokio::spawn(async move {
        if let Err(error) = axum::serve(admin_listener, admin).await {
            eprintln!("fte-fakes: the admin server stopped: {error}");
        }
    });
    let urls = json!({
        "GMAIL_API_BASE_URL": gmail.base_url(),
        "GMAIL_TOKEN_URL": gmail.token_url(),
        "GMAIL_MAILBOX": MAILBOX,
        "GMAIL_CLIENT_ID": OAUTH_CLIENT_ID,
        "GMAIL_CLIENT_SECRET": OAUTH_CLIENT_SECRET,
        "GMAIL_REFRESH_TOKEN": OAUTH_REFRESH_TOKEN,
        "GMAIL_PUBSUB_JWKS_URL": jwks.url(),
        "GMAIL_PUBSUB_AUDIENCE": PUSH_AUDIENCE,
        "GMAIL_PUBSUB_SERVICE_ACCOUNT": PUSH_SERVICE_ACCOUNT,
        "TWILIO_API_BASE_URL": twilio.base_url(),
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "SMTP_URL": smtp.url(),
        "OPENAI_BASE_URL": model.base_url(),
        "OPENAI_API_KEY": MODEL_API_KEY,
        "model_latency_ms": latency.as_millis() as u64,
        "admin": admin_url,
        "gmail_control": format!("{}/_fake", gmail.base_url()),
        "twilio_control": format!("{}/_fake", twilio.base_url()),
        "pubsub_push_control": jwks.url().replace("/oauth2/v3/certs", "/_fake/push"),
    });
    println!("{urls}");
    fte_fakes_wait_for_shutdown().await;
    Ok(())
}

async fn fte_fakes_wait_for_shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
