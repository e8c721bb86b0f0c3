//! Staff merges and unlinks of customers against a real PostgreSQL and the
//! embedded broker: what they change, the events on `fte.customers`, and the
//! requests they refuse (no key, wrong key, itself, merged, unknown ids).

use fte_bus::topics;
use fte_testkit::gateway::{STAFF_KEY, STAFF_NAME, TestApp, spawn_app, valid_form};
use serde_json::{Value, json};

/// A customer created by a web form with this email (and no phone), once
/// the worker has taken the submission.
async fn customer(app: &TestApp, email: &str) -> String {
    let mut form = valid_form();
    form["email"] = json!(email);
    form["phone"] = json!(null);
    let answer = app.submit(&form).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    app.let_worker_take(1).await;
    let found = app
        .get_as_staff(&format!("/customers/lookup?email={email}"), Some(STAFF_KEY))
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    found.json()["id"].as_str().unwrap().to_owned()
}

async fn merge(
    app: &TestApp,
    target: &str,
    source: &str,
    key: Option<&str>,
) -> fte_testkit::gateway::Answer {
    app.post_as_staff(
        &format!("/customers/{target}/merge"),
        &json!({"customer_id": source}),
        key,
    )
    .await
}

#[tokio::test]
async fn a_merge_moves_everything_to_the_survivor_and_every_lookup_finds_it() {
    let app = spawn_app().await;
    let survivor = customer(&app, "maria@example.com").await;
    let absorbed = customer(&app, "maria.work@example.com").await;

    let answer = merge(&app, &survivor, &absorbed, Some(STAFF_KEY)).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["merge"]["merged_customer_id"], absorbed.as_str());
    assert_eq!(body["merge"]["identifiers_moved"], 1);
    assert_eq!(body["merge"]["conversations_moved"], 1);
    assert_eq!(body["customer"]["id"], survivor.as_str());
    assert_eq!(body["customer"]["identifiers"].as_array().unwrap().len(), 2);
    assert_eq!(body["customer"]["identifiers"][1]["trust"], "claimed");
    assert_eq!(body["customer"]["merged_from"][0], absorbed.as_str());
    for path in [
        "/customers/lookup?email=maria.work@example.com".to_owned(),
        format!("/customers/{absorbed}"),
    ] {
        let found = app.get_as_staff(&path, Some(STAFF_KEY)).await;
        assert_eq!(found.status, 200, "{path}: {}", found.text);
        assert_eq!(
            found.json()["id"],
            survivor.as_str(),
            "{path} finds the survivor"
        );
    }
    let events = app.events(topics::CUSTOMERS, 1).await;
    assert_eq!(events[0]["event_type"], "customer.merged");
    assert_eq!(events[0]["payload"]["customer_id"], survivor.as_str());
    assert_eq!(
        events[0]["payload"]["merged_customer_id"],
        absorbed.as_str()
    );
    assert_eq!(events[0]["payload"]["merged_by"], STAFF_NAME);
    assert_eq!(
        app.count(&format!(
            "select count(*) from customer_merges where merged_by = '{STAFF_NAME}'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from staff_audit where action = 'customer.merge'
             and staff = '{STAFF_NAME}' and target_id = '{survivor}'"
        ))
        .await,
        1,
        "the merge is audited under the key's owner"
    );
}

