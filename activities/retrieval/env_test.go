package retrieval_test

import (
	"os"

	"github.com/treejar/noor/internal/config"
)

// liveEmbeddingsConfig lets the evaluation run against a real OpenAI-compatible
// embeddings endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL); unset,
// it measures the offline embedder.
func liveEmbeddingsConfig() config.Embeddings {
	c := config.Embeddings{BaseURL: os.Getenv("EMBEDDINGS_BASE_URL"), APIKey: config.Secret(os.Getenv("EMBEDDINGS_API_KEY")),
		Model: os.Getenv("EMBEDDINGS_MODEL")}
	if c.Model == "" {
		c.Model = "BAAI/bge-m3"
	}
	return c
}
