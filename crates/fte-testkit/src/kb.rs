//! The real local embedding model (loaded once per test binary) and a fresh
//! database holding the real `kb/`: imported once per test binary, then
//! copied per test.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use fte_agent::{Embedder, LocalMiniLm, import_knowledge_base};
use fte_store::PgPool;
use tokio::sync::OnceCell;

pub use crate::repo_root;

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

/// The database with the real `kb/` imported, built once per test binary.
static KB_TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn kb_template() -> String {
    KB_TEMPLATE
        .get_or_init(|| async {
            let pool = fte_store::testing::fresh_database().await;
            import_knowledge_base(&pool, MODEL.as_ref(), &repo_root().join("kb"), |_, _| {})
                .await
                .expect("the knowledge base imports");
            let name: String = sqlx::query_scalar("select current_database()")
                .fetch_one(&pool)
                .await
                .expect("the database's name");
            pool.close().await;
            name
        })
        .await
        .clone()
}

/// A fresh database with the real knowledge base imported.
pub async fn database_with_kb() -> PgPool {
    crate::db::copy_of(&kb_template().await).await
}
