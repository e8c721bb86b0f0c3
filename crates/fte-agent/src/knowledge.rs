//! Importing `kb/` into the knowledge base: front matter, chunking and
//! embeddings, idempotent by content hash.
//!
//! Chunks follow the article's own structure: sections split at headings,
//! merged while they stay under [`CHUNK_MAX_WORDS`], long sections split at
//! paragraphs. A chunk is embedded with its article title in front, because
//! a section like "Things to know about the reset link" means little alone.

use std::path::{Path, PathBuf};

use fte_store::PgPool;
use fte_store::knowledge::{self, EmbeddingModel, NewArticle};
use sha2::{Digest, Sha256};

use crate::embed::{EmbedError, Embedder};

/// A chunk grows by whole sections up to this many words.
pub const CHUNK_MAX_WORDS: usize = 200;
/// Sections shorter than this are merged with the next one.
pub const CHUNK_MIN_WORDS: usize = 120;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The folder or an article could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// An article's front matter is malformed.
    #[error("{path}: {reason}")]
    Parse {
        /// The article.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The folder holds no article: importing it would empty the knowledge
    /// base, which is never what a wrong `--dir` meant.
    #[error("no articles in {0} (expected <category>/<slug>.md files)")]
    NoArticles(PathBuf),
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] fte_store::StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(error: sqlx::Error) -> Self {
        ImportError::Store(error.into())
    }
}

/// An article read from `kb/<category>/<slug>.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    /// `category/slug`.
    pub slug: String,
    /// From the front matter.
    pub title: String,
    /// From the front matter (equal to the folder).
    pub category: String,
    /// The fact ids the article states.
    pub facts: Vec<String>,
    /// The Markdown body.
    pub body: String,
}

impl Article {
    /// sha256 of the title and body, hex: the import's change detector.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.title.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.body.as_bytes());
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Articles found.
    pub articles: usize,
    /// Articles new or changed (re-chunked and re-embedded).
    pub changed: usize,
    /// Articles already up to date.
    pub unchanged: usize,
    /// Chunks embedded in this run.
    pub chunks_embedded: usize,
    /// Articles no longer in `kb/`, deleted with their chunks and embeddings.
    pub removed: usize,
    /// The embedding model's name.
    pub model: String,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} articles ({} new or changed, {} unchanged, {} removed), {} chunks embedded with {}",
            self.articles,
            self.changed,
            self.unchanged,
            self.removed,
            self.chunks_embedded,
            self.model
        )
    }
}

