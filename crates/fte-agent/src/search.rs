//! Hybrid knowledge search: pgvector cosine similarity and PostgreSQL full
//! text, fused by reciprocal rank fusion (RRF, k = 60).
//!
//! Why both: embeddings find "locked out" for "cannot sign in", full text
//! finds exact tokens such as "429", "ORB-123" or "SCIM" that a small model
//! blurs. RRF needs no score calibration between the two lists.
//!
//! Why a separate relevance test: RRF always ranks *something* first. Whether
//! the best hit is relevant enough to answer from is decided on the cosine
//! similarity of the semantic side ([`RELEVANCE_THRESHOLD`]); below it the
//! search is a miss and the agent escalates with `search_failed`.

use std::collections::HashMap;
use std::sync::Arc;

use fte_runtime::metrics;
use fte_store::PgPool;
use fte_store::knowledge::{self, ChunkHit};
use uuid::Uuid;

use crate::embed::Embedder;
use crate::types::AgentError;

/// The RRF constant from the original paper (Cormack et al., 2009).
pub const RRF_K: f64 = 60.0;
/// Candidates taken from each side before fusion.
pub const CANDIDATES: i64 = 20;
/// A search is a hit when its best chunk's cosine similarity with the query
/// (all-MiniLM-L6-v2) reaches this. Chosen on the sample tickets: every
/// answerable question scores above, questions about features the product
/// does not have (video calls, GraphQL) below.
pub const RELEVANCE_THRESHOLD: f64 = 0.42;
/// A best chunk that both sides found (its words match the query's, and its
/// meaning is near) is a hit from this lower similarity: short or oddly
/// phrased questions ("stop emails about comments pls") score low on cosine
/// although the ranking is right. Chosen on the tuning tickets.
pub const AGREED_THRESHOLD: f64 = 0.30;

/// One chunk in the fused ranking.
#[derive(Clone, Debug)]
pub struct SearchHit {
    /// Chunk id.
    pub chunk_id: Uuid,
    /// Article id.
    pub article_id: Uuid,
    /// Article slug (`category/slug`).
    pub slug: String,
    /// Article title.
    pub title: String,
    /// Chunk text.
    pub content: String,
    /// The fused RRF score.
    pub score: f64,
    /// Cosine similarity with the query, when the semantic side found it.
    pub similarity: Option<f64>,
    /// Full-text rank, when the full-text side found it.
    pub text_rank: Option<f64>,
}

/// The result of one search.
#[derive(Clone, Debug, Default)]
pub struct SearchResults {
    /// Hits, best first.
    pub hits: Vec<SearchHit>,
    /// The best cosine similarity among the hits.
    pub best_similarity: f64,
}

impl SearchResults {
    /// Whether the best hit is relevant enough to answer from.
    pub fn is_hit(&self) -> bool {
        self.best_similarity >= RELEVANCE_THRESHOLD
            || self.hits.first().is_some_and(|hit| {
                hit.text_rank.is_some() && hit.similarity.is_some_and(|s| s >= AGREED_THRESHOLD)
            })
    }

    /// Hits grouped by article, in order of each article's best hit;
    /// keeps at most `n` articles.
    pub fn top_articles(&self, n: usize) -> Vec<Vec<&SearchHit>> {
        let mut order: Vec<Uuid> = Vec::new();
        let mut groups: HashMap<Uuid, Vec<&SearchHit>> = HashMap::new();
        for hit in &self.hits {
            if !groups.contains_key(&hit.article_id) {
                order.push(hit.article_id);
            }
            groups.entry(hit.article_id).or_default().push(hit);
        }
        order
            .into_iter()
            .take(n)
            .filter_map(|id| groups.remove(&id))
            .collect()
    }
}

/// Hybrid search over the knowledge base with one embedding model.
#[derive(Clone)]
pub struct HybridSearch {
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
}

impl std::fmt::Debug for HybridSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridSearch")
            .field("model", &self.embedder.model().name)
            .finish_non_exhaustive()
    }
}

impl HybridSearch {
    /// A search over `pool`'s knowledge base with `embedder`'s model (the
    /// articles must have been imported with the same model).
    pub fn new(pool: PgPool, embedder: Arc<dyn Embedder>) -> Self {
        Self { pool, embedder }
    }

