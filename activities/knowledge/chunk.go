package knowledge

import (
	"strings"
)

// Piece is one chunk to embed and store.
type Piece struct {
	Heading string
	Content string
}

// Chunk cuts sections into pieces of at most size characters (runes), on paragraph, line
// or sentence boundaries where possible, each piece starting with the last ~overlap
// characters of the previous piece of the same section, so a fact split across a boundary
// is still found whole in one of them. Short sections stay whole.
func Chunk(sections []Section, size, overlap int) []Piece {
	if size <= 0 {
		size = 900
	}
	if overlap < 0 || overlap >= size/2 {
		overlap = size / 6
	}
	var out []Piece
	for _, s := range sections {
		text := []rune(s.Text)
		if len(text) <= size {
			out = append(out, Piece{Heading: s.Heading, Content: s.Text})
			continue
		}
		start := 0
		for start < len(text) {
			end := min(start+size, len(text))
			if end < len(text) {
				end = cutPoint(text, start, end)
			}
			out = append(out, Piece{Heading: s.Heading, Content: strings.TrimSpace(string(text[start:end]))})
			if end >= len(text) {
				break
			}
			next := end - overlap
			// Start the overlap at a word boundary.
			for next > start && next < end && text[next-1] != ' ' && text[next-1] != '\n' {
				next++
			}
			if next <= start || next >= end {
				next = end
			}
			start = next
		}
	}
	return out
}

// cutPoint prefers a paragraph break, then a line break, then a sentence end, then a
// space, in the second half of the window.
func cutPoint(text []rune, start, end int) int {
	half := start + (end-start)/2
	for _, seps := range []string{"\n\n", "\n", ". ", "? ", "! ", "؟ ", "۔ ", " "} {
		sr := []rune(seps)
		for i := end - len(sr); i >= half; i-- {
			if string(text[i:i+len(sr)]) == seps {
				return i + len(sr)
			}
		}
	}
	return end
}
