use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use super::lookup::{Lookup, SettingsError};

/// `OPENAI_MODEL` default.
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";
/// `OPENAI_EMBEDDING_MODEL` default.
pub const DEFAULT_OPENAI_EMBEDDING_MODEL: &str = "text-embedding-3-small";
/// `FTE_MODELS_DIR` default, relative to the working directory.
pub const DEFAULT_MODELS_DIR: &str = "models";
/// The folder of the local MiniLM model inside the models directory.
pub const MINILM_FOLDER: &str = "all-minilm-l6-v2";
/// `AGENT_TIME_BUDGET_MS` default: the whole turn, model calls and tools.
pub const DEFAULT_AGENT_TIME_BUDGET_MS: u64 = 2500;
/// `AGENT_MAX_ITERATIONS` default: model round trips per turn.
pub const DEFAULT_AGENT_MAX_ITERATIONS: u32 = 6;
/// `OPENAI_TIMEOUT_MS` default: one HTTP request to the model.
pub const DEFAULT_OPENAI_TIMEOUT_MS: u64 = 2000;

/// Where embeddings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 run in process (no network).
    #[default]
    Local,
    /// OpenAI's embeddings endpoint.
    OpenAi,
}

impl FromStr for EmbeddingProvider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "local" | "minilm" => Ok(Self::Local),
            "openai" => Ok(Self::OpenAi),
            _ => Err("expected `local` or `openai`".into()),
        }
    }
}

impl fmt::Display for EmbeddingProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::OpenAi => "openai",
        })
    }
}

/// Settings of the support agent: the chat model, embeddings and the
/// per-turn budget.
#[derive(Clone, Debug)]
pub struct AgentSettings {
    /// `OPENAI_API_KEY`: when unset, the deterministic offline agent answers.
    pub openai_api_key: Option<SecretString>,
    /// `OPENAI_BASE_URL` (the OpenAI API): any OpenAI-compatible endpoint.
    pub openai_base_url: Option<String>,
    /// `OPENAI_MODEL` (gpt-4o-mini).
    pub openai_model: String,
    /// `OPENAI_EMBEDDING_MODEL` (text-embedding-3-small).
    pub openai_embedding_model: String,
    /// `OPENAI_TIMEOUT_MS` (2000): one HTTP request to the model.
    pub openai_timeout_ms: u64,
    /// `EMBEDDING_PROVIDER` (local): `local` or `openai`.
    pub embedding_provider: EmbeddingProvider,
    /// `FTE_MODELS_DIR` (models): where `scripts/models.sh` puts local models.
    pub models_dir: PathBuf,
    /// `AGENT_TIME_BUDGET_MS` (2500): after this a safe outcome is returned.
    pub time_budget_ms: u64,
    /// `AGENT_MAX_ITERATIONS` (6): model round trips per turn.
    pub max_iterations: u32,
}

impl AgentSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(&Lookup::env())
    }

    /// Reads the settings from `lookup`.
    pub fn from_lookup(lookup: &Lookup<'_>) -> Result<Self, SettingsError> {
        let embedding_provider =
            lookup.parsed_or("EMBEDDING_PROVIDER", EmbeddingProvider::default())?;
        let openai_api_key = lookup.get("OPENAI_API_KEY").map(SecretString::from);
        if embedding_provider == EmbeddingProvider::OpenAi && openai_api_key.is_none() {
            return Err(SettingsError::Missing {
                var: "OPENAI_API_KEY",
                hint: "EMBEDDING_PROVIDER=openai needs an OpenAI key (or use EMBEDDING_PROVIDER=local)",
            });
        }
        let time_budget_ms =
            lookup.parsed_or("AGENT_TIME_BUDGET_MS", DEFAULT_AGENT_TIME_BUDGET_MS)?;
        if time_budget_ms == 0 {
            return Err(SettingsError::Invalid {
                var: "AGENT_TIME_BUDGET_MS",
                reason: "must be at least 1".into(),
            });
        }
        let max_iterations =
            lookup.parsed_or("AGENT_MAX_ITERATIONS", DEFAULT_AGENT_MAX_ITERATIONS)?;
        if max_iterations == 0 {
            return Err(SettingsError::Invalid {
                var: "AGENT_MAX_ITERATIONS",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            openai_api_key,
            openai_base_url: lookup.get("OPENAI_BASE_URL"),
            openai_model: lookup
                .get("OPENAI_MODEL")
                .unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into()),
            openai_embedding_model: lookup
                .get("OPENAI_EMBEDDING_MODEL")
                .unwrap_or_else(|| DEFAULT_OPENAI_EMBEDDING_MODEL.into()),
            openai_timeout_ms: lookup.parsed_or("OPENAI_TIMEOUT_MS", DEFAULT_OPENAI_TIMEOUT_MS)?,
            embedding_provider,
            models_dir: lookup
                .get("FTE_MODELS_DIR")
                .map_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR), PathBuf::from),
            time_budget_ms,
            max_iterations,
        })
    }

    /// The folder of the local MiniLM model.
    pub fn minilm_dir(&self) -> PathBuf {
        self.models_dir.join(MINILM_FOLDER)
    }

    /// The per-turn time budget.
    pub fn time_budget(&self) -> Duration {
        Duration::from_millis(self.time_budget_ms)
    }

    /// The timeout of one request to the model.
    pub fn openai_timeout(&self) -> Duration {
        Duration::from_millis(self.openai_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::super::test_support::lookup;
    use super::*;

    #[test]
    fn defaults_are_offline_and_local() {
        let s = AgentSettings::from_lookup(&lookup(&[])).unwrap();
        assert!(s.openai_api_key.is_none());
        assert_eq!(s.openai_model, "gpt-4o-mini");
        assert_eq!(s.embedding_provider, EmbeddingProvider::Local);
        assert_eq!(s.time_budget_ms, 2500);
        assert_eq!(s.max_iterations, 6);
        assert_eq!(s.minilm_dir(), PathBuf::from("models/all-minilm-l6-v2"));
    }

    #[test]
    fn key_is_read_and_never_printed() {
        let s = AgentSettings::from_lookup(&lookup(&[("OPENAI_API_KEY", "sk-secret")])).unwrap();
        assert_eq!(
            s.openai_api_key.as_ref().unwrap().expose_secret(),
            "sk-secret"
        );
        assert!(!format!("{s:?}").contains("sk-secret"));
    }

    #[test]
    fn openai_embeddings_without_a_key_name_the_variable() {
        let err =
            AgentSettings::from_lookup(&lookup(&[("EMBEDDING_PROVIDER", "openai")])).unwrap_err();
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
        let err =
            AgentSettings::from_lookup(&lookup(&[("EMBEDDING_PROVIDER", "bert")])).unwrap_err();
        assert!(err.to_string().contains("EMBEDDING_PROVIDER"), "{err}");
    }
}