    /// The embedder (shared with the import).
    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// Searches for `query`, returning at most `limit` fused hits, and
    /// counts the search as a hit or a miss.
    pub async fn search(&self, query: &str, limit: usize) -> Result<SearchResults, AgentError> {
        let results = self.search_uncounted(query, limit).await?;
        let outcome = if results.is_hit() { "hit" } else { "miss" };
        metrics::global()
            .kb_searches
            .with_label_values(&[outcome])
            .inc();
        Ok(results)
    }

    /// [`search`](Self::search) without touching the metrics (evaluation).
    pub async fn search_uncounted(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<SearchResults, AgentError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(SearchResults::default());
        }
        let vector = self.embed_query(query).await?;
        self.search_embedded(query, vector, limit).await
    }

    /// The query's embedding (the first half of a search; benchmarks time
    /// it apart from the SQL).
    pub async fn embed_query(&self, query: &str) -> Result<Vec<f32>, AgentError> {
        Ok(self
            .embedder
            .embed(&[query.to_owned()])
            .await?
            .pop()
            .unwrap_or_default())
    }

    /// The second half of a search: both SQL queries for an already
    /// embedded `query`, fused; not counted in the metrics.
    pub async fn search_embedded(
        &self,
        query: &str,
        vector: Vec<f32>,
        limit: usize,
    ) -> Result<SearchResults, AgentError> {
        let (semantic, text) = tokio::try_join!(
            knowledge::nearest_chunks(&self.pool, self.embedder.model(), vector, CANDIDATES),
            knowledge::full_text_chunks(&self.pool, query, CANDIDATES),
        )?;
        Ok(fuse(semantic, text, limit))
    }
}

/// Reciprocal rank fusion of the two ranked lists.
pub fn fuse(semantic: Vec<ChunkHit>, text: Vec<ChunkHit>, limit: usize) -> SearchResults {
    let mut fused: HashMap<Uuid, SearchHit> = HashMap::new();
    let mut best_similarity: f64 = 0.0;
    for (rank, hit) in semantic.into_iter().enumerate() {
        best_similarity = best_similarity.max(hit.score);
        let entry = fused.entry(hit.chunk_id).or_insert_with(|| to_hit(&hit));
        entry.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        entry.similarity = Some(hit.score);
    }
    for (rank, hit) in text.into_iter().enumerate() {
        let entry = fused.entry(hit.chunk_id).or_insert_with(|| to_hit(&hit));
        entry.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        entry.text_rank = Some(hit.score);
    }
    let mut hits: Vec<SearchHit> = fused.into_values().collect();
    hits.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(
            b.similarity
                .unwrap_or(0.0)
                .total_cmp(&a.similarity.unwrap_or(0.0)),
        )
    });
    hits.truncate(limit);
    SearchResults {
        hits,
        best_similarity,
    }
}

fn to_hit(hit: &ChunkHit) -> SearchHit {
    SearchHit {
        chunk_id: hit.chunk_id,
        article_id: hit.article_id,
        slug: hit.slug.clone(),
        title: hit.title.clone(),
        content: hit.content.clone(),
        score: 0.0,
        similarity: None,
        text_rank: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: u128, score: f64) -> ChunkHit {
        ChunkHit {
            chunk_id: Uuid::from_u128(id),
            article_id: Uuid::from_u128(id + 1000),
            slug: format!("a/{id}"),
            title: format!("T{id}"),
            content: String::new(),
            score,
        }
    }

    #[test]
    fn a_chunk_ranked_by_both_sides_beats_one_ranked_first_by_one_side() {
        let semantic = vec![chunk(1, 0.9), chunk(2, 0.8)];
        let text = vec![chunk(3, 0.5), chunk(2, 0.4)];
        let results = fuse(semantic, text, 10);
        assert_eq!(results.hits[0].chunk_id, Uuid::from_u128(2));
        let expected = 1.0 / 62.0 + 1.0 / 62.0;
        assert!((results.hits[0].score - expected).abs() < 1e-12);
        assert_eq!(results.hits.len(), 3);
        assert!((results.best_similarity - 0.9).abs() < 1e-12);
        assert!(results.is_hit());
    }

    #[test]
    fn low_similarity_is_a_miss_even_with_text_matches() {
        let results = fuse(vec![chunk(1, 0.2)], vec![chunk(1, 0.9)], 5);
        assert!(!results.is_hit());
    }
}
