package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProductInput is a catalog product as the sync writes it.
type ProductInput struct {
	Slug, SKU, Name, Description, ShortDescription                    string
	Category, CategorySlug, ParentCategory, ParentCategorySlug, Brand string
	Price, SalePrice                                                  *float64
	Currency                                                          string
	InStock                                                           bool
	StockQuantity                                                     *int
	ImageURL, URL                                                     string
	Images, Features, Specifications                                  json.RawMessage
	SourceHash                                                        string
}

// UpsertOutcome says what an upsert did.
type UpsertOutcome string

const (
	Inserted  UpsertOutcome = "inserted"
	Updated   UpsertOutcome = "updated"
	Unchanged UpsertOutcome = "unchanged"
)

// UpsertProduct writes a product keyed by lower(sku). A row whose source hash is unchanged
// (and which is active) is left alone, so its embedding and timestamps stay.
func (s *Store) UpsertProduct(ctx context.Context, p ProductInput, syncedAt time.Time) (int64, UpsertOutcome, error) {
	if p.SKU == "" {
		p.SKU = p.Slug
	}
	if p.Currency == "" {
		p.Currency = "AED"
	}
	orEmpty := func(b json.RawMessage, def string) []byte {
		if len(b) == 0 || string(b) == "null" {
			return []byte(def)
		}
		return b
	}
	var id int64
	var inserted bool
	err := s.Pool.QueryRow(ctx, `
		INSERT INTO products (slug, sku, name, description, short_description, category, category_slug,
		    parent_category, parent_category_slug, brand, price, sale_price, currency, in_stock,
		    stock_quantity, image_url, images, url, features, specifications, source_hash, active, synced_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,true,$22)
		ON CONFLICT ((lower(sku))) DO UPDATE SET
		    slug = EXCLUDED.slug, sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description,
		    short_description = EXCLUDED.short_description, category = EXCLUDED.category,
		    category_slug = EXCLUDED.category_slug, parent_category = EXCLUDED.parent_category,
		    parent_category_slug = EXCLUDED.parent_category_slug, brand = EXCLUDED.brand,
		    price = EXCLUDED.price, sale_price = EXCLUDED.sale_price, currency = EXCLUDED.currency,
		    in_stock = EXCLUDED.in_stock, stock_quantity = EXCLUDED.stock_quantity,
		    image_url = EXCLUDED.image_url, images = EXCLUDED.images, url = EXCLUDED.url,
		    features = EXCLUDED.features, specifications = EXCLUDED.specifications,
		    source_hash = EXCLUDED.source_hash, active = true, synced_at = EXCLUDED.synced_at, updated_at = now()
		WHERE products.source_hash IS DISTINCT FROM EXCLUDED.source_hash OR NOT products.active
		RETURNING id, (xmax = 0)`,
		p.Slug, p.SKU, p.Name, p.Description, p.ShortDescription, p.Category, p.CategorySlug,
		p.ParentCategory, p.ParentCategorySlug, p.Brand, p.Price, p.SalePrice, p.Currency, p.InStock,
		p.StockQuantity, p.ImageURL, orEmpty(p.Images, "[]"), p.URL, orEmpty(p.Features, "[]"),
		orEmpty(p.Specifications, "{}"), p.SourceHash, syncedAt).Scan(&id, &inserted)
	if errors.Is(err, pgx.ErrNoRows) {
		// Unchanged: still mark it as seen by this sync.
		err = s.Pool.QueryRow(ctx, `UPDATE products SET synced_at = $2 WHERE lower(sku) = lower($1) RETURNING id`,
			p.SKU, syncedAt).Scan(&id)
		if err != nil {
			return 0, "", fmt.Errorf("touch product %s: %w", p.Slug, err)
		}
		return id, Unchanged, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("upsert product %s: %w", p.Slug, err)
	}
	if inserted {
		return id, Inserted, nil
	}
	return id, Updated, nil
}

