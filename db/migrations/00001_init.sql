-- The first schema: the seed's six tables, the inbound/outbound ledgers that make the
-- conversation core idempotent, the settings store, and the local CRM used when Zoho is
-- not configured. Later features add tables in later migrations; never edit this file.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per (channel, chat): the identity of a conversation. The Temporal workflow id is
-- derived from `id`, never from the phone number.
CREATE TABLE conversations (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id               text NOT NULL,
    chat_id                  text NOT NULL,
    chat_type                text NOT NULL DEFAULT 'whatsapp',
    customer_name            text NOT NULL DEFAULT '',
    language                 text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ar')),
    stage                    text NOT NULL DEFAULT 'greeting' CHECK (stage IN (
                                 'greeting', 'qualifying', 'needs_analysis', 'solution',
                                 'company_details', 'quoting', 'closing', 'feedback')),
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'escalated', 'closed')),
    owner                    text NOT NULL DEFAULT 'bot' CHECK (owner IN ('bot', 'human')),
    needs_human              boolean NOT NULL DEFAULT false,
    needs_human_reason       text NOT NULL DEFAULT '',
    facts                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    summary                  text NOT NULL DEFAULT '',
    summary_through_message  bigint NOT NULL DEFAULT 0,
    opted_out                boolean NOT NULL DEFAULT false,
    workflow_id              text GENERATED ALWAYS AS ('conversation-' || id::text) STORED,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    last_customer_message_at timestamptz,
    last_message_at          timestamptz,
    UNIQUE (channel_id, chat_id)
);
CREATE INDEX conversations_last_message_idx ON conversations (last_message_at DESC NULLS LAST);
CREATE INDEX conversations_status_idx ON conversations (status, stage);

CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    conversation_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    author              text NOT NULL CHECK (author IN ('customer', 'noor', 'manager', 'system')),
    author_name         text NOT NULL DEFAULT '',
    kind                text NOT NULL DEFAULT 'text',
    text                text NOT NULL DEFAULT '',
    media_url           text NOT NULL DEFAULT '',
    provider_message_id text,
    language            text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    prompt_tokens       integer NOT NULL DEFAULT 0,
    completion_tokens   integer NOT NULL DEFAULT 0,
    cost_usd            numeric(12, 6) NOT NULL DEFAULT 0,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Inbound ledger: a provider message id is accepted once. `signaled_at` stays NULL until the
-- workflow has the message, so a redelivery after a failed signal is re-signalled, not lost.
CREATE TABLE inbound_ledger (
    provider_message_id text PRIMARY KEY,
    conversation_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id          bigint REFERENCES messages (id) ON DELETE SET NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    signaled_at         timestamptz
);
CREATE INDEX inbound_ledger_unsignaled_idx ON inbound_ledger (received_at) WHERE signaled_at IS NULL;

-- Outbound ledger: one row per logical message we send, keyed by our idempotency key
-- (Wazzup's crmMessageId). The row is written before the provider call.
CREATE TABLE outbound_ledger (
    idempotency_key     text PRIMARY KEY CHECK (length(idempotency_key) <= 240),
    conversation_id     uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id          bigint REFERENCES messages (id) ON DELETE SET NULL,
    kind                text NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'document', 'image', 'template')),
    provider            text NOT NULL,
    provider_message_id text UNIQUE,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN (
                            'pending', 'sent', 'delivered', 'read', 'error', 'blocked')),
    error               text NOT NULL DEFAULT '',
    attempts            integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbound_ledger_conversation_idx ON outbound_ledger (conversation_id, created_at);

CREATE TABLE products (
    id                   bigserial PRIMARY KEY,
    slug                 text NOT NULL UNIQUE,
    sku                  text NOT NULL,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    short_description    text NOT NULL DEFAULT '',
    category             text NOT NULL DEFAULT '',
    category_slug        text NOT NULL DEFAULT '',
    parent_category      text NOT NULL DEFAULT '',
    parent_category_slug text NOT NULL DEFAULT '',
    brand                text NOT NULL DEFAULT '',
    price                numeric(12, 2),
    sale_price           numeric(12, 2),
    currency             text NOT NULL DEFAULT 'AED',
    in_stock             boolean NOT NULL DEFAULT false,
    stock_quantity       integer,
    image_url            text NOT NULL DEFAULT '',
    images               jsonb NOT NULL DEFAULT '[]'::jsonb,
    url                  text NOT NULL DEFAULT '',
    features             jsonb NOT NULL DEFAULT '[]'::jsonb,
    specifications       jsonb NOT NULL DEFAULT '{}'::jsonb,
    zoho_item_id         text,
    zoho_stock           integer,
    zoho_rate            numeric(12, 2),
    zoho_checked_at      timestamptz,
    active               boolean NOT NULL DEFAULT true,
    source_hash          text NOT NULL DEFAULT '',
    embedding            vector(1024),
    embedding_model      text NOT NULL DEFAULT '',
    embedded_text_hash   text NOT NULL DEFAULT '',
    search_tsv           tsvector GENERATED ALWAYS AS (
                             setweight(to_tsvector('simple', coalesce(sku, '')), 'A') ||
                             setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
                             setweight(to_tsvector('english', coalesce(category, '') || ' ' || coalesce(parent_category, '')), 'B') ||
                             setweight(to_tsvector('english', coalesce(short_description, '')), 'C') ||
                             setweight(to_tsvector('english', coalesce(description, '')), 'D')
                         ) STORED,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    synced_at            timestamptz
);
CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));
CREATE INDEX products_search_idx ON products USING gin (search_tsv);
CREATE INDEX products_category_idx ON products (category_slug, parent_category_slug) WHERE active;