/// Parses one article file's text.
pub fn parse_article(slug: &str, text: &str) -> Result<Article, String> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("---") {
        return Err("front matter missing: the file must start with '---'".into());
    }
    let mut title = None;
    let mut category = None;
    let mut facts = None;
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim() == "---" {
            closed = true;
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "title" => title = Some(unquote(value).to_owned()),
            "category" => category = Some(value.to_owned()),
            "facts" => {
                let inner = value
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .ok_or("facts must be an inline list like [F001, F002]")?;
                facts = Some(
                    inner
                        .split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect(),
                );
            }
            _ => {}
        }
    }
    if !closed {
        return Err("front matter not closed with '---'".into());
    }
    let body = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
    if body.is_empty() {
        return Err("empty body".into());
    }
    Ok(Article {
        slug: slug.to_owned(),
        title: title.filter(|t| !t.is_empty()).ok_or("title missing")?,
        category: category.ok_or("category missing")?,
        facts: facts.ok_or("facts missing")?,
        body,
    })
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// Reads every `kb_dir/<category>/*.md`, sorted by slug.
pub fn read_articles(kb_dir: &Path) -> Result<Vec<Article>, ImportError> {
    let read_dir = |path: &Path| {
        std::fs::read_dir(path).map_err(|source| ImportError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for category in read_dir(kb_dir)? {
        let category = category.map_err(|source| ImportError::Read {
            path: kb_dir.to_owned(),
            source,
        })?;
        if !category.path().is_dir() {
            continue;
        }
        let category_name = category.file_name().to_string_lossy().into_owned();
        for entry in read_dir(&category.path())? {
            let path = entry
                .map_err(|source| ImportError::Read {
                    path: category.path(),
                    source,
                })?
                .path();
            if path.extension().is_some_and(|e| e == "md") {
                let stem = path.file_stem().unwrap_or_default().to_string_lossy();
                files.push((format!("{category_name}/{stem}"), path));
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|(slug, path)| {
            let text = std::fs::read_to_string(&path).map_err(|source| ImportError::Read {
                path: path.clone(),
                source,
            })?;
            parse_article(&slug, &text).map_err(|reason| ImportError::Parse { path, reason })
        })
        .collect()
}

/// Splits an article body into chunks of whole sections (and, for long
/// sections, whole paragraphs) of roughly 120–200 words.
pub fn chunk_body(body: &str) -> Vec<String> {
    // Sections start at headings; the top-level title heading joins the
    // first section.
    let mut sections: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        if line.starts_with("## ") || line.starts_with("### ") {
            if !current.trim().is_empty() {
                sections.push(current.trim().to_owned());
            }
            current = String::new();
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.trim().is_empty() {
        sections.push(current.trim().to_owned());
    }
    // Long sections are split at paragraphs.
    let mut pieces: Vec<String> = Vec::new();
    for section in sections {
        if words(&section) <= CHUNK_MAX_WORDS {
            pieces.push(section);
            continue;
        }
        let mut piece = String::new();
        for paragraph in section.split("\n\n") {
            if !piece.is_empty() && words(&piece) + words(paragraph) > CHUNK_MAX_WORDS {
                pieces.push(std::mem::take(&mut piece));
            }
            if !piece.is_empty() {
                piece.push_str("\n\n");
            }
            piece.push_str(paragraph);
        }
        if !piece.trim().is_empty() {
            pieces.push(piece);
        }
    }
    // Small pieces are merged forward while the result stays small enough.
    let mut chunks: Vec<String> = Vec::new();
    for piece in pieces {
        match chunks.last_mut() {
            Some(last)
                if words(last) < CHUNK_MIN_WORDS
                    && words(last) + words(&piece) <= CHUNK_MAX_WORDS =>
            {
                last.push_str("\n\n");
                last.push_str(&piece);
            }
            _ => chunks.push(piece),
        }
    }
    chunks
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The text embedded for a chunk: the article title gives the section its
/// subject.
pub fn embedding_text(title: &str, chunk: &str) -> String {
    format!("{title}\n\n{chunk}")
}

/// Imports `kb_dir` into the knowledge base with `embedder`'s model.
/// Unchanged articles that already have embeddings of this model are not
/// re-embedded; articles no longer in `kb_dir` are deleted with their chunks
/// and embeddings. `progress(done, total)` is called after each article.
/// Fails with [`ImportError::NoArticles`] on a folder without articles.
pub async fn import_knowledge_base(
    pool: &PgPool,
    embedder: &dyn Embedder,
    kb_dir: &Path,
    progress: impl Fn(usize, usize),
) -> Result<ImportReport, ImportError> {
    let articles = read_articles(kb_dir)?;
    if articles.is_empty() {
        return Err(ImportError::NoArticles(kb_dir.to_owned()));
    }
    let model = embedder.model();
    let total = articles.len();
    let mut report = ImportReport {
        articles: total,
        model: model.name.to_owned(),
        ..ImportReport::default()
    };
    for (done, article) in articles.iter().enumerate() {
        let hash = article.content_hash();
        let chunks = chunk_body(&article.body);
        let mut tx = pool.begin().await?;
        let (article_id, changed) = knowledge::upsert_article(
            &mut *tx,
            &NewArticle {
                slug: &article.slug,
                title: &article.title,
                content: &article.body,
                category: &article.category,
                facts: &article.facts,
                content_hash: &hash,
            },
        )
        .await?;
        if !changed && embeddings_complete(&mut tx, article_id, model).await? {
            tx.commit().await?;
            report.unchanged += 1;
            progress(done + 1, total);
            continue;
        }
        // Embed while the transaction is open: if embedding fails, the new
        // hash is rolled back and the next import retries this article.
        let texts: Vec<String> = chunks
            .iter()
            .map(|chunk| embedding_text(&article.title, chunk))
            .collect();
        let vectors = embedder.embed(&texts).await?;
        for (index, (chunk, vector)) in chunks.iter().zip(vectors).enumerate() {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let chunk_id =
                knowledge::upsert_chunk(&mut *tx, article_id, index, &article.title, chunk).await?;
            knowledge::upsert_embedding(&mut *tx, chunk_id, model, vector).await?;
        }
        remove_stale_chunks(&mut tx, article_id, chunks.len()).await?;
        tx.commit().await?;
        report.changed += 1;
        report.chunks_embedded += chunks.len();
        progress(done + 1, total);
    }
    let slugs: Vec<String> = articles.iter().map(|a| a.slug.clone()).collect();
    let removed = knowledge::delete_articles_except(pool, &slugs).await?;
    report.removed = usize::try_from(removed).unwrap_or(usize::MAX);
    tracing::info!(
        kb.articles = report.articles,
        kb.changed = report.changed,
        kb.removed = report.removed,
        kb.chunks_embedded = report.chunks_embedded,
        kb.model = model.name,
        "knowledge base imported"
    );
    Ok(report)
}

// The two queries below belong in fte_store::knowledge (owned by the store);
// they live here until it offers them, and touch only knowledge tables.

/// Whether every chunk of the article has an embedding of `model` (false
/// after switching models, or when a previous import was interrupted).
async fn embeddings_complete(
    tx: &mut sqlx::PgConnection,
    article_id: uuid::Uuid,
    model: EmbeddingModel,
) -> Result<bool, ImportError> {
    let (chunks, missing): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where e.chunk_id is null)
         from knowledge_chunks c
         left join knowledge_embeddings e on e.chunk_id = c.id and e.model = $2
         where c.article_id = $1",
    )
    .bind(article_id)
    .bind(model.name)
    .fetch_one(&mut *tx)
    .await?;
    Ok(chunks > 0 && missing == 0)
}

/// Drops chunks beyond the new count (an article that got shorter).
async fn remove_stale_chunks(
    tx: &mut sqlx::PgConnection,
    article_id: uuid::Uuid,
    count: usize,
) -> Result<(), ImportError> {
    sqlx::query("delete from knowledge_chunks where article_id = $1 and chunk_index >= $2")
        .bind(article_id)
        .bind(i32::try_from(count).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "---\ntitle: Reset a forgotten password\ncategory: account\nfacts: [F001, F002]\n---\n# Reset a forgotten password\n\nIntro.\n\n## Things to know\n\n- The link expires after 30 minutes.\n";

    #[test]
    fn front_matter_is_parsed() {
        let article = parse_article("account/reset", ARTICLE).unwrap();
        assert_eq!(article.title, "Reset a forgotten password");
        assert_eq!(article.category, "account");
        assert_eq!(article.facts, vec!["F001", "F002"]);
        assert!(article.body.starts_with("# Reset a forgotten password"));
    }

    #[test]
    fn malformed_front_matter_is_refused() {
        assert!(parse_article("a/b", "# no front matter").is_err());
        assert!(parse_article("a/b", "---\ntitle: x\n").is_err());
        assert!(
            parse_article("a/b", "---\ntitle: x\ncategory: a\nfacts: F001\n---\nbody").is_err()
        );
    }

    #[test]
    fn short_sections_merge_and_long_ones_split() {
        let short = chunk_body("# T\n\nIntro.\n\n## A\n\nOne.\n\n## B\n\nTwo.");
        assert_eq!(short.len(), 1, "{short:?}");
        let long_paragraph = "word ".repeat(150);
        let body = format!(
            "# T\n\n{long_paragraph}\n\n## A\n\n{long_paragraph}\n\n## B\n\n{long_paragraph}"
        );
        let chunks = chunk_body(&body);
        assert_eq!(chunks.len(), 3, "{chunks:?}");
        assert!(chunks.iter().all(|c| words(c) <= CHUNK_MAX_WORDS + 5));
    }

    #[test]
    fn hash_changes_with_content() {
        let a = parse_article("account/reset", ARTICLE).unwrap();
        let mut b = a.clone();
        b.body.push_str("\nMore.");
        assert_ne!(a.content_hash(), b.content_hash());
        assert_eq!(a.content_hash().len(), 64);
    }
}
