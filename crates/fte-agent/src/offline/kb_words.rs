//! The knowledge base's words, toward which misspelt words are corrected
//! ([`crate::relevance::corrected_spelling`]).
//!
//! Reading them takes one query over every chunk, so they are kept in
//! memory; a cheap version query (how many chunks, the latest write) is
//! asked at most once per [`RECHECK`], and the words are read again only
//! when it changed. An import into a running worker is therefore used
//! within a minute instead of at the next restart, when a new word of the
//! import would have been taken for a typo of an older one.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fte_store::{PgPool, StoreError};
use tokio::sync::Mutex;

/// How long the words are used before the knowledge base's version is
/// asked again.
pub(crate) const RECHECK: Duration = Duration::from_secs(60);

type Version = (i64, Option<chrono::DateTime<chrono::Utc>>);

/// The words and the knowledge base version they were read at.
#[derive(Debug)]
struct Loaded {
    version: Version,
    words: Arc<HashSet<String>>,
    checked: Instant,
}

/// The cached words of one knowledge base. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub(crate) struct KbWords {
    recheck: Duration,
    loaded: Mutex<Option<Loaded>>,
}

impl Default for KbWords {
    fn default() -> Self {
        Self::rechecked_every(RECHECK)
    }
}

impl KbWords {
    /// A cache that asks for the version at most once per `recheck`.
    pub(crate) fn rechecked_every(recheck: Duration) -> Self {
        Self {
            recheck,
            loaded: Mutex::new(None),
        }
    }

    /// The knowledge base's words, read again when it changed. Concurrent
    /// callers wait for one reader rather than all reading.
    pub(crate) async fn get(&self, pool: &PgPool) -> Result<Arc<HashSet<String>>, StoreError> {
        let mut loaded = self.loaded.lock().await;
        if let Some(current) = loaded.as_ref()
            && current.checked.elapsed() < self.recheck
        {
            return Ok(Arc::clone(&current.words));
        }
        // The version is read before the words: a write between the two
        // leaves an older version beside newer words, read once more later.
        let version = fte_store::knowledge::chunks_version(pool).await?;
        if let Some(current) = loaded.as_mut()
            && current.version == version
        {
            current.checked = Instant::now();
            return Ok(Arc::clone(&current.words));
        }
        let words: Arc<HashSet<String>> = Arc::new(
            fte_store::knowledge::words(pool)
                .await?
                .into_iter()
                .collect(),
        );
        *loaded = Some(Loaded {
            version,
            words: Arc::clone(&words),
            checked: Instant::now(),
        });
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds a chunk holding `text` to the first article.
    async fn add_chunk(pool: &PgPool, text: &str) {
        let (article, title): (uuid::Uuid, String) =
            sqlx::query_as("select id, title from knowledge_base order by slug limit 1")
                .fetch_one(pool)
                .await
                .unwrap();
        fte_store::knowledge::upsert_chunk(pool, article, 9_999, &title, text)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn words_an_import_adds_are_known_at_the_next_check_and_not_before() {
        let pool = fte_testkit::kb::database_with_kb().await;
        let every_time = KbWords::rechecked_every(Duration::ZERO);
        let hourly = KbWords::rechecked_every(Duration::from_secs(3_600));
        for cache in [&every_time, &hourly] {
            let words = cache.get(&pool).await.unwrap();
            assert!(words.contains("workspace") && !words.contains("quillboard"));
        }

        add_chunk(&pool, "Quillboard pages can be shared with guests.").await;
        assert!(every_time.get(&pool).await.unwrap().contains("quillboard"));
        assert!(!hourly.get(&pool).await.unwrap().contains("quillboard"));

        // A removed chunk is noticed too.
        sqlx::query("delete from knowledge_chunks where chunk_index = 9999")
            .execute(&pool)
            .await
            .unwrap();
        assert!(!every_time.get(&pool).await.unwrap().contains("quillboard"));
    }
}
