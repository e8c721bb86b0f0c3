//! Verified webhooks (Twilio WhatsApp, Gmail Pub/Sub push) against a real
//! PostgreSQL, the embedded broker and the Pub/Sub fakes.

use std::sync::Arc;

use base64::Engine;
use fte_bus::topics;
use fte_channels::gmail::PubSubVerifier;
use fte_fakes::pubsub::{FakeJwks, PushClaims, PushSigner, push_body, test_key_a, test_key_b};
use fte_gateway::state::{GmailAuth, TwilioAuth, WebhookAuth};
use fte_runtime::Profile;
use fte_runtime::settings::{GmailSettings, Lookup};
use fte_testkit::gateway::{
    Options, TWILIO_TOKEN, spawn_app, spawn_app_on, spawn_app_with, whatsapp_params,
};

const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;
const AUDIENCE: &str = "https://support.orbitask.example/webhooks/gmail";
const PUSH_ACCOUNT: &str = "gmail-push@orbit-labs.iam.gserviceaccount.com";

#[test]
fn twilio_signing_in_these_tests_matches_twilios_official_vector() {
    let params: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        fte_channels::twilio::compute_signature(TWILIO_TOKEN, url, &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert!(fte_channels::twilio::verify_signature(
        TWILIO_TOKEN,
        url,
        &params,
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    ));
}

#[tokio::test]
async fn whatsapp_webhook_with_a_valid_signature_is_acknowledged_with_empty_twiml_and_published() {
    let app = spawn_app().await;

    let answer = app
        .post_twilio(
            "/webhooks/whatsapp",
            &whatsapp_params("SM0001"),
            Some(TWILIO_TOKEN),
        )
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, EMPTY_TWIML);
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/xml")
    );
    for topic in [topics::TICKETS_INCOMING, topics::WHATSAPP_INBOUND] {
        let events = app.events(topic, 1).await;
        assert_eq!(events.len(), 1, "one event on {topic}");
        assert_eq!(events[0]["payload"]["channel"], "whatsapp");
        assert_eq!(events[0]["payload"]["channel_message_id"], "SM0001");
        assert_eq!(events[0]["payload"]["sender"]["phone"], "+14155550100");
        assert_eq!(
            events[0]["payload"]["sender"]["phone_verified"], true,
            "a signed webhook proves the number"
        );
    }
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 1);
}

#[tokio::test]
async fn whatsapp_webhook_rejects_a_tampered_signature_with_403() {
    let app = spawn_app().await;
    let mut params = whatsapp_params("SM0002");
    let url = format!(
        "{}/webhooks/whatsapp",
        fte_testkit::gateway::PUBLIC_BASE_URL
    );
    let signature = fte_channels::twilio::compute_signature(TWILIO_TOKEN, &url, &params);
    params[4].1 = "Send me every customer's invoices".into();

    let tampered = app
        .post_raw(
            "/webhooks/whatsapp",
            fte_testkit::gateway::form_body(&params).into_bytes(),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-twilio-signature", &signature),
            ],
        )
        .await;
    let unsigned = app
        .post_twilio("/webhooks/whatsapp", &whatsapp_params("SM0003"), None)
        .await;
    let wrong_token = app
        .post_twilio(
            "/webhooks/whatsapp",
            &whatsapp_params("SM0004"),
            Some("54321"),
        )
        .await;

    for (case, answer) in [
        ("tampered", tampered),
        ("unsigned", unsigned),
        ("wrong token", wrong_token),
    ] {
        assert_eq!(answer.status, 403, "{case}: {}", answer.text);
        assert_eq!(answer.json()["error"], "forbidden", "{case}");
    }
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 0);
}

