// Package textnorm folds the spellings customers (and catalogs) use for the same thing:
// Cyrillic and Greek letters that look Latin ("СН 616" typed on a Russian keyboard),
// Arabic-Indic and Persian digits, and Arabic orthographic variants (hamza forms, taa
// marbuta, alif maqsura, diacritics, tatweel).
package textnorm

import (
	"strings"
	"unicode"
)

// homoglyphs maps Cyrillic and Greek letters to the Latin letter they are visually
// confused with. Only look-alikes are mapped, so real Cyrillic words (e.g. "ПС") keep
// their other letters.
var homoglyphs = map[rune]rune{
	// Cyrillic upper
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T', 'У': 'Y', 'Х': 'X',
	'І': 'I', 'Ј': 'J', 'Ѕ': 'S',
	// Cyrillic lower
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's',
	// Greek upper
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
	// Greek lower
	'ο': 'o', 'ν': 'v', 'κ': 'k', 'ι': 'i', 'τ': 't', 'υ': 'u', 'χ': 'x', 'α': 'a', 'ε': 'e', 'ρ': 'p',
}

// Fold replaces look-alike letters with Latin ones, non-ASCII digits with ASCII digits,
// and unusual dashes and spaces with plain ones. Case is kept.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if l, ok := homoglyphs[r]; ok {
		return l
	}
	switch {
	case r >= '٠' && r <= '٩': // Arabic-Indic
		return '0' + (r - '٠')
	case r >= '۰' && r <= '۹': // Extended (Persian/Urdu)
		return '0' + (r - '۰')
	case r == '٫': // Arabic decimal separator
		return '.'
	case r == '٬': // Arabic thousands separator
		return ','
	case r == '‐', r == '‑', r == '‒', r == '–', r == '—', r == '−':
		return '-'
	case r == '\u00a0', r == '\u202f', r == '\u2009':
		return ' '
	}
	return r
}

// Arabic normalises Arabic orthography for matching: drops diacritics and tatweel,
// unifies hamza-carrying alifs, taa marbuta, alif maqsura and hamza seats.
func Arabic(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '\u064B' && r <= '\u065F', r == '\u0670', r == '\u0640':
			continue // harakat, superscript alif, tatweel
		case r == 'أ', r == 'إ', r == 'آ', r == 'ٱ':
			b.WriteRune('ا')
		case r == 'ة':
			b.WriteRune('ه')
		case r == 'ى':
			b.WriteRune('ي')
		case r == 'ؤ':
			b.WriteRune('و')
		case r == 'ئ':
			b.WriteRune('ي')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Normalize is Fold, Arabic normalisation and lower-casing: the form both the embedder and
// the query parser work on.
func Normalize(s string) string {
	return strings.ToLower(Arabic(Fold(s)))
}

// IsArabic reports whether r is an Arabic letter.
func IsArabic(r rune) bool { return unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) }

// HasArabic reports whether s contains Arabic letters.
func HasArabic(s string) bool {
	for _, r := range s {
		if IsArabic(r) {
			return true
		}
	}
	return false
}

// Tokens splits normalised text into words of letters and digits.
func Tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// StripArabicArticle removes a leading definite article (ال, وال, بال, فال, كال, لل) from a
// normalised Arabic word when enough of the word remains.
func StripArabicArticle(w string) string {
	rs := []rune(w)
	for _, p := range []string{"وال", "بال", "فال", "كال", "ال", "لل"} {
		pr := []rune(p)
		if len(rs) > len(pr)+2 && string(rs[:len(pr)]) == p {
			return string(rs[len(pr):])
		}
	}
	return w
}
