//! Knowledge base storage: articles, their chunks (with a full-text vector)
//! and per-model embeddings. Search ranking lives in the agent crate; this
//! module only stores rows and runs the two primitive queries (nearest by
//! cosine distance, full-text rank).

use pgvector::Vector;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// An embedding model the schema has an HNSW index for. The dimension is
/// part of the identity because the index is built on a cast to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddingModel {
    /// The name stored in `knowledge_embeddings.model`.
    pub name: &'static str,
    /// The vector length.
    pub dimensions: usize,
}

/// all-MiniLM-L6-v2, run locally.
pub const MINILM: EmbeddingModel = EmbeddingModel {
    name: "all-minilm-l6-v2",
    dimensions: 384,
};
/// OpenAI text-embedding-3-small.
pub const OPENAI_SMALL: EmbeddingModel = EmbeddingModel {
    name: "text-embedding-3-small",
    dimensions: 1536,
};

/// An article as imported from `kb/`.
#[derive(Clone, Debug)]
pub struct NewArticle<'a> {
    /// `category/slug`.
    pub slug: &'a str,
    /// Title.
    pub title: &'a str,
    /// Markdown body.
    pub content: &'a str,
    /// Category.
    pub category: &'a str,
    /// Fact ids covered.
    pub facts: &'a [String],
    /// sha256 of title and body.
    pub content_hash: &'a str,
}

/// Inserts or updates an article by slug; returns its id and whether its
/// content changed (a new article counts as changed).
pub async fn upsert_article(
    executor: impl PgExecutor<'_>,
    article: &NewArticle<'_>,
) -> Result<(Uuid, bool), StoreError> {
    let row: (Uuid, bool) = sqlx::query_as(
        "with previous as (select content_hash from knowledge_base where slug = $1)
         insert into knowledge_base (slug, title, content, category, facts, content_hash)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (slug) do update set
             title = excluded.title,
             content = excluded.content,
             category = excluded.category,
             facts = excluded.facts,
             content_hash = excluded.content_hash,
             updated_at = case when knowledge_base.content_hash = excluded.content_hash
                               then knowledge_base.updated_at else now() end
         returning id, coalesce((select content_hash from previous) is distinct from $6, true)",
    )
    .bind(article.slug)
    .bind(article.title)
    .bind(article.content)
    .bind(article.category)
    .bind(article.facts)
    .bind(article.content_hash)
    .fetch_one(executor)
    .await?;
    Ok(row)
}

/// Stores chunk `index` of an article with its full-text vector (the title
/// weighted above the body); returns the chunk id.
pub async fn upsert_chunk(
    executor: impl PgExecutor<'_>,
    article_id: Uuid,
    index: i32,
    title: &str,
    content: &str,
) -> Result<Uuid, StoreError> {
    let id = sqlx::query_scalar(
        "insert into knowledge_chunks (article_id, chunk_index, content, search)
         values ($1, $2, $3, setweight(to_tsvector('english', $4), 'A') || setweight(to_tsvector('english', $3), 'B'))
         on conflict (article_id, chunk_index) do update set
             content = excluded.content, search = excluded.search, updated_at = now()
         returning id",
    )
    .bind(article_id)
    .bind(index)
    .bind(content)
    .bind(title)
    .fetch_one(executor)
    .await?;
    Ok(id)
}

/// Stores (or replaces) a chunk's embedding for `model`.
pub async fn upsert_embedding(
    executor: impl PgExecutor<'_>,
    chunk_id: Uuid,
    model: EmbeddingModel,
    embedding: Vec<f32>,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into knowledge_embeddings (chunk_id, model, dimensions, embedding)
         values ($1, $2, $3, $4)
         on conflict (chunk_id, model) do update set
             embedding = excluded.embedding, dimensions = excluded.dimensions, updated_at = now()",
    )
    .bind(chunk_id)
    .bind(model.name)
    .bind(i32::try_from(model.dimensions).unwrap_or(i32::MAX))
    .bind(Vector::from(embedding))
    .execute(executor)
    .await?;
    Ok(())
}

/// Deletes every article whose slug is not in `keep`, with its chunks and
/// embeddings (the foreign keys cascade); returns how many were deleted.
/// The import calls it with the slugs it found, so an article removed from
/// `kb/` leaves the knowledge base too.
pub async fn delete_articles_except(
    executor: impl PgExecutor<'_>,
    keep: &[String],
) -> Result<u64, StoreError> {
    let deleted = sqlx::query("delete from knowledge_base where not (slug = any($1))")
        .bind(keep)
        .execute(executor)
        .await?
        .rows_affected();
    Ok(deleted)
}

/// An article as stored, whole.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ArticleRow {
    /// `category/slug`.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: Option<String>,
    /// Markdown body.
    pub content: String,
    /// Last imported change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Every article's slug, title and category (the body left empty), by slug.
pub async fn articles(executor: impl PgExecutor<'_>) -> Result<Vec<ArticleRow>, StoreError> {
    let rows = sqlx::query_as(
        "select slug, title, category, '' as content, updated_at
         from knowledge_base order by slug",
    )
    .fetch_all(executor)
    .await?;
    Ok(rows)
}

