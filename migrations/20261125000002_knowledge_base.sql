-- The knowledge base. Articles are chunked; each chunk can carry embeddings
-- from several models side by side (OpenAI text-embedding-3-small at 1536
-- dimensions, all-MiniLM-L6-v2 at 384), so switching models needs no schema
-- change: only a partial HNSW index per model, built on a cast to that
-- model's dimension (pgvector indexes need a fixed dimension).

create extension if not exists vector;

create table knowledge_base (
    id            uuid primary key default gen_random_uuid(),
    -- Stable key from the source file (category/slug), for idempotent imports.
    slug          varchar(300) not null unique,
    title         varchar(500) not null,
    content       text not null,
    category      varchar(100),
    -- Product fact ids the article states (F001…).
    facts         text[] not null default '{}',
    -- sha256 of title + content: re-import re-embeds only changed articles.
    content_hash  varchar(64) not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create index idx_knowledge_base_category on knowledge_base (category);

create table knowledge_chunks (
    id           uuid primary key default gen_random_uuid(),
    article_id   uuid not null references knowledge_base (id) on delete cascade,
    chunk_index  integer not null check (chunk_index >= 0),
    content      text not null,
    -- Full-text side of the hybrid search (title words weigh more).
    search       tsvector not null,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    unique (article_id, chunk_index)
);
create index idx_knowledge_chunks_search on knowledge_chunks using gin (search);

create table knowledge_embeddings (
    chunk_id     uuid not null references knowledge_chunks (id) on delete cascade,
    model        varchar(100) not null,
    dimensions   integer not null check (dimensions > 0),
    embedding    vector not null,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (chunk_id, model),
    check (vector_dims(embedding) = dimensions)
);
create index idx_knowledge_embeddings_minilm on knowledge_embeddings
    using hnsw ((embedding::vector(384)) vector_cosine_ops)
    where model = 'all-minilm-l6-v2';
create index idx_knowledge_embeddings_openai_small on knowledge_embeddings
    using hnsw ((embedding::vector(1536)) vector_cosine_ops)
    where model = 'text-embedding-3-small';
