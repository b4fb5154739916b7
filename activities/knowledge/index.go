package knowledge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	pgvec "github.com/pgvector/pgvector-go"
	"go.temporal.io/sdk/activity"

	"github.com/treejar/noor/activities/embed"
	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/demodata"
	"github.com/treejar/noor/internal/textnorm"
)

// Document is one source document.
type Document struct {
	Source  string // stable id, e.g. "kb/faq.md"
	Kind    string // markdown | text | html
	Content []byte
	// Title (optional) overrides the title found in the content (documents written in the
	// console have one); it is part of the content hash, since chunks carry it.
	Title string
}

// Hash identifies what a document's chunks were computed from. db.KBSource.Indexed
// computes the same in SQL: keep the two in step.
func (d Document) Hash() string {
	h := sha256.New()
	if d.Title != "" {
		h.Write([]byte(d.Title + "\n"))
	}
	h.Write(d.Content)
	return hex.EncodeToString(h.Sum(nil))
}

// Report counts what an indexing pass did.
type Report struct {
	Documents int `json:"documents"`
	Indexed   int `json:"indexed"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
	Chunks    int `json:"chunks"` // chunks written by this pass
}

func (r Report) String() string {
	return fmt.Sprintf("knowledge base: %d documents, %d indexed (%d chunks), %d unchanged, %d removed",
		r.Documents, r.Indexed, r.Chunks, r.Unchanged, r.Removed)
}

// Indexer writes documents into knowledge_base.
type Indexer struct {
	Store    *db.Store
	Embedder embed.Embedder
	Log      *slog.Logger
	// ChunkSize and Overlap in characters (defaults 900 and 150).
	ChunkSize, Overlap int
}

// Index indexes docs. A document whose content hash and embedding model are unchanged is
// skipped. With prune, documents under the same source prefix that are no longer present
// are removed (prefix "" prunes nothing).
func (ix *Indexer) Index(ctx context.Context, docs []Document, prunePrefix string) (Report, error) {
	rep := Report{Documents: len(docs)}
	present := map[string]bool{}
	for _, d := range docs {
		present[d.Source] = true
		n, changed, err := ix.indexOne(ctx, d)
		if err != nil {
			return rep, fmt.Errorf("index %s: %w", d.Source, err)
		}
		if changed {
			rep.Indexed++
			rep.Chunks += n
		} else {
			rep.Unchanged++
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, d.Source)
		}
	}
	if prunePrefix != "" {
		rows, err := ix.Store.Pool.Query(ctx, `SELECT source FROM kb_documents WHERE source LIKE $1 || '%'`, prunePrefix)
		if err != nil {
			return rep, err
		}
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return rep, err
		}
		for _, src := range known {
			if present[src] {
				continue
			}
			err := ix.Store.InTx(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `DELETE FROM knowledge_base WHERE source = $1`, src); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `DELETE FROM kb_documents WHERE source = $1`, src)
				return err
			})
			if err != nil {
				return rep, fmt.Errorf("remove %s: %w", src, err)
			}
			rep.Removed++
		}
	}
	return rep, nil
}

func (ix *Indexer) indexOne(ctx context.Context, d Document) (int, bool, error) {
	hash := d.Hash()
	var oldHash, oldModel string
	err := ix.Store.Pool.QueryRow(ctx, `SELECT content_hash, embedding_model FROM kb_documents WHERE source = $1`, d.Source).
		Scan(&oldHash, &oldModel)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, err
	}
	if oldHash == hash && oldModel == ix.Embedder.Model() {
		return 0, false, nil
	}
	title, sections, err := parse(d)
	if err != nil {
		return 0, false, err
	}
	if d.Title != "" {
		title = d.Title
	}
	if title == "" {
		title = path.Base(d.Source)
	}
	lang := "en"
	if strings.Contains(d.Source, ".ar.") || textnorm.HasArabic(sampleText(sections)) && arabicShare(sections) > 0.5 {
		lang = "ar"
	}
	size, overlap := ix.ChunkSize, ix.Overlap
	if size == 0 {
		size, overlap = 900, 150
	}
	pieces := Chunk(sections, size, overlap)
	texts := make([]string, len(pieces))
	for i, p := range pieces {
		// The heading travels with the text: "How much does delivery cost?" is the question
		// customers ask, the table below it the answer.
		texts[i] = title + " — " + p.Heading + "\n" + p.Content
	}
	vecs, err := ix.Embedder.Embed(ctx, texts)
	ix.Store.NoteProviderResult(ctx, "embeddings", err)
	if err != nil {
		return 0, false, fmt.Errorf("embed: %w", err)
	}
	err = ix.Store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM knowledge_base WHERE source = $1`, d.Source); err != nil {
			return err
		}
		for i, p := range pieces {
			csum := sha256.Sum256([]byte(p.Heading + "\n" + p.Content))
			_, err := tx.Exec(ctx, `INSERT INTO knowledge_base (source, title, heading, chunk_index, content, language,
				content_hash, embedding, embedding_model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				d.Source, title, p.Heading, i, p.Content, lang, hex.EncodeToString(csum[:]), pgvec.NewVector(vecs[i]), ix.Embedder.Model())
			if err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO kb_documents (source, title, kind, language, content_hash, chunks, embedding_model, indexed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now())
			ON CONFLICT (source) DO UPDATE SET title = EXCLUDED.title, kind = EXCLUDED.kind, language = EXCLUDED.language,
			    content_hash = EXCLUDED.content_hash, chunks = EXCLUDED.chunks, embedding_model = EXCLUDED.embedding_model,
			    indexed_at = now()`, d.Source, title, d.Kind, lang, hash, len(pieces), ix.Embedder.Model())
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if ix.Log != nil {
		ix.Log.Info("knowledge document indexed", "source", d.Source, "chunks", len(pieces), "language", lang)
	}
	return len(pieces), true, nil
}