/// Every word the knowledge base's chunks use, lower-cased, once each
/// (a few thousand for the shipped articles).
pub async fn words(executor: impl PgExecutor<'_>) -> Result<Vec<String>, StoreError> {
    let words = sqlx::query_scalar(
        "select distinct lower(word)
         from knowledge_chunks,
              regexp_split_to_table(content, '[^[:alnum:]'']+') as word
         where word <> ''",
    )
    .fetch_all(executor)
    .await?;
    Ok(words)
}

/// What changes whenever a chunk is written or removed: how many there are
/// and when the latest was written (to know when [`words`] must be re-read).
pub async fn chunks_version(
    executor: impl PgExecutor<'_>,
) -> Result<(i64, Option<chrono::DateTime<chrono::Utc>>), StoreError> {
    let version = sqlx::query_as("select count(*), max(updated_at) from knowledge_chunks")
        .fetch_one(executor)
        .await?;
    Ok(version)
}

/// The article with this slug.
pub async fn article(
    executor: impl PgExecutor<'_>,
    slug: &str,
) -> Result<Option<ArticleRow>, StoreError> {
    let row = sqlx::query_as(
        "select slug, title, category, content, updated_at from knowledge_base where slug = $1",
    )
    .bind(slug)
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// A chunk found by a search, with its article.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChunkHit {
    /// Chunk id.
    pub chunk_id: Uuid,
    /// Article id.
    pub article_id: Uuid,
    /// Article slug.
    pub slug: String,
    /// Article title.
    pub title: String,
    /// Chunk text.
    pub content: String,
    /// Cosine similarity (1 − distance) or full-text rank, per query.
    pub score: f64,
}

/// The SQL of [`nearest_chunks`] for `model` (binds: the query vector, the
/// limit). The cast and the model name are written into the text because
/// the HNSW index is partial per model on `embedding::vector(<dims>)`: only
/// literally matching expressions let the planner use it, also in the
/// generic plan of a prepared statement (a bound `model = $n` cannot prove
/// the index predicate). Both come from compile-time constants, never from
/// input. Public so benchmarks can `explain` the very query.
pub fn nearest_chunks_sql(model: EmbeddingModel) -> String {
    let dims = model.dimensions;
    let name = model.name;
    format!(
        "select c.id as chunk_id, a.id as article_id, a.slug, a.title, c.content,
                1 - (e.embedding::vector({dims}) <=> $1) as score
         from knowledge_embeddings e
         join knowledge_chunks c on c.id = e.chunk_id
         join knowledge_base a on a.id = c.article_id
         where e.model = '{name}'
         order by e.embedding::vector({dims}) <=> $1
         limit $2"
    )
}

/// The `k` chunks nearest to `query` by cosine distance among embeddings of
/// `model`, through that model's HNSW index.
pub async fn nearest_chunks(
    pool: &PgPool,
    model: EmbeddingModel,
    query: Vec<f32>,
    k: i64,
) -> Result<Vec<ChunkHit>, StoreError> {
    let hits = sqlx::query_as::<_, ChunkHit>(sqlx::AssertSqlSafe(nearest_chunks_sql(model)))
        .bind(Vector::from(query))
        .bind(k)
        .fetch_all(pool)
        .await?;
    Ok(hits)
}

/// Chunks the cheap `ts_rank` keeps before `ts_rank_cd` orders them (see
/// [`full_text_chunks`]).
pub const FULL_TEXT_POOL: i64 = 200;

/// The `k` chunks ranked highest by PostgreSQL full-text search for `query`
/// (words joined with OR, so partial matches still rank), by cover density
/// (`ts_rank_cd`, the title weighted above the body). An OR query over
/// common product words can match most chunks of a large base, and cover
/// density costs about ten times as much per chunk as `ts_rank` (`fte
/// bench kb` with 10,000 chunks), so the matches are first cut to the
/// [`FULL_TEXT_POOL`] best by `ts_rank`, and only those are ranked by
/// cover density; a base with fewer matches ranks exactly as before. The
/// articles are joined to the final `k` only.
pub async fn full_text_chunks(
    pool: &PgPool,
    query: &str,
    k: i64,
) -> Result<Vec<ChunkHit>, StoreError> {
    let hits = sqlx::query_as::<_, ChunkHit>(
        "with q as (
             select to_tsquery('english', string_agg(quote_literal(lexeme), ' | ')) as query
             from unnest(to_tsvector('english', $1))
         ), candidates as (
             select c.id, c.article_id, c.content, c.search
             from knowledge_chunks c, q
             where q.query is not null and c.search @@ q.query
             order by ts_rank(c.search, q.query) desc, c.id
             limit $3
         ), ranked as (
             select c.id, c.article_id, c.content, ts_rank_cd(c.search, q.query)::float8 as score
             from candidates c, q
             order by score desc, c.id
             limit $2
         )
         select r.id as chunk_id, a.id as article_id, a.slug, a.title, r.content, r.score
         from ranked r
         join knowledge_base a on a.id = r.article_id
         order by r.score desc, r.id",
    )
    .bind(query)
    .bind(k)
    .bind(FULL_TEXT_POOL)
    .fetch_all(pool)
    .await?;
    Ok(hits)
}