CREATE TABLE knowledge_base (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL,
    title           text NOT NULL DEFAULT '',
    heading         text NOT NULL DEFAULT '',
    chunk_index     integer NOT NULL,
    content         text NOT NULL,
    language        text NOT NULL DEFAULT 'en',
    content_hash    text NOT NULL,
    embedding       vector(1024),
    embedding_model text NOT NULL DEFAULT '',
    search_tsv      tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(heading, '')), 'A') ||
                        setweight(to_tsvector('simple', content), 'B')
                    ) STORED,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, chunk_index)
);
CREATE INDEX knowledge_base_search_idx ON knowledge_base USING gin (search_tsv);

CREATE TABLE quality_reviews (
    id              bigserial PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            text NOT NULL DEFAULT 'bot' CHECK (kind IN ('bot', 'manager')),
    total_score     numeric(5, 2),
    max_score       numeric(5, 2),
    band            text NOT NULL DEFAULT '',
    scores          jsonb NOT NULL DEFAULT '{}'::jsonb,
    strengths       jsonb NOT NULL DEFAULT '[]'::jsonb,
    weaknesses      jsonb NOT NULL DEFAULT '[]'::jsonb,
    recommendations jsonb NOT NULL DEFAULT '[]'::jsonb,
    model           text NOT NULL DEFAULT '',
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, kind)
);

CREATE TABLE escalations (
    id                bigserial PRIMARY KEY,
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    episode           integer NOT NULL,
    reason            text NOT NULL,
    kind              text NOT NULL DEFAULT 'other',
    triggered_by      text NOT NULL DEFAULT 'bot',
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'resolved')),
    taken_by          text NOT NULL DEFAULT '',
    resolved_by       text NOT NULL DEFAULT '',
    resolution_note   text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    taken_at          timestamptz,
    resolved_at       timestamptz,
    UNIQUE (conversation_id, episode)
);
CREATE INDEX escalations_status_idx ON escalations (status, created_at);

-- One typed settings document (see internal/settings), versioned; every change is recorded.
CREATE TABLE app_settings (
    id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    doc        jsonb NOT NULL,
    version    integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'system'
);

CREATE TABLE settings_changes (
    id         bigserial PRIMARY KEY,
    version    integer NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    before     jsonb,
    after      jsonb NOT NULL
);

-- The built-in local CRM (used when Zoho is not configured): same operations as Zoho CRM.
CREATE TABLE local_crm_contacts (
    id          text PRIMARY KEY DEFAULT ('local-' || replace(gen_random_uuid()::text, '-', '')),
    phone       text NOT NULL UNIQUE,
    first_name  text NOT NULL DEFAULT '',
    last_name   text NOT NULL,
    email       text NOT NULL DEFAULT '',
    company     text NOT NULL DEFAULT '',
    segment     text NOT NULL DEFAULT '',
    lead_source text NOT NULL DEFAULT 'Chatbot',
    description text NOT NULL DEFAULT '',
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE local_crm_deals (
    id           text PRIMARY KEY DEFAULT ('local-' || replace(gen_random_uuid()::text, '-', '')),
    contact_id   text NOT NULL REFERENCES local_crm_contacts (id),
    name         text NOT NULL,
    stage        text NOT NULL,
    amount       numeric(14, 2),
    external_key text UNIQUE,
    attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE local_crm_deals;
DROP TABLE local_crm_contacts;
DROP TABLE settings_changes;
DROP TABLE app_settings;
DROP TABLE escalations;
DROP TABLE quality_reviews;
DROP TABLE knowledge_base;
DROP TABLE products;
DROP TABLE outbound_ledger;
DROP TABLE inbound_ledger;
DROP TABLE messages;
DROP TABLE conversations;
