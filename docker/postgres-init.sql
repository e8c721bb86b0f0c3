-- Runs once, when the pgvector/pgvector container initialises an empty data directory.
-- The migrations also ask for the extension; creating it here as the bootstrap superuser means the
-- application role never needs superuser rights.
create extension if not exists vector;
