package textnorm

import (
	"strings"
	"unicode"
)

// The functions below serve the deterministic rules (keywords, refusals, auto-replies,
// escalation triggers): unlike Normalize they turn punctuation into spaces so phrases can
// be matched as whole words, also in Arabic where regexp's \b does not work.

// ForMatching lower-cases, folds Arabic letter variants (أ إ آ → ا, ى → ي, ة → ه, ؤ → و,
// ئ → ي), drops Arabic diacritics and tatweel, turns Arabic-Indic digits into ASCII,
// removes apostrophes ("don't" → "dont"), keeps the date separators / . - : between
// digits, replaces every other punctuation with a space, and collapses spaces.
func ForMatching(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r >= 0x064B && r <= 0x0652, r == 0x0640, r == 0x0670: // harakat, tatweel, dagger alef
			continue
		case r == '\'' || r == '’' || r == '`' || r == '‘':
			continue
		case r >= 0x0660 && r <= 0x0669:
			r = '0' + (r - 0x0660)
		case r >= 0x06F0 && r <= 0x06F9:
			r = '0' + (r - 0x06F0)
		}
		switch r {
		case 'أ', 'إ', 'آ', 'ٱ':
			r = 'ا'
		case 'ى':
			r = 'ي'
		case 'ة':
			r = 'ه'
		case 'ؤ':
			r = 'و'
		case 'ئ':
			r = 'ي'
		}
		r = unicode.ToLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			continue
		}
		if (r == '/' || r == '.' || r == '-' || r == ':') && i > 0 && i+1 < len(rs) && isDigit(rs[i-1]) && isDigit(rs[i+1]) {
			b.WriteRune(r)
			continue
		}
		b.WriteRune(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func isDigit(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 0x0660 && r <= 0x0669) || (r >= 0x06F0 && r <= 0x06F9)
}

// HasPhrase reports whether the normalised text contains phrase (normalised too) as whole
// words. It works for Arabic, where regexp's \b does not.
func HasPhrase(norm, phrase string) bool {
	p := ForMatching(phrase)
	if p == "" {
		return false
	}
	return strings.Contains(" "+norm+" ", " "+p+" ")
}

// HasAny reports whether any phrase occurs as whole words.
func HasAny(norm string, phrases ...string) bool {
	for _, p := range phrases {
		if HasPhrase(norm, p) {
			return true
		}
	}
	return false
}

// IsQuestion reports whether the raw text asks something (a Latin or Arabic question mark).
func IsQuestion(raw string) bool { return strings.ContainsAny(raw, "?؟") }
