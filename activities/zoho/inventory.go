package zoho

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
)

// Item is a Zoho Inventory item (the fields we use).
type Item struct {
	ItemID          string   `json:"item_id"`
	Name            string   `json:"name"`
	SKU             string   `json:"sku"`
	Description     string   `json:"description"`
	Rate            float64  `json:"rate"`
	StockOnHand     *float64 `json:"stock_on_hand"`
	AvailableStock  *float64 `json:"available_stock"`
	Status          string   `json:"status"`
	GroupName       string   `json:"group_name"`
	ImageDocumentID string   `json:"image_document_id"`
	EndProduct      string   `json:"cf_end_product"`
}

// Available is the stock a customer can be promised: available_stock (net of open orders)
// when Zoho reports it, else stock_on_hand; nil when the item tracks no stock.
func (it Item) Available() *int {
	v := it.AvailableStock
	if v == nil {
		v = it.StockOnHand
	}
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

// Inventory is Zoho Inventory.
type Inventory struct {
	API *API
	// PerPage for item listings (Zoho's maximum is 200).
	PerPage int
}

// ItemsPage lists one page of active items.
func (inv *Inventory) ItemsPage(ctx context.Context, page int) ([]Item, bool, error) {
	per := inv.PerPage
	if per <= 0 {
		per = 200
	}
	var out struct {
		Items       []Item `json:"items"`
		PageContext struct {
			HasMorePage bool `json:"has_more_page"`
		} `json:"page_context"`
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(per)}, "status": {"active"}}
	if err := inv.API.Do(ctx, "GET", "/items", q, nil, &out); err != nil {
		return nil, false, fmt.Errorf("list zoho items page %d: %w", page, err)
	}
	return out.Items, out.PageContext.HasMorePage, nil
}

// AllItems walks every page of active items (bounded at 500 pages = 100 000 items).
func (inv *Inventory) AllItems(ctx context.Context) ([]Item, error) {
	var all []Item
	for page := 1; page <= 500; page++ {
		items, more, err := inv.ItemsPage(ctx, page)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !more {
			return all, nil
		}
	}
	return nil, fmt.Errorf("list zoho items: more than 500 pages, giving up")
}

// ItemBySKU finds the item whose SKU is exactly sku. Zoho's search_text matches partially
// ("CH 145" finds "CH 145 black" and "CH 145 Grey"), so the result is filtered exactly.
func (inv *Inventory) ItemBySKU(ctx context.Context, sku string) (*Item, error) {
	var out struct {
		Items []Item `json:"items"`
	}
	if err := inv.API.Do(ctx, "GET", "/items", url.Values{"search_text": {sku}}, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("search zoho item %q: %w", sku, err)
	}
	for i := range out.Items {
		if out.Items[i].SKU == sku {
			return &out.Items[i], nil
		}
	}
	return nil, ErrNotFound
}

// Item reads one item by id.
func (inv *Inventory) Item(ctx context.Context, itemID string) (*Item, error) {
	var out struct {
		Item *Item `json:"item"`
	}
	if err := inv.API.Do(ctx, "GET", "/items/"+url.PathEscape(itemID), nil, nil, &out); err != nil {
		if IsNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read zoho item %s: %w", itemID, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	return out.Item, nil
}

// StockResult is the stock of one SKU from a bulk lookup.
type StockResult struct {
	SKU   string
	Item  *Item // nil when Zoho has no item with this SKU
	Error error
}

// Stocks looks up many SKUs with at most concurrency requests in flight (Zoho allows about
// 100 requests a minute per organisation). Results are in input order. A terminal auth
// error stops the remaining lookups and is returned.
func (inv *Inventory) Stocks(ctx context.Context, skus []string, concurrency int) ([]StockResult, error) {
	if concurrency <= 0 {
		concurrency = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]StockResult, len(skus))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var terminal error
	for i, sku := range skus {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			out[i] = StockResult{SKU: sku, Error: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			it, err := inv.ItemBySKU(ctx, sku)
			if IsNotFound(err) {
				err = nil
			}
			if Terminal(err) {
				once.Do(func() { terminal = err; cancel() })
			}
			out[i] = StockResult{SKU: sku, Item: it, Error: err}
		}()
	}
	wg.Wait()
	return out, terminal
}

// CheckAuth makes sure a valid access token can be had (a cheap preflight: a revoked
// refresh token fails here with ErrAuthRevoked).
func (inv *Inventory) CheckAuth(ctx context.Context) error {
	_, err := inv.API.Auth.Token(ctx)
	return err
}
