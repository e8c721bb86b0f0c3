//! What surrounds the endpoints: the served web form, the OpenAPI document
//! and docs page, the favicon, the local run's outbox page, unknown routes, the request time limit, and the start-up
//! checks of the production profile.

use fte_gateway::local::{OutboundLog, OutboundRecord};
use fte_gateway::state::{WebhookAuth, WebhookAuthError};
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, GmailSettings, Lookup, TwilioSettings};
use fte_testkit::gateway::{Options, spawn_app, spawn_app_with};

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> Lookup<'static> {
    Lookup::from_fn(move |key| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_owned())
    })
}

#[tokio::test]
async fn the_widget_script_is_served_from_the_web_form_build() {
    let dist = std::env::temp_dir().join(format!("fte-dist-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("fte-support-form.js"),
        "window.FteSupportForm = {};",
    )
    .unwrap();
    let app = spawn_app_with(Options {
        vars: vec![("WEB_FORM_DIST_DIR", dist.display().to_string())],
        ..Options::default()
    })
    .await;

    let answer = app.get("/widget/fte-support-form.js").await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, "window.FteSupportForm = {};");
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    std::fs::remove_dir_all(dist).ok();
}

#[tokio::test]
async fn the_widget_script_is_404_with_a_build_hint_when_the_form_is_not_built() {
    let app = spawn_app_with(Options {
        vars: vec![("WEB_FORM_DIST_DIR", "/nonexistent/web-form/dist".into())],
        ..Options::default()
    })
    .await;

    let answer = app.get("/widget/fte-support-form.js").await;

    assert_eq!(answer.status, 404, "{}", answer.text);
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("npm run build")
    );
}

