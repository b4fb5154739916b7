// Package pii masks personal data (phone numbers, e-mail addresses) before it reaches a log
// line, an alert or a language model.
package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// MaskPhone keeps the country code and the last two digits: 971551220665 -> 971*******65.
// Log lines and alerts use it; workflow ids never contain a phone at all.
func MaskPhone(phone string) string {
	digits := make([]rune, 0, len(phone))
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	n := len(digits)
	if n == 0 {
		return ""
	}
	if n <= 5 {
		return strings.Repeat("*", n)
	}
	keepHead := 3
	return string(digits[:keepHead]) + strings.Repeat("*", n-keepHead-2) + string(digits[n-2:])
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// A phone number: optional +, then 9-15 digits possibly split by spaces, dots or dashes.
	// Product codes such as "CH 616" or "NOVO 1200" are too short to match.
	phoneRe = regexp.MustCompile(`\+?\d[\d\s.\-()]{7,18}\d`)
)

// Masker replaces e-mails and phone numbers in text with stable placeholders
// ([EMAIL_1], [PHONE_1]) and can put the originals back into a model's answer.
type Masker struct {
	byToken map[string]string
	byValue map[string]string
	phones  int
	emails  int
}

// NewMasker returns an empty masker; use one per LLM call so placeholders stay consistent
// between the prompt and the answer.
func NewMasker() *Masker {
	return &Masker{byToken: map[string]string{}, byValue: map[string]string{}}
}

// Mask returns text with personal data replaced by placeholders.
func (m *Masker) Mask(text string) string {
	text = emailRe.ReplaceAllStringFunc(text, func(v string) string { return m.token(v, "EMAIL") })
	return phoneRe.ReplaceAllStringFunc(text, func(v string) string {
		digits := 0
		for _, r := range v {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 9 || digits > 15 {
			return v
		}
		return m.token(v, "PHONE")
	})
}

// Unmask puts the original values back.
func (m *Masker) Unmask(text string) string {
	if len(m.byToken) == 0 {
		return text
	}
	pairs := make([]string, 0, 2*len(m.byToken))
	for tok, v := range m.byToken {
		pairs = append(pairs, tok, v)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

func (m *Masker) token(value, kind string) string {
	if t, ok := m.byValue[value]; ok {
		return t
	}
	var n int
	if kind == "EMAIL" {
		m.emails++
		n = m.emails
	} else {
		m.phones++
		n = m.phones
	}
	t := "[" + kind + "_" + strconv.Itoa(n) + "]"
	m.byToken[t] = value
	m.byValue[value] = t
	return t
}
