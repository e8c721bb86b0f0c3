//! What the model's tokens are charged at, for the cost view.
//!
//! The documented models (`OPENAI_MODEL` and `OPENAI_EMBEDDING_MODEL`
//! defaults and the alternatives the docs name) have their list prices as
//! defaults; any other model needs its prices set, and start-up says so
//! rather than reporting a cost of zero for tokens that were paid for.

use fte_domain::cost::ModelPrices;

use super::agent::{DEFAULT_OPENAI_EMBEDDING_MODEL, DEFAULT_OPENAI_MODEL};
use super::lookup::{Lookup, SettingsError};

/// List prices of the documented chat models, US dollars per million
/// tokens (input, output): OpenAI's price list as of 2026-06-21.
pub const DOCUMENTED_CHAT_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
];

/// List prices of the documented embedding models, US dollars per million
/// tokens: OpenAI's price list as of 2026-06-21.
pub const DOCUMENTED_EMBEDDING_PRICES: &[(&str, f64)] = &[
    ("text-embedding-3-small", 0.02),
    ("text-embedding-3-large", 0.13),
];

/// The documented (input, output) price of a chat model.
pub fn documented_chat_price(model: &str) -> Option<(f64, f64)> {
    DOCUMENTED_CHAT_PRICES
        .iter()
        .find(|(name, _, _)| *name == model)
        .map(|(_, input, output)| (*input, *output))
}

/// The documented price of an embedding model.
pub fn documented_embedding_price(model: &str) -> Option<f64> {
    DOCUMENTED_EMBEDDING_PRICES
        .iter()
        .find(|(name, _)| *name == model)
        .map(|(_, price)| *price)
}

/// The prices every agent turn is costed at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PriceSettings {
    /// `MODEL_PRICE_INPUT_PER_MTOK` / `MODEL_PRICE_OUTPUT_PER_MTOK` (the
    /// documented price of `OPENAI_MODEL`: 0.15 / 0.60 for gpt-4o-mini) and
    /// `MODEL_PRICE_EMBEDDING_PER_MTOK` (the documented price of
    /// `OPENAI_EMBEDDING_MODEL`: 0.02 for text-embedding-3-small).
    pub prices: ModelPrices,
}

impl Default for PriceSettings {
    /// The default models' documented prices.
    fn default() -> Self {
        let (input, output) = documented_chat_price(DEFAULT_OPENAI_MODEL).unwrap_or((0.0, 0.0));
        let embedding = documented_embedding_price(DEFAULT_OPENAI_EMBEDDING_MODEL).unwrap_or(0.0);
        Self {
            prices: ModelPrices {
                input_per_mtok: input,
                output_per_mtok: output,
                embedding_per_mtok: embedding,
            },
        }
    }
}

