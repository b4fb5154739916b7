// Package embed turns text into vectors for retrieval: an OpenAI-compatible /embeddings
// client (BGE-M3 in production) and a built-in offline embedder that needs no model weights.
// Both produce 1024-dimensional, L2-normalised vectors, the size of the vector(1024) columns.
package embed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/treejar/noor/internal/config"
)

// Dims is the vector size of every embedding column in the schema.
const Dims = 1024

// Embedder embeds texts. Vectors are returned in input order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the provider and model; it is stored with every vector, so a change of
	// provider or model is detected and everything is re-embedded.
	Model() string
	Dims() int
}

// New picks the embedder from the configuration: the remote endpoint when
// EMBEDDINGS_BASE_URL is set, the offline hashed n-gram embedder otherwise.
func New(cfg config.Embeddings) Embedder {
	if cfg.Live() {
		return NewClient(cfg.BaseURL, cfg.APIKey.Reveal(), cfg.Model)
	}
	return NewHashedNGrams()
}

// TextHash fingerprints the text a vector was computed from, so unchanged text is never
// embedded twice.
func TextHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}
