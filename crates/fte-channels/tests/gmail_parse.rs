//! Raw customer emails into parsed emails: bodies, charsets, quotes,
//! signatures, threading headers and malformed input.

use fte_channels::gmail::{MailParseError, parse_raw_email};
use fte_domain::Channel;

fn parse(raw: &[u8]) -> Result<fte_channels::gmail::ParsedEmail, MailParseError> {
    parse_raw_email("18c1", "18c0", raw, Some(1_764_064_800_000))
}

#[test]
fn a_plain_reply_keeps_only_the_new_text_and_its_threading_headers() {
    let raw = "From: Maria Santos <Maria.Santos@Example.com>\r\n\
To: support@orbitlabs.example\r\n\
Subject: Re: Export to CSV\r\n\
Message-ID: <CAF=abc123@mail.gmail.com>\r\n\
In-Reply-To: <fte.1.1@orbitlabs.example>\r\n\
References: <first@mail.gmail.com> <fte.1.1@orbitlabs.example>\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
\r\n\
That worked, thanks!\r\n\
Can I also schedule the export?\r\n\
\r\n\
On Tue, 24 Nov 2026 at 09:12, Orbitask Support <support@orbitlabs.example> wrote:\r\n\
> Hi Maria,\r\n\
> Go to Reports > Export.\r\n";

    let email = parse(raw.as_bytes()).unwrap();

    assert_eq!(
        email.text,
        "That worked, thanks!\nCan I also schedule the export?"
    );
    assert_eq!(email.from.as_str(), "maria.santos@example.com");
    assert_eq!(email.from_name.as_deref(), Some("Maria Santos"));
    assert_eq!(email.subject.as_deref(), Some("Re: Export to CSV"));
    assert_eq!(
        email.message_id.as_deref(),
        Some("<CAF=abc123@mail.gmail.com>")
    );
    assert_eq!(
        email.references,
        vec!["<first@mail.gmail.com>", "<fte.1.1@orbitlabs.example>"]
    );
    assert_eq!(email.received_at.timestamp_millis(), 1_764_064_800_000);

    assert!(
        !email.sender_authenticated,
        "no Authentication-Results: unproven"
    );
    let inbound = email.into_inbound(true);
    assert!(!inbound.sender.email_verified);
    assert_eq!(inbound.channel, Channel::Email);
    assert_eq!(inbound.channel_message_id, "18c1");
    assert_eq!(inbound.metadata["thread_id"], "18c0");
    assert_eq!(
        inbound.metadata["message_id"],
        "<CAF=abc123@mail.gmail.com>"
    );
}

fn authenticated_mail(topmost: &str, lower: &str) -> String {
    format!(
        "Authentication-Results: {topmost}\r\n\
ARC-Seal: i=1; a=rsa-sha256; t=1764064800; cv=none; d=google.com; s=arc-20240605; b=x\r\n\
Authentication-Results: {lower}\r\n\
From: Maria Santos <maria.santos@example.com>\r\n\
To: support@orbitlabs.example\r\n\
Subject: Export\r\n\
Message-ID: <auth@mail.example.com>\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
\r\n\
How do I export my board to CSV?\r\n"
    )
}

const GMAIL_PASS: &str = "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1;\r\n       spf=pass (google.com: domain of maria.santos@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=maria.santos@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com";
const GMAIL_FAIL: &str = "mx.google.com; spf=fail smtp.mailfrom=maria.santos@example.com; dmarc=fail (p=NONE) header.from=example.com";

#[test]
fn the_sender_is_proven_only_by_gmails_own_pass_and_an_authenticated_push() {
    let pass = parse(authenticated_mail(GMAIL_PASS, GMAIL_FAIL).as_bytes()).unwrap();
    assert!(pass.sender_authenticated);
    assert!(pass.clone().into_inbound(true).sender.email_verified);
    assert!(
        !pass.into_inbound(false).sender.email_verified,
        "a sync no authenticated push started proves nothing"
    );

    // A spoofed sender adds its own "pass" below Gmail's verdict.
    let spoofed = parse(authenticated_mail(GMAIL_FAIL, GMAIL_PASS).as_bytes()).unwrap();
    assert!(
        !spoofed.sender_authenticated,
        "only the topmost header counts"
    );
    assert!(!spoofed.into_inbound(true).sender.email_verified);
}

