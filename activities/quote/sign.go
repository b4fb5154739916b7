package quote

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of a document URL check: a forged (or mangled) signature, and an expired link.
var (
	ErrForged  = errors.New("invalid signature")
	ErrExpired = errors.New("link expired")
	ErrNoKey   = errors.New("SIGNING_KEY is not set: quotation links cannot be signed")
)

// Signer makes and checks the expiring links to documents (quotation PDFs): HMAC-SHA256
// with SIGNING_KEY over the document's path and the expiry.
type Signer struct {
	Key []byte
}

// DocumentPath is the public route of a quote's PDF.
func DocumentPath(ref string) string { return "/quotes/" + url.PathEscape(ref) + ".pdf" }

// SaleOrderPath is the public route of a sale order's PDF (one Noor did not create).
func SaleOrderPath(id string) string { return "/sale-orders/" + url.PathEscape(id) + ".pdf" }

func (s Signer) mac(path string, exp int64) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("noor-document\n" + path + "\n" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// URL is base + path + exp and sig.
func (s Signer) URL(base, path string, exp time.Time) (string, error) {
	if len(s.Key) == 0 {
		return "", ErrNoKey
	}
	e := exp.Unix()
	return strings.TrimRight(base, "/") + path + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + s.mac(path, e), nil
}

// Verify checks a link's exp and sig for path at now.
func (s Signer) Verify(path, exp, sig string, now time.Time) error {
	if len(s.Key) == 0 {
		return ErrNoKey
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" {
		return ErrForged
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(path, e))) {
		return ErrForged
	}
	if now.Unix() > e {
		return ErrExpired
	}
	return nil
}
