//! `spawn_app`: the gateway on a random port over a fresh PostgreSQL
//! database and its own embedded Kafka broker, with typed request helpers.

pub mod handoff;

use std::collections::HashMap;
use std::time::Duration;

use fte_bus::{Bootstrap, KafkaPublisher};
use fte_gateway::AppState;
use fte_gateway::state::{GmailAuth, TwilioAuth, WebhookAuth};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, Lookup, WebFormSettings};
use futures::StreamExt;
use rdkafka::Message;
use serde_json::Value;
use sqlx::PgPool;

/// The staff key the test apps accept.
pub const STAFF_KEY: &str = "test-staff-key-7f3a";
/// Its owner.
pub const STAFF_NAME: &str = "ana.ruiz";
/// A second staff key, owned by [`OTHER_STAFF_NAME`].
pub const OTHER_STAFF_KEY: &str = "test-staff-key-bob-19c2";
/// The owner of [`OTHER_STAFF_KEY`].
pub const OTHER_STAFF_NAME: &str = "bob";
/// Twilio's auth token in tests (the one of Twilio's published test vector).
pub const TWILIO_TOKEN: &str = "12345";
/// The public base URL the gateway believes it has.
pub const PUBLIC_BASE_URL: &str = "https://support.orbitask.example";

/// How a test app is configured.
pub struct Options {
    /// Extra `ApiSettings` and `WebFormSettings` variables.
    pub vars: Vec<(&'static str, String)>,
    /// Webhook verification.
    pub webhooks: WebhookAuth,
    /// What `/dev/outbox` shows (none: 404).
    pub outbound_log: Option<fte_gateway::local::SharedOutboundLog>,
    /// `CHANNELS_ENABLED` (all channels by default).
    pub channels: fte_runtime::settings::EnabledChannels,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            webhooks: WebhookAuth {
                twilio: TwilioAuth::Signed(TWILIO_TOKEN.to_owned().into()),
                gmail: GmailAuth::Unverified,
            },
            outbound_log: None,
            channels: Default::default(),
        }
    }
}

/// A running gateway.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// A client without cookies or redirects.
    pub client: reqwest::Client,
    /// The broker (embedded: can be taken down).
    pub bootstrap: Bootstrap,
    /// The app's database.
    pub pool: PgPool,
    /// The app's readiness conditions (hold one to take it out of rotation).
    pub readiness: std::sync::Arc<fte_runtime::readiness::Readiness>,
    /// The worker's step that [`TestApp::let_worker_take`] runs, once used.
    worker: tokio::sync::Mutex<Option<WorkerFeed>>,
}

/// A worker's step with its own consumer of `fte.tickets.incoming`.
struct WorkerFeed {
    consumer: rdkafka::consumer::StreamConsumer,
    ctx: fte_worker::WorkerContext,
}

/// A response, read whole.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body text.
    pub text: String,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("expected a JSON body, got: {}", self.text))
    }

    /// The ticket id and access key of a successful submission (panics
    /// with the body on any other answer).
    pub fn ticket(&self) -> (String, String) {
        assert_eq!(self.status, 200, "{}", self.text);
        let body = self.json();
        (
            body["ticket_id"].as_str().expect("a ticket id").to_owned(),
            body["access_key"]
                .as_str()
                .expect("an access key")
                .to_owned(),
        )
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

async fn read(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a readable body"),
    }
}

/// The gateway with the default [`Options`] on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

/// The gateway with `options` on a fresh database.
pub async fn spawn_app_with(options: Options) -> TestApp {
    spawn_app_on(fte_store::testing::fresh_database().await, options).await
}

