package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/demodata"
)

// importKnowledge stores the demo Markdown documents as one chunk per section.
func importKnowledge(ctx context.Context, store *db.Store) (int, error) {
	total := 0
	err := fs.WalkDir(demodata.FS, "kb", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".md" {
			return err
		}
		b, err := fs.ReadFile(demodata.FS, p)
		if err != nil {
			return err
		}
		lang := "en"
		if strings.HasSuffix(p, ".ar.md") {
			lang = "ar"
		}
		chunks := markdownSections(string(b))
		for i, c := range chunks {
			sum := sha256.Sum256([]byte(c.heading + "\n" + c.body))
			_, err := store.Pool.Exec(ctx, `
				INSERT INTO knowledge_base (source, title, heading, chunk_index, content, language, content_hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (source, chunk_index) DO UPDATE SET title = EXCLUDED.title, heading = EXCLUDED.heading,
				    content = EXCLUDED.content, language = EXCLUDED.language, content_hash = EXCLUDED.content_hash,
				    updated_at = now()
				WHERE knowledge_base.content_hash <> EXCLUDED.content_hash`,
				p, chunks[0].heading, c.heading, i, c.body, lang, hex.EncodeToString(sum[:]))
			if err != nil {
				return fmt.Errorf("store knowledge chunk %s#%d: %w", p, i, err)
			}
		}
		if _, err := store.Pool.Exec(ctx, `DELETE FROM knowledge_base WHERE source = $1 AND chunk_index >= $2`, p, len(chunks)); err != nil {
			return err
		}
		total += len(chunks)
		return nil
	})
	return total, err
}

type section struct{ heading, body string }

// markdownSections splits a document at its headings; the first heading titles the document.
func markdownSections(doc string) []section {
	var out []section
	cur := section{}
	flush := func() {
		if strings.TrimSpace(cur.body) != "" || cur.heading != "" {
			cur.body = strings.TrimSpace(cur.body)
			if cur.body != "" {
				out = append(out, cur)
			}
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "#") {
			flush()
			cur = section{heading: strings.TrimSpace(strings.TrimLeft(line, "#"))}
			continue
		}
		cur.body += line + "\n"
	}
	flush()
	if len(out) == 0 {
		out = append(out, section{body: strings.TrimSpace(doc)})
	}
	return out
}
