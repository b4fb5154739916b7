package console

import "strings"

// DiffLine is one line of a line-based diff: Op is ' ' (same), '-' (only in the old text)
// or '+' (only in the new text).
type DiffLine struct {
	Op        byte
	Text      string
	Old, New  int // 1-based line numbers (0 when the side has no such line)
	IsAdd     bool
	IsDel     bool
	IsContext bool
}

// maxDiffCells bounds the LCS table; prompts are a few hundred lines, far below it.
const maxDiffCells = 4_000_000

// Diff compares two texts line by line (longest common subsequence). Texts too large for
// the table produce a plain "all removed, all added" diff.
func Diff(oldText, newText string) []DiffLine {
	a, b := splitLines(oldText), splitLines(newText)
	n, m := len(a), len(b)
	var out []DiffLine
	emit := func(op byte, text string, i, j int) {
		l := DiffLine{Op: op, Text: text, IsAdd: op == '+', IsDel: op == '-', IsContext: op == ' '}
		if op != '+' {
			l.Old = i + 1
		}
		if op != '-' {
			l.New = j + 1
		}
		out = append(out, l)
	}
	if (n+1)*(m+1) > maxDiffCells {
		for i, s := range a {
			emit('-', s, i, 0)
		}
		for j, s := range b {
			emit('+', s, 0, j)
		}
		return out
	}
	// lcs[i][j] = length of the LCS of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			emit(' ', a[i], i, j)
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			emit('-', a[i], i, j)
			i++
		default:
			emit('+', b[j], i, j)
			j++
		}
	}
	for ; i < n; i++ {
		emit('-', a[i], i, j)
	}
	for ; j < m; j++ {
		emit('+', b[j], i, j)
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
