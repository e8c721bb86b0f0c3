//! The web form's identity token against a real PostgreSQL and the embedded
//! broker: a valid token proves the email, a wrong one is refused with 403
//! naming the field, and a claim without one never writes a verified
//! customer's profile (once the worker has taken the submissions).

use fte_bus::topics;
use fte_channels::web_identity::identity_token;
use fte_domain::EmailAddress;
use fte_testkit::gateway::{Options, spawn_app, spawn_app_with, valid_form};
use serde_json::json;

const SECRET: &str = "embedding-site-shared-secret";

async fn app_with_secret() -> fte_testkit::gateway::TestApp {
    spawn_app_with(Options {
        vars: vec![("WEB_IDENTITY_SECRET", SECRET.to_owned())],
        ..Options::default()
    })
    .await
}

fn token_for(email: &str) -> String {
    identity_token(SECRET.as_bytes(), &EmailAddress::parse(email).unwrap())
}

#[tokio::test]
async fn a_valid_identity_token_proves_the_email_and_the_event_says_so() {
    let app = app_with_secret().await;
    let mut form = valid_form();
    form["identity_token"] = json!(token_for("Maria.Santos@example.com"));

    let answer = app.submit(&form).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let events = app.events(topics::TICKETS_INCOMING, 1).await;
    assert_eq!(events[0]["payload"]["sender"]["email_verified"], true);
    app.let_worker_take(1).await;
    assert_eq!(
        app.count(
            "select count(*) from customer_identifiers where identifier_value = 'maria.santos@example.com'
             and verified and trust_source = 'web_identity_token'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from messages where sender_trust = 'verified'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_wrong_or_borrowed_token_is_403_naming_the_field_and_stores_nothing() {
    let app = app_with_secret().await;
    let cases = [
        ("garbage", "not-a-token".to_owned()),
        ("another address's token", token_for("eve@example.net")),
        (
            "a token under another secret",
            identity_token(
                b"some-other-secret-value",
                &EmailAddress::parse("maria.santos@example.com").unwrap(),
            ),
        ),
    ];
    for (case, token) in cases {
        let mut form = valid_form();
        form["identity_token"] = json!(token);

        let answer = app.submit(&form).await;

        assert_eq!(answer.status, 403, "{case}: {}", answer.text);
        let body = answer.json();
        assert_eq!(body["error"], "identity_not_verified", "{case}");
        assert_eq!(body["fields"][0]["field"], "identity_token", "{case}");
    }
    assert_eq!(app.count("select count(*) from tickets").await, 0);
    assert_eq!(app.count("select count(*) from customers").await, 0);
}

#[tokio::test]
async fn a_token_without_a_configured_secret_is_refused_and_an_empty_one_is_no_token() {
    let app = spawn_app().await;
    let mut form = valid_form();
    form["identity_token"] = json!(token_for("maria.santos@example.com"));

    let refused = app.submit(&form).await;
    form["identity_token"] = json!("");
    let accepted = app.submit(&form).await;

    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(
        refused.json()["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("WEB_IDENTITY_SECRET")
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let events = app.events(topics::TICKETS_INCOMING, 1).await;
    assert_eq!(events[0]["payload"]["sender"]["email_verified"], false);
}

#[tokio::test]
async fn a_claim_of_a_verified_email_finds_the_customer_but_changes_nothing_of_theirs() {
    let app = app_with_secret().await;
    let mut owner = valid_form();
    owner["identity_token"] = json!(token_for("maria.santos@example.com"));
    owner["phone"] = json!(null);
    assert_eq!(app.submit(&owner).await.status, 200);

    let mut claim = valid_form();
    claim["name"] = json!("Eve Attacker");
    claim["phone"] = json!("+1 415 555 0199");
    let answer = app.submit(&claim).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    app.let_worker_take(2).await;
    assert_eq!(
        app.count("select count(*) from customers").await,
        1,
        "one customer"
    );
    assert_eq!(
        app.count("select count(*) from customers where name = 'Maria Santos' and phone is null")
            .await,
        1,
        "the claim wrote neither its name nor its phone on the verified profile"
    );
    assert_eq!(
        app.count(
            "select count(*) from customer_identifiers
             where identifier_value = '+14155550199' and not verified and not vouched"
        )
        .await,
        1,
        "the phone is kept as a bare claim"
    );
    assert_eq!(
        app.count("select count(*) from messages where sender_trust = 'claimed'")
            .await,
        1
    );
}
