package stacktest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/treejar/noor/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns a noor binary built from this checkout (once per test process).
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "noor-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "noor")
		root, err := repoRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/noor")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	require.NoError(t, buildErr, "build noor: %s", binPath)
	return binPath
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Process is a `noor worker` running as a separate OS process against this stack.
type Process struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// StartWorkerProcess runs the real binary's worker subcommand with the stack's configuration.
func (s *Stack) StartWorkerProcess() *Process {
	s.T.Helper()
	cmd := exec.Command(Binary(s.T), "worker", "-http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(),
		"APP_ENV=test", "LOG_LEVEL=info", "LOG_FORMAT=text",
		"DATABASE_URL="+s.DBURL,
		"TEMPORAL_ADDRESS="+testenv.TemporalAddress(s.T), "TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TASK_QUEUE="+s.Config.TaskQueue,
		"WAZZUP_API_URL="+s.Config.Wazzup.APIURL, "WAZZUP_API_KEY="+s.Config.Wazzup.APIKey.Reveal(),
		"WAZZUP_CHANNEL_ID="+s.Wazzup.ChannelID(), "WAZZUP_WEBHOOK_TOKEN=hook-token",
		"LLM_BASE_URL="+s.Config.LLM.BaseURL, "LLM_API_KEY="+s.Config.LLM.APIKey.Reveal(),
		"LLM_MODEL="+ReplyModel, "LLM_FAST_MODEL="+FastModel,
		"PUBLIC_BASE_URL="+s.Config.PublicBaseURL, "SIGNING_KEY="+s.Config.SigningKey.Reveal(),
	)
	if z := s.Config.Zoho; z.Live() {
		cmd.Env = append(cmd.Env, "ZOHO_ACCOUNTS_URL="+z.AccountsURL, "ZOHO_CRM_URL="+z.CRMURL, "ZOHO_INVENTORY_URL="+z.InventoryURL,
			"ZOHO_CLIENT_ID="+z.ClientID, "ZOHO_CLIENT_SECRET="+z.ClientSecret.Reveal(), "ZOHO_REFRESH_TOKEN="+z.RefreshToken.Reveal(),
			"ZOHO_ORGANIZATION_ID="+z.OrganizationID)
	}
	p := &Process{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(s.T, cmd.Start())
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.T.Cleanup(func() {
		p.Kill()
		if s.T.Failed() {
			s.T.Logf("worker process output:\n%s", p.out.String())
		}
	})
	return p
}

// Kill ends the process with SIGKILL (no graceful shutdown) and waits for it.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}
