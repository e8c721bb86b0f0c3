//! Building every sender from settings: disabled channels, guarded senders
//! talking to the fakes, and the inbound-to-reply thread round trip.

use std::collections::HashMap;

use fte_channels::gmail::parse_raw_email;
use fte_channels::{ChannelSenders, ChannelState, EmailThread};
use fte_domain::Channel;
use fte_fakes::twilio::FakeTwilio;
use fte_runtime::Profile;
use fte_runtime::settings::{GmailSettings, Lookup, TwilioSettings, WebReplySettings};
use fte_testkit::channels::*;

fn lookup(pairs: Vec<(&'static str, String)>) -> Lookup<'static> {
    let map: HashMap<&'static str, String> = pairs.into_iter().collect();
    Lookup::from_fn(move |k| map.get(k).cloned())
}

#[tokio::test]
async fn channels_without_credentials_are_disabled_and_web_replies_still_work() {
    let empty = lookup(vec![("WEB_REPLY_NOTIFY", "none".into())]);
    let senders = ChannelSenders::from_settings(
        &GmailSettings::from_lookup(&empty, Profile::Dev).unwrap(),
        &TwilioSettings::from_lookup(&empty, Profile::Dev).unwrap(),
        &WebReplySettings::from_lookup(&empty).unwrap(),
    )
    .unwrap();

    assert_eq!(senders.state(Channel::Email), ChannelState::Disabled);
    assert_eq!(senders.state(Channel::Whatsapp), ChannelState::Disabled);
    assert_eq!(senders.state(Channel::WebForm), ChannelState::Active);
    assert!(senders.sender(Channel::Whatsapp).is_none());
    assert!(senders.mailbox.is_none());
}

#[tokio::test]
async fn configured_channels_send_through_their_providers() {
    let gmail_fake = fte_fakes::gmail::FakeGmail::start(MAILBOX, refresh_oauth())
        .await
        .unwrap();
    let twilio_fake = FakeTwilio::start(SID, TOKEN).await.unwrap();
    let vars = lookup(vec![
        ("GMAIL_API_BASE_URL", gmail_fake.base_url()),
        ("GMAIL_TOKEN_URL", gmail_fake.token_url()),
        ("GMAIL_MAILBOX", MAILBOX.into()),
        ("GMAIL_CLIENT_ID", "cid".into()),
        ("GMAIL_CLIENT_SECRET", "csecret".into()),
        ("GMAIL_REFRESH_TOKEN", "rtoken".into()),
        ("TWILIO_API_BASE_URL", twilio_fake.base_url()),
        ("TWILIO_ACCOUNT_SID", SID.into()),
        ("TWILIO_AUTH_TOKEN", TOKEN.into()),
        ("TWILIO_WHATSAPP_NUMBER", "+14155238886".into()),
        ("PROVIDER_TIMEOUT_MS", "3000".into()),
    ]);
    let senders = ChannelSenders::from_settings(
        &GmailSettings::from_lookup(&vars, Profile::Dev).unwrap(),
        &TwilioSettings::from_lookup(&vars, Profile::Dev).unwrap(),
        &WebReplySettings::from_lookup(&vars).unwrap(),
    )
    .unwrap();
    assert_eq!(senders.state(Channel::Email), ChannelState::Active);

    // An inbound email, parsed, gives the thread the reply goes to.
    let (id, thread_id) = gmail_fake.deliver_inbound(&customer_mail(
        "<orig@mail.example.com>",
        "Login",
        "",
        "I cannot log in",
    ));
    let raw = gmail_fake.messages()[0].raw.clone();
    let inbound = parse_raw_email(&id, &thread_id, raw.as_bytes(), None)
        .unwrap()
        .into_inbound(true);
    let thread = EmailThread::from_inbound_metadata(&inbound.metadata).unwrap();
    assert_eq!(thread.thread_id, thread_id);

    let email = senders.sender(Channel::Email).unwrap();
    email
        .send(&email_reply(&["Reset it here."], Some(thread)))
        .await
        .unwrap();
    assert_eq!(gmail_fake.sent()[0].thread_id, thread_id);

    let whatsapp = senders.sender(Channel::Whatsapp).unwrap();
    whatsapp
        .send(&whatsapp_reply(&["Hi!"], Some(2)))
        .await
        .unwrap();
    assert_eq!(twilio_fake.sent().len(), 1);

    let mut web = email_reply(&["Hello Maria, done. Ticket: T-1"], None);
    web.channel = Channel::WebForm;
    senders
        .sender(Channel::WebForm)
        .unwrap()
        .send(&web)
        .await
        .unwrap();
    assert_eq!(
        gmail_fake.sent().len(),
        2,
        "web replies are notified through Gmail"
    );
}