func parse(d Document) (string, []Section, error) {
	switch d.Kind {
	case "html":
		return ParseHTML(d.Content)
	case "markdown":
		t, s := ParseMarkdown(string(d.Content))
		return t, s, nil
	default:
		return "", []Section{{Text: strings.TrimSpace(string(d.Content))}}, nil
	}
}

func sampleText(s []Section) string {
	var b strings.Builder
	for _, x := range s {
		b.WriteString(x.Text)
		if b.Len() > 2000 {
			break
		}
	}
	return b.String()
}

func arabicShare(s []Section) float64 {
	var ar, letters int
	for _, r := range sampleText(s) {
		if textnorm.IsArabic(r) {
			ar++
			letters++
		} else if r >= 'A' && r <= 'z' {
			letters++
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(ar) / float64(letters)
}

// KindOf picks the parser from a file name.
func KindOf(name string) (string, bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return "markdown", true
	case ".html", ".htm":
		return "html", true
	case ".txt":
		return "text", true
	}
	return "", false
}

// LoadFS reads every supported document under dir in fsys; sources are prefix + path.
func LoadFS(fsys fs.FS, dir, prefix string) ([]Document, error) {
	var docs []Document
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		kind, ok := KindOf(p)
		if !ok || strings.EqualFold(path.Base(p), "README.md") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		docs = append(docs, Document{Source: prefix + p, Kind: kind, Content: b})
		return nil
	})
	sort.Slice(docs, func(i, j int) bool { return docs[i].Source < docs[j].Source })
	return docs, err
}

// BundledDocuments is the demo knowledge base shipped in the binary (internal/demodata/kb).
func BundledDocuments() ([]Document, error) { return LoadFS(demodata.FS, "kb", "") }

// Activities runs indexing for workflows.
type Activities struct {
	Indexer *Indexer
	// Dir is an optional directory of documents on the worker's disk (KB_DIR), indexed
	// together with the bundled ones.
	Dir string
}

type IndexInput struct {
	// Bundled includes the documents shipped in the binary.
	Bundled bool
}

// IndexKnowledgeBase indexes the bundled documents, KB_DIR and the documents written in
// the console, removing documents that disappeared from any of them.
func (a *Activities) IndexKnowledgeBase(ctx context.Context, in IndexInput) (Report, error) {
	var total Report
	add := func(rep Report) {
		total.Documents += rep.Documents
		total.Indexed += rep.Indexed
		total.Unchanged += rep.Unchanged
		total.Removed += rep.Removed
		total.Chunks += rep.Chunks
	}
	if in.Bundled {
		docs, err := BundledDocuments()
		if err != nil {
			return total, err
		}
		rep, err := a.Indexer.Index(ctx, docs, "kb/")
		if err != nil {
			return total, err
		}
		add(rep)
	}
	if a.Dir != "" {
		docs, err := LoadFS(os.DirFS(a.Dir), ".", "dir:")
		if err != nil {
			return total, fmt.Errorf("read KB_DIR %s: %w", a.Dir, err)
		}
		rep, err := a.Indexer.Index(ctx, docs, "dir:")
		if err != nil {
			return total, err
		}
		add(rep)
	}
	docs, err := StoredDocuments(ctx, a.Indexer.Store)
	if err != nil {
		return total, err
	}
	rep, err := a.Indexer.Index(ctx, docs, db.KBSourcePrefix)
	if err != nil {
		return total, err
	}
	add(rep)
	return total, nil
}

// StoredDocuments are the documents admins wrote in the console (table kb_sources).
func StoredDocuments(ctx context.Context, store *db.Store) ([]Document, error) {
	list, err := store.KBSources(ctx)
	if err != nil {
		return nil, err
	}
	docs := make([]Document, len(list))
	for i, k := range list {
		docs[i] = Document{Source: k.Source, Kind: k.Kind, Content: []byte(k.Body), Title: k.Title}
	}
	return docs, nil
}
