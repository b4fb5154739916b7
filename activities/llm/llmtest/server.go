// Package llmtest is an in-process fake of an OpenAI-compatible API (OpenRouter, vLLM,
// Ollama, ...) for tests: chat completions with tool calls (plain and streamed), embeddings
// and audio transcription. Tests script the answers (a FIFO of replies, a handler, or
// rules), inject failures, and read back exactly what was asked. The fake rejects requests
// the real API rejects (e.g. a tool message that answers no tool call), so protocol bugs in
// the agent loop fail in tests rather than in production. It is safe for concurrent use.
package llmtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

const (
	// DefaultAPIKey is the key New expects in "Authorization: Bearer <key>".
	DefaultAPIKey = "test-llm-key"
	// DefaultDims is the embedding size (BGE-M3's).
	DefaultDims = 1024
	// DefaultContent answers an unscripted chat call, so it shows up instead of hanging.
	DefaultContent = "OK"
	// DefaultTranscript answers transcriptions until SetTranscript is called.
	DefaultTranscript = "This is a test voice message."
	// StatusClientGone is what Statuses reports when the client hung up before the answer.
	StatusClientGone = 499

	maxChatBody  = 8 << 20
	maxAudioBody = 32 << 20
)

// Server is a fake OpenAI-compatible API served by httptest.
type Server struct {
	// URL is the API base including "/v1", e.g. http://127.0.0.1:1234/v1.
	URL string
	// APIKey is the expected bearer token; change it before the first request if needed.
	APIKey string
	// Dims is the embedding size when a request does not ask for "dimensions".
	Dims int

	srv  *httptest.Server
	done chan struct{} // closed by Close: cuts reply delays short

	closeOnce      sync.Once
	mu             sync.Mutex
	seq            int
	queue          []Reply
	handler        func(ChatRequest) Reply
	failNext       []int
	requests       []ChatRequest
	statuses       []int
	changed        chan struct{} // closed and replaced each time requests grows
	embedFails     []int
	embeds         []EmbeddingRequest
	transcript     string
	transcriptFn   func(TranscriptionRequest) string
	transcribeFail int
	transcriptions []TranscriptionRequest
}

// New starts a fake with DefaultAPIKey and DefaultDims.
func New() *Server {
	s := &Server{
		APIKey:     DefaultAPIKey,
		Dims:       DefaultDims,
		changed:    make(chan struct{}),
		done:       make(chan struct{}),
		transcript: DefaultTranscript,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST /v1/embeddings", s.handleEmbeddings)
	mux.HandleFunc("POST /v1/audio/transcriptions", s.handleTranscription)
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url",
			fmt.Sprintf("Unknown request URL: %s %s", r.Method, r.URL.Path))
	})
	s.srv = httptest.NewServer(s.auth(mux))
	s.URL = s.srv.URL + "/v1"
	return s
}

// Close cuts reply delays short and stops the server. It is safe to call twice.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.srv.Close()
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := "Bearer " + s.APIKey
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
				"Incorrect API key provided.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{}})
}

// errorBody is the OpenAI error shape.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    *string `json:"code"`
		Param   *string `json:"param"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, typ, code, message string) {
	var b errorBody
	b.Error.Message = message
	b.Error.Type = typ
	if code != "" {
		b.Error.Code = &code
	}
	writeJSON(w, status, b)
}

// writeStatusError answers a non-200 status with the type and code the real API uses for it.
func writeStatusError(w http.ResponseWriter, status int, code, message string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusTooManyRequests:
		typ = "requests"
		if code == "" {
			code = "rate_limit_exceeded"
		}
		if message == "" {
			message = "Rate limit reached. Please try again later."
		}
	case status >= 500:
		typ = "server_error"
		if message == "" {
			message = "The server had an error while processing your request."
		}
	case status == http.StatusUnauthorized:
		if code == "" {
			code = "invalid_api_key"
		}
	}
	if message == "" {
		message = fmt.Sprintf("injected failure (%d %s)", status, http.StatusText(status))
	}
	writeError(w, status, typ, code, message)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wait sleeps for d unless the client gives up or the server closes first; it reports
// whether the full delay passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		// Drop the connection without an answer, like a provider going away.
		panic(http.ErrAbortHandler)
	}
}
