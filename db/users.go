package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Console roles. Managers see and act on conversations and escalations; admins also edit
// prompts, settings, segments and users.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
)

// User is a console account. PasswordHash is never rendered or serialised.
type User struct {
	ID           int64      `json:"id"`
	Username     string     `json:"username"`
	DisplayName  string     `json:"display_name"`
	Role         string     `json:"role"`
	PasswordHash string     `json:"-"`
	Disabled     bool       `json:"disabled"`
	FailedLogins int        `json:"failed_logins"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// ErrDuplicate means a unique key (such as a username) is taken.
var ErrDuplicate = errors.New("already exists")

const userCols = `id, username, display_name, role, password_hash, disabled, failed_logins,
	locked_until, last_login_at, created_at, updated_at`

func scanUser(r pgx.Row) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.PasswordHash, &u.Disabled,
		&u.FailedLogins, &u.LockedUntil, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// UserByName finds a user case-insensitively.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = lower($1)`, username))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return u, fmt.Errorf("read user: %w", err)
	}
	return u, err
}

// UserByID reads one user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return u, fmt.Errorf("read user %d: %w", id, err)
	}
	return u, err
}

// Users lists every account, admins first.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY role, lower(username)`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// CreateUser inserts an account; a taken username is ErrDuplicate.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	out, err := scanUser(s.Pool.QueryRow(ctx, `
		INSERT INTO users (username, display_name, role, password_hash, disabled)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+userCols,
		u.Username, u.DisplayName, u.Role, u.PasswordHash, u.Disabled))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return out, fmt.Errorf("user %q: %w", u.Username, ErrDuplicate)
	}
	if err != nil {
		return out, fmt.Errorf("create user: %w", err)
	}
	return out, nil
}

// UpdateUser changes role, display name and the disabled flag, and the password hash when
// hash is not empty. A new password or a disabled account ends the user's sessions.
func (s *Store) UpdateUser(ctx context.Context, id int64, role, displayName string, disabled bool, hash string) (User, error) {
	var out User
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET role = $2, display_name = $3, disabled = $4,
			    password_hash = CASE WHEN $5 = '' THEN password_hash ELSE $5 END,
			    failed_logins = CASE WHEN $5 = '' THEN failed_logins ELSE 0 END,
			    locked_until = CASE WHEN $5 = '' THEN locked_until ELSE NULL END,
			    updated_at = now()
			WHERE id = $1 RETURNING `+userCols, id, role, displayName, disabled, hash))
		if err != nil {
			return err
		}
		if disabled || hash != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return out, fmt.Errorf("update user %d: %w", id, err)
	}
	return out, err
}

// EnsureAdmin creates or updates the bootstrap admin: role admin, enabled, unlocked, and
// the password hash replaced when keep reports that the stored one no longer matches.
func (s *Store) EnsureAdmin(ctx context.Context, username, newHash string, keep func(storedHash string) bool) (created bool, err error) {
	u, err := s.UserByName(ctx, username)
	if errors.Is(err, ErrNotFound) {
		_, err = s.CreateUser(ctx, User{Username: username, DisplayName: username, Role: RoleAdmin, PasswordHash: newHash})
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	hash := ""
	if !keep(u.PasswordHash) {
		hash = newHash
	}
	if u.Role == RoleAdmin && !u.Disabled && hash == "" {
		return false, nil
	}
	_, err = s.UpdateUser(ctx, u.ID, RoleAdmin, u.DisplayName, false, hash)
	return false, err
}

// RecordLoginFailure counts a failed password and locks the account for lockFor once
// maxFailures consecutive failures are reached. It returns the lock's end, if any.
func (s *Store) RecordLoginFailure(ctx context.Context, id int64, maxFailures int, lockFor time.Duration) (*time.Time, error) {
	var until *time.Time
	err := s.Pool.QueryRow(ctx, `
		UPDATE users SET failed_logins = failed_logins + 1,
		    locked_until = CASE WHEN failed_logins + 1 >= $2 THEN now() + $3::interval ELSE locked_until END
		WHERE id = $1 RETURNING locked_until`, id, maxFailures, lockFor.String()).Scan(&until)
	if err != nil {
		return nil, fmt.Errorf("record login failure: %w", err)
	}
	return until, nil
}

// RecordLoginSuccess resets the failure counter.
func (s *Store) RecordLoginSuccess(ctx context.Context, id int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = now() WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// Session is a logged-in browser.
type Session struct {
	User      User
	CSRFToken string
	ExpiresAt time.Time
	LastSeen  time.Time
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession stores a session for the raw cookie token.
func (s *Store) CreateSession(ctx context.Context, token, csrf string, userID int64, expires time.Time, ip, ua string) error {
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO console_sessions (token_hash, user_id, csrf_token, expires_at, remote_ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, hashToken(token), userID, csrf, expires, ip, ua)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByToken returns the live session for a raw cookie token (not expired, user
// enabled). Expired or unknown tokens are ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	var sess Session
	u := &sess.User
	err := s.Pool.QueryRow(ctx, `
		SELECT s.csrf_token, s.expires_at, s.last_seen_at,
		       u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled, u.failed_logins,
		       u.locked_until, u.last_login_at, u.created_at, u.updated_at
		FROM console_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`, hashToken(token)).
		Scan(&sess.CSRFToken, &sess.ExpiresAt, &sess.LastSeen, &u.ID, &u.Username, &u.DisplayName, &u.Role,
			&u.PasswordHash, &u.Disabled, &u.FailedLogins, &u.LockedUntil, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess, ErrNotFound
	}
	if err != nil {
		return sess, fmt.Errorf("read session: %w", err)
	}
	return sess, nil
}

// TouchSession slides the idle expiry, capped by the absolute lifetime from creation.
func (s *Store) TouchSession(ctx context.Context, token string, idle, absolute time.Duration) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE console_sessions SET last_seen_at = now(),
		    expires_at = least(now() + $2::interval, created_at + $3::interval)
		WHERE token_hash = $1`, hashToken(token), idle.String(), absolute.String())
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session (logout).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, hashToken(token))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Role     string          `json:"role"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
	RemoteIP string          `json:"remote_ip"`
}

// jsonOrNull marshals v for a jsonb column; nil stays NULL.
func jsonOrNull(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if len(raw) == 0 {
			return nil, nil
		}
		return raw, nil
	}
	return json.Marshal(v)
}

// Audit appends an entry. before and after are marshalled to JSON (nil = none).
func (s *Store) Audit(ctx context.Context, e AuditEntry, before, after any) error {
	return audit(ctx, s.Pool, e, before, after)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func audit(ctx context.Context, x execer, e AuditEntry, before, after any) error {
	b, err := jsonOrNull(before)
	if err != nil {
		return fmt.Errorf("audit before: %w", err)
	}
	a, err := jsonOrNull(after)
	if err != nil {
		return fmt.Errorf("audit after: %w", err)
	}
	_, err = x.Exec(ctx, `INSERT INTO audit_log (actor, role, action, target, before, after, remote_ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.Actor, e.Role, e.Action, e.Target, b, a, e.RemoteIP)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditLog lists entries newest first, optionally only one action prefix (e.g. "prompt.").
func (s *Store) AuditLog(ctx context.Context, actionPrefix string, limit, offset int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	if offset < 0 {
		offset = 0
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT id, at, actor, role, action, target, before, after, remote_ip FROM audit_log
		WHERE ($1 = '' OR starts_with(action, $1))
		ORDER BY id DESC LIMIT $2 OFFSET $3`, actionPrefix, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &e.Target, &e.Before, &e.After, &e.RemoteIP)
		return e, err
	})
}
