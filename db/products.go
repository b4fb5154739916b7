package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// ProductFilter selects catalog rows for the API's product listing and the console.
// Zero values mean "any".
type ProductFilter struct {
	Text               string // words of the name/description, or part of the name or SKU
	Category           string // category or parent category slug
	MinPrice, MaxPrice *float64
	InStock, Active    *bool
	Zoho               string // "" | linked | unlinked | mismatch (Zoho rate differs from the catalog price)
	Limit, Offset      int
}

// where builds the condition on products aliased p; every value is a bind parameter.
func (f ProductFilter) where(a *sqlArgs) string {
	conds := []string{"TRUE"}
	if f.Category != "" {
		c := a.add(f.Category)
		conds = append(conds, "(p.category_slug = "+c+" OR p.parent_category_slug = "+c+")")
	}
	if f.MinPrice != nil {
		conds = append(conds, "coalesce(p.sale_price, p.price) >= "+a.add(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		conds = append(conds, "coalesce(p.sale_price, p.price) <= "+a.add(*f.MaxPrice)+" AND coalesce(p.price, 0) > 0")
	}
	if f.Active != nil {
		conds = append(conds, "p.active = "+a.add(*f.Active))
	}
	if f.InStock != nil {
		// Zoho's figure wins over the catalog's flag when the item is linked.
		conds = append(conds, `(CASE WHEN p.zoho_item_id IS NOT NULL AND p.zoho_stock IS NOT NULL THEN p.zoho_stock > 0
			ELSE p.in_stock AND coalesce(p.stock_quantity, 1) > 0 END) = `+a.add(*f.InStock))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		ts := a.add(t)
		like := a.add("%" + EscapeLike(t) + "%")
		conds = append(conds, "(p.search_tsv @@ websearch_to_tsquery('english', "+ts+") OR p.name ILIKE "+like+
			` ESCAPE '\' OR p.sku ILIKE `+like+` ESCAPE '\')`)
	}
	switch f.Zoho {
	case "linked":
		conds = append(conds, "p.zoho_item_id IS NOT NULL")
	case "unlinked":
		conds = append(conds, "p.zoho_item_id IS NULL")
	case "mismatch":
		conds = append(conds, "p.zoho_rate IS NOT NULL AND p.price IS NOT NULL AND p.zoho_rate <> p.price")
	}
	return strings.Join(conds, " AND ")
}

// ListProductIDs returns one page of product ids (by name) and the total matching count.
func (s *Store) ListProductIDs(ctx context.Context, f ProductFilter) ([]int64, int, error) {
	var a sqlArgs
	where := f.where(&a)
	var total int
	if err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM products p WHERE "+where, a.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count products: %w", err)
	}
	rows, err := s.Pool.Query(ctx, "SELECT p.id FROM products p WHERE "+where+" ORDER BY p.name, p.id"+limitOffset(&a, f.Limit, f.Offset), a.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, total, err
}
