//! Shared by the integration tests: the real local model (loaded once per
//! test binary) and a fresh database with the real `kb/` imported.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use fte_agent::{Embedder, LocalMiniLm, import_knowledge_base};
use fte_store::PgPool;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The local MiniLM model, loaded once (about a second) for all tests of
/// the binary. Run scripts/models.sh first.
pub static MODEL: LazyLock<Arc<LocalMiniLm>> = LazyLock::new(|| {
    let dir = std::env::var_os("FTE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models"))
        .join("all-minilm-l6-v2");
    Arc::new(LocalMiniLm::load(&dir).expect("the local model is installed: run scripts/models.sh"))
});

/// The model as a trait object.
pub fn embedder() -> Arc<dyn Embedder> {
    MODEL.clone()
}

/// A fresh database with the real knowledge base imported.
pub async fn database_with_kb() -> PgPool {
    let pool = fte_store::testing::fresh_database().await;
    import_knowledge_base(&pool, MODEL.as_ref(), &repo_root().join("kb"), |_, _| {})
        .await
        .expect("the knowledge base imports");
    pool
}
