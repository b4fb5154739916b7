-- Catalog sync runs, the shared Zoho OAuth token cache and the knowledge-base document
-- registry (what was indexed, from which content, with which embedding model).

-- +goose Up
-- One row per catalog sync. `id` is the Temporal run id of the CatalogSync workflow, so the
-- API can hand it out before the first activity has written anything.
CREATE TABLE catalog_sync_runs (
    id           text PRIMARY KEY,
    workflow_id  text NOT NULL,
    trigger      text NOT NULL DEFAULT 'manual',
    source       text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'running' CHECK (status IN (
                     'running', 'succeeded', 'partial', 'failed', 'skipped')),
    phase        text NOT NULL DEFAULT 'starting',
    categories_total integer NOT NULL DEFAULT 0,
    categories_done  integer NOT NULL DEFAULT 0,
    seen         integer NOT NULL DEFAULT 0,
    added        integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    unchanged    integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    deactivated  integer NOT NULL DEFAULT 0,
    zoho_linked  integer NOT NULL DEFAULT 0,
    embedded     integer NOT NULL DEFAULT 0,
    errors       jsonb NOT NULL DEFAULT '[]'::jsonb,
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
-- At most one sync writes the catalog at a time, whoever started it (schedule or API).
CREATE UNIQUE INDEX catalog_sync_runs_one_running ON catalog_sync_runs ((true)) WHERE status = 'running';
CREATE INDEX catalog_sync_runs_started_idx ON catalog_sync_runs (started_at DESC);

-- The Zoho access token shared by every process. The row lock serialises refreshes.
CREATE TABLE zoho_tokens (
    key          text PRIMARY KEY,
    access_token text NOT NULL DEFAULT '',
    expires_at   timestamptz NOT NULL DEFAULT 'epoch',
    refreshed_at timestamptz,
    refreshes    bigint NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT ''
);

-- Knowledge-base documents: a document is re-chunked and re-embedded only when its
-- content hash or the embedding model changes.
CREATE TABLE kb_documents (
    source          text PRIMARY KEY,
    title           text NOT NULL DEFAULT '',
    kind            text NOT NULL DEFAULT 'markdown' CHECK (kind IN ('markdown', 'text', 'html')),
    language        text NOT NULL DEFAULT 'en',
    content_hash    text NOT NULL,
    chunks          integer NOT NULL DEFAULT 0,
    embedding_model text NOT NULL DEFAULT '',
    indexed_at      timestamptz NOT NULL DEFAULT now()
);

-- Filters used by retrieval (effective price, stock) and the embedding bookkeeping.
CREATE INDEX products_active_price_idx ON products ((coalesce(sale_price, price))) WHERE active;
CREATE INDEX products_embedding_model_idx ON products (embedding_model) WHERE active;
CREATE INDEX products_zoho_item_idx ON products (zoho_item_id) WHERE zoho_item_id IS NOT NULL;
CREATE INDEX knowledge_base_source_idx ON knowledge_base (source);

-- +goose Down
DROP INDEX IF EXISTS knowledge_base_source_idx;
DROP INDEX IF EXISTS products_zoho_item_idx;
DROP INDEX IF EXISTS products_embedding_model_idx;
DROP INDEX IF EXISTS products_active_price_idx;
DROP TABLE kb_documents;
DROP TABLE zoho_tokens;
DROP TABLE catalog_sync_runs;
