//! Pub/Sub push verification (OIDC and URL token) and body decoding.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fte_channels::gmail::{JwksCache, PubSubVerifier, PushAuthMode, PushError, decode_push};
use fte_fakes::pubsub::{FakeJwks, PushClaims, PushSigner, push_body, test_key_a, test_key_b};
use secrecy::SecretString;

const AUDIENCE: &str = "https://fte.orbitlabs.example/webhooks/gmail";
const PUSH_SA: &str = "gmail-push@orbit-labs.iam.gserviceaccount.com";

async fn oidc() -> (FakeJwks, PubSubVerifier) {
    let jwks = FakeJwks::start(vec![test_key_a()]).await.unwrap();
    let verifier = PubSubVerifier::new(
        PushAuthMode::Oidc {
            audience: AUDIENCE.into(),
            service_account: Some(PUSH_SA.into()),
            jwks_url: jwks.url(),
        },
        Duration::from_secs(5),
    )
    .with_jwks(JwksCache::new(jwks.url(), Duration::from_secs(5)).with_min_refresh(Duration::ZERO));
    (jwks, verifier)
}

fn signed(claims: &PushClaims) -> String {
    PushSigner::new(test_key_a()).bearer(claims)
}

#[tokio::test]
async fn a_google_signed_token_for_our_audience_and_account_is_accepted() {
    let (jwks, verifier) = oidc().await;
    let claims = PushClaims::valid(AUDIENCE, PUSH_SA);
    verifier.verify(Some(&signed(&claims)), None).await.unwrap();
    verifier.verify(Some(&signed(&claims)), None).await.unwrap();
    assert_eq!(jwks.fetches(), 1, "keys are cached by kid");

    let mut bare_issuer = claims.clone();
    bare_issuer.iss = "accounts.google.com".into();
    verifier
        .verify(Some(&signed(&bare_issuer)), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn tokens_with_the_wrong_audience_issuer_account_or_expiry_are_refused() {
    let (_jwks, verifier) = oidc().await;
    let valid = PushClaims::valid(AUDIENCE, PUSH_SA);
    let now = chrono::Utc::now().timestamp();
    let mut cases: Vec<(&str, PushClaims, PushError)> = Vec::new();
    let mut c = valid.clone();
    c.aud = "https://someone-else.example".into();
    cases.push(("wrong audience", c, PushError::WrongAudience));
    let mut c = valid.clone();
    c.iss = "https://evil.example".into();
    cases.push(("wrong issuer", c, PushError::WrongIssuer));
    let mut c = valid.clone();
    c.email = "attacker@evil.iam.gserviceaccount.com".into();
    cases.push(("wrong account", c, PushError::WrongServiceAccount));
    let mut c = valid.clone();
    c.email_verified = false;
    cases.push(("unverified email", c, PushError::WrongServiceAccount));
    let mut c = valid.clone();
    c.iat = now - 7200;
    c.exp = now - 600;
    cases.push(("expired", c, PushError::Expired));
    for (case, claims, expected) in cases {
        let err = verifier
            .verify(Some(&signed(&claims)), None)
            .await
            .unwrap_err();
        assert_eq!(err, expected, "{case}");
    }
}

#[tokio::test]
async fn a_token_just_past_expiry_is_accepted_within_the_leeway() {
    let (_jwks, verifier) = oidc().await;
    let mut claims = PushClaims::valid(AUDIENCE, PUSH_SA);
    claims.exp = chrono::Utc::now().timestamp() - 5;
    verifier.verify(Some(&signed(&claims)), None).await.unwrap();
}

#[tokio::test]
async fn tokens_signed_by_another_key_are_refused() {
    let (_jwks, verifier) = oidc().await;
    let claims = PushClaims::valid(AUDIENCE, PUSH_SA);

    // Unknown kid: the key set is fetched again, the key is still unknown.
    let other = PushSigner::new(test_key_b()).bearer(&claims);
    assert_eq!(
        verifier.verify(Some(&other), None).await,
        Err(PushError::UnknownKey)
    );

    // Known kid, wrong key: the signature does not verify.
    let mut impostor = test_key_b();
    impostor.kid = test_key_a().kid;
    let forged = PushSigner::new(impostor).bearer(&claims);
    assert_eq!(
        verifier.verify(Some(&forged), None).await,
        Err(PushError::BadSignature)
    );

    // A tampered payload with the real signature.
    let token = PushSigner::new(test_key_a()).sign(&claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut tampered = claims.clone();
    tampered.aud = "https://someone-else.example".into();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    let bearer = format!("Bearer {}", parts.join("."));
    assert_eq!(
        verifier.verify(Some(&bearer), None).await,
        Err(PushError::BadSignature)
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_refetching_on_an_unknown_kid() {
    let (jwks, verifier) = oidc().await;
    let claims = PushClaims::valid(AUDIENCE, PUSH_SA);
    verifier.verify(Some(&signed(&claims)), None).await.unwrap();
    jwks.set_keys(vec![test_key_a(), test_key_b()]);

    let rotated = PushSigner::new(test_key_b()).bearer(&claims);
    verifier.verify(Some(&rotated), None).await.unwrap();
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn missing_or_garbage_authorization_is_refused() {
    let (_jwks, verifier) = oidc().await;
    assert_eq!(
        verifier.verify(None, None).await,
        Err(PushError::MissingCredentials)
    );
    assert_eq!(
        verifier.verify(Some("Basic abc"), None).await,
        Err(PushError::MissingCredentials)
    );
    assert!(matches!(
        verifier.verify(Some("Bearer not.a.jwt"), None).await,
        Err(PushError::InvalidToken(_))
    ));
}

#[tokio::test]
async fn an_unreachable_key_set_is_reported_as_unavailable() {
    let verifier = PubSubVerifier::new(
        PushAuthMode::Oidc {
            audience: AUDIENCE.into(),
            service_account: None,
            jwks_url: "http://127.0.0.1:9/certs".into(),
        },
        Duration::from_millis(300),
    );
    let claims = PushClaims::valid(AUDIENCE, PUSH_SA);
    assert!(matches!(
        verifier.verify(Some(&signed(&claims)), None).await,
        Err(PushError::KeysUnavailable(_))
    ));
}

#[tokio::test]
async fn the_url_token_mode_compares_the_secret() {
    let verifier = PubSubVerifier::new(
        PushAuthMode::Token(SecretString::from("s3cret-push-token")),
        Duration::from_secs(1),
    );
    verifier
        .verify(None, Some("s3cret-push-token"))
        .await
        .unwrap();
    assert_eq!(
        verifier.verify(None, Some("s3cret-push-tokeN")).await,
        Err(PushError::TokenMismatch)
    );
    assert_eq!(
        verifier.verify(Some("Bearer x"), None).await,
        Err(PushError::MissingCredentials)
    );
}

#[test]
fn push_bodies_decode_in_every_base64_flavour() {
    let body = push_body("support@orbitlabs.example", 123_456);
    let n = decode_push(&body).unwrap();
    assert_eq!(n.email_address, "support@orbitlabs.example");
    assert_eq!(n.history_id, 123_456);
    assert_eq!(n.pubsub_message_id.as_deref(), Some("2070443601311540"));

    // A payload whose base64 differs between the two alphabets ('_' here),
    // sent URL-safe with and without padding, and in standard base64 without.
    let data = br#"{"emailAddress":"support@orbitlabs.example","historyId":100000,"x":"?>~"}"#;
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(data);
    assert!(
        url_safe.contains('_') && url_safe.ends_with('='),
        "{url_safe}"
    );
    let standard = STANDARD.encode(data);
    for encoded in [
        url_safe.clone(),
        url_safe.trim_end_matches('=').to_owned(),
        standard.trim_end_matches('=').to_owned(),
    ] {
        let body =
            format!(r#"{{"message":{{"data":"{encoded}","messageId":"1"}},"subscription":"s"}}"#);
        let n = decode_push(body.as_bytes()).unwrap_or_else(|e| panic!("{encoded}: {e}"));
        assert_eq!(n.history_id, 100_000);
    }

    // historyId written as a string.
    let data = br#"{"emailAddress":"support@orbitlabs.example","historyId":"99999999999"}"#;
    let body = format!(
        r#"{{"message":{{"data":"{}"}}}}"#,
        URL_SAFE_NO_PAD.encode(data)
    );
    assert_eq!(
        decode_push(body.as_bytes()).unwrap().history_id,
        99_999_999_999
    );
}

#[test]
fn malformed_push_bodies_are_refused() {
    let cases: [(&str, &[u8]); 5] = [
        ("not json", b"hello"),
        ("no message", br#"{"subscription":"s"}"#),
        ("no data", br#"{"message":{"messageId":"1"}}"#),
        ("not base64", br#"{"message":{"data":"***"}}"#),
        (
            "not a notification",
            br#"{"message":{"data":"eyJmb28iOjF9"}}"#,
        ),
    ];
    for (case, body) in cases {
        assert!(
            matches!(decode_push(body), Err(PushError::Malformed(_))),
            "{case} should be malformed"
        );
    }
}

#[tokio::test]
async fn settings_choose_oidc_over_the_url_token_and_none_without_either() {
    use fte_runtime::Profile;
    use fte_runtime::settings::{GmailSettings, Lookup};
    let settings = |pairs: &'static [(&'static str, &'static str)]| {
        GmailSettings::from_lookup(
            &Lookup::from_fn(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }),
            Profile::Dev,
        )
        .unwrap()
    };
    assert!(PubSubVerifier::from_settings(&settings(&[])).is_none());

    let token_only = settings(&[("GMAIL_PUBSUB_PUSH_TOKEN", "abc")]);
    let verifier = PubSubVerifier::from_settings(&token_only).unwrap();
    verifier.verify(None, Some("abc")).await.unwrap();

    let both = settings(&[
        ("GMAIL_PUBSUB_PUSH_TOKEN", "abc"),
        ("GMAIL_PUBSUB_AUDIENCE", AUDIENCE),
        ("GMAIL_PUBSUB_JWKS_URL", "http://127.0.0.1:9/certs"),
    ]);
    let verifier = PubSubVerifier::from_settings(&both).unwrap();
    assert_eq!(
        verifier.verify(None, Some("abc")).await,
        Err(PushError::MissingCredentials),
        "OIDC mode wants a bearer token, not the URL token"
    );
}
