package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Client calls an OpenAI-compatible `POST {base}/embeddings` (BGE-M3 behind OpenRouter,
// vLLM, Ollama, …). It batches inputs, retries 429/5xx/network errors with jittered
// back-off, and checks that the server returns Dims-sized vectors. It is plain net/http:
// one endpoint with a stable shape does not need the SDK, and this keeps retries and
// batching under our control.
type Client struct {
	BaseURL    string
	APIKey     string
	ModelName  string
	HTTP       *http.Client
	BatchSize  int           // default 32
	MaxRetries int           // default 4
	Backoff    time.Duration // first back-off, doubled each retry; default 500ms
}

// NewClient returns a client with a 30 s per-request timeout.
func NewClient(baseURL, apiKey, model string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), APIKey: apiKey, ModelName: model,
		HTTP: &http.Client{Timeout: 30 * time.Second}, BatchSize: 32, MaxRetries: 4, Backoff: 500 * time.Millisecond}
}

func (c *Client) Model() string { return c.ModelName }
func (c *Client) Dims() int     { return Dims }

// Error is a non-2xx answer from the embeddings server.
type Error struct {
	Status int
	Body   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("embeddings server answered %d: %s", e.Status, e.Body)
}

// Retryable reports whether another attempt may succeed.
func (e *Error) Retryable() bool { return e.Status == http.StatusTooManyRequests || e.Status >= 500 }

// ErrBadResponse is a response we cannot use (wrong count or size of vectors); retrying
// does not help.
var ErrBadResponse = errors.New("embeddings server returned an unusable response")

func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	batch := c.BatchSize
	if batch <= 0 {
		batch = 32
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += batch {
		end := min(start+batch, len(texts))
		vecs, err := c.batch(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("embed texts %d-%d of %d: %w", start, end-1, len(texts), err)
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (c *Client) batch(ctx context.Context, texts []string) ([][]float32, error) {
	// Empty strings are rejected by some servers; a single space embeds as "nothing".
	in := make([]string, len(texts))
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			t = " "
		}
		in[i] = t
	}
	body, err := json.Marshal(map[string]any{"model": c.ModelName, "input": in, "encoding_format": "float"})
	if err != nil {
		return nil, err
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	var lastErr error
	for attempt := 0; attempt <= c.MaxRetries; attempt++ {
		if attempt > 0 {
			wait := backoff<<(attempt-1) + time.Duration(rand.Int64N(int64(backoff)))
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		vecs, err := c.once(ctx, body, len(in))
		if err == nil {
			return vecs, nil
		}
		lastErr = err
		var he *Error
		if errors.As(err, &he) && !he.Retryable() || errors.Is(err, ErrBadResponse) || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("after %d attempts: %w", c.MaxRetries+1, lastErr)
}

func (c *Client) once(ctx context.Context, body []byte, n int) ([][]float32, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("embeddings request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read embeddings response: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		b := string(raw)
		if len(b) > 300 {
			b = strings.ToValidUTF8(b[:300], "") + "…"
		}
		return nil, &Error{Status: resp.StatusCode, Body: b}
	}
	var out struct {
		Data []struct {
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode embeddings response: %w", err)
	}
	if len(out.Data) != n {
		return nil, fmt.Errorf("%w: %d vectors for %d inputs", ErrBadResponse, len(out.Data), n)
	}
	vecs := make([][]float32, n)
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= n || vecs[d.Index] != nil {
			return nil, fmt.Errorf("%w: bad or repeated index %d", ErrBadResponse, d.Index)
		}
		if len(d.Embedding) != Dims {
			return nil, fmt.Errorf("%w: model %s returned %d dimensions, the schema stores %d (use a 1024-dim model such as BAAI/bge-m3)",
				ErrBadResponse, c.ModelName, len(d.Embedding), Dims)
		}
		vecs[d.Index] = normalize(d.Embedding)
	}
	return vecs, nil
}

// normalize scales v to unit length (servers differ in whether they do).
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}
