//! The local run's staff key. In the dev profile `fte run` keeps one staff
//! API key in [`DEFAULT_DEV_STAFF_KEY_FILE`] (`FTE_DEV_STAFF_KEY_FILE`),
//! creating it on the first run (random, readable by its owner only) and
//! reusing it afterwards, and accepts it as the key of the staff member
//! `dev`. So the README's staff examples work as written:
//! `-H "Authorization: Bearer $(cat .fte/staff-key)"`. Production never
//! creates or accepts it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use fte_runtime::Profile;
use fte_runtime::settings::{ApiSettings, Lookup, StaffKey};
use sha2::{Digest, Sha256};

/// Where the dev profile keeps the local staff key.
pub const DEFAULT_DEV_STAFF_KEY_FILE: &str = ".fte/staff-key";
/// The owner of the local staff key, as audit rows name it.
pub const DEV_STAFF_NAME: &str = "dev";

/// The key stored at `path`, created first when missing or empty.
pub fn ensure_key_file(path: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(existing.to_owned());
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("Failed to create {}", dir.display()))?;
    }
    // Two v4 UUIDs: 244 random bits from the operating system's generator.
    let key = format!(
        "fte-dev-{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("Failed to create {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.as_bytes())
        .with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(key)
}

/// In the dev profile, adds the local staff key (owner `dev`) to `api` and
/// returns the file it is in; in production, changes nothing.
pub fn accept_dev_key(
    env: &Lookup<'_>,
    profile: Profile,
    api: &mut ApiSettings,
) -> anyhow::Result<Option<PathBuf>> {
    if profile.is_production() {
        return Ok(None);
    }
    let path = PathBuf::from(
        env.get("FTE_DEV_STAFF_KEY_FILE")
            .unwrap_or_else(|| DEFAULT_DEV_STAFF_KEY_FILE.to_owned()),
    );
    let key = ensure_key_file(&path)?;
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    if !api.staff_keys.iter().any(|k| k.digest == digest) {
        api.staff_keys.push(StaffKey::new(DEV_STAFF_NAME, digest));
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("fte-staff-key-{}", uuid::Uuid::new_v4().simple()))
            .join(name)
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let path = temp_file("staff-key");
        let first = ensure_key_file(&path).unwrap();
        assert!(
            first.starts_with("fte-dev-") && first.len() == 8 + 64,
            "{first}"
        );
        assert_eq!(ensure_key_file(&path).unwrap(), first, "reused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
        }
        let other = ensure_key_file(&temp_file("staff-key")).unwrap();
        assert_ne!(other, first, "each checkout gets its own key");
    }

    #[test]
    fn dev_accepts_the_local_key_as_dev_and_production_never_does() {
        let path = temp_file("staff-key");
        let shown = path.display().to_string();
        let env =
            Lookup::from_fn(move |key| (key == "FTE_DEV_STAFF_KEY_FILE").then(|| shown.clone()));
        let mut api = ApiSettings::from_lookup(&env, Profile::Dev).unwrap();
        assert_eq!(
            accept_dev_key(&env, Profile::Dev, &mut api).unwrap(),
            Some(path.clone())
        );
        let key = std::fs::read_to_string(&path).unwrap();
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        assert_eq!(api.staff_keys, [StaffKey::new(DEV_STAFF_NAME, digest)]);
        accept_dev_key(&env, Profile::Dev, &mut api).unwrap();
        assert_eq!(api.staff_keys.len(), 1, "added once");

        let production_path = temp_file("staff-key");
        let shown = production_path.display().to_string();
        let env =
            Lookup::from_fn(move |key| (key == "FTE_DEV_STAFF_KEY_FILE").then(|| shown.clone()));
        let mut api = ApiSettings::from_lookup(&env, Profile::Dev).unwrap();
        assert_eq!(
            accept_dev_key(&env, Profile::Production, &mut api).unwrap(),
            None
        );
        assert!(api.staff_keys.is_empty());
        assert!(!production_path.exists());
    }
}