// DeactivateProductsNotSyncedSince marks products a complete sync did not see as inactive.
// Only call it after a complete, successful sync.
func (s *Store) DeactivateProductsNotSyncedSince(ctx context.Context, syncStart time.Time) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `
		UPDATE products SET active = false, updated_at = now()
		WHERE active AND (synced_at IS NULL OR synced_at < $1)`, syncStart)
	if err != nil {
		return 0, fmt.Errorf("deactivate products: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ProductRow is a product as search and the API read it.
type ProductRow struct {
	ID               int64           `json:"id"`
	Slug             string          `json:"slug"`
	SKU              string          `json:"sku"`
	Name             string          `json:"name"`
	ShortDescription string          `json:"short_description"`
	Category         string          `json:"category"`
	CategorySlug     string          `json:"category_slug"`
	ParentCategory   string          `json:"parent_category"`
	Price            *float64        `json:"price"`
	SalePrice        *float64        `json:"sale_price"`
	InStock          bool            `json:"in_stock"`
	StockQuantity    *int            `json:"stock_quantity"`
	ZohoItemID       *string         `json:"zoho_item_id"`
	ZohoStock        *int            `json:"zoho_stock"`
	ImageURL         string          `json:"image_url"`
	URL              string          `json:"url"`
	Features         json.RawMessage `json:"features"`
	Active           bool            `json:"active"`
}

const productCols = `id, slug, sku, name, short_description, category, category_slug, parent_category,
	price::float8, sale_price::float8, in_stock, stock_quantity, zoho_item_id, zoho_stock, image_url, url, features, active`

func scanProduct(r pgx.Row) (ProductRow, error) {
	var p ProductRow
	err := r.Scan(&p.ID, &p.Slug, &p.SKU, &p.Name, &p.ShortDescription, &p.Category, &p.CategorySlug, &p.ParentCategory,
		&p.Price, &p.SalePrice, &p.InStock, &p.StockQuantity, &p.ZohoItemID, &p.ZohoStock, &p.ImageURL, &p.URL, &p.Features, &p.Active)
	return p, err
}

// ProductFullTextQuery is the plain SQL search used until hybrid retrieval is configured.
type ProductFullTextQuery struct {
	Text               string
	CategoryLike       string
	MinPrice, MaxPrice *float64
	InStockOnly        bool
	Limit              int
}

// SearchProductsFullText ranks active products by PostgreSQL full-text match (any word),
// with optional price/category/stock filters.
func (s *Store) SearchProductsFullText(ctx context.Context, q ProductFullTextQuery) ([]ProductRow, error) {
	if q.Limit <= 0 || q.Limit > 50 {
		q.Limit = 5
	}
	rows, err := s.Pool.Query(ctx, `
		WITH q AS (SELECT to_tsquery('simple', coalesce(nullif(array_to_string(array(
		    SELECT lexeme || ':*' FROM unnest(to_tsvector('simple', $1))), ' | '), ''), 'zzzznomatch')) AS simple_q,
		    to_tsquery('english', coalesce(nullif(array_to_string(array(
		    SELECT lexeme FROM unnest(to_tsvector('english', $1))), ' | '), ''), 'zzzznomatch')) AS en_q)
		SELECT `+productCols+`
		FROM products, q
		WHERE active
		  AND ($1 = '' OR search_tsv @@ q.simple_q OR search_tsv @@ q.en_q)
		  AND ($2 = '' OR category ILIKE '%' || $2 || '%' OR parent_category ILIKE '%' || $2 || '%' OR category_slug = $2)
		  AND ($3::float8 IS NULL OR coalesce(sale_price, price) >= $3)
		  AND ($4::float8 IS NULL OR coalesce(sale_price, price) <= $4)
		  AND (NOT $5 OR in_stock)
		ORDER BY ts_rank(search_tsv, q.en_q) + ts_rank(search_tsv, q.simple_q) DESC, price NULLS LAST, id
		LIMIT $6`, q.Text, q.CategoryLike, q.MinPrice, q.MaxPrice, q.InStockOnly, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("search products: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProductRow, error) { return scanProduct(r) })
}

// ProductBySKU finds an active product by SKU, ignoring case and spacing.
func (s *Store) ProductBySKU(ctx context.Context, sku string) (ProductRow, error) {
	p, err := scanProduct(s.Pool.QueryRow(ctx, `SELECT `+productCols+` FROM products
		WHERE regexp_replace(lower(sku), '[^a-z0-9а-я]', '', 'g') = regexp_replace(lower($1), '[^a-z0-9а-я]', '', 'g')
		ORDER BY active DESC LIMIT 1`, sku))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}