#[tokio::test]
async fn merges_without_a_valid_key_of_itself_of_merged_or_unknown_customers_are_refused() {
    let app = spawn_app().await;
    let a = customer(&app, "a@example.com").await;
    let b = customer(&app, "b@example.com").await;
    let c = customer(&app, "c@example.com").await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let cases: Vec<(&str, fte_testkit::gateway::Answer, u16, &str)> = vec![
        (
            "no key",
            merge(&app, &a, &b, None).await,
            401,
            "unauthorized",
        ),
        (
            "wrong key",
            merge(&app, &a, &b, Some("not-the-key")).await,
            401,
            "unauthorized",
        ),
        (
            "itself",
            merge(&app, &a, &a, Some(STAFF_KEY)).await,
            409,
            "same_customer",
        ),
        (
            "unknown target",
            merge(&app, &unknown, &a, Some(STAFF_KEY)).await,
            404,
            "not_found",
        ),
        (
            "unknown source",
            merge(&app, &a, &unknown, Some(STAFF_KEY)).await,
            404,
            "not_found",
        ),
        (
            "malformed target",
            merge(&app, "nope", &a, Some(STAFF_KEY)).await,
            400,
            "invalid_customer_id",
        ),
        (
            "malformed source",
            merge(&app, &a, "nope", Some(STAFF_KEY)).await,
            422,
            "validation_failed",
        ),
    ];
    for (case, answer, status, code) in cases {
        assert_eq!(answer.status, status, "{case}: {}", answer.text);
        assert_eq!(answer.json()["error"], code, "{case}");
    }
    let impersonating = app
        .post_as_staff(
            &format!("/customers/{a}/merge"),
            &json!({"customer_id": b, "staff": "someone.else"}),
            Some(STAFF_KEY),
        )
        .await;
    assert_eq!(impersonating.status, 403, "{}", impersonating.text);
    assert_eq!(impersonating.json()["error"], "staff_mismatch");
    assert_eq!(impersonating.json()["fields"][0]["field"], "staff");

    assert_eq!(merge(&app, &a, &b, Some(STAFF_KEY)).await.status, 200);
    let again = merge(&app, &c, &b, Some(STAFF_KEY)).await;
    assert_eq!(
        again.status, 409,
        "merging a merged customer: {}",
        again.text
    );
    assert_eq!(again.json()["error"], "already_merged");
    let into_tombstone = merge(&app, &b, &c, Some(STAFF_KEY)).await;
    assert_eq!(into_tombstone.status, 409, "{}", into_tombstone.text);
    assert_eq!(into_tombstone.json()["error"], "customer_merged");
    assert_eq!(
        app.count("select count(*) from customer_merges").await,
        1,
        "only the one valid merge happened"
    );
}

fn identifier_id(customer: &Value, value: &str) -> String {
    customer["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["value"] == value)
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{value} is an identifier of {customer}"))
}

#[tokio::test]
async fn an_unlinked_identifier_leaves_the_customer_and_the_event_says_so() {
    let app = spawn_app().await;
    let a = customer(&app, "maria@example.com").await;
    let b = customer(&app, "maria.work@example.com").await;
    let merged = merge(&app, &a, &b, Some(STAFF_KEY)).await.json();
    let work = identifier_id(&merged["customer"], "maria.work@example.com");
    let path = format!("/customers/{a}/identifiers/{work}/unlink");
    let body = json!({});

    let no_key = app.post_as_staff(&path, &body, None).await;
    let unknown = app
        .post_as_staff(
            &format!("/customers/{a}/identifiers/{}/unlink", uuid::Uuid::new_v4()),
            &body,
            Some(STAFF_KEY),
        )
        .await;
    let other = customer(&app, "someone@example.com").await;
    let not_theirs = app
        .post_as_staff(
            &format!("/customers/{other}/identifiers/{work}/unlink"),
            &body,
            Some(STAFF_KEY),
        )
        .await;
    let answer = app.post_as_staff(&path, &body, Some(STAFF_KEY)).await;

    assert_eq!(no_key.status, 401);
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(
        not_theirs.status, 404,
        "another customer's identifier: {}",
        not_theirs.text
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["identifiers"].as_array().unwrap().len(), 1);
    let gone = app
        .get_as_staff(
            "/customers/lookup?email=maria.work@example.com",
            Some(STAFF_KEY),
        )
        .await;
    assert_eq!(gone.status, 404, "nobody is found by the unlinked address");
    let events = app.events(topics::CUSTOMERS, 2).await;
    let unlinked = events
        .iter()
        .find(|e| e["event_type"] == "customer.identifier_unlinked")
        .expect("an unlink event");
    assert_eq!(unlinked["payload"]["identifier_id"], work.as_str());
    assert_eq!(unlinked["payload"]["unlinked_by"], STAFF_NAME);
    assert!(
        !unlinked.to_string().contains("maria.work"),
        "the event names the identifier by id, not by value"
    );
}

#[tokio::test]
async fn a_customer_is_shown_with_each_identifiers_trust() {
    let app = spawn_app().await;
    let id = customer(&app, "maria@example.com").await;

    let no_key = app.get_as_staff(&format!("/customers/{id}"), None).await;
    let bad = app
        .get_as_staff("/customers/not-an-id", Some(STAFF_KEY))
        .await;
    let unknown = app
        .get_as_staff(
            &format!("/customers/{}", uuid::Uuid::new_v4()),
            Some(STAFF_KEY),
        )
        .await;
    let answer = app
        .get_as_staff(&format!("/customers/{id}"), Some(STAFF_KEY))
        .await;

    assert_eq!(no_key.status, 401);
    assert_eq!(bad.status, 400);
    assert_eq!(unknown.status, 404);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["profile_verified"], false);
    let identifier = &body["identifiers"][0];
    assert_eq!(identifier["kind"], "email");
    assert_eq!(identifier["trust"], "claimed");
    assert_eq!(identifier["trust_source"], "claim");
    assert_eq!(identifier["founding"], true);
}
