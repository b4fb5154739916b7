-- Knowledge-base documents written in the console. The indexer reads them next to the
-- bundled documents and KB_DIR (source prefix "console:"), so they are chunked, embedded and
-- retrieved exactly like the others; deleting one here removes its chunks at the next index.

-- +goose Up
CREATE TABLE kb_sources (
    source      text PRIMARY KEY CHECK (source ~ '^console:[a-z0-9][a-z0-9._-]{0,79}$'),
    title       text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT 'markdown' CHECK (kind IN ('markdown', 'text', 'html')),
    body        text NOT NULL CHECK (length(body) <= 200000),
    created_by  text NOT NULL,
    updated_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE kb_sources;