impl PriceSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`. A price left unset takes the
    /// documented price of the configured model; a model without one fails
    /// naming the variable to set, but only where tokens are paid for (an
    /// `OPENAI_API_KEY` is set): the offline agent spends none.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let paid = lookup.get("OPENAI_API_KEY").is_some();
        let chat_model = lookup
            .get("OPENAI_MODEL")
            .unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into());
        let embedding_model = lookup
            .get("OPENAI_EMBEDDING_MODEL")
            .unwrap_or_else(|| DEFAULT_OPENAI_EMBEDDING_MODEL.into());
        let (chat_input, chat_output) = match documented_chat_price(&chat_model) {
            Some((input, output)) => (Some(input), Some(output)),
            None => (None, None),
        };
        let input = price(lookup, "MODEL_PRICE_INPUT_PER_MTOK", chat_input, paid)?;
        let output = price(lookup, "MODEL_PRICE_OUTPUT_PER_MTOK", chat_output, paid)?;
        let embedding = price(
            lookup,
            "MODEL_PRICE_EMBEDDING_PER_MTOK",
            documented_embedding_price(&embedding_model),
            paid,
        )?;
        Ok(Self {
            prices: ModelPrices {
                input_per_mtok: input,
                output_per_mtok: output,
                embedding_per_mtok: embedding,
            },
        })
    }
}

/// One price: the variable, else the documented price, else 0 when nothing
/// is paid for, else a startup error naming the variable.
fn price(
    lookup: &Lookup<'_>,
    var: &'static str,
    documented: Option<f64>,
    paid: bool,
) -> Result<f64, SettingsError> {
    let Some(raw) = lookup.get(var) else {
        return match (documented, paid) {
            (Some(price), _) => Ok(price),
            (None, false) => Ok(0.0),
            (None, true) => Err(SettingsError::Missing {
                var,
                hint: "the configured model has no documented price: set MODEL_PRICE_INPUT_PER_MTOK, MODEL_PRICE_OUTPUT_PER_MTOK and MODEL_PRICE_EMBEDDING_PER_MTOK in US dollars per million tokens (0 for a self-hosted model)",
            }),
        };
    };
    let value: f64 = raw.trim().parse().map_err(|_| SettingsError::Invalid {
        var,
        reason: "expected US dollars per million tokens, such as 0.15".into(),
    })?;
    if !value.is_finite() || value < 0.0 {
        return Err(SettingsError::Invalid {
            var,
            reason: "must be a finite number of dollars, 0 or more".into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn the_default_models_are_priced_at_their_list_prices() {
        let s = PriceSettings::from_lookup(&lookup(&[("OPENAI_API_KEY", "sk-x")])).unwrap();
        assert_eq!(s.prices, ModelPrices::new(0.15, 0.60, 0.02).unwrap());
        assert_eq!(s, PriceSettings::default());
    }

    #[test]
    fn a_documented_model_brings_its_own_prices() {
        let s = PriceSettings::from_lookup(&lookup(&[
            ("OPENAI_API_KEY", "sk-x"),
            ("OPENAI_MODEL", "gpt-4o"),
            ("OPENAI_EMBEDDING_MODEL", "text-embedding-3-large"),
        ]))
        .unwrap();
        assert_eq!(s.prices, ModelPrices::new(2.50, 10.00, 0.13).unwrap());
    }

    #[test]
    fn configured_prices_win_over_the_documented_ones() {
        let s = PriceSettings::from_lookup(&lookup(&[
            ("OPENAI_API_KEY", "sk-x"),
            ("MODEL_PRICE_INPUT_PER_MTOK", "0.075"),
            ("MODEL_PRICE_OUTPUT_PER_MTOK", "0.3"),
            ("MODEL_PRICE_EMBEDDING_PER_MTOK", "0"),
        ]))
        .unwrap();
        assert_eq!(s.prices, ModelPrices::new(0.075, 0.3, 0.0).unwrap());
    }

    #[test]
    fn an_undocumented_paid_model_needs_its_prices() {
        let err = PriceSettings::from_lookup(&lookup(&[
            ("OPENAI_API_KEY", "sk-x"),
            ("OPENAI_MODEL", "llama-3.1-8b"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains("MODEL_PRICE_INPUT_PER_MTOK"),
            "{err}"
        );
        let s = PriceSettings::from_lookup(&lookup(&[
            ("OPENAI_API_KEY", "sk-x"),
            ("OPENAI_MODEL", "llama-3.1-8b"),
            ("MODEL_PRICE_INPUT_PER_MTOK", "0"),
            ("MODEL_PRICE_OUTPUT_PER_MTOK", "0"),
        ]))
        .unwrap();
        assert_eq!(s.prices.output_per_mtok, 0.0);
        assert_eq!(s.prices.embedding_per_mtok, 0.02);
    }

    #[test]
    fn without_a_key_an_undocumented_model_costs_nothing() {
        let s = PriceSettings::from_lookup(&lookup(&[("OPENAI_MODEL", "llama-3.1-8b")])).unwrap();
        assert_eq!(s.prices.input_per_mtok, 0.0);
    }

    #[test]
    fn a_negative_or_unreadable_price_names_its_variable() {
        for bad in ["-1", "cheap", "NaN", "inf"] {
            let err = PriceSettings::from_lookup(&lookup(&[("MODEL_PRICE_OUTPUT_PER_MTOK", bad)]))
                .unwrap_err();
            assert!(
                err.to_string().contains("MODEL_PRICE_OUTPUT_PER_MTOK"),
                "{bad}: {err}"
            );
        }
    }
}
