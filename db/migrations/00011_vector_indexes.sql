-- HNSW indexes for cosine search. On the demo catalog (~120 rows) the planner still scans
-- sequentially, which is exact and faster there; from a few thousand rows on it switches to
-- the index (see BENCHMARKS.md, "Retrieval"). Queries set hnsw.iterative_scan so filtered
-- searches do not come back short.

-- +goose Up
CREATE INDEX products_embedding_hnsw ON products USING hnsw (embedding vector_cosine_ops) WHERE active;
CREATE INDEX knowledge_base_embedding_hnsw ON knowledge_base USING hnsw (embedding vector_cosine_ops);

-- +goose Down
DROP INDEX IF EXISTS knowledge_base_embedding_hnsw;
DROP INDEX IF EXISTS products_embedding_hnsw;
