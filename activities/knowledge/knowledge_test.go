package knowledge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/activities/knowledge"
	"github.com/treejar/noor/internal/demodata"
	"github.com/treejar/noor/internal/testenv"
)

func TestParseHTMLStripsBoilerplateAndKeepsHeadings(t *testing.T) {
	for _, page := range []string{"about", "delivery", "warranty"} {
		raw, err := demodata.FS.ReadFile("kb/site-pages/" + page + ".html")
		require.NoError(t, err)
		title, sections, err := knowledge.ParseHTML(raw)
		require.NoError(t, err)
		require.NotEmpty(t, sections, page)
		assert.NotContains(t, title, "| Treejar")
		var all strings.Builder
		for _, s := range sections {
			all.WriteString(s.Heading + "\n" + s.Text + "\n")
		}
		text := all.String()
		for _, banned := range []string{"gtag", "dataLayer", "function", "{", "Need help? Chat with Noor", "Internal: claims SLA",
			"Free layout drawings", "We use cookies", "Open menu", "demo values", "Privacy"} {
			assert.NotContains(t, text, banned, page)
		}
		if page == "delivery" {
			assert.Equal(t, "Delivery & installation", title)
			assert.Contains(t, text, "Delivery fees")
			assert.Contains(t, text, "Abu Dhabi, Al Ain | below AED 7,500 | AED 200")
			assert.Contains(t, text, "2–8 working days")
		}
	}
}

func TestChunkOverlap(t *testing.T) {
	long := strings.Repeat("Sentence number one is here. ", 80)
	pieces := knowledge.Chunk([]knowledge.Section{{Heading: "H", Text: long}, {Heading: "Short", Text: "tiny"}}, 300, 60)
	require.Greater(t, len(pieces), 3)
	for i, p := range pieces[:len(pieces)-1] {
		assert.LessOrEqual(t, len([]rune(p.Content)), 300)
		if i > 0 {
			// Each piece starts with text that ended the previous one.
			prev := pieces[i-1].Content
			assert.True(t, strings.Contains(prev, p.Content[:20]), "overlap %d", i)
		}
	}
	assert.Equal(t, knowledge.Piece{Heading: "Short", Content: "tiny"}, pieces[len(pieces)-1])
}

func TestIndexReindexesOnlyChangedDocuments(t *testing.T) {
	store := testenv.DB(t)
	ctx := testenv.Ctx(t, time.Minute)
	ix := &knowledge.Indexer{Store: store, Embedder: embed.NewHashedNGrams()}
	docs, err := knowledge.BundledDocuments()
	require.NoError(t, err)
	require.Len(t, docs, 7, "4 Markdown documents and 3 HTML pages")

	rep, err := ix.Index(ctx, docs, "kb/")
	require.NoError(t, err)
	assert.Equal(t, 7, rep.Indexed)
	var chunks, ar int
	require.NoError(t, store.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE language = 'ar') FROM knowledge_base WHERE embedding IS NOT NULL`).Scan(&chunks, &ar))
	assert.Equal(t, rep.Chunks, chunks)
	assert.Greater(t, ar, 10, "the Arabic FAQ is indexed as Arabic")

	rep, err = ix.Index(ctx, docs, "kb/")
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Indexed)
	assert.Equal(t, 7, rep.Unchanged)

	docs[0].Content = append(docs[0].Content, []byte("\n## New value\n\nWe answer within minutes.\n")...)
	rep, err = ix.Index(ctx, docs[:6], "kb/") // one changed, the last one removed
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Indexed)
	assert.Equal(t, 5, rep.Unchanged)
	assert.Equal(t, 1, rep.Removed)
	var n int
	require.NoError(t, store.Pool.QueryRow(ctx, `SELECT count(*) FROM knowledge_base WHERE source = $1`, docs[6].Source).Scan(&n))
	assert.Zero(t, n)
	require.NoError(t, store.Pool.QueryRow(ctx, `SELECT count(*) FROM knowledge_base WHERE content LIKE '%within minutes%'`).Scan(&n))
	assert.Equal(t, 1, n)
}