#[test]
fn a_poisoned_email_becomes_an_event_the_crm_can_store() {
    let subject = "x".repeat(600);
    let name = "é".repeat(300);
    let raw = format!(
        "From: =?UTF-8?B?{}?= <emma@example.com>\r\n\
Subject: {subject}\r\n\
Message-ID: <a\0b@mail.example>\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
\r\n\
Where is the\0 export button?\r\n",
        base64_encode(&format!("{name}\0"))
    );
    let inbound = parse(raw.as_bytes()).unwrap().into_inbound(true);
    assert_eq!(
        inbound.subject.as_deref().map(|s| s.chars().count()),
        Some(500),
        "subject cut to tickets.subject"
    );
    let sender = inbound.sender.name.clone().unwrap();
    assert_eq!(sender.chars().count(), 255, "name cut to customers.name");
    assert!(!sender.contains('\0'));
    assert!(!inbound.content.contains('\0'), "body: NUL removed");
    assert!(inbound.content.contains("export button"));
    assert!(
        !inbound.metadata.to_string().contains("\\u0000"),
        "threading headers: NUL removed"
    );
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn an_html_only_email_becomes_text_without_its_quoted_part() {
    let raw = "From: emma@example.com\r\n\
Subject: Slack\r\n\
Message-ID: <h1@example.com>\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
\r\n\
<html><body><div dir=\"ltr\"><p>Can I connect <b>Orbitask</b> to Slack?</p></div>\
<div class=\"gmail_quote\"><div>On Mon someone wrote:</div><blockquote>old question</blockquote></div>\
</body></html>\r\n";

    let email = parse(raw.as_bytes()).unwrap();

    assert!(email.from_html);
    assert!(email.text.contains("Can I connect"), "{:?}", email.text);
    assert!(email.text.contains("Orbitask"), "{:?}", email.text);
    assert!(!email.text.contains("old question"), "{:?}", email.text);
    assert!(!email.text.contains('<'), "tags remain: {:?}", email.text);
}

#[test]
fn iso_8859_1_and_windows_1252_bodies_are_decoded() {
    let mut latin1 = b"From: jose@example.com\r\nSubject: =?ISO-8859-1?Q?Contrase=F1a?=\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    latin1.extend_from_slice(b"No puedo cambiar mi contrase\xf1a, \xbfpor qu\xe9?\r\n");
    let email = parse(&latin1).unwrap();
    assert_eq!(email.text, "No puedo cambiar mi contraseña, ¿por qué?");
    assert_eq!(email.subject.as_deref(), Some("Contraseña"));

    let mut cp1252 = b"From: ana@example.com\r\nSubject: Quote\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".to_vec();
    cp1252.extend_from_slice(b"It says =93access denied=94 =96 again=85\r\n");
    let email = parse(&cp1252).unwrap();
    assert_eq!(
        email.text,
        "It says \u{201c}access denied\u{201d} \u{2013} again\u{2026}"
    );
}

#[test]
fn signatures_and_outlook_quotes_are_stripped() {
    let raw = "From: li@example.com\r\nSubject: Billing\r\nContent-Type: text/plain\r\n\r\n\
My card was charged twice.\r\n\
\r\n\
Sent from my iPhone\r\n\
\r\n\
________________________________\r\n\
From: Orbitask Support <support@orbitlabs.example>\r\n\
Sent: Monday\r\n";
    assert_eq!(
        parse(raw.as_bytes()).unwrap().text,
        "My card was charged twice."
    );

    let raw = "From: li@example.com\r\nSubject: Billing\r\nContent-Type: text/plain\r\n\r\n\
Still double charged.\r\n-- \r\nLi Wei\r\nACME Corp\r\n";
    assert_eq!(parse(raw.as_bytes()).unwrap().text, "Still double charged.");
}

#[test]
fn a_multipart_alternative_prefers_the_text_part() {
    let raw = "From: li@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nPlain version\r\n\
--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>HTML version</p>\r\n--b1--\r\n";
    let email = parse(raw.as_bytes()).unwrap();
    assert_eq!(email.text, "Plain version");
    assert!(!email.from_html);
}

#[test]
fn malformed_messages_are_refused_with_a_reason() {
    assert_eq!(parse(b"").unwrap_err(), MailParseError::Unparsable);
    assert_eq!(
        parse(b"this is not an email at all").unwrap_err(),
        MailParseError::MissingSender
    );
    assert_eq!(
        parse(b"From: not-an-address\r\nSubject: x\r\n\r\nbody\r\n").unwrap_err(),
        MailParseError::MissingSender
    );
}

#[test]
fn an_email_with_nothing_new_is_an_empty_message_for_the_agent() {
    for raw in [
        "From: a@example.com\r\nSubject: x\r\n\r\n> only a quote\r\n",
        "From: a@example.com\r\nSubject: x\r\n\r\n   \r\n",
        "From: a@example.com\r\nSubject: x\r\n\r\n",
    ] {
        let email = parse(raw.as_bytes()).expect("accepted");
        assert_eq!(email.text, "", "{raw:?}");
    }
}

#[test]
fn automatic_mail_is_refused_so_no_reply_loop_starts() {
    for headers in [
        "Auto-Submitted: auto-replied\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "Precedence: bulk\r\n",
        "Precedence: auto_reply\r\n",
        "X-Autoreply: yes\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n",
    ] {
        let raw =
            format!("From: a@example.com\r\nSubject: Out of office\r\n{headers}\r\nI am away.\r\n");
        assert_eq!(
            parse(raw.as_bytes()).unwrap_err(),
            MailParseError::Automatic,
            "{headers:?}"
        );
    }
    let person =
        "From: a@example.com\r\nSubject: x\r\nAuto-Submitted: no\r\n\r\nHow do I export?\r\n";
    assert_eq!(parse(person.as_bytes()).unwrap().text, "How do I export?");
}
