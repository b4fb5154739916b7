package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ZohoToken is the cached Zoho access token shared by every process.
type ZohoToken struct {
	AccessToken string
	ExpiresAt   time.Time
	Refreshes   int64
}

// ZohoToken returns the cached token for key (zero value when there is none).
func (s *Store) ZohoToken(ctx context.Context, key string) (ZohoToken, error) {
	var t ZohoToken
	err := s.Pool.QueryRow(ctx, `SELECT access_token, expires_at, refreshes FROM zoho_tokens WHERE key = $1`, key).
		Scan(&t.AccessToken, &t.ExpiresAt, &t.Refreshes)
	if errors.Is(err, pgx.ErrNoRows) {
		return ZohoToken{}, nil
	}
	if err != nil {
		return t, fmt.Errorf("read zoho token: %w", err)
	}
	return t, nil
}

// LockedZohoToken runs fn while holding the row lock of key's token, so one caller at a
// time (across every process) decides whether to refresh. fn gets the current token and
// returns the token to store and whether it changed; a caller that waited for the lock
// usually finds a fresh token and changes nothing. fn's error is recorded on the row.
func (s *Store) LockedZohoToken(ctx context.Context, key string, fn func(cur ZohoToken) (ZohoToken, bool, error)) (ZohoToken, error) {
	var out ZohoToken
	var fnErr error
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO zoho_tokens (key) VALUES ($1) ON CONFLICT DO NOTHING`, key); err != nil {
			return err
		}
		var cur ZohoToken
		if err := tx.QueryRow(ctx, `SELECT access_token, expires_at, refreshes FROM zoho_tokens WHERE key = $1 FOR UPDATE`, key).
			Scan(&cur.AccessToken, &cur.ExpiresAt, &cur.Refreshes); err != nil {
			return err
		}
		next, changed, err := fn(cur)
		if err != nil {
			fnErr = err
			_, uerr := tx.Exec(ctx, `UPDATE zoho_tokens SET last_error = $2 WHERE key = $1`, key, err.Error())
			return uerr
		}
		out = cur
		if !changed {
			return nil
		}
		return tx.QueryRow(ctx, `
			UPDATE zoho_tokens SET access_token = $2, expires_at = $3, refreshed_at = now(),
			    refreshes = refreshes + 1, last_error = ''
			WHERE key = $1 RETURNING access_token, expires_at, refreshes`, key, next.AccessToken, next.ExpiresAt).
			Scan(&out.AccessToken, &out.ExpiresAt, &out.Refreshes)
	})
	if err != nil {
		return ZohoToken{}, fmt.Errorf("zoho token lock: %w", err)
	}
	if fnErr != nil {
		return ZohoToken{}, fnErr
	}
	return out, nil
}

// InvalidateZohoToken drops the cached token if it is still accessToken (the one an API
// call was refused with), so concurrent 401s lead to a single refresh.
func (s *Store) InvalidateZohoToken(ctx context.Context, key, accessToken string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE zoho_tokens SET expires_at = 'epoch' WHERE key = $1 AND access_token = $2`, key, accessToken)
	if err != nil {
		return fmt.Errorf("invalidate zoho token: %w", err)
	}
	return nil
}
