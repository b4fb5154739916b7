-- CRM, personal prices and quotations: the segment discount table, which CRM contact and
-- deal belong to a chat, our quotations (one row per quote version) with their PDF, and the
-- built-in local inventory (customers and draft sale orders) used when Zoho is not
-- configured. The local CRM contacts and deals are in 00001.

-- +goose Up
-- Segment -> discount %. Names match the CRM contact's Segment case-insensitively; a segment
-- that is not listed gets no discount. Editable by admins (console), never by the bot.
CREATE TABLE segments (
    name             text PRIMARY KEY CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    discount_percent numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent <= 50),
    description      text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL DEFAULT 'system'
);
CREATE UNIQUE INDEX segments_lower_name_idx ON segments (lower(name));
INSERT INTO segments (name, discount_percent, description) VALUES
    ('Wholesale', 15, 'Treejar CRM segment'),
    ('Retail chain B2B', 15, 'Treejar CRM segment'),
    ('Horeca', 10, 'Treejar CRM segment'),
    ('Design Agency', 10, 'Treejar CRM segment'),
    ('Developer', 5, 'Treejar CRM segment'),
    ('End-client B2C', 0, 'Treejar CRM segment'),
    ('E-commerce', 0, 'Treejar CRM segment'),
    ('Supplier', 0, 'Treejar CRM segment'),
    ('Manufacturer', 0, 'Treejar CRM segment'),
    ('VIP', 0, 'from the plan: set the discount the business approves'),
    ('Regular', 0, 'from the plan: set the discount the business approves'),
    ('New', 0, 'from the plan: set the discount the business approves');

-- Which CRM contact a phone number is, per provider: read before every create, so a contact
-- is created once however often an activity is retried or a workflow continues as new.
CREATE TABLE crm_contact_links (
    provider   text NOT NULL,
    phone      text NOT NULL,
    contact_id text NOT NULL,
    created_by_noor boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, phone)
);

-- The customer behind a chat, as the first turn found (or created) them, and the chat's deal.
CREATE TABLE customer_identities (
    conversation_id       uuid PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    provider              text NOT NULL,
    contact_id            text NOT NULL,
    is_returning          boolean NOT NULL,
    name                  text NOT NULL DEFAULT '',
    company               text NOT NULL DEFAULT '',
    segment               text NOT NULL DEFAULT '',
    deal_id               text,
    inventory_customer_id text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per quotation version. `ref` is our number, sent to Zoho as the sale order's
-- reference_number (the sale order is looked up by it before one is created); `number` on
-- the PDF is the sale order's own number.
CREATE SEQUENCE quote_ref_seq;
CREATE TABLE quotes (
    id                    bigserial PRIMARY KEY,
    -- A random tail keeps refs unique across databases that share one Zoho organisation
    -- (staging and production): a reference must never find somebody else's sale order.
    ref                   text NOT NULL UNIQUE DEFAULT ('NQ-' || lpad(nextval('quote_ref_seq')::text, 6, '0') || '-'
                              || upper(substr(md5(gen_random_uuid()::text), 1, 4))),
    idempotency_key       text NOT NULL UNIQUE,
    conversation_id       uuid REFERENCES conversations (id) ON DELETE SET NULL,
    version               integer NOT NULL DEFAULT 1,
    status                text NOT NULL CHECK (status IN ('awaiting_consent', 'confirmed', 'ordered', 'sent', 'superseded', 'failed')),
    provider              text NOT NULL,
    customer              jsonb NOT NULL,
    segment               text NOT NULL DEFAULT '',
    discount_percent      numeric(5, 2) NOT NULL DEFAULT 0,
    lines                 jsonb NOT NULL,
    subtotal              numeric(14, 2) NOT NULL,
    vat_percent           numeric(5, 2) NOT NULL,
    vat                   numeric(14, 2) NOT NULL,
    total                 numeric(14, 2) NOT NULL,
    currency              text NOT NULL DEFAULT 'AED',
    valid_until           date NOT NULL,
    crm_contact_id        text NOT NULL DEFAULT '',
    crm_deal_id           text NOT NULL DEFAULT '',
    inventory_customer_id text NOT NULL DEFAULT '',
    sale_order_id         text UNIQUE,
    sale_order_number     text NOT NULL DEFAULT '',
    sale_order_total      numeric(14, 2),
    created_at            timestamptz NOT NULL DEFAULT now(),
    confirmed_at          timestamptz,
    ordered_at            timestamptz,
    sent_at               timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quotes_conversation_idx ON quotes (conversation_id, version);

-- The rendered PDF of a quote (served at a signed, expiring URL).
CREATE TABLE quote_documents (
    quote_id    bigint PRIMARY KEY REFERENCES quotes (id) ON DELETE CASCADE,
    pdf         bytea NOT NULL,
    sha256      text NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now()
);

-- The built-in local inventory's customers and sale orders (Zoho Inventory's shapes). Sale
-- order numbers continue after the demo fixtures (SO-00014 … SO-00021).
CREATE TABLE local_inventory_customers (
    id         text PRIMARY KEY DEFAULT ('local-cust-' || replace(gen_random_uuid()::text, '-', '')),
    name       text NOT NULL,
    company    text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    address    text NOT NULL DEFAULT '',
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX local_inventory_customers_phone_idx ON local_inventory_customers (phone);

CREATE SEQUENCE local_sale_order_seq START 22;
CREATE TABLE local_sale_orders (
    id               text PRIMARY KEY DEFAULT ('local-so-' || replace(gen_random_uuid()::text, '-', '')),
    number           text NOT NULL UNIQUE DEFAULT ('SO-' || lpad(nextval('local_sale_order_seq')::text, 5, '0')),
    customer_id      text NOT NULL REFERENCES local_inventory_customers (id),
    reference_number text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'confirmed', 'open', 'fulfilled', 'void')),
    date             date NOT NULL DEFAULT current_date,
    shipment_date    date,
    line_items       jsonb NOT NULL,
    sub_total        numeric(14, 2) NOT NULL,
    tax_total        numeric(14, 2) NOT NULL,
    total            numeric(14, 2) NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX local_sale_orders_reference_idx ON local_sale_orders (reference_number) WHERE reference_number <> '';
CREATE INDEX local_sale_orders_customer_idx ON local_sale_orders (customer_id, created_at DESC);

-- +goose Down
DROP TABLE local_sale_orders;
DROP SEQUENCE local_sale_order_seq;
DROP TABLE local_inventory_customers;
DROP TABLE quote_documents;
DROP TABLE quotes;
DROP SEQUENCE quote_ref_seq;
DROP TABLE customer_identities;
DROP TABLE crm_contact_links;
DROP TABLE segments;
