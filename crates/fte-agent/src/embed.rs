//! Sentence embeddings: the [`Embedder`] trait, the local all-MiniLM-L6-v2
//! model run in pure Rust ([`LocalMiniLm`]) and OpenAI's
//! text-embedding-3-small ([`OpenAiEmbedder`]).
//!
//! The local model is the default so the product runs, and its tests pass,
//! without a network: `scripts/models.sh` installs the weights once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use fte_runtime::settings::AgentSettings;
use fte_store::knowledge::{EmbeddingModel, MINILM, OPENAI_SMALL};
use secrecy::ExposeSecret;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is missing or unreadable.
    #[error("cannot load the embedding model from {path}: {reason} (run scripts/models.sh)")]
    Load {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The local model failed while running.
    #[error("local embedding failed: {0}")]
    Inference(String),
    /// The embeddings API failed.
    #[error("embeddings API failed: {0}")]
    Api(String),
}

/// Turns texts into vectors of one model.
#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// One vector per text, in order, L2-normalised.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// The model (name and dimension) the vectors belong to.
    fn model(&self) -> EmbeddingModel;

    /// Whether `word` (lowercase) is one whole entry of the model's
    /// vocabulary — a common word rather than a name or a rare term; `None`
    /// when the model's vocabulary is not at hand.
    fn knows_word(&self, _word: &str) -> Option<bool> {
        None
    }
}

/// Texts per forward pass: large enough to amortise the call, small enough
/// to keep the padded batch tensor modest.
const LOCAL_BATCH: usize = 32;
/// Word pieces kept per text; chunks are ~200 words, well inside this.
const LOCAL_MAX_TOKENS: usize = 256;

struct MiniLmInner {
    model: BertModel,
    tokenizer: Tokenizer,
    /// One permit per core: passes beyond that would only share the CPU
    /// with the others, so they wait their turn, first come first served.
    cores: tokio::sync::Semaphore,
}

/// all-MiniLM-L6-v2 on the CPU with candle: mean pooling over the attention
/// mask, then L2 normalisation (the sentence-transformers recipe).
///
/// At most one call per core runs at once. Measured with a burst of 100
/// conversations on two cores (1 s model, two workers of 64 turns each):
/// with every call running at once, ~100 passes shared the CPU, each search
/// finished late, the model turns waiting on them ran out of their time
/// budget together and the whole burst was answered after 35 s (P50); in
/// turn, half of it within 4.6 s. Batching waiting calls into one pass was
/// tried and not kept: 32 short questions take 187 ms as one batch against
/// 472 ms one by one, but a batch is padded to its longest text, and in the
/// same burst the P50 went back to 33 s.
#[derive(Clone)]
pub struct LocalMiniLm {
    inner: Arc<MiniLmInner>,
}

impl std::fmt::Debug for LocalMiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalMiniLm").finish_non_exhaustive()
    }
}

impl LocalMiniLm {
    /// Loads `model.safetensors`, `tokenizer.json` and `config.json` from
    /// `dir` (for example `models/all-minilm-l6-v2`).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let load_error = |file: &str, reason: String| EmbedError::Load {
            path: dir.join(file),
            reason,
        };
        let config_text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| load_error("config.json", e.to_string()))?;
        let config: BertConfig = serde_json::from_str(&config_text)
            .map_err(|e| load_error("config.json", e.to_string()))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| load_error("tokenizer.json", e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: LOCAL_MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| load_error("tokenizer.json", e.to_string()))?;
        // Read into memory rather than mmap: mmap is `unsafe` (the file
        // could change underneath), which the workspace forbids, and 90 MB
        // once per process is cheap.
        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| load_error("model.safetensors", e.to_string()))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|e| load_error("model.safetensors", e.to_string()))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| load_error("model.safetensors", e.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            inner: Arc::new(MiniLmInner {
                model,
                tokenizer,
                cores: tokio::sync::Semaphore::new(cores),
            }),
        })
    }

    /// Embeds synchronously (CPU bound: call from a blocking thread).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(LOCAL_BATCH) {
            out.extend(
                self.embed_batch(batch)
                    .map_err(|e| EmbedError::Inference(e.to_string()))?,
            );
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let inner = &self.inner;
        let encodings = inner
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("tokenize: {e}"))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for encoding in &encodings {
            ids.extend(encoding.get_ids().iter().map(|&id| id as i64));
            mask.extend(encoding.get_attention_mask().iter().map(|&m| m as i64));
        }
        let device = &inner.model.device;
        let input_ids = Tensor::from_vec(ids, (rows, width), device)?;
        let attention = Tensor::from_vec(mask, (rows, width), device)?;
        let token_types = input_ids.zeros_like()?;
        let hidden = inner
            .model
            .forward(&input_ids, &token_types, Some(&attention))?; // (rows, width, 384)
        let mask_f = attention.to_dtype(DType::F32)?.unsqueeze(2)?; // (rows, width, 1)
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?; // (rows, 384)
        let counts = mask_f.sum(1)?.clamp(1e-9, f64::MAX)?; // (rows, 1)
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let normalised = mean.broadcast_div(&norms)?;
        Ok(normalised.to_vec2::<f32>()?)
    }
}

#[async_trait::async_trait]
impl Embedder for LocalMiniLm {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let _core = self
            .inner
            .cores
            .acquire()
            .await
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let this = self.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || this.embed_blocking(&texts))
            .await
            .map_err(|e| EmbedError::Inference(e.to_string()))?
    }

    fn model(&self) -> EmbeddingModel {
        MINILM
    }

    fn knows_word(&self, word: &str) -> Option<bool> {
        Some(self.inner.tokenizer.token_to_id(word).is_some())
    }
}

