//! Twilio's webhook signature: base64(HMAC-SHA1(auth token, full URL +
//! every parameter's name and value concatenated, sorted by name then value)),
//! sent in `X-Twilio-Signature`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio would send for `url` and `params`.
///
/// `params` is the form body as a list of pairs, so that repeated names (for
/// example several `MediaUrl` values) all take part.
pub fn compute_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is Twilio's signature of this request.
///
/// `full_url` is the URL Twilio called, built from the configured public base
/// URL (never from the Host header) plus path and query. As Twilio's own SDKs
/// do, the URL is also tried with the scheme's default port added or removed,
/// because Twilio signs the URL as written in the console. The comparison is
/// constant-time.
pub fn verify_signature(
    auth_token: &str,
    full_url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let provided = signature.trim().as_bytes();
    if provided.is_empty() || auth_token.is_empty() {
        return false;
    }
    url_variants(full_url).iter().any(|url| {
        let expected = compute_signature(auth_token, url, params);
        bool::from(expected.as_bytes().ct_eq(provided))
    })
}

/// The URL as given, then with the default port added or removed.
fn url_variants(full_url: &str) -> Vec<String> {
    let mut variants = vec![full_url.to_owned()];
    let Ok(mut parsed) = reqwest::Url::parse(full_url) else {
        return variants;
    };
    let default_port = match parsed.scheme() {
        "https" => 443,
        "http" => 80,
        _ => return variants,
    };
    // The `url` crate drops a default port when parsing, so look at the raw
    // authority to know whether the caller wrote one.
    let authority = full_url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    let host_part = authority.rsplit('@').next().unwrap_or(authority);
    let has_port = host_part
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if has_port {
        if parsed.port().is_some() {
            let _ = parsed.set_port(None);
        }
        // Parsing already removed a default port: `parsed` has none now.
        variants.push(parsed.to_string());
    } else if parsed.set_port(Some(default_port)).is_ok() {
        // `Url` refuses to print a default port, so splice it in by hand.
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let with_port = full_url.replacen(
            &format!("://{host}"),
            &format!("://{host}:{default_port}"),
            1,
        );
        variants.push(with_port);
    }
    variants.dedup();
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_variants_are_generated_both_ways() {
        let v = url_variants("https://example.com/hook?a=1");
        assert!(
            v.contains(&"https://example.com:443/hook?a=1".to_owned()),
            "{v:?}"
        );
        let v = url_variants("https://example.com:443/hook");
        assert!(v.contains(&"https://example.com/hook".to_owned()), "{v:?}");
    }
}