#[tokio::test]
async fn a_replayed_whatsapp_webhook_gets_the_same_200_and_is_published_once() {
    let app = spawn_app().await;
    let params = whatsapp_params("SM0005");

    let first = app
        .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
        .await;
    let replay = app
        .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
        .await;

    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.text, first.text);
    let events = app.events(topics::TICKETS_INCOMING, 2).await;
    assert_eq!(events.len(), 1, "the replay was not published again");
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_kafka_is_down_whatsapp_webhooks_are_accepted_without_holding_the_pool() {
    // A pool of two connections: a webhook that held one across the
    // publish would exhaust it while the broker is away.
    let fresh = fte_store::testing::fresh_database().await;
    let small = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(fresh.connect_options().as_ref().clone())
        .await
        .unwrap();
    let app = spawn_app_on(small.clone(), Options::default()).await;
    app.broker().set_down(true).unwrap();

    let started = std::time::Instant::now();
    let mut posts = Vec::new();
    for i in 0..6 {
        let params = whatsapp_params(&format!("SM-down-{i}"));
        let address = app.address.clone();
        posts.push(tokio::spawn(async move {
            let url = format!("{address}/webhooks/whatsapp");
            let signed = format!(
                "{}/webhooks/whatsapp",
                fte_testkit::gateway::PUBLIC_BASE_URL
            );
            let signature = fte_channels::twilio::compute_signature(TWILIO_TOKEN, &signed, &params);
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", signature)
                .body(fte_testkit::gateway::form_body(&params))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for post in posts {
        assert_eq!(
            post.await.unwrap(),
            200,
            "accepted while the broker is down"
        );
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no webhook waited for the broker"
    );
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 6);
    assert_eq!(
        app.count("select count(*) from event_outbox").await,
        6,
        "each message waits in the outbox, one row for both topics"
    );
    // The publishes are failing in the background: no connection is held.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        small.size() as usize - small.num_idle(),
        0,
        "no connection is held while the broker is away"
    );

    app.broker().set_down(false).unwrap();
    let mut pending = -1;
    for _ in 0..80 {
        pending = app.count("select count(*) from event_outbox").await;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(
        pending, 0,
        "the relay published everything once the broker was back"
    );
    let events = app.events(topics::TICKETS_INCOMING, 6).await;
    assert_eq!(events.len(), 6);
}

#[tokio::test]
async fn a_poisoned_whatsapp_message_is_accepted_sanitised_or_refused_when_its_id_is_unusable() {
    let app = spawn_app().await;
    let mut params = whatsapp_params("SM-poison");
    params[4].1 = "How do I\0 export?".into();
    params[6].1 = format!("\0{}", "N".repeat(300));

    let answer = app
        .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = app.events(topics::TICKETS_INCOMING, 1).await;
    let payload = &events[0]["payload"];
    assert_eq!(payload["content"], "How do I export?", "Body without NUL");
    let name = payload["sender"]["name"].as_str().unwrap();
    assert_eq!(name.chars().count(), 255, "ProfileName cut to its column");
    assert!(!name.contains('\0'));

    let long_sid = whatsapp_params(&"S".repeat(300));
    let refused = app
        .post_twilio("/webhooks/whatsapp", &long_sid, Some(TWILIO_TOKEN))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json()["error"], "invalid_webhook");
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 1);
}

#[tokio::test]
async fn unsigned_whatsapp_webhooks_are_accepted_only_when_dev_runs_without_a_token() {
    let app = spawn_app_with(Options {
        webhooks: WebhookAuth {
            twilio: TwilioAuth::Unsigned,
            gmail: GmailAuth::Unverified,
        },
        ..Options::default()
    })
    .await;

    let answer = app
        .post_twilio("/webhooks/whatsapp", &whatsapp_params("SM0007"), None)
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = app.events(topics::TICKETS_INCOMING, 1).await;
    assert_eq!(
        events[0]["payload"]["sender"]["phone_verified"], false,
        "an unsigned webhook proves nothing"
    );
}

#[tokio::test]
async fn an_empty_whatsapp_message_is_accepted_so_the_agent_can_ask_how_to_help() {
    let app = spawn_app().await;
    for (sid, body) in [("SM-empty-1", Some("   ")), ("SM-empty-2", None)] {
        let mut params: Vec<(String, String)> = whatsapp_params(sid)
            .into_iter()
            .filter(|(name, _)| name != "Body")
            .collect();
        if let Some(body) = body {
            params.push(("Body".into(), body.into()));
        }
        let answer = app
            .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.text, EMPTY_TWIML);
    }
    let events = app.events(topics::TICKETS_INCOMING, 2).await;
    assert_eq!(events.len(), 2, "both queued for the agent");
    for event in &events {
        assert_eq!(event["payload"]["content"], "");
    }
}

#[tokio::test]
async fn a_whatsapp_webhook_without_a_message_is_400() {
    let app = spawn_app().await;
    let params: Vec<(String, String)> = vec![("From".into(), "whatsapp:+14155550100".into())];

    let answer = app
        .post_twilio("/webhooks/whatsapp", &params, Some(TWILIO_TOKEN))
        .await;

    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.json()["error"], "invalid_webhook");
}

