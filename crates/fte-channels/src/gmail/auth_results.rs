//! Whether Gmail authenticated a message's sender: the `Authentication-Results`
//! header (RFC 8601) Gmail's receiving server adds, read for the From
//! domain.
//!
//! Gmail's own API does not expose a verdict; the header is the only
//! record of its SPF, DKIM and DMARC checks. Only the topmost
//! `Authentication-Results` counts, and only when its authentication
//! service is Gmail's ([`GMAIL_AUTHSERV_ID`]): Gmail prepends its header to
//! every message it receives, while any header below it came with the
//! message and may be forged by the sender. The sender passes when, for
//! the From domain:
//!
//! - `dmarc=pass` with `header.from` equal to it; or, when Gmail recorded
//!   no DMARC result,
//! - `dkim=pass` with `header.d` (or the domain of `header.i`) aligned with
//!   it, or `spf=pass` with the domain of `smtp.mailfrom` aligned with it.
//!
//! A `dmarc` result other than `pass` fails the sender whatever DKIM and
//! SPF say. Alignment is relaxed: equal domains, or one a subdomain of the
//! other.
//!
//! Kept in this module rather than taken from a crate: the one Rust parser
//! of this header on crates.io (`msg-auth-status` 0.2) does not parse
//! `dmarc` results at all and pulls a second, older `mail-parser`. What is
//! needed here is small: split the results, drop comments, read three
//! methods.

/// The authentication service id of Gmail's receiving servers.
pub const GMAIL_AUTHSERV_ID: &str = "mx.google.com";

/// One `method=result` with its properties (`ptype.property=value`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct MethodResult {
    method: String,
    result: String,
    properties: Vec<(String, String)>,
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed header value: the authentication service and its results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AuthenticationResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

/// Removes RFC 5322 comments (nested parentheses, with `\` escapes).
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut escaped = false;
    let mut quoted = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn parse(value: &str) -> Option<AuthenticationResults> {
    let cleaned = without_comments(value);
    let mut parts = cleaned.split(';');
    let authserv_id = parts
        .next()?
        .split_whitespace()
        .next()?
        .to_ascii_lowercase();
    let mut results = Vec::new();
    for part in parts {
        let mut tokens = part.split_whitespace();
        let Some((method, result)) = tokens.next().and_then(|t| t.split_once('=')) else {
            continue;
        };
        let properties = tokens
            .filter_map(|t| t.split_once('='))
            .map(|(name, value)| {
                (
                    name.to_ascii_lowercase(),
                    value.trim_matches('"').to_ascii_lowercase(),
                )
            })
            .collect();
        results.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: result.to_ascii_lowercase(),
            properties,
        });
    }
    Some(AuthenticationResults {
        authserv_id,
        results,
    })
}

/// The domain of an address or of an `@domain` identity.
fn domain_of(identity: &str) -> &str {
    identity.rsplit_once('@').map_or(identity, |(_, d)| d)
}

/// Relaxed alignment: the same domain, or one a subdomain of the other.
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    !a.is_empty()
        && !b.is_empty()
        && (a.eq_ignore_ascii_case(b)
            || a.to_ascii_lowercase()
                .ends_with(&format!(".{}", b.to_ascii_lowercase()))
            || b.to_ascii_lowercase()
                .ends_with(&format!(".{}", a.to_ascii_lowercase())))
}

/// Whether the topmost `Authentication-Results` value (`topmost`, as
/// written in the message) shows that Gmail authenticated the sender of
/// `from_domain`. `None` (no header) is not authenticated.
pub fn sender_authenticated(topmost: Option<&str>, from_domain: &str) -> bool {
    let Some(parsed) = topmost.and_then(parse) else {
        return false;
    };
    if parsed.authserv_id != GMAIL_AUTHSERV_ID {
        return false;
    }
    let results = &parsed.results;
    let of = |method: &'static str| results.iter().filter(move |r| r.method == method);
    if let Some(dmarc) = of("dmarc").next() {
        return dmarc.result == "pass"
            && dmarc
                .property("header.from")
                .is_some_and(|d| d.eq_ignore_ascii_case(from_domain));
    }
    let dkim = of("dkim").any(|r| {
        r.result == "pass"
            && r.property("header.d")
                .or_else(|| r.property("header.i").map(domain_of))
                .is_some_and(|d| aligned(d, from_domain))
    });
    let spf = of("spf").any(|r| {
        r.result == "pass"
            && r.property("smtp.mailfrom")
                .map(domain_of)
                .is_some_and(|d| aligned(d, from_domain))
    });
    dkim || spf
}

#[cfg(test)]
mod tests {
    use super::*;

    const GMAIL_PASS: &str = "mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=AbCd;\r\n       spf=pass (google.com: domain of maria@example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=maria@example.com;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com";

    #[test]
    fn gmails_dmarc_pass_for_the_from_domain_authenticates() {
        assert!(sender_authenticated(Some(GMAIL_PASS), "example.com"));
    }

    #[test]
    fn a_pass_for_another_domain_does_not() {
        assert!(!sender_authenticated(Some(GMAIL_PASS), "victim.example"));
    }

    #[test]
    fn a_dmarc_failure_wins_over_dkim_and_spf() {
        let value = "mx.google.com; dkim=pass header.i=@example.com; spf=pass smtp.mailfrom=a@example.com; dmarc=fail (p=NONE) header.from=example.com";
        assert!(!sender_authenticated(Some(value), "example.com"));
    }

    #[test]
    fn without_dmarc_an_aligned_dkim_or_spf_pass_authenticates() {
        let dkim = "mx.google.com; dkim=pass header.d=mail.example.com header.s=x";
        let spf = "mx.google.com; spf=pass smtp.mailfrom=bounce@example.com";
        let unaligned = "mx.google.com; dkim=pass header.d=mailer.example.net; spf=softfail smtp.mailfrom=x@example.com";
        assert!(sender_authenticated(Some(dkim), "example.com"));
        assert!(sender_authenticated(Some(spf), "example.com"));
        assert!(!sender_authenticated(Some(unaligned), "example.com"));
    }

    #[test]
    fn another_service_or_no_header_does_not_count() {
        let forged = GMAIL_PASS.replacen("mx.google.com", "mx.attacker.example", 1);
        assert!(!sender_authenticated(Some(&forged), "example.com"));
        assert!(!sender_authenticated(None, "example.com"));
        assert!(!sender_authenticated(Some(""), "example.com"));
    }

    #[test]
    fn comments_cannot_smuggle_a_result() {
        let value = "mx.google.com; dmarc=fail (dmarc=pass header.from=example.com) header.from=example.com";
        assert!(!sender_authenticated(Some(value), "example.com"));
    }

    #[test]
    fn results_are_read_case_insensitively() {
        let value = "MX.Google.COM; DMARC=Pass header.from=Example.COM";
        assert!(sender_authenticated(Some(value), "example.com"));
    }
}
