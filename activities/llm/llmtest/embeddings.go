package llmtest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// MaxEmbeddingInputs is the most inputs one embeddings call may carry (OpenAI's limit).
const MaxEmbeddingInputs = 2048

// EmbeddingRequest is what the fake received on POST /v1/embeddings.
type EmbeddingRequest struct {
	Model          string
	Input          []string
	Dimensions     int
	EncodingFormat string
}

// EmbeddingRequests returns the inputs of every valid embeddings call, in order.
func (s *Server) EmbeddingRequests() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]string, len(s.embeds))
	for i, e := range s.embeds {
		out[i] = slices.Clone(e.Input)
	}
	return out
}

// EmbeddingCalls returns every valid embeddings call with its model and options.
func (s *Server) EmbeddingCalls() []EmbeddingRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EmbeddingRequest, len(s.embeds))
	for i, e := range s.embeds {
		e.Input = slices.Clone(e.Input)
		out[i] = e
	}
	return out
}

// FailEmbeddings makes the next n valid embeddings calls answer status.
func (s *Server) FailEmbeddings(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.embedFails = append(s.embedFails, status)
	}
}

// Embed is the vector the fake returns for text: deterministic, unit length, and built as
// the sum of one pseudo-random vector per lower-cased word, so texts that share words are
// close in cosine distance and unrelated texts are nearly orthogonal. That makes ranking in
// retrieval tests meaningful without a model.
func Embed(text string, dims int) []float32 {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	if len(words) == 0 {
		words = []string{text}
	}
	sum := make([]float64, dims)
	for _, w := range words {
		h := fnv.New64a()
		_, _ = h.Write([]byte(w))
		seed := h.Sum64()
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		for i := range sum {
			sum[i] += rng.NormFloat64()
		}
	}
	var norm float64
	for _, v := range sum {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dims)
	for i, v := range sum {
		out[i] = float32(v / norm)
	}
	return out
}

type embeddingItem struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string of little-endian float32s
}

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxChatBody+1))
	if err != nil || len(raw) > maxChatBody {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "could not read the request body")
		return
	}
	req, err := parseEmbeddings(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}
	if req.Dimensions == 0 {
		req.Dimensions = s.Dims
	}

	s.mu.Lock()
	s.embeds = append(s.embeds, req)
	fail := 0
	if len(s.embedFails) > 0 {
		fail = s.embedFails[0]
		s.embedFails = s.embedFails[1:]
	}
	s.mu.Unlock()
	if fail != 0 {
		writeStatusError(w, fail, "", "")
		return
	}

	data := make([]embeddingItem, len(req.Input))
	tokens := 0
	for i, text := range req.Input {
		vec := Embed(text, req.Dimensions)
		var emb any = vec
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(vec))
			for j, v := range vec {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = embeddingItem{Object: "embedding", Index: i, Embedding: emb}
		tokens += max(1, len(text)/4)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

func parseEmbeddings(raw []byte) (EmbeddingRequest, error) {
	var body struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     int             `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return EmbeddingRequest{}, fmt.Errorf("We could not parse the JSON body of your request: %w", err)
	}
	req := EmbeddingRequest{Model: body.Model, Dimensions: body.Dimensions, EncodingFormat: body.EncodingFormat}
	if req.Model == "" {
		return req, errors.New("you must provide a model parameter")
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return req, fmt.Errorf("Invalid value for 'encoding_format': %q. Supported values are: 'float' and 'base64'.", req.EncodingFormat)
	}
	if req.Dimensions < 0 {
		return req, errors.New("Invalid 'dimensions': must be positive.")
	}
	in := bytes.TrimSpace(body.Input)
	switch {
	case len(in) == 0 || string(in) == "null":
		return req, errors.New("Missing required parameter: 'input'.")
	case in[0] == '"':
		var one string
		if err := json.Unmarshal(in, &one); err != nil {
			return req, fmt.Errorf("Invalid 'input': %w", err)
		}
		req.Input = []string{one}
	default:
		if err := json.Unmarshal(in, &req.Input); err != nil {
			return req, errors.New("Invalid 'input': expected a string or an array of strings (token arrays are not supported by the fake).")
		}
	}
	if len(req.Input) == 0 {
		return req, errors.New("Invalid 'input': empty array. Expected an array with minimum length 1.")
	}
	if len(req.Input) > MaxEmbeddingInputs {
		return req, fmt.Errorf("Invalid 'input': array too long. Expected an array with maximum length %d.", MaxEmbeddingInputs)
	}
	for i, text := range req.Input {
		if text == "" {
			return req, fmt.Errorf("Invalid 'input[%d]': string too short. Expected a string with minimum length 1.", i)
		}
	}
	return req, nil
}
