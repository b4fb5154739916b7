package zoho

import (
	"context"
	"log/slog"
	"sync"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/config"
)

// Backends are the CRM and inventory a process uses: Zoho when it is configured, the
// built-in local CRM/inventory in PostgreSQL otherwise.
type Backends struct {
	CRM    CRMBackend
	Sales  SalesBackend
	Client *Client // nil without Zoho credentials
}

// NewBackends picks the providers from the configuration.
func NewBackends(cfg config.Zoho, store *db.Store, log *slog.Logger) Backends {
	if cfg.Live() {
		c := New(cfg, store, log)
		return Backends{CRM: c.CRM, Sales: c.Inventory, Client: c}
	}
	return Backends{CRM: &LocalCRM{Store: store}, Sales: &LocalInventory{Store: store}}
}

// BulkStock looks many SKUs up in src with at most concurrency lookups in flight (Zoho
// allows about 100 requests a minute per organisation). Results are in input order; an SKU
// the source does not have gets a nil Item. A terminal auth error stops the remaining
// lookups and is returned.
func BulkStock(ctx context.Context, src StockSource, skus []string, concurrency int) ([]StockResult, error) {
	if inv, ok := src.(*Inventory); ok {
		return inv.Stocks(ctx, skus, concurrency)
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	out := make([]StockResult, len(skus))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, sku := range skus {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			it, err := src.ItemBySKU(ctx, sku)
			if IsNotFound(err) {
				err = nil
			}
			out[i] = StockResult{SKU: sku, Item: it, Error: err}
		}()
	}
	wg.Wait()
	for _, r := range out {
		if Terminal(r.Error) {
			return out, r.Error
		}
	}
	return out, nil
}
