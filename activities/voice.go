package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/treejar/noor/db"
)

// maxVoiceBytes is WhatsApp's voice-note ceiling we accept (DOMAIN.md: up to 25 MB).
const maxVoiceBytes = 25 << 20

var voiceFormats = map[string]bool{".ogg": true, ".oga": true, ".opus": true, ".mp3": true, ".m4a": true, ".wav": true, ".webm": true, ".mp4": true}

// Transcriber turns speech into text (llm.Client on the LLM endpoint).
type Transcriber interface {
	Transcribe(ctx context.Context, model, filename string, audio []byte, timeout time.Duration) (string, error)
}

// transcribeVoice downloads each untranscribed voice note of the batch and stores its
// transcript as the message text, so the agent answers it like typed text. A note that
// cannot be fetched or transcribed keeps an empty text (the turn then asks the customer to
// type). It returns how many notes stayed without text.
func (a *Conversation) transcribeVoice(ctx context.Context, msgs []db.Message) (failed int) {
	for i, m := range msgs {
		if (m.Kind != "audio" && m.Kind != "voice") || strings.TrimSpace(m.Text) != "" {
			continue
		}
		text, err := a.transcribeOne(ctx, m.MediaURL)
		if err != nil || text == "" {
			a.Log.Warn("voice note not transcribed", "conversation_id", m.ConversationID, "message_id", m.ID, "err", err)
			failed++
			continue
		}
		if _, err := a.Store.Pool.Exec(ctx, `UPDATE messages SET text = $2,
			metadata = metadata || '{"transcribed": true}'::jsonb WHERE id = $1 AND text = ''`, m.ID, text); err != nil {
			a.Log.Warn("transcript not stored", "message_id", m.ID, "err", err)
			failed++
			continue
		}
		msgs[i].Text = text
	}
	return failed
}

func (a *Conversation) transcribeOne(ctx context.Context, mediaURL string) (string, error) {
	if a.Transcriber == nil || a.LLM == nil || !a.LLM.Configured() {
		return "", errors.New("no transcription endpoint configured")
	}
	u, err := url.Parse(mediaURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("voice note URL %q is not http(s)", mediaURL)
	}
	name := path.Base(u.Path)
	if !voiceFormats[strings.ToLower(path.Ext(name))] {
		name += ".ogg" // WhatsApp voice notes are ogg/opus
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(dctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("download voice note: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("download voice note: HTTP %d", resp.StatusCode)
	}
	audio, err := io.ReadAll(io.LimitReader(resp.Body, maxVoiceBytes+1))
	if err != nil {
		return "", fmt.Errorf("download voice note: %w", err)
	}
	if len(audio) > maxVoiceBytes {
		return "", fmt.Errorf("voice note larger than %d MB", maxVoiceBytes>>20)
	}
	return a.Transcriber.Transcribe(ctx, a.Config.LLM.TranscribeModel, name, audio, 60*time.Second)
}

func (a *Conversation) httpClient() *http.Client {
	if a.HTTP != nil {
		return a.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}
