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

// Signer makes and checks the expiring links to quotation PDFs (HMAC-SHA256 with
// SIGNING_KEY over the document name and the expiry).
type Signer struct {
	Key []byte
}

// DocumentPath is the public route of a quote's PDF.
func DocumentPath(ref string) string { return "/quotes/" + url.PathEscape(ref) + ".pdf" }

func (s Signer) mac(ref string, exp int64) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("quote-pdf\n" + ref + "\n" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// URL is base + the document path + exp and sig.
func (s Signer) URL(base, ref string, exp time.Time) (string, error) {
	if len(s.Key) == 0 {
		return "", ErrNoKey
	}
	e := exp.Unix()
	return strings.TrimRight(base, "/") + DocumentPath(ref) + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + s.mac(ref, e), nil
}

// Verify checks a link's exp and sig for ref at now.
func (s Signer) Verify(ref, exp, sig string, now time.Time) error {
	if len(s.Key) == 0 {
		return ErrNoKey
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || sig == "" {
		return ErrForged
	}
	if !hmac.Equal([]byte(sig), []byte(s.mac(ref, e))) {
		return ErrForged
	}
	if now.Unix() > e {
		return ErrExpired
	}
	return nil
}
