//! `Idempotency-Key` on the web form's writes, against a real PostgreSQL
//! and the embedded broker: a retry gets the first answer, never a second
//! ticket or message, and a key opens nothing for another email.

use std::time::Duration;

use fte_testkit::gateway::{Answer, TestApp, spawn_app, valid_form};
use serde_json::{Value, json};

const KEY: &str = "5f0c2d7e-8a41-4c3b-9e62-1d7f4b8a9c03";

async fn submit_with_key(app: &TestApp, form: &Value, key: &str) -> Answer {
    app.submit_with_key(form, key).await
}

async fn follow_up_with_key(
    app: &TestApp,
    ticket: &str,
    access: &str,
    text: &str,
    key: &str,
) -> Answer {
    let response = app
        .client
        .post(app.url(&format!("/support/ticket/{ticket}/messages")))
        .header("x-ticket-access-key", access)
        .header("idempotency-key", key)
        .json(&json!({ "message": text }))
        .send()
        .await
        .expect("the gateway answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.expect("a body"),
    }
}

fn ticket_and_key(answer: &Answer) -> (String, String) {
    answer.ticket()
}

#[tokio::test]
async fn a_retried_submit_with_the_same_key_answers_the_first_ticket_and_access_key() {
    let app = spawn_app().await;

    let first = ticket_and_key(&submit_with_key(&app, &valid_form(), KEY).await);
    let retry = ticket_and_key(&submit_with_key(&app, &valid_form(), KEY).await);

    assert_eq!(
        retry, first,
        "the retry answers the same ticket and access key"
    );
    assert_eq!(
        app.count("select count(*) from tickets").await,
        1,
        "one ticket"
    );
    let announced = app
        .settled_events(fte_bus::topics::TICKETS_INCOMING, Duration::from_secs(2))
        .await;
    assert_eq!(announced.len(), 1, "one submission's event only");
    let thread = app
        .get_with_key(&format!("/support/ticket/{}", first.0), &retry.1)
        .await;
    assert_eq!(
        thread.status, 200,
        "the replayed access key opens the thread: {}",
        thread.text
    );
    assert!(thread.json()["messages"].is_array(), "{}", thread.text);
}

#[tokio::test]
async fn concurrent_duplicates_with_one_key_make_one_ticket() {
    let app = spawn_app().await;

    let form = valid_form();
    let answers =
        futures::future::join_all((0..12).map(|_| submit_with_key(&app, &form, KEY))).await;

    let answered: std::collections::HashSet<(String, String)> =
        answers.iter().map(ticket_and_key).collect();
    assert_eq!(
        answered.len(),
        1,
        "every duplicate answers the one ticket: {answered:?}"
    );
    assert_eq!(
        app.count("select count(*) from tickets").await,
        1,
        "one ticket stored"
    );
    assert_eq!(app.count("select count(*) from idempotency_keys").await, 1);
}

#[tokio::test]
async fn the_same_key_with_other_fields_is_refused_with_409_naming_the_header() {
    let app = spawn_app().await;
    ticket_and_key(&submit_with_key(&app, &valid_form(), KEY).await);
    let mut changed = valid_form();
    changed["message"] = json!("Actually the PDF export fails as well, not only CSV.");

    let answer = submit_with_key(&app, &changed, KEY).await;

    assert_eq!(answer.status, 409, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], "idempotency_key_reused", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{body}"
    );
    assert_eq!(app.count("select count(*) from tickets").await, 1);
}

#[tokio::test]
async fn a_key_reused_with_another_email_never_returns_the_first_ticket() {
    let app = spawn_app().await;
    let victim = ticket_and_key(&submit_with_key(&app, &valid_form(), KEY).await);
    let mut attacker_form = valid_form();
    attacker_form["email"] = json!("mallory@example.net");

    let attacker = ticket_and_key(&submit_with_key(&app, &attacker_form, KEY).await);

    assert_ne!(
        attacker.0, victim.0,
        "the attacker gets a ticket of their own"
    );
    assert_ne!(attacker.1, victim.1, "and never the victim's access key");
    let peek = app
        .get_with_key(&format!("/support/ticket/{}", victim.0), &attacker.1)
        .await;
    assert_eq!(
        peek.status, 403,
        "the attacker's key opens nothing of the victim: {}",
        peek.text
    );
}

#[tokio::test]
async fn the_database_keeps_neither_the_key_nor_the_access_key() {
    let app = spawn_app().await;
    let (_, access) = ticket_and_key(&submit_with_key(&app, &valid_form(), KEY).await);

    let sealed: Vec<u8> = sqlx::query_scalar("select sealed_access_key from idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sealed.len(), 32);
    assert_ne!(
        sealed,
        base64_url(&access),
        "the access key is stored sealed"
    );
    let text_columns = app
        .count(
            "select count(*) from information_schema.columns
             where table_name = 'idempotency_keys' and data_type not in
                   ('bytea', 'uuid', 'timestamp with time zone')",
        )
        .await;
    assert_eq!(
        text_columns, 0,
        "no column could hold the key or the email in clear"
    );
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("a base64url key")
}

#[tokio::test]
async fn a_malformed_key_is_a_400_naming_the_header() {
    let app = spawn_app().await;

    let answer = submit_with_key(&app, &valid_form(), "short").await;

    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.json()["error"], "invalid_idempotency_key");
    assert!(answer.text.contains("Idempotency-Key"), "{}", answer.text);
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn a_retried_follow_up_with_the_same_key_is_stored_once() {
    let app = spawn_app().await;
    let (ticket, access) = app.submit_ticket(&valid_form()).await;
    let text = "Does the export also fail in the mobile app?";
    let key = "0d5e7c1a-5b1e-4b0c-8f59-2a7c9e4d1f60";

    let first = follow_up_with_key(&app, &ticket, &access, text, key).await;
    let retry = follow_up_with_key(&app, &ticket, &access, text, key).await;
    let other = follow_up_with_key(&app, &ticket, &access, "Something else entirely.", key).await;

    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(retry.status, 202, "{}", retry.text);
    assert_eq!(retry.json()["message_id"], first.json()["message_id"]);
    assert_eq!(
        other.status, 409,
        "another text with the key: {}",
        other.text
    );
    // Written before the worker took the submission, the follow-up went
    // as its event alone; the worker stores it under the id answered.
    app.let_worker_take(2).await;
    assert_eq!(
        app.count("select count(*) from messages where role = 'customer'")
            .await,
        2,
        "the submission and one follow-up"
    );
    let stored = first.json()["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.count(&format!(
            "select count(*) from messages where id = '{stored}' and ticket_id = '{ticket}'"
        ))
        .await,
        1
    );
}