#[tokio::test]
async fn the_demo_page_embeds_the_widget() {
    let app = spawn_app().await;

    let answer = app.get("/demo").await;

    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        answer
            .text
            .contains(r#"<script src="/widget/fte-support-form.js">"#)
    );
    assert!(answer.text.contains(r#"id="fte-support-form""#));
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = spawn_app().await;

    let answer = app.get("/openapi.json").await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let document = answer.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/support/submit", "post"),
        ("/support/ticket/{ticket_id}", "get"),
        ("/support/ticket/{ticket_id}/messages", "post"),
        ("/support/config", "get"),
        ("/webhooks/whatsapp", "post"),
        ("/webhooks/whatsapp/status", "post"),
        ("/webhooks/gmail", "post"),
        ("/conversations/{id}", "get"),
        ("/customers/lookup", "get"),
        ("/customers/{id}", "get"),
        ("/customers/{id}/merge", "post"),
        ("/customers/{id}/identifiers/{identifier_id}/unlink", "post"),
        ("/metrics/channels", "get"),
        ("/metrics/summary", "get"),
        ("/escalations", "get"),
        ("/escalations/{id}/assign", "post"),
        ("/escalations/{id}/resolve", "post"),
        ("/conversations/{id}/reply", "post"),
        ("/dev/outbox", "get"),
        ("/dev/outbox.html", "get"),
        ("/widget/fte-support-form.js", "get"),
        ("/demo", "get"),
        ("/favicon.ico", "get"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
    ];
    for (path, method) in expected {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    assert!(document["components"]["securitySchemes"]["staff_key"].is_object());
    let required = &document["components"]["schemas"]["SubmitRequest"]["required"];
    for field in ["name", "email", "subject", "category", "message"] {
        assert!(
            required
                .as_array()
                .is_some_and(|r| r.contains(&field.into())),
            "{field} is required: {required}"
        );
    }
}

#[tokio::test]
async fn the_docs_page_is_swagger_ui_over_the_openapi_document_served_from_the_binary() {
    let app = spawn_app().await;

    let moved = app.get("/docs").await;
    assert!(
        (300..400).contains(&moved.status),
        "/docs leads to the UI: {} {}",
        moved.status,
        moved.text
    );
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    // Every asset the page loads is served by the gateway itself.
    let assets: Vec<String> = page
        .text
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css") || part.ends_with(".png"))
        .map(str::to_owned)
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    for asset in &assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "the docs page loads {asset} from another origin"
        );
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let answer = app.get(&path).await;
        assert_eq!(answer.status, 200, "{path}");
    }
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(initializer.status, 200);
    assert!(
        initializer.text.contains("/openapi.json"),
        "{}",
        initializer.text
    );
}

#[tokio::test]
async fn every_page_has_a_favicon() {
    let app = spawn_app().await;

    let ico = app.get("/favicon.ico").await;
    assert_eq!(ico.status, 200);
    assert_eq!(ico.header("content-type").as_deref(), Some("image/x-icon"));
    let svg = app.get("/favicon.svg").await;
    assert_eq!(svg.status, 200);
    assert!(svg.text.starts_with("<svg"), "{}", svg.text);
    let demo = app.get("/demo").await;
    assert!(demo.text.contains(r#"rel="icon" href="/favicon.svg""#));
    let docs = app.get("/docs/").await;
    assert!(docs.text.contains("rel=\"icon\""), "{}", docs.text);
}

#[tokio::test]
async fn unknown_routes_are_404_in_the_error_shape() {
    let app = spawn_app().await;

    let answer = app.get("/no/such/endpoint").await;

    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"], "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_error_shape() {
    let app = spawn_app().await;

    let answer = app.get("/support/submit").await;

    assert_eq!(answer.status, 405, "{}", answer.text);
    assert_eq!(answer.json()["error"], "method_not_allowed");
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_503_with_retry_after() {
    let app = spawn_app_with(Options {
        vars: vec![("API_REQUEST_TIMEOUT_MS", "300".into())],
        ..Options::default()
    })
    .await;
    // With the broker down the health check waits its full 1.5 s timeout.
    app.broker().set_down(true).unwrap();

    let answer = app.get("/health").await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.json()["error"], "unavailable", "{}", answer.text);
    assert!(answer.header("retry-after").is_some());
}

#[test]
fn production_refuses_to_start_without_webhook_verification_or_staff_keys() {
    let unsigned_twilio = TwilioSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap();
    let gmail_token = GmailSettings::from_lookup(
        &lookup(&[("GMAIL_PUBSUB_PUSH_TOKEN", "s3cret")]),
        Profile::Production,
    )
    .unwrap();
    let error = WebhookAuth::from_settings(Profile::Production, &unsigned_twilio, &gmail_token)
        .err()
        .expect("an unsigned WhatsApp webhook is refused");
    assert!(error.to_string().contains("TWILIO_AUTH_TOKEN"), "{error}");

    let signed_twilio = TwilioSettings::from_lookup(
        &lookup(&[
            ("TWILIO_ACCOUNT_SID", "AC1"),
            ("TWILIO_AUTH_TOKEN", "tok"),
            ("TWILIO_WHATSAPP_NUMBER", "+14155238886"),
        ]),
        Profile::Production,
    )
    .unwrap();
    let unverified_gmail = GmailSettings::from_lookup(&lookup(&[]), Profile::Production).unwrap();
    let error = WebhookAuth::from_settings(Profile::Production, &signed_twilio, &unverified_gmail)
        .err()
        .expect("an unverified Gmail push is refused");
    assert!(matches!(error, WebhookAuthError::Unverified { .. }));
    assert!(
        error.to_string().contains("GMAIL_PUBSUB_AUDIENCE"),
        "{error}"
    );

    assert!(WebhookAuth::from_settings(Profile::Production, &signed_twilio, &gmail_token).is_ok());
    assert!(
        WebhookAuth::from_settings(Profile::Dev, &unsigned_twilio, &unverified_gmail).is_ok(),
        "dev accepts unverified webhooks with a warning"
    );

    let error = ApiSettings::from_lookup(
        &lookup(&[("PUBLIC_BASE_URL", "https://support.orbitask.example")]),
        Profile::Production,
    )
    .unwrap_err();
    assert!(error.to_string().contains("STAFF_API_KEYS"), "{error}");
}

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after_on_every_kind_of_endpoint() {
    let app = spawn_app().await;
    // Every connection of the app's pool is gone, as when PostgreSQL is down.
    app.pool.close().await;

    let staff = app
        .get_as_staff("/escalations", Some(fte_testkit::gateway::STAFF_KEY))
        .await;
    let lookup = app
        .get_as_staff(
            "/customers/lookup?email=someone@example.com",
            Some(fte_testkit::gateway::STAFF_KEY),
        )
        .await;
    let submit = app.submit(&fte_testkit::gateway::valid_form()).await;

    for (what, answer) in [
        ("staff queue", staff),
        ("lookup", lookup),
        ("submit", submit),
    ] {
        assert_eq!(answer.status, 503, "{what}: {}", answer.text);
        assert_eq!(
            answer.json()["error"],
            "unavailable",
            "{what}: {}",
            answer.text
        );
        assert!(
            answer.header("retry-after").is_some(),
            "{what} says when to retry"
        );
    }
}

/// 120 messages, alternating channels, a minute apart (oldest first).
struct Sent;

impl OutboundLog for Sent {
    fn records(&self) -> Vec<OutboundRecord> {
        let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .to_utc();
        (0..120)
            .map(|i| OutboundRecord {
                channel: if i % 2 == 0 { "email" } else { "whatsapp" }.into(),
                provider_id: format!("id-{i:03}"),
                to: "customer@example.com".into(),
                subject: None,
                body: format!("<b>message {i:03}</b>"),
                received_at: Some(start + chrono::Duration::minutes(i)),
            })
            .collect()
    }
}

#[tokio::test]
async fn the_outbox_page_is_newest_first_with_times_a_channel_filter_and_pages() {
    let app = spawn_app_with(Options {
        outbound_log: Some(std::sync::Arc::new(Sent)),
        ..Options::default()
    })
    .await;

    let first = app.get("/dev/outbox.html").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let page = &first.text;
    assert!(page.contains("120 message(s); page 1 of 3."), "{page}");
    let newest = page.find("id-119").expect("the newest message on page 1");
    let older = page.find("id-118").expect("the next one");
    assert!(newest < older, "newest first");
    assert!(!page.contains("id-069"), "page 1 holds 50 messages");
    assert!(
        page.contains("2026-12-01 10:59:00 UTC"),
        "the time it was received"
    );
    assert!(page.contains("&lt;b&gt;message 119&lt;/b&gt;"), "escaped");
    assert!(page.contains(r#"rel="icon""#));

    let whatsapp = app
        .get("/dev/outbox.html?channel=whatsapp&page=2&per_page=20")
        .await;
    assert_eq!(whatsapp.status, 200, "{}", whatsapp.text);
    assert!(
        whatsapp.text.contains("60 message(s); page 2 of 3."),
        "{}",
        whatsapp.text
    );
    assert!(whatsapp.text.contains("id-079") && whatsapp.text.contains("id-041"));
    assert!(!whatsapp.text.contains("<td>email</td>"));
    assert!(whatsapp.text.contains("Newer") && whatsapp.text.contains("Older"));

    for query in [
        "channel=fax",
        "channel=",
        "page=0",
        "per_page=abc",
        "per_page=201",
        "page=1000001",
        "page=1&page=2",
    ] {
        let refused = app.get(&format!("/dev/outbox.html?{query}")).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.text);
        let code = refused.json()["error"].as_str().map(str::to_owned);
        assert!(
            code.as_deref().is_some_and(|c| c.starts_with("invalid_")),
            "{query}: a JSON error, {code:?}"
        );
    }
}
