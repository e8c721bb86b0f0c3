//! The local run's wiring (`run::assemble`) without provider credentials:
//! the fakes start, the real Gmail and Twilio clients run against them, the
//! gateway verifies signed pushes and webhooks, `/health` says `fake`, and
//! `/dev/outbox` shows what the fakes received (404 in production).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fte_bus::Bootstrap;
use fte_gateway::local::ChannelDelivery;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, DatabaseSettings, KafkaSettings, Lookup};
use tokio_util::sync::CancellationToken;

use crate::simulate::{self, EmailMessage, PushIdentity, WhatsappMessage};

/// Log output as written, before the production writer's redaction: the
/// lines themselves must carry no personal data.
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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn state_key_file(file: &Option<PathBuf>) -> PathBuf {
    file.clone()
        .expect("the dev profile keeps a local staff key")
}

/// Serves `state` on a fresh port until `shutdown`; returns its base URL.
async fn serve(state: fte_gateway::AppState, shutdown: &CancellationToken) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(fte_gateway::startup::serve(
        listener,
        state,
        shutdown.clone(),
    ));
    base_url
}

async fn get_json(client: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_credentials_the_local_run_answers_through_the_real_clients_into_the_provider_fakes()
 {
    // Arrange: the environment of a newcomer's `fte run` (no provider
    // credentials), on a fresh database and an embedded broker.
    let logs = Captured::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only test of this binary that installs a subscriber");
    let pool = fte_store::testing::fresh_database().await;
    let database_name = pool.connect_options().get_database().unwrap().to_owned();
    let database_url =
        fte_store::testing::with_database(&fte_store::testing::server_url(), &database_name);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let models = repo_root().join("models").display().to_string();
    let public = base_url.clone();
    let staff_key_file = std::env::temp_dir()
        .join(format!("fte-run-{}", uuid::Uuid::new_v4().simple()))
        .join("staff-key");
    let staff_key_path = staff_key_file.display().to_string();
    let env = Lookup::from_fn(move |key| match key {
        "FTE_DEV_STAFF_KEY_FILE" => Some(staff_key_path.clone()),
        "DATABASE_URL" => Some(database_url.clone()),
        "PUBLIC_BASE_URL" => Some(public.clone()),
        "FTE_MODELS_DIR" => Some(models.clone()),
        "FTE_BROKER_ADDRESS_FILE" => Some("/nonexistent/fte-broker.addr".into()),
        "KAFKA_TOPIC_PARTITIONS" => Some("1".into()),
        "KAFKA_SESSION_TIMEOUT_MS" => Some("6000".into()),
        "KAFKA_MAX_POLL_INTERVAL_MS" => Some("7000".into()),
        _ => None,
    });
    let kafka = KafkaSettings::from_lookup(&env, Profile::Dev).unwrap();
    let bootstrap = Arc::new(Bootstrap::resolve(&kafka).await.unwrap());
    let api = ApiSettings::from_lookup(&env, Profile::Dev).unwrap();
    let database = DatabaseSettings::from_lookup(&env, Profile::Dev).unwrap();

    let local = crate::run::assemble(&env, Profile::Dev, api, &database, bootstrap.clone())
        .await
        .unwrap();
    let fakes = local
        .fakes
        .as_ref()
        .expect("fakes start without credentials");
    let var = |key: &str| fakes.vars()[key].clone();
    let local_staff_key = local.staff_key_file.clone();
    let shutdown = CancellationToken::new();
    let state = local.state.clone();
    tokio::spawn(fte_gateway::startup::serve(
        listener,
        local.state,
        shutdown.clone(),
    ));
    let worker = tokio::spawn(fte_worker::startup::run(local.worker, shutdown.clone()));
    let client = reqwest::Client::new();

    // Health says honestly where replies go.
    let (status, health) = get_json(&client, &format!("{base_url}/health")).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["channels"]["email"], "fake", "{health}");
    assert_eq!(health["channels"]["whatsapp"], "fake", "{health}");
    assert_eq!(health["channels"]["web_form"], "active", "{health}");

    // The README's staff examples work with the local key as written:
    // KEY=$(cat .fte/staff-key), then Authorization: Bearer $KEY.
    assert_eq!(state_key_file(&local_staff_key), staff_key_file);
    let key = std::fs::read_to_string(&staff_key_file).unwrap();
    let queue = client
        .get(format!("{base_url}/escalations?status=pending"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 200, "the local staff key is accepted");
    let audited = fte_store::audit::recent(&pool, 1).await.unwrap();
    assert_eq!(audited[0].staff, crate::staff_key::DEV_STAFF_NAME);

    // The worker watches the fake mailbox through the real Gmail client.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while fte_store::gmail_sync::state(&pool, crate::fakes::MAILBOX)
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watch never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // An unsigned push is refused: verification runs against the fake JWKS.
    let unsigned = client
        .post(format!("{base_url}/webhooks/gmail"))
        .body(fte_fakes::pubsub::push_body(crate::fakes::MAILBOX, 1))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap()
        .status();
    assert!(
        unsigned == 401 || unsigned == 403,
        "an unsigned push is refused, got {unsigned}"
    );

    // Act: a customer emails and another writes on WhatsApp.
    let email = simulate::email(
        &client,
        &base_url,
        &var("GMAIL_API_BASE_URL"),
        crate::fakes::MAILBOX,
        Some(&PushIdentity {
            audience: var("GMAIL_PUBSUB_AUDIENCE"),
            service_account: var("GMAIL_PUBSUB_SERVICE_ACCOUNT"),
        }),
        &EmailMessage {
            from: "Maria Santos <maria.santos@example.com>".into(),
            subject: "Two-factor authentication".into(),
            body: "How do I turn on two-factor authentication?".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        email.push_status.is_success(),
        "the signed push is accepted: {}",
        email.push_status
    );
    let whatsapp = simulate::whatsapp(
        &client,
        &base_url,
        &base_url,
        Some(&var("TWILIO_AUTH_TOKEN")),
        &WhatsappMessage {
            from: "+34 612 345 678".into(),
            body: "hi how do i turn on 2fa?".into(),
            name: Some("Hugo".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(whatsapp, 200, "the signed webhook is accepted");

    // Assert: both replies reached the fakes through the real clients and
    // show on the outbox.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let outbox = loop {
        let (status, outbox) = get_json(&client, &format!("{base_url}/dev/outbox")).await;
        assert_eq!(status, 200, "{outbox}");
        let messages = outbox["messages"].as_array().cloned().unwrap_or_default();
        let channels: Vec<&str> = messages
            .iter()
            .filter_map(|m| m["channel"].as_str())
            .collect();
        if channels.contains(&"email") && channels.contains(&"whatsapp") {
            break messages;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "both replies never reached the fakes: {outbox}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let email_reply = outbox.iter().find(|m| m["channel"] == "email").unwrap();
    assert!(
        email_reply["to"]
            .as_str()
            .unwrap()
            .contains("maria.santos@example.com"),
        "{email_reply}"
    );
    assert_eq!(email_reply["subject"], "Re: Two-factor authentication");
    assert!(!email_reply["body"].as_str().unwrap().is_empty());
    let whatsapp_reply = outbox.iter().find(|m| m["channel"] == "whatsapp").unwrap();
    assert_eq!(whatsapp_reply["to"], "whatsapp:+34612345678");
    let agent_replies: i64 = sqlx::query_scalar(
        "select count(*) from messages where role = 'agent' and channel in ('email', 'whatsapp')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(agent_replies >= 2, "the agent's replies are stored");

    let page = client
        .get(format!("{base_url}/dev/outbox.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("2 message(s)")
            && html.contains("<td>email</td>")
            && html.contains("<td>whatsapp</td>"),
        "{html}"
    );

    // One "reply sent" line per delivered reply, by id, without the people.
    let text = logs.text();
    for channel in ["email", "whatsapp"] {
        assert!(
            text.lines().any(|line| line.contains("\"reply sent\"")
                && line.contains(&format!("\"channel\":\"{channel}\""))
                && line.contains("outbox.id")),
            "no 'reply sent' line for {channel}"
        );
    }
    for personal in [
        "maria.santos@example.com",
        "Maria Santos",
        "34612345678",
        "612 345 678",
        "Hugo",
        "two-factor authentication?",
        "turn on 2fa",
    ] {
        assert!(!text.contains(personal), "the logs contain {personal:?}");
    }

    // Production never shows the outbox; without fakes health says recording.
    let production = state.clone().with_profile(Profile::Production);
    let production_url = serve(production, &shutdown).await;
    let (status, body) = get_json(&client, &format!("{production_url}/dev/outbox")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "not_found", "{body}");
    let recording = state.with_delivery(ChannelDelivery::from_configured(false, false));
    let recording_url = serve(recording, &shutdown).await;
    let (_, health) = get_json(&client, &format!("{recording_url}/health")).await;
    assert_eq!(health["channels"]["email"], "recording", "{health}");
    assert_eq!(health["channels"]["whatsapp"], "recording", "{health}");

    shutdown.cancel();
    worker.await.unwrap().expect("the worker stops cleanly");
}
