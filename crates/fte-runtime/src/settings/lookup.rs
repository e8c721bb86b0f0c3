//! What every settings reader shares: the [`Lookup`] of variables (the
//! process environment, or fixed pairs in tests), the [`Profile`] the
//! process runs under, and [`SettingsError`], which names the variable at
//! fault.

use std::fmt;
use std::str::FromStr;

/// A failure to read settings, naming the variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A variable that this profile requires is not set.
    #[error("missing environment variable {var}: {hint}")]
    Missing {
        /// The variable's name.
        var: &'static str,
        /// What it is for and how to set it.
        hint: &'static str,
    },
    /// A channel is enabled in production without everything it needs.
    #[error(
        "channel {channel} is enabled (CHANNELS_ENABLED) but not configured: set {missing}, or remove {channel} from CHANNELS_ENABLED"
    )]
    ChannelIncomplete {
        /// The channel (`email`, `whatsapp`, `web_form`).
        channel: &'static str,
        /// The missing variables, comma-separated.
        missing: String,
    },
    /// A variable is set to something that cannot be used.
    #[error("invalid environment variable {var}: {reason}")]
    Invalid {
        /// The variable's name.
        var: &'static str,
        /// Why the value was refused (never the value itself: it may be secret).
        reason: String,
    },
}

/// How strict start-up is.
///
/// The default is [`Profile::Production`]: a deployment that forgets
/// `FTE_PROFILE` fails closed (every secret required, no unsigned webhook,
/// no recording sender) instead of quietly running as a laptop would. The
/// local run, the tests and the scale harness set `FTE_PROFILE=dev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// The local run and tests: embedded defaults, unsigned webhooks allowed
    /// with a loud warning.
    Dev,
    /// Real deployments: every verification secret must be configured.
    #[default]
    Production,
}

impl Profile {
    /// `FTE_PROFILE`: `production` (the default when unset) or `dev`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        match lookup.get("FTE_PROFILE").as_deref() {
            Some("dev") | Some("development") | Some("local") => Ok(Profile::Dev),
            None | Some("production") | Some("prod") => Ok(Profile::Production),
            Some(_) => Err(SettingsError::Invalid {
                var: "FTE_PROFILE",
                reason: "expected `dev` or `production`".into(),
            }),
        }
    }

    /// Reads `FTE_PROFILE` from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Whether this is the production profile.
    pub fn is_production(self) -> bool {
        self == Profile::Production
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Dev => "dev",
            Profile::Production => "production",
        })
    }
}

/// A function from a variable's name to its value.
type LookupFn<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// Where settings come from: the process environment, or a closure in tests.
pub struct Lookup<'a>(LookupFn<'a>);

impl<'a> Lookup<'a> {
    /// The process environment.
    pub fn env() -> Lookup<'static> {
        Lookup(Box::new(|key| std::env::var(key).ok()))
    }

    /// Any function from name to value (tests use a map).
    pub fn from_fn(f: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Lookup(Box::new(f))
    }

    /// A variable's value, with empty strings treated as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        (self.0)(key).filter(|v| !v.trim().is_empty())
    }

    /// A required variable.
    pub fn required(&self, var: &'static str, hint: &'static str) -> Result<String, SettingsError> {
        self.get(var).ok_or(SettingsError::Missing { var, hint })
    }

    /// A parsed variable, or `None` when unset.
    pub fn parsed<T>(&self, var: &'static str) -> Result<Option<T>, SettingsError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(var)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|e: T::Err| SettingsError::Invalid {
                        var,
                        reason: e.to_string(),
                    })
            })
            .transpose()
    }

    /// A parsed variable, or `default` when unset.
    pub fn parsed_or<T>(&self, var: &'static str, default: T) -> Result<T, SettingsError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        Ok(self.parsed(var)?.unwrap_or(default))
    }

    /// A boolean variable (`true/false/1/0/yes/no/on/off`), or `default`.
    pub fn flag_or(&self, var: &'static str, default: bool) -> Result<bool, SettingsError> {
        match self
            .get(var)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(SettingsError::Invalid {
                var,
                reason: "expected true or false".into(),
            }),
        }
    }

    /// A comma-separated list (empty items dropped), or empty when unset.
    pub fn list(&self, var: &str) -> Vec<String> {
        self.get(var)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn profile_fails_closed_to_production_and_refuses_unknown_values() {
        assert_eq!(Profile::from_lookup(&lookup(&[])), Ok(Profile::Production));
        assert_eq!(
            Profile::from_lookup(&lookup(&[("FTE_PROFILE", "dev")])),
            Ok(Profile::Dev)
        );
        let err = Profile::from_lookup(&lookup(&[("FTE_PROFILE", "staging")])).unwrap_err();
        assert!(err.to_string().contains("FTE_PROFILE"), "{err}");
    }

    #[test]
    fn invalid_numbers_name_their_variable() {
        let err = lookup(&[("API_PORT", "eighty")])
            .parsed_or("API_PORT", 8000u16)
            .unwrap_err();
        assert!(err.to_string().contains("API_PORT"), "{err}");
    }
}