/// The gateway with `options` on `pool`.
pub async fn spawn_app_on(pool: PgPool, options: Options) -> TestApp {
    let bootstrap = crate::broker::embedded().await;
    let publisher = KafkaPublisher::new(&bootstrap).expect("a publisher");
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL.to_owned()),
        (
            "STAFF_API_KEYS",
            crate::staff_api_keys(&[(STAFF_NAME, STAFF_KEY), (OTHER_STAFF_NAME, OTHER_STAFF_KEY)]),
        ),
        ("SUBMIT_RATE_LIMIT_PER_MINUTE", "100".to_owned()),
        (
            "WEB_FORM_DIST_DIR",
            crate::repo_root()
                .join("web-form/dist")
                .display()
                .to_string(),
        ),
    ]);
    vars.extend(options.vars);
    let lookup = Lookup::from_fn(|key| vars.get(key).cloned());
    let api = ApiSettings::from_lookup(&lookup, Profile::Dev).expect("test settings are valid");
    let web_form = WebFormSettings::from_lookup(&lookup).expect("web form settings are valid");
    let dead_letters = fte_bus::dead_letters::DeadLetterReader::new(&bootstrap, publisher.clone());
    let mut state = AppState::new(pool.clone(), publisher, api, Profile::Dev, options.webhooks)
        .with_dead_letters(dead_letters)
        .with_web_form(&web_form)
        .with_enabled_channels(options.channels);
    if let Some(log) = options.outbound_log {
        state = state.with_outbound_log(log);
    }
    let readiness = state.readiness.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(fte_gateway::startup::serve(listener, state, shutdown));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        bootstrap,
        pool,
        readiness,
        worker: tokio::sync::Mutex::new(None),
    }
}

/// A web form body that passes every rule.
pub fn valid_form() -> Value {
    serde_json::json!({
        "name": "Maria Santos",
        "email": "maria.santos@example.com",
        "subject": "Cannot export my board",
        "category": "technical",
        "message": "The CSV export button does nothing when I click it.",
        "priority": "high",
        "phone": "+34 612 345 678",
        "website": "",
    })
}

