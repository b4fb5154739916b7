package zoho

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/treejar/noor/db"
)

// StockSource answers "how many of this SKU can we sell": Zoho Inventory when Zoho is
// configured, the built-in local inventory otherwise.
type StockSource interface {
	ItemBySKU(ctx context.Context, sku string) (*Item, error)
	Name() string
}

// Name identifies the provider.
func (inv *Inventory) Name() string { return "zoho-inventory" }

// LocalInventory is the built-in inventory used without Zoho credentials: items are the
// synced catalog products in PostgreSQL, stock is the catalog's stockQuantity.
type LocalInventory struct {
	Store *db.Store
}

func (l *LocalInventory) Name() string { return "local" }

// ItemBySKU returns the active product with this SKU (case-insensitive) as an Item.
func (l *LocalInventory) ItemBySKU(ctx context.Context, sku string) (*Item, error) {
	var id int64
	var it Item
	var stock *int
	var price *float64
	var inStock bool
	err := l.Store.Pool.QueryRow(ctx, `SELECT id, sku, name, short_description, coalesce(sale_price, price), stock_quantity, in_stock
		FROM products WHERE lower(sku) = lower($1) AND active`, sku).Scan(&id, &it.SKU, &it.Name, &it.Description, &price, &stock, &inStock)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("local inventory %s: %w", sku, err)
	}
	it.ItemID = "local-" + strconv.FormatInt(id, 10)
	it.Status = "active"
	if price != nil {
		it.Rate = *price
	}
	var avail float64
	if stock != nil {
		avail = float64(*stock)
	} else if inStock {
		avail = 1
	}
	it.StockOnHand, it.AvailableStock = &avail, &avail
	return &it, nil
}