/// Most vectors an [`EmbeddingCache`] keeps (about 1.5 KiB each at 384
/// dimensions); when full it starts over.
const CACHE_CAPACITY: usize = 20_000;

/// Vectors of texts already embedded with one model, so texts that recur
/// (the answer sentences of knowledge base articles, which every similar
/// question draws on) are embedded once per process rather than once per
/// message. Keyed by the text itself, so an edited article simply misses.
#[derive(Debug, Default)]
pub struct EmbeddingCache {
    vectors: std::sync::Mutex<std::collections::HashMap<String, Vec<f32>>>,
}

impl EmbeddingCache {
    /// The vectors of `texts` in order: cached ones from memory, the rest
    /// embedded in one call to `embedder` and remembered.
    pub async fn embed(
        &self,
        embedder: &dyn Embedder,
        texts: &[String],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut found: Vec<Option<Vec<f32>>> = {
            let vectors = self.vectors.lock().unwrap_or_else(|e| e.into_inner());
            texts.iter().map(|t| vectors.get(t).cloned()).collect()
        };
        let missing: Vec<String> = texts
            .iter()
            .zip(&found)
            .filter(|(_, v)| v.is_none())
            .map(|(t, _)| t.clone())
            .collect();
        if !missing.is_empty() {
            let embedded = embedder.embed(&missing).await?;
            if embedded.len() != missing.len() {
                return Err(EmbedError::Inference(format!(
                    "{} vectors for {} texts",
                    embedded.len(),
                    missing.len()
                )));
            }
            let mut vectors = self.vectors.lock().unwrap_or_else(|e| e.into_inner());
            if vectors.len() + missing.len() > CACHE_CAPACITY {
                vectors.clear();
            }
            let mut fresh = missing.into_iter().zip(embedded);
            for slot in found.iter_mut().filter(|v| v.is_none()) {
                if let Some((text, vector)) = fresh.next() {
                    vectors.insert(text, vector.clone());
                    *slot = Some(vector);
                }
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// How many vectors are cached.
    pub fn len(&self) -> usize {
        self.vectors.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// OpenAI's embeddings endpoint (or any compatible one).
#[derive(Clone)]
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model_name: String,
    timeout: std::time::Duration,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("model", &self.model_name)
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbedder {
    /// From `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_EMBEDDING_MODEL`.
    /// Only text-embedding-3-small has an index in the schema.
    pub fn from_settings(settings: &AgentSettings) -> Result<Self, EmbedError> {
        let key = settings
            .openai_api_key
            .as_ref()
            .ok_or_else(|| EmbedError::Api("OPENAI_API_KEY is not set".into()))?;
        if settings.openai_embedding_model != OPENAI_SMALL.name {
            return Err(EmbedError::Api(format!(
                "only {} has a vector index; OPENAI_EMBEDDING_MODEL names another model",
                OPENAI_SMALL.name
            )));
        }
        let mut config = OpenAIConfig::new().with_api_key(key.expose_secret());
        if let Some(base) = &settings.openai_base_url {
            config = config.with_api_base(base);
        }
        Ok(Self {
            client: Client::with_config(config),
            model_name: settings.openai_embedding_model.clone(),
            timeout: settings.openai_timeout() * 5,
        })
    }
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(texts.len());
        // The API takes at most 2,048 inputs per request.
        for batch in texts.chunks(256) {
            let request = CreateEmbeddingRequest {
                model: self.model_name.clone(),
                input: EmbeddingInput::StringArray(batch.to_vec()),
                ..Default::default()
            };
            let response =
                tokio::time::timeout(self.timeout, self.client.embeddings().create(request))
                    .await
                    .map_err(|_| EmbedError::Api("timed out".into()))?
                    .map_err(|e| EmbedError::Api(e.to_string()))?;
            // Billed to the agent turn this call belongs to, if any.
            crate::turn_tokens::record_embedding_tokens(response.usage.prompt_tokens);
            let mut data = response.data;
            data.sort_by_key(|d| d.index);
            if data.len() != batch.len() {
                return Err(EmbedError::Api(
                    "wrong number of embeddings returned".into(),
                ));
            }
            out.extend(data.into_iter().map(|d| d.embedding));
        }
        Ok(out)
    }

    fn model(&self) -> EmbeddingModel {
        OPENAI_SMALL
    }
}

/// Cosine similarity of two L2-normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A two-dimensional "model" that counts the texts it embeds.
    #[derive(Default)]
    struct Counting {
        texts: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Embedder for Counting {
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.texts.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }

        fn model(&self) -> EmbeddingModel {
            EmbeddingModel {
                name: "counting",
                dimensions: 2,
            }
        }
    }

    #[tokio::test]
    async fn the_cache_embeds_each_text_once_and_keeps_the_order() {
        let model = Counting::default();
        let cache = EmbeddingCache::default();
        let first = ["a".to_owned(), "bbb".to_owned()];
        assert_eq!(
            cache.embed(&model, &first).await.unwrap(),
            vec![vec![1.0, 1.0], vec![3.0, 1.0]]
        );
        let second = ["cc".to_owned(), "a".to_owned(), "bbb".to_owned()];
        assert_eq!(
            cache.embed(&model, &second).await.unwrap(),
            vec![vec![2.0, 1.0], vec![1.0, 1.0], vec![3.0, 1.0]]
        );
        assert_eq!(model.texts.load(Ordering::SeqCst), 3, "only \"cc\" was new");
        assert_eq!(cache.len(), 3);
    }
}