/// A Twilio inbound WhatsApp message's parameters.
pub fn whatsapp_params(sid: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", "whatsapp:+14155550100"),
        ("To", "whatsapp:+14155238886"),
        ("Body", "How do I connect Orbitask to Slack?"),
        ("NumMedia", "0"),
        ("ProfileName", "Emma Brown"),
        ("WaId", "14155550100"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

impl TestApp {
    /// The gateway's URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        read(
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("the gateway answers"),
        )
        .await
    }

    /// `GET path` as status and body.
    pub async fn get_pair(&self, path: &str) -> (u16, String) {
        let answer = self.get(path).await;
        (answer.status, answer.text)
    }

    /// `GET path` with `key` as the staff bearer key (none when `None`).
    pub async fn get_as_staff(&self, path: &str, key: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        read(request.send().await.expect("the gateway answers")).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        read(
            self.client
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .expect("the gateway answers"),
        )
        .await
    }

    /// Posts JSON with `key` as the staff bearer key (none when `None`).
    pub async fn post_as_staff(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        read(request.send().await.expect("the gateway answers")).await
    }

    /// Submits the web form.
    pub async fn submit(&self, body: &Value) -> Answer {
        self.post_json("/support/submit", body).await
    }

    /// Submits `body` (it must pass) and returns the ticket id and its
    /// access key.
    pub async fn submit_ticket(&self, body: &Value) -> (String, String) {
        self.submit(body).await.ticket()
    }

    /// Submits `body` with `key` as its `Idempotency-Key`.
    pub async fn submit_with_key(&self, body: &Value, key: &str) -> Answer {
        read(
            self.client
                .post(self.url("/support/submit"))
                .header("idempotency-key", key)
                .json(body)
                .send()
                .await
                .expect("the gateway answers"),
        )
        .await
    }

    /// `GET path` with a ticket access key in `X-Ticket-Access-Key`.
    pub async fn get_with_key(&self, path: &str, key: &str) -> Answer {
        read(
            self.client
                .get(self.url(path))
                .header("x-ticket-access-key", key)
                .send()
                .await
                .expect("the gateway answers"),
        )
        .await
    }

    /// `POST path` (JSON) with a ticket access key, when given.
    pub async fn post_with_key(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.header("x-ticket-access-key", key);
        }
        read(request.send().await.expect("the gateway answers")).await
    }

    /// Posts a Twilio webhook signed for `PUBLIC_BASE_URL` + `path` with
    /// `token` (or unsigned when `None`).
    pub async fn post_twilio(
        &self,
        path: &str,
        params: &[(String, String)],
        token: Option<&str>,
    ) -> Answer {
        let body: String = form_body(params);
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(token) = token {
            let url = format!("{PUBLIC_BASE_URL}{path}");
            let signature = fte_channels::twilio::compute_signature(token, &url, params);
            request = request.header("x-twilio-signature", signature);
        }
        read(request.send().await.expect("the gateway answers")).await
    }

    /// `POST path` with `body` as it is and `headers`.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("the gateway answers")).await
    }

    /// The app's embedded broker.
    pub fn broker(&self) -> &fte_bus::EmbeddedBroker {
        self.bootstrap
            .embedded
            .as_ref()
            .expect("an embedded broker")
    }

    /// Every payload on `topic` (JSON), read by a fresh consumer group until
    /// `wanted` arrived or 25 s passed.
    pub async fn events(&self, topic: &str, wanted: usize) -> Vec<Value> {
        self.read_topic(topic, |read| (read < wanted).then_some(Duration::MAX))
            .await
    }

    /// Every payload on `topic` (JSON) once the topic has been quiet for
    /// `quiet` after its first message, read by a fresh consumer group (at
    /// most 25 s): for a test that must also see that nothing more came.
    pub async fn settled_events(&self, topic: &str, quiet: Duration) -> Vec<Value> {
        self.read_topic(topic, |read| {
            Some(if read == 0 { Duration::MAX } else { quiet })
        })
        .await
    }

    /// Reads `topic` with a fresh consumer group for at most 25 s; after
    /// each message `next_wait(messages read)` says how long to wait for
    /// another (`None`: stop).
    async fn read_topic(
        &self,
        topic: &str,
        next_wait: impl Fn(usize) -> Option<Duration>,
    ) -> Vec<Value> {
        let group = format!("gateway-test-{}", uuid::Uuid::new_v4().simple());
        let consumer = fte_bus::consumer::at_least_once(&self.bootstrap, &group, &[topic])
            .expect("a consumer");
        let mut payloads = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(25);
        let mut stream = consumer.stream();
        while let Some(wait) = next_wait(payloads.len()) {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(wait.min(remaining), stream.next()).await {
                Ok(Some(Ok(message))) => {
                    let payload = message.payload().unwrap_or_default();
                    payloads.push(serde_json::from_slice(payload).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(payload).into())
                    }));
                }
                Ok(Some(Err(error))) => panic!("consumer error: {error}"),
                Ok(None) | Err(_) => break,
            }
        }
        payloads
    }

    /// Lets the worker's step take the next `new` messages on
    /// `fte.tickets.incoming` (waiting up to 25 s for them; a scripted agent
    /// answers), as a deployed worker would: a web form submission's
    /// customer, conversation and message exist afterwards.
    pub async fn let_worker_take(&self, new: usize) {
        let mut worker = self.worker.lock().await;
        let feed = worker.get_or_insert_with(|| WorkerFeed {
            consumer: fte_bus::consumer::at_least_once(
                &self.bootstrap,
                &format!("gateway-test-worker-{}", uuid::Uuid::new_v4().simple()),
                &[fte_bus::topics::TICKETS_INCOMING],
            )
            .expect("a consumer"),
            ctx: fte_worker::WorkerContext {
                pool: self.pool.clone(),
                agent: std::sync::Arc::new(crate::agents::ScriptedAgent::default()),
                events: std::sync::Arc::new(crate::agents::RecordingEvents::default()),
                config: fte_worker::WorkerConfig::default(),
            },
        });
        let mut stream = feed.consumer.stream();
        for taken in 0..new {
            let message = tokio::time::timeout(Duration::from_secs(25), stream.next())
                .await
                .unwrap_or_else(|_| panic!("only {taken} of {new} messages were published"))
                .expect("the consumer runs")
                .expect("a message");
            let event: fte_domain::EventEnvelope<fte_domain::InboundMessage> =
                serde_json::from_slice(message.payload().unwrap_or_default())
                    .expect("an inbound event");
            fte_worker::handle_event(&feed.ctx, &event)
                .await
                .expect("the worker's step succeeds");
        }
    }

    /// The single number `sql` selects on the app's database.
    pub async fn count(&self, sql: &str) -> i64 {
        crate::db::count(&self.pool, sql).await
    }

    /// [`count`](Self::count), asked every 100 ms until it is `expected`
    /// or `within` has passed; the last answer.
    pub async fn count_until(&self, sql: &str, expected: i64, within: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let found = self.count(sql).await;
            if found == expected || tokio::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `params` as an `application/x-www-form-urlencoded` body.
pub fn form_body(params: &[(String, String)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}
