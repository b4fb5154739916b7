package zoho_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/treejar/noor/activities/zoho"
	"github.com/treejar/noor/activities/zoho/zohotest"
	"github.com/treejar/noor/internal/testenv"
)

func newClient(t *testing.T, fake *zohotest.Server, store zoho.TokenStore) *zoho.Client {
	t.Helper()
	c := zoho.New(fake.Config(), store, testenv.Logger(t))
	c.Inventory.API.Backoff = 10 * time.Millisecond
	return c
}

func TestConcurrentUsersAcrossProcessesRefreshOnce(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	fake.SetTokenDelay(200 * time.Millisecond) // make the refreshes overlap
	store := testenv.DB(t)
	ctx := testenv.Ctx(t, time.Minute)

	// Ten separate clients stand for ten worker processes: they share only PostgreSQL.
	var wg sync.WaitGroup
	tokens := make([]string, 10)
	errs := make([]error, 10)
	for i := range 10 {
		c := newClient(t, fake, store)
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := c.Inventory.ItemBySKU(ctx, "CH 145 black")
			errs[i] = err
			if it != nil {
				tokens[i] = it.ItemID
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, fake.Refreshes(), "exactly one refresh for ten concurrent users")
	for _, id := range tokens {
		assert.Equal(t, tokens[0], id)
	}
	tok, err := store.ZohoToken(ctx, fake.AccountsURL+"|"+zohotest.ClientID)
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.EqualValues(t, 1, tok.Refreshes)
}

func TestRevokedRefreshTokenIsTerminal(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	fake.Revoke()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)

	_, err := c.Inventory.ItemBySKU(ctx, "CH 145 black")
	require.Error(t, err)
	assert.ErrorIs(t, err, zoho.ErrAuthRevoked)
	assert.True(t, zoho.Terminal(err))
	// Not retried in a loop: one call to the token endpoint, none to the API.
	assert.Equal(t, 1, countPath(fake, "/oauth/v2/token"))
	assert.Equal(t, 0, fake.APICalls("/inventory/"))

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(zoho.ActivityError(err), &appErr))
	assert.True(t, appErr.NonRetryable())
	assert.Equal(t, zoho.ErrTypeAuthRevoked, appErr.Type())
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)

	_, err := c.Inventory.ItemBySKU(ctx, "NOVO 2400")
	require.NoError(t, err)
	require.Equal(t, 1, fake.Refreshes())

	fake.ExpireAccessTokens() // Zoho revoked the access token early
	it, err := c.Inventory.ItemBySKU(ctx, "NOVO 2400")
	require.NoError(t, err)
	assert.Equal(t, "NOVO 2400", it.SKU)
	assert.Equal(t, 2, fake.Refreshes(), "401 → drop the token, refresh once, retry")

	// A 401 that persists after the refresh is not looped on.
	fake.FailNext(zohotest.Failure{Status: 401}, zohotest.Failure{Status: 401}, zohotest.Failure{Status: 401})
	_, err = c.Inventory.ItemBySKU(ctx, "NOVO 2400")
	var ae *zoho.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 401, ae.Status)
	assert.Equal(t, 3, fake.Refreshes())
}

func TestRateLimitAndServerErrorsBackOff(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)

	fake.FailNext(zohotest.Failure{Status: 429}, zohotest.Failure{Status: 503})
	it, err := c.Inventory.ItemBySKU(ctx, "CH 120 Grey")
	require.NoError(t, err)
	require.NotNil(t, it.Available())
	assert.Equal(t, 9, *it.Available(), "available_stock (net of open orders) wins over stock_on_hand")
	assert.Equal(t, 3, fake.APICalls("/inventory/v1/items"))

	// Bounded: a permanent 5xx gives up.
	c.Inventory.API.MaxRetries = 2
	fake.FailNext(zohotest.Failure{Status: 500}, zohotest.Failure{Status: 500}, zohotest.Failure{Status: 500})
	_, err = c.Inventory.ItemBySKU(ctx, "CH 120 Grey")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after 3 attempts")
}

func TestTokenRefreshedShortlyBeforeExpiry(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)
	now := time.Now()
	c.Inventory.API.Auth.Now = func() time.Time { return now }

	_, err := c.Inventory.ItemBySKU(ctx, "CMPD")
	require.NoError(t, err)
	now = now.Add(58 * time.Minute) // 2 minutes left: still fresh
	_, err = c.Inventory.ItemBySKU(ctx, "CMPD")
	require.NoError(t, err)
	assert.Equal(t, 1, fake.Refreshes())
	now = now.Add(90 * time.Second) // 30 s left: inside the 60 s margin
	_, err = c.Inventory.ItemBySKU(ctx, "CMPD")
	require.NoError(t, err)
	assert.Equal(t, 2, fake.Refreshes())
}

func TestInventoryItemsLookups(t *testing.T) {
	fake := zohotest.New()
	defer fake.Close()
	c := newClient(t, fake, testenv.DB(t))
	ctx := testenv.Ctx(t, time.Minute)

	c.Inventory.PerPage = 25
	all, err := c.Inventory.AllItems(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 112)
	assert.Equal(t, 5, fake.APICalls("/inventory/v1/items"), "112 items in pages of 25")

	// search_text matches "CH 145 black", "CH 145 Grey", … — only the exact SKU is returned.
	it, err := c.Inventory.ItemBySKU(ctx, "CH 145 black")
	require.NoError(t, err)
	assert.Equal(t, "CH 145 black", it.SKU)
	assert.Equal(t, 479.0, it.Rate)
	_, err = c.Inventory.ItemBySKU(ctx, "CH 145")
	assert.ErrorIs(t, err, zoho.ErrNotFound)

	byID, err := c.Inventory.Item(ctx, it.ItemID)
	require.NoError(t, err)
	assert.Equal(t, it.SKU, byID.SKU)
	_, err = c.Inventory.Item(ctx, "404")
	assert.ErrorIs(t, err, zoho.ErrNotFound)

	res, err := c.Inventory.Stocks(ctx, []string{"CH 616 black", "CH 145 white", "NOVO 2400"}, 2)
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.Equal(t, 0, *res[0].Item.Available())
	assert.Nil(t, res[1].Item, "CH 145 white is not in Zoho")
	assert.NoError(t, res[1].Error)
	assert.Equal(t, 6, *res[2].Item.Available())
}

func countPath(fake *zohotest.Server, path string) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}
