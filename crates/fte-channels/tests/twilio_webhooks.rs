//! Twilio inbound: the official signature vector, tampering, port variants,
//! form parsing and the two webhook payloads.

use chrono::Utc;
use fte_channels::twilio::{
    DeliveryStatus, TwilioParseError, compute_signature, parse_form, parse_inbound,
    parse_status_callback, verify_signature,
};
use fte_domain::Channel;

const OFFICIAL_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const OFFICIAL_SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

fn official_params() -> Vec<(String, String)> {
    [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

#[test]
fn the_official_twilio_test_vector_verifies() {
    assert_eq!(
        compute_signature("12345", OFFICIAL_URL, &official_params()),
        OFFICIAL_SIGNATURE
    );
    assert!(verify_signature(
        "12345",
        OFFICIAL_URL,
        &official_params(),
        OFFICIAL_SIGNATURE
    ));
}

#[test]
fn parameter_order_in_the_body_does_not_matter() {
    let mut params = official_params();
    params.reverse();
    assert!(verify_signature(
        "12345",
        OFFICIAL_URL,
        &params,
        OFFICIAL_SIGNATURE
    ));
}

/// (what was changed, url, params, signature)
type Case = (
    &'static str,
    &'static str,
    Vec<(String, String)>,
    &'static str,
);

#[test]
fn tampered_requests_are_refused() {
    let mut changed_value = official_params();
    changed_value[2].1 = "9999".into();
    let mut extra_param = official_params();
    extra_param.push(("Body".into(), "hi".into()));
    let cases: Vec<Case> = vec![
        (
            "changed value",
            OFFICIAL_URL,
            changed_value,
            OFFICIAL_SIGNATURE,
        ),
        (
            "extra parameter",
            OFFICIAL_URL,
            extra_param,
            OFFICIAL_SIGNATURE,
        ),
        (
            "changed url",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            official_params(),
            OFFICIAL_SIGNATURE,
        ),
        (
            "other scheme",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            official_params(),
            OFFICIAL_SIGNATURE,
        ),
        (
            "changed signature",
            OFFICIAL_URL,
            official_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B9=",
        ),
        ("empty signature", OFFICIAL_URL, official_params(), ""),
    ];
    for (case, url, params, signature) in cases {
        assert!(
            !verify_signature("12345", url, &params, signature),
            "{case} should be refused"
        );
    }
    assert!(
        !verify_signature(
            "54321",
            OFFICIAL_URL,
            &official_params(),
            OFFICIAL_SIGNATURE
        ),
        "another account's token should be refused"
    );
}

#[test]
fn urls_signed_with_or_without_the_default_port_both_verify() {
    let params = official_params();
    let signed_with_port = compute_signature("12345", "https://mycompany.com:443/hook", &params);
    assert!(verify_signature(
        "12345",
        "https://mycompany.com/hook",
        &params,
        &signed_with_port
    ));
    let signed_without = compute_signature("12345", "https://mycompany.com/hook", &params);
    assert!(verify_signature(
        "12345",
        "https://mycompany.com:443/hook",
        &params,
        &signed_without
    ));
}

#[test]
fn duplicate_parameter_names_all_take_part_in_the_signature() {
    let body = b"MediaUrl0=a&MediaUrl0=b&Body=hello+there&From=whatsapp%3A%2B34612345678";
    let params = parse_form(body);
    assert_eq!(params.len(), 4);
    assert_eq!(params[2], ("Body".to_owned(), "hello there".to_owned()));
    let signature = compute_signature("tok", "https://x.example/wa", &params);
    let dropped: Vec<_> = params.iter().skip(1).cloned().collect();
    assert!(verify_signature(
        "tok",
        "https://x.example/wa",
        &params,
        &signature
    ));
    assert!(!verify_signature(
        "tok",
        "https://x.example/wa",
        &dropped,
        &signature
    ));
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn an_inbound_whatsapp_message_becomes_an_inbound_event() {
    let params = pairs(&[
        ("MessageSid", "SM0123456789abcdef"),
        ("From", "whatsapp:+34612345678"),
        ("To", "whatsapp:+14155238886"),
        ("Body", "  How do I turn on two-factor?  "),
        ("ProfileName", "Maria"),
        ("NumMedia", "1"),
    ]);
    let message = parse_inbound(&params, Utc::now()).unwrap();
    assert_eq!(message.channel, Channel::Whatsapp);
    assert_eq!(message.channel_message_id, "SM0123456789abcdef");
    assert_eq!(message.sender.phone.as_deref(), Some("+34612345678"));
    assert_eq!(message.sender.name.as_deref(), Some("Maria"));
    assert_eq!(message.content, "How do I turn on two-factor?");
    assert_eq!(message.metadata["num_media"], 1);
}

#[test]
fn inbound_messages_without_sid_or_with_a_non_whatsapp_sender_are_refused() {
    let no_sid = pairs(&[("From", "whatsapp:+34612345678"), ("Body", "hi")]);
    assert_eq!(
        parse_inbound(&no_sid, Utc::now()).unwrap_err(),
        TwilioParseError::Missing("MessageSid")
    );
    let sms = pairs(&[
        ("MessageSid", "SM1"),
        ("From", "+34612345678"),
        ("Body", "hi"),
    ]);
    assert_eq!(
        parse_inbound(&sms, Utc::now()).unwrap_err(),
        TwilioParseError::InvalidFrom
    );
    for body in [Some(" "), Some(""), Some("\0"), None] {
        let mut empty = pairs(&[("MessageSid", "SM1"), ("From", "whatsapp:+34612345678")]);
        if let Some(body) = body {
            empty.push(("Body".into(), body.into()));
        }
        let message = parse_inbound(&empty, Utc::now())
            .expect("an empty WhatsApp message is accepted: the agent asks how it can help");
        assert_eq!(message.content, "", "body {body:?}");
        assert_eq!(message.metadata["num_media"], 0);
    }
}

#[test]
fn a_poisoned_whatsapp_message_is_sanitised_field_by_field() {
    let long_name = "Ñ".repeat(300);
    let params = pairs(&[
        ("MessageSid", "SM-poison"),
        ("From", "whatsapp:+34612345678"),
        ("Body", "how do\0 I export?"),
        ("ProfileName", &format!("\0{long_name}")),
        ("WaId", "3461\u{0}2345678"),
    ]);
    let message = parse_inbound(&params, Utc::now()).unwrap();
    assert_eq!(message.content, "how do I export?", "Body: NUL removed");
    let name = message.sender.name.unwrap();
    assert_eq!(
        name.chars().count(),
        255,
        "ProfileName: cut to customers.name"
    );
    assert!(!name.contains('\0'), "ProfileName: NUL removed");
    assert_eq!(
        message.metadata["wa_id"], "34612345678",
        "metadata: NUL removed"
    );

    let only_nul = pairs(&[
        ("MessageSid", "SM-nul"),
        ("From", "whatsapp:+34612345678"),
        ("Body", "\0"),
    ]);
    assert_eq!(
        parse_inbound(&only_nul, Utc::now()).unwrap().content,
        "",
        "a body of NUL characters only is an empty message"
    );
    for sid in ["x".repeat(256), "SM\u{0}1".to_owned()] {
        let params = pairs(&[
            ("MessageSid", &sid),
            ("From", "whatsapp:+34612345678"),
            ("Body", "hi"),
        ]);
        assert_eq!(
            parse_inbound(&params, Utc::now()).unwrap_err(),
            TwilioParseError::InvalidMessageSid,
            "a MessageSid that cannot be stored is refused"
        );
    }
}

#[test]
fn status_callbacks_map_to_delivery_statuses() {
    let update = parse_status_callback(&pairs(&[
        ("MessageSid", "SM9"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "63016"),
    ]))
    .unwrap();
    assert_eq!(update.status, DeliveryStatus::Undelivered);
    assert_eq!(update.status.as_str(), "undelivered");
    assert_eq!(update.error_code.as_deref(), Some("63016"));
    let read =
        parse_status_callback(&pairs(&[("MessageSid", "SM9"), ("MessageStatus", "read")])).unwrap();
    assert_eq!(read.status, DeliveryStatus::Read);
    assert_eq!(
        parse_status_callback(&pairs(&[
            ("MessageSid", "SM9"),
            ("MessageStatus", "exploded")
        ])),
        Err(TwilioParseError::UnknownStatus)
    );
}
