//! The web form's bot challenge against the fake provider (Turnstile's and
//! hCaptcha's siteverify protocol): the form learns the provider from
//! `GET /support/config`; a submission passes only with a token the
//! provider verifies, once; a provider that fails is retried a bounded
//! number of times, and one that cannot answer makes the gateway answer 503
//! — never an accepted submission without a verdict.

use std::time::{Duration, Instant};

use fte_fakes::challenge::FakeChallenge;
use fte_testkit::gateway::{Options, TestApp, spawn_app_with, valid_form};
use serde_json::json;

const SECRET: &str = "fake-challenge-secret";

async fn app_with(provider: &str, fake: &FakeChallenge, secret: &str) -> TestApp {
    spawn_app_with(Options {
        vars: vec![
            ("WEB_CHALLENGE_PROVIDER", provider.into()),
            ("WEB_CHALLENGE_SITE_KEY", "fake-site-key".into()),
            ("WEB_CHALLENGE_SECRET", secret.into()),
            ("WEB_CHALLENGE_VERIFY_URL", fake.verify_url()),
            ("WEB_CHALLENGE_SCRIPT_URL", fake.script_url()),
            ("WEB_CHALLENGE_TIMEOUT_MS", "300".into()),
            ("WEB_CHALLENGE_MAX_ATTEMPTS", "3".into()),
        ],
        ..Options::default()
    })
    .await
}

fn form_with(token: Option<&str>) -> serde_json::Value {
    let mut form = valid_form();
    if let Some(token) = token {
        form["challenge_token"] = json!(token);
    }
    form
}

#[tokio::test]
async fn the_config_names_the_challenge_and_a_submission_without_a_passing_token_is_403() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;

    let config = app.get("/support/config").await.json();
    assert_eq!(config["challenge"]["provider"], "turnstile");
    assert_eq!(config["challenge"]["site_key"], "fake-site-key");
    assert_eq!(config["challenge"]["script_url"], fake.script_url());

    for token in [None, Some(""), Some("made-up-token")] {
        let answer = app.submit(&form_with(token)).await;
        assert_eq!(answer.status, 403, "{token:?}: {}", answer.text);
        assert_eq!(answer.json()["error"], "challenge_failed");
        assert!(
            answer.json()["message"]
                .as_str()
                .unwrap()
                .contains("challenge_token")
        );
    }
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn a_solved_challenge_passes_once_and_a_replayed_token_is_403() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;
    let token = fake.issue_token();

    let accepted = app.submit(&form_with(Some(&token))).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let replayed = app.submit(&form_with(Some(&token))).await;
    assert_eq!(replayed.status, 403, "{}", replayed.text);

    assert_eq!(app.count("select count(*) from tickets").await, 1);
    let calls = fake.verifications();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(
        calls[0].1.as_deref().is_some_and(|ip| ip == "127.0.0.1"),
        "the customer's address goes to the provider: {calls:?}"
    );
}

#[tokio::test]
async fn an_invalid_form_is_422_before_the_token_is_spent() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("hcaptcha", &fake, SECRET).await;
    let token = fake.issue_token();
    let mut invalid = form_with(Some(&token));
    invalid["email"] = json!("not-an-address");

    assert_eq!(app.submit(&invalid).await.status, 422);
    let accepted = app.submit(&form_with(Some(&token))).await;

    assert_eq!(accepted.status, 200, "{}", accepted.text);
}

#[tokio::test]
async fn a_provider_failing_twice_is_retried_and_its_verdict_counts() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;
    fake.faults().fail_next(503, 2);

    let answer = app.submit(&form_with(Some(&fake.issue_token()))).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(fake.faults().calls(), 3, "two failures, then the verdict");
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_503_after_bounded_attempts_and_stores_nothing() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;
    fake.faults().fail_next(500, 10);

    let answer = app.submit(&form_with(Some(&fake.issue_token()))).await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert!(answer.header("retry-after").is_some());
    assert_eq!(fake.faults().calls(), 3, "WEB_CHALLENGE_MAX_ATTEMPTS calls");
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn a_slow_or_unreachable_provider_is_503_within_the_timeouts() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;
    fake.faults().set_delay(Duration::from_secs(5));

    let started = Instant::now();
    let slow = app.submit(&form_with(Some(&fake.issue_token()))).await;
    assert_eq!(slow.status, 503, "{}", slow.text);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "three 300 ms attempts, not the provider's 5 s: {:?}",
        started.elapsed()
    );

    fake.faults().clear();
    fake.down().await;
    let down = app.submit(&form_with(Some(&fake.issue_token()))).await;
    assert_eq!(down.status, 503, "{}", down.text);
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn a_secret_the_provider_refuses_is_503_not_a_pass() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, "a-wrong-secret").await;

    let answer = app.submit(&form_with(Some(&fake.issue_token()))).await;

    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(app.count("select count(*) from tickets").await, 0);
}

#[tokio::test]
async fn turnstile_s_idempotency_key_lets_a_retry_after_a_lost_answer_pass() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("turnstile", &fake, SECRET).await;
    // The provider spends the token, then its answer is lost (timeout).
    fake.faults().hang_after_accept(1);

    let answer = app.submit(&form_with(Some(&fake.issue_token()))).await;

    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        fake.verifications().len(),
        2,
        "the retry got the first verdict"
    );
}

#[tokio::test]
async fn hcaptcha_has_no_idempotency_key_so_a_lost_answer_means_solving_it_again() {
    let fake = FakeChallenge::start(SECRET).await.unwrap();
    let app = app_with("hcaptcha", &fake, SECRET).await;
    fake.faults().hang_after_accept(1);

    let answer = app.submit(&form_with(Some(&fake.issue_token()))).await;

    assert_eq!(answer.status, 403, "{}", answer.text);
    assert_eq!(answer.json()["error"], "challenge_failed");
}
