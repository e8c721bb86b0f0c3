//! Which channels run (`CHANNELS_ENABLED`). A channel that is not enabled
//! is off everywhere: its webhooks and form answer 404, the worker builds
//! no sender for it and `/health` reports it `disabled`.

use std::collections::BTreeSet;

use fte_domain::Channel;

use super::lookup::{Lookup, SettingsError};

/// The channels `CHANNELS_ENABLED` switches on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnabledChannels(BTreeSet<Channel>);

impl Default for EnabledChannels {
    fn default() -> Self {
        Self(Channel::ALL.into_iter().collect())
    }
}

impl EnabledChannels {
    /// `CHANNELS_ENABLED` (`email,whatsapp,web_form`): a comma-separated
    /// list of channels; unset means all three. Unknown names are refused.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let items = lookup.list("CHANNELS_ENABLED");
        if items.is_empty() {
            return Ok(Self::default());
        }
        items
            .iter()
            .map(|item| {
                item.to_ascii_lowercase()
                    .parse::<Channel>()
                    .map_err(|error| SettingsError::Invalid {
                        var: "CHANNELS_ENABLED",
                        reason: error.to_string(),
                    })
            })
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// Exactly these channels.
    pub fn only(channels: &[Channel]) -> Self {
        Self(channels.iter().copied().collect())
    }

    /// Whether `channel` runs.
    pub fn contains(&self, channel: Channel) -> bool {
        self.0.contains(&channel)
    }

    /// The enabled channels, in [`Channel::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Channel> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn every_channel_is_enabled_unless_listed_and_unknown_names_are_refused() {
        let all = EnabledChannels::from_lookup(&lookup(&[])).unwrap();
        assert!(Channel::ALL.iter().all(|c| all.contains(*c)));
        let web =
            EnabledChannels::from_lookup(&lookup(&[("CHANNELS_ENABLED", "web_form")])).unwrap();
        assert_eq!(web.iter().collect::<Vec<_>>(), vec![Channel::WebForm]);
        let err = EnabledChannels::from_lookup(&lookup(&[("CHANNELS_ENABLED", "email,fax")]))
            .unwrap_err();
        assert!(err.to_string().contains("CHANNELS_ENABLED"), "{err}");
        assert!(err.to_string().contains("fax"), "{err}");
    }
}
