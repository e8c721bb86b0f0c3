//! Staff API keys: each key has an owner (a short handle), and only its
//! sha256 digest is configured.
//!
//! - `STAFF_API_KEYS`: comma-separated `name:sha256hex` entries, for example
//!   `ana.ruiz:3f2a…e1,ops-bot:9bc0…47`. One person may own several keys
//!   (rotation); one digest may not belong to two names.
//! - `STAFF_API_KEY_HASHES` (the older form, still read): comma-separated
//!   bare digests. Each is owned by `key-<first 8 hex digits>`, so audit
//!   rows still tell the keys apart; name them by moving them to
//!   `STAFF_API_KEYS`.

use super::lookup::SettingsError;

/// The longest owner name of a staff key.
pub const MAX_STAFF_NAME_LEN: usize = 64;

/// One configured staff API key.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffKey {
    /// The owner: 1–64 characters of letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// sha256 of the key.
    pub digest: [u8; 32],
}

impl std::fmt::Debug for StaffKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl StaffKey {
    /// A key owned by `name` whose sha256 is `digest`.
    pub fn new(name: impl Into<String>, digest: [u8; 32]) -> Self {
        Self {
            name: name.into(),
            digest,
        }
    }

    /// The first 8 hex digits of the digest: names a key in logs without
    /// naming its owner and without helping anyone guess it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.digest)
    }
}

/// The first 8 hex digits of `digest`.
pub fn fingerprint(digest: &[u8; 32]) -> String {
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `name` is a valid owner name.
pub fn valid_staff_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_STAFF_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn parse_digest(var: &'static str, item: &str) -> Result<[u8; 32], SettingsError> {
    let invalid = || SettingsError::Invalid {
        var,
        reason:
            "each digest must be a sha256 written as 64 hex digits (printf %s \"$KEY\" | sha256sum)"
                .into(),
    };
    let item = item.trim();
    if item.len() != 64 || !item.is_ascii() {
        return Err(invalid());
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&item[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
    }
    Ok(digest)
}

/// Reads `STAFF_API_KEYS` (`named`) and `STAFF_API_KEY_HASHES` (`bare`)
/// into one list. Refuses malformed entries and a digest given twice.
pub fn parse_staff_keys(named: &[String], bare: &[String]) -> Result<Vec<StaffKey>, SettingsError> {
    let mut keys = Vec::with_capacity(named.len() + bare.len());
    for entry in named {
        let Some((name, digest)) = entry.trim().split_once(':') else {
            return Err(SettingsError::Invalid {
                var: "STAFF_API_KEYS",
                reason: "each entry must be name:sha256hex".into(),
            });
        };
        let name = name.trim();
        if !valid_staff_name(name) {
            return Err(SettingsError::Invalid {
                var: "STAFF_API_KEYS",
                reason: format!(
                    "a key's name must be 1-{MAX_STAFF_NAME_LEN} letters, digits, '.', '_' or '-'"
                ),
            });
        }
        keys.push(StaffKey::new(name, parse_digest("STAFF_API_KEYS", digest)?));
    }
    for entry in bare {
        let digest = parse_digest("STAFF_API_KEY_HASHES", entry)?;
        keys.push(StaffKey::new(
            format!("key-{}", fingerprint(&digest)),
            digest,
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].iter().any(|other| other.digest == key.digest) {
            return Err(SettingsError::Invalid {
                var: "STAFF_API_KEYS",
                reason: format!(
                    "the key with fingerprint {} is listed twice; a key has one owner",
                    key.fingerprint()
                ),
            });
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn named_and_bare_digests_are_read_into_one_list() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let keys =
            parse_staff_keys(&strings(&[&format!("ana.ruiz:{a}")]), &strings(&[&b])).unwrap();
        assert_eq!(keys[0], StaffKey::new("ana.ruiz", [0xaa; 32]));
        assert_eq!(keys[1], StaffKey::new("key-bbbbbbbb", [0xbb; 32]));
    }

    #[test]
    fn malformed_entries_and_shared_digests_are_refused() {
        let a = "a".repeat(64);
        for (named, bare) in [
            (vec![a.clone()], vec![]),
            (vec![format!("Ana Ruiz:{a}")], vec![]),
            (vec![format!(":{a}")], vec![]),
            (vec![format!("ana:{}", "a".repeat(63))], vec![]),
            (vec![], vec!["zz".repeat(32)]),
            (vec![format!("ana:{a}"), format!("bob:{a}")], vec![]),
            (vec![format!("ana:{a}")], vec![a.clone()]),
        ] {
            let err = parse_staff_keys(&named, &bare).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("STAFF_API_KEY"), "{named:?} {bare:?}: {text}");
            assert!(!text.contains(&a), "the digest is never echoed: {text}");
        }
    }

    #[test]
    fn debug_output_shows_the_owner_only() {
        let key = StaffKey::new("ana", [0xab; 32]);
        let shown = format!("{key:?}");
        assert!(shown.contains("ana") && !shown.contains("171"), "{shown}");
    }
}