#[tokio::test]
async fn whatsapp_status_callback_updates_the_delivery_status_of_the_reply() {
    let app = spawn_app().await;
    sqlx::query(
        "with c as (insert into customers (phone) values ('+14155550100') returning id),
              v as (insert into conversations (customer_id, initial_channel, current_channel)
                    select id, 'whatsapp', 'whatsapp' from c returning id)
         insert into messages (conversation_id, channel, direction, role, content,
                               channel_message_id, delivery_status)
         select id, 'whatsapp', 'outbound', 'agent', 'Here is how…', 'SMreply1', 'sent' from v",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let params: Vec<(String, String)> = [
        ("MessageSid", "SMreply1"),
        ("MessageStatus", "delivered"),
        ("AccountSid", "AC00000000000000000000000000000000"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();

    let forged = app
        .post_twilio("/webhooks/whatsapp/status", &params, Some("54321"))
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert_eq!(
        app.count("select count(*) from messages where delivery_status = 'delivered'")
            .await,
        0
    );

    let answer = app
        .post_twilio("/webhooks/whatsapp/status", &params, Some(TWILIO_TOKEN))
        .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        app.count("select count(*) from messages where channel_message_id = 'SMreply1' and delivery_status = 'delivered'")
            .await,
        1
    );
}

/// An app verifying Gmail pushes with OIDC against `jwks`.
async fn oidc_app(jwks: &FakeJwks) -> fte_testkit::gateway::TestApp {
    let url = jwks.url();
    let lookup = Lookup::from_fn(move |key| match key {
        "GMAIL_PUBSUB_AUDIENCE" => Some(AUDIENCE.into()),
        "GMAIL_PUBSUB_SERVICE_ACCOUNT" => Some(PUSH_ACCOUNT.into()),
        "GMAIL_PUBSUB_JWKS_URL" => Some(url.clone()),
        _ => None,
    });
    let settings = GmailSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let verifier = PubSubVerifier::from_settings(&settings).expect("OIDC is configured");
    spawn_app_with(Options {
        webhooks: WebhookAuth {
            twilio: TwilioAuth::Signed(TWILIO_TOKEN.to_owned().into()),
            gmail: GmailAuth::Verified(Arc::new(verifier)),
        },
        ..Options::default()
    })
    .await
}

async fn push(
    app: &fte_testkit::gateway::TestApp,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> fte_testkit::gateway::Answer {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(value) = authorization {
        headers.push(("authorization", value));
    }
    app.post_raw("/webhooks/gmail", body, &headers).await
}

#[tokio::test]
async fn gmail_push_with_a_valid_oidc_token_publishes_the_notification() {
    let jwks = FakeJwks::start(vec![test_key_a()]).await.unwrap();
    let app = oidc_app(&jwks).await;
    let bearer = PushSigner::new(test_key_a()).bearer(&PushClaims::valid(AUDIENCE, PUSH_ACCOUNT));

    let answer = push(
        &app,
        Some(&bearer),
        push_body("Support@OrbitLabs.example", 9_876),
    )
    .await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["status"], "accepted");
    let events = app.events(topics::EMAIL_INBOUND, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_type"], "gmail.notification");
    assert_eq!(
        events[0]["payload"]["email_address"],
        "support@orbitlabs.example"
    );
    assert_eq!(events[0]["payload"]["history_id"], 9_876);
    assert_eq!(
        events[0]["payload"]["authenticated"], true,
        "the worker may count its senders as proven"
    );
}

#[tokio::test]
async fn an_unverified_gmail_push_is_marked_so_its_senders_stay_claims() {
    let app = spawn_app().await;

    let answer = push(&app, None, push_body("support@orbitlabs.example", 11)).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = app.events(topics::EMAIL_INBOUND, 1).await;
    assert_eq!(events[0]["payload"]["authenticated"], false);
}

#[tokio::test]
async fn gmail_push_is_403_for_a_wrong_audience_issuer_key_or_an_expired_or_missing_token() {
    let jwks = FakeJwks::start(vec![test_key_a()]).await.unwrap();
    let app = oidc_app(&jwks).await;
    let signer = PushSigner::new(test_key_a());
    let mut wrong_audience = PushClaims::valid("https://elsewhere.example/push", PUSH_ACCOUNT);
    wrong_audience.aud = "https://elsewhere.example/push".into();
    let mut wrong_issuer = PushClaims::valid(AUDIENCE, PUSH_ACCOUNT);
    wrong_issuer.iss = "https://issuer.evil.example".into();
    let mut expired = PushClaims::valid(AUDIENCE, PUSH_ACCOUNT);
    expired.iat -= 7_200;
    expired.exp = chrono::Utc::now().timestamp() - 3_600;
    let cases = [
        ("wrong audience", Some(signer.bearer(&wrong_audience))),
        ("wrong issuer", Some(signer.bearer(&wrong_issuer))),
        (
            "unknown key",
            Some(PushSigner::new(test_key_b()).bearer(&PushClaims::valid(AUDIENCE, PUSH_ACCOUNT))),
        ),
        ("expired", Some(signer.bearer(&expired))),
        (
            "other service account",
            Some(signer.bearer(&PushClaims::valid(AUDIENCE, "someone@evil.example"))),
        ),
        ("missing", None),
    ];

    for (case, authorization) in cases {
        let answer = push(
            &app,
            authorization.as_deref(),
            push_body("support@orbitlabs.example", 1),
        )
        .await;
        assert_eq!(answer.status, 403, "{case}: {}", answer.text);
        assert_eq!(answer.json()["error"], "forbidden", "{case}");
    }
}

#[tokio::test]
async fn gmail_push_in_token_mode_needs_the_secret_in_the_url() {
    let lookup = Lookup::from_fn(|key| match key {
        "GMAIL_PUBSUB_PUSH_TOKEN" => Some("push-secret-1".into()),
        _ => None,
    });
    let settings = GmailSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let app = spawn_app_with(Options {
        webhooks: WebhookAuth {
            twilio: TwilioAuth::Signed(TWILIO_TOKEN.to_owned().into()),
            gmail: GmailAuth::Verified(Arc::new(PubSubVerifier::from_settings(&settings).unwrap())),
        },
        ..Options::default()
    })
    .await;
    let body = push_body("support@orbitlabs.example", 5);
    let headers = [("content-type", "application/json")];

    let right = app
        .post_raw(
            "/webhooks/gmail?token=push-secret-1",
            body.clone(),
            &headers,
        )
        .await;
    let wrong = app
        .post_raw("/webhooks/gmail?token=guess", body.clone(), &headers)
        .await;
    let missing = app.post_raw("/webhooks/gmail", body, &headers).await;

    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(wrong.status, 403, "{}", wrong.text);
    assert_eq!(missing.status, 403, "{}", missing.text);
}

#[tokio::test]
async fn a_malformed_but_authentic_gmail_push_is_200_and_copied_to_the_dlq() {
    let app = spawn_app().await;
    let not_gmail = base64::engine::general_purpose::STANDARD.encode(r#"{"hello":"world"}"#);
    let body =
        serde_json::json!({"message": {"data": not_gmail, "messageId": "1"}, "subscription": "s"})
            .to_string()
            .into_bytes();

    let answer = push(&app, None, body.clone()).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["status"], "dead_lettered");
    let dead = app.events(topics::DLQ, 1).await;
    assert_eq!(dead.len(), 1, "the push was copied to the DLQ");
    assert_eq!(
        dead[0],
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    );
}

#[tokio::test]
async fn while_kafka_is_down_the_gmail_webhook_is_503_so_pubsub_redelivers() {
    let app = spawn_app().await;
    app.broker().set_down(true).unwrap();

    let answer = push(&app, None, push_body("support@orbitlabs.example", 7)).await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert!(answer.header("retry-after").is_some());
}

#[tokio::test]
async fn gmail_push_is_503_while_googles_signing_keys_cannot_be_fetched() {
    let lookup = Lookup::from_fn(|key| match key {
        "GMAIL_PUBSUB_AUDIENCE" => Some(AUDIENCE.into()),
        "GMAIL_PUBSUB_JWKS_URL" => Some("http://127.0.0.1:9/oauth2/v3/certs".into()),
        "PROVIDER_TIMEOUT_MS" => Some("500".into()),
        _ => None,
    });
    let settings = GmailSettings::from_lookup(&lookup, Profile::Dev).unwrap();
    let app = spawn_app_with(Options {
        webhooks: WebhookAuth {
            twilio: TwilioAuth::Signed(TWILIO_TOKEN.to_owned().into()),
            gmail: GmailAuth::Verified(Arc::new(PubSubVerifier::from_settings(&settings).unwrap())),
        },
        ..Options::default()
    })
    .await;
    let bearer = PushSigner::new(test_key_a()).bearer(&PushClaims::valid(AUDIENCE, PUSH_ACCOUNT));

    let answer = push(
        &app,
        Some(&bearer),
        push_body("support@orbitlabs.example", 3),
    )
    .await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert!(answer.header("retry-after").is_some());
}

#[tokio::test]
async fn webhooks_of_a_disabled_channel_are_404() {
    let app = spawn_app_with(Options {
        webhooks: WebhookAuth {
            twilio: TwilioAuth::Disabled,
            gmail: GmailAuth::Disabled,
        },
        ..Options::default()
    })
    .await;

    let whatsapp = app
        .post_twilio(
            "/webhooks/whatsapp",
            &whatsapp_params("SM0008"),
            Some(TWILIO_TOKEN),
        )
        .await;
    let gmail = push(&app, None, push_body("support@orbitlabs.example", 4)).await;

    assert_eq!(whatsapp.status, 404, "{}", whatsapp.text);
    assert_eq!(gmail.status, 404, "{}", gmail.text);
    assert_eq!(app.count("select count(*) from inbound_receipts").await, 0);
}
