package retrieval

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	pgvec "github.com/pgvector/pgvector-go"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/internal/textnorm"
)

// SearchKnowledge finds knowledge-base passages (FAQ, delivery, warranty, payment, values)
// for text: vector and full-text ranks fused, passages in the customer's language (Arabic
// script → Arabic) ranked ahead of their translations.
func (r *Retriever) SearchKnowledge(ctx context.Context, text string, limit int) ([]Chunk, error) {
	if limit <= 0 {
		limit = 4
	}
	limit = min(limit, 20)
	if strings.TrimSpace(text) == "" {
		return []Chunk{}, nil
	}
	lang := "en"
	if textnorm.HasArabic(text) {
		lang = "ar"
	}
	scores := map[int64]float64{}
	qv, err := r.Embedder.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	err = r.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM knowledge_base WHERE embedding IS NOT NULL
			ORDER BY embedding <=> $1 LIMIT 30`, pgvec.NewVector(qv[0]))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		for i, id := range ids {
			scores[id] += 1 / (rrfK + float64(i+1))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge vector search: %w", err)
	}
	if words := kbWords(text); len(words) > 0 {
		rows, err := r.Store.Pool.Query(ctx, `SELECT k.id FROM knowledge_base k, to_tsquery('simple', $1) q
			WHERE k.search_tsv @@ q ORDER BY ts_rank_cd(k.search_tsv, q) DESC, k.id LIMIT 30`, strings.Join(words, " | "))
		if err != nil {
			return nil, fmt.Errorf("knowledge full-text search: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			scores[id] += 1 / (rrfK + float64(i+1))
		}
	}
	if len(scores) == 0 {
		return []Chunk{}, nil
	}
	ids := make([]int64, 0, len(scores))
	for id := range scores {
		ids = append(ids, id)
	}
	rows, err := r.Store.Pool.Query(ctx, `SELECT id, source, title, heading, content, language FROM knowledge_base WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load knowledge chunks: %w", err)
	}
	chunks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Chunk, error) {
		var c Chunk
		err := row.Scan(&c.ID, &c.Source, &c.Title, &c.Heading, &c.Content, &c.Language)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	for i := range chunks {
		chunks[i].Score = scores[chunks[i].ID]
		if chunks[i].Language == lang {
			chunks[i].Score += 0.01 // about one rank step: same language first among near-equals
		}
	}
	sort.Slice(chunks, func(i, j int) bool {
		if chunks[i].Score != chunks[j].Score {
			return chunks[i].Score > chunks[j].Score
		}
		return chunks[i].ID < chunks[j].ID
	})
	return chunks[:min(limit, len(chunks))], nil
}

// kbWords are lower-case words for the 'simple' full-text index of the knowledge base
// (both as written and normalised, since stored Arabic keeps its spelling).
func kbWords(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if len([]rune(w)) < 2 || seen[w] || stopKB[w] {
			return
		}
		seen[w] = true
		out = append(out, w)
	}
	for _, w := range textnorm.Tokens(strings.ToLower(textnorm.Fold(text))) {
		add(w)
	}
	for _, w := range embed.Words(text) {
		add(w)
	}
	return out
}

var stopKB = map[string]bool{"the": true, "and": true, "or": true, "is": true, "are": true, "do": true, "you": true,
	"to": true, "of": true, "in": true, "on": true, "for": true, "my": true, "me": true, "can": true, "what": true,
	"how": true, "we": true, "it": true, "an": true, "هل": true, "في": true, "من": true, "على": true, "ما": true}
