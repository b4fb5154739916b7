// Package knowledge indexes knowledge-base documents (Markdown/text and HTML pages) into
// chunks with overlap and embeddings in the knowledge_base table, re-indexing only
// documents whose content (or the embedding model) changed.
package knowledge

import (
	"bytes"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Section is a run of text under one heading.
type Section struct {
	Heading string
	Text    string
}

var mdComment = regexp.MustCompile(`(?s)<!--.*?-->`)

// ParseMarkdown splits a Markdown document at its headings. The first level-1 heading is
// the title. HTML comments (e.g. "<!-- demo value -->" markers) are dropped, table rows are
// kept as "a | b | c" lines, and emphasis markers removed.
func ParseMarkdown(doc string) (title string, sections []Section) {
	doc = mdComment.ReplaceAllString(doc, "")
	cur := Section{}
	var body strings.Builder
	flush := func() {
		cur.Text = strings.TrimSpace(body.String())
		if cur.Text != "" {
			sections = append(sections, cur)
		}
		body.Reset()
	}
	for _, line := range strings.Split(doc, "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "#") {
			level := len(trim) - len(strings.TrimLeft(trim, "#"))
			h := strings.TrimSpace(trim[level:])
			if level == 1 && title == "" {
				title = h
			}
			flush()
			cur = Section{Heading: h}
			continue
		}
		if isTableRule(trim) {
			continue
		}
		if strings.HasPrefix(trim, "|") {
			cells := strings.Split(strings.Trim(trim, "|"), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			trim = strings.Join(cells, " | ")
		}
		trim = strings.NewReplacer("**", "", "__", "", "`", "").Replace(trim)
		body.WriteString(trim)
		body.WriteByte('\n')
	}
	flush()
	return title, sections
}

func isTableRule(s string) bool {
	return strings.HasPrefix(s, "|") && strings.Trim(s, "|-: ") == ""
}

// Elements whose content is never page text: code, navigation, boilerplate and forms.
var skipElems = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Svg: true,
	atom.Iframe: true, atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Form: true,
	atom.Button: true, atom.Select: true, atom.Head: true, atom.Object: true, atom.Canvas: true,
}

var hiddenStyle = regexp.MustCompile(`(?i)display\s*:\s*none|visibility\s*:\s*hidden`)

// hidden reports elements a visitor never sees (or that are boilerplate overlays).
func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(a.Val, "true") {
				return true
			}
		case "style":
			if hiddenStyle.MatchString(a.Val) {
				return true
			}
		case "role":
			if a.Val == "dialog" || a.Val == "navigation" || a.Val == "banner" || a.Val == "contentinfo" {
				return true
			}
		case "class":
			for _, c := range strings.Fields(strings.ToLower(a.Val)) {
				if c == "hidden" || c == "sr-only" || c == "visually-hidden" || strings.HasPrefix(c, "cookie") ||
					c == "breadcrumbs" || c == "breadcrumb" {
					return true
				}
			}
		}
	}
	return false
}

// ParseHTML extracts a page's readable text: scripts, styles, navigation, header, footer,
// comments and hidden elements are removed; headings start sections; list items, table
// rows and paragraphs become lines.
func ParseHTML(page []byte) (title string, sections []Section, err error) {
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", nil, err
	}
	var walkTitle func(*html.Node)
	walkTitle = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title && title == "" {
			title = strings.TrimSpace(textOf(n))
			if i := strings.LastIndex(title, " | "); i > 0 {
				title = strings.TrimSpace(title[:i]) // "Delivery & installation | Treejar"
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walkTitle(c)
		}
	}
	walkTitle(root)

	cur := Section{}
	var body strings.Builder
	flush := func() {
		cur.Text = tidy(body.String())
		if cur.Text != "" {
			sections = append(sections, cur)
		}
		body.Reset()
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.CommentNode:
			return
		case html.TextNode:
			// Source line breaks are just whitespace in HTML.
			body.WriteString(strings.ReplaceAll(n.Data, "\n", " "))
			return
		case html.ElementNode:
			if skipElems[n.DataAtom] || hidden(n) {
				return
			}
			switch n.DataAtom {
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				flush()
				cur = Section{Heading: tidy(textOf(n))}
				if title == "" && n.DataAtom == atom.H1 {
					title = cur.Heading
				}
				return
			case atom.Br:
				body.WriteString("\n")
				return
			case atom.Td, atom.Th:
				walkChildren(n, walk)
				body.WriteString(" | ")
				return
			case atom.Li:
				body.WriteString("\n- ")
				walkChildren(n, walk)
				body.WriteString("\n")
				return
			case atom.P, atom.Div, atom.Section, atom.Article, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Blockquote, atom.Aside, atom.Main:
				body.WriteString("\n")
				walkChildren(n, walk)
				body.WriteString("\n")
				return
			}
		}
		walkChildren(n, walk)
	}
	walk(root)
	flush()
	return title, sections, nil
}

func walkChildren(n *html.Node, fn func(*html.Node)) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		fn(c)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && (skipElems[n.DataAtom] || hidden(n)) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

var spaces = regexp.MustCompile(`[ \t\r\f\v\x{00a0}]+`)

// tidy collapses whitespace, trims " | " cell separators at line ends and drops empty lines.
func tidy(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(spaces.ReplaceAllString(line, " "))
		line = strings.TrimSpace(strings.TrimSuffix(line, "|"))
		if line != "" && line != "-" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
