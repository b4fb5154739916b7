package llmtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
)

// TranscriptionRequest is what the fake received on POST /v1/audio/transcriptions, either
// as OpenAI's multipart form or as OpenRouter's JSON with base64 "input_audio".
type TranscriptionRequest struct {
	Model, Filename, Format, Language, Prompt, ResponseFormat string
	Audio                                                     []byte
}

// SetTranscript sets the text every following transcription returns.
func (s *Server) SetTranscript(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcript = text
	s.transcriptFn = nil
}

// HandleTranscription answers each transcription with fn (e.g. by file name); nil restores
// the fixed transcript.
func (s *Server) HandleTranscription(fn func(TranscriptionRequest) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcriptFn = fn
}

// FailTranscription makes every following transcription answer status, until it is called
// with 0.
func (s *Server) FailTranscription(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcribeFail = status
}

// Transcriptions returns every valid transcription request, in order.
func (s *Server) Transcriptions() []TranscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TranscriptionRequest, len(s.transcriptions))
	for i, t := range s.transcriptions {
		t.Audio = bytes.Clone(t.Audio)
		out[i] = t
	}
	return out
}

func (s *Server) handleTranscription(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAudioBody)
	req, err := parseTranscription(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", err.Error())
		return
	}

	s.mu.Lock()
	s.transcriptions = append(s.transcriptions, req)
	fail, text, fn := s.transcribeFail, s.transcript, s.transcriptFn
	s.mu.Unlock()
	if fail != 0 {
		writeStatusError(w, fail, "", "")
		return
	}
	if fn != nil {
		text = fn(req)
	}
	if req.ResponseFormat == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, text)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": text})
}

func parseTranscription(r *http.Request) (TranscriptionRequest, error) {
	var req TranscriptionRequest
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxAudioBody); err != nil {
			return req, fmt.Errorf("could not parse multipart form: %w", err)
		}
		file, header, err := r.FormFile("file")
		if err != nil {
			return req, errors.New("Missing required parameter: 'file'.")
		}
		defer file.Close()
		if req.Audio, err = io.ReadAll(file); err != nil {
			return req, fmt.Errorf("read file: %w", err)
		}
		req.Filename = header.Filename
		req.Format = strings.TrimPrefix(path.Ext(header.Filename), ".")
		req.Model = r.FormValue("model")
		req.Language = r.FormValue("language")
		req.Prompt = r.FormValue("prompt")
		req.ResponseFormat = r.FormValue("response_format")
	case "application/json":
		var body struct {
			Model      string `json:"model"`
			Language   string `json:"language"`
			Prompt     string `json:"prompt"`
			InputAudio struct {
				Data   string `json:"data"`
				Format string `json:"format"`
			} `json:"input_audio"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return req, fmt.Errorf("We could not parse the JSON body of your request: %w", err)
		}
		audio, err := base64.StdEncoding.DecodeString(body.InputAudio.Data)
		if err != nil {
			return req, fmt.Errorf("Invalid 'input_audio.data': not base64: %w", err)
		}
		req = TranscriptionRequest{
			Model: body.Model, Format: body.InputAudio.Format, Language: body.Language,
			Prompt: body.Prompt, Audio: audio,
		}
	default:
		return req, fmt.Errorf("Unsupported Content-Type %q: send multipart/form-data or application/json.", mediaType)
	}
	if req.Model == "" {
		return req, errors.New("you must provide a model parameter")
	}
	if len(req.Audio) == 0 {
		return req, errors.New("Audio file is empty or too short.")
	}
	return req, nil
}
