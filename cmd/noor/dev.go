package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/app"
	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/devstack"
	"github.com/treejar/noor/internal/seed"
)

// runDev is `make run`: the whole product on this machine. PostgreSQL and Temporal keep
// their state under .data/dev, so a restart loses nothing.
func runDev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	pgPort := fs.Int("pg-port", envInt("NOOR_DEV_PG_PORT", 54329), "PostgreSQL port")
	tPort := fs.Int("temporal-port", envInt("NOOR_DEV_TEMPORAL_PORT", 7233), "Temporal frontend port")
	uiPort := fs.Int("ui-port", envInt("NOOR_DEV_UI_PORT", 8233), "Temporal UI port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	dataDir := filepath.Join(repo, ".data", "dev")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	// Dev secrets are generated once and kept, so the printed credentials stay valid.
	secrets, err := loadOrCreateSecrets(filepath.Join(dataDir, "secrets.env"))
	if err != nil {
		return err
	}
	for k, v := range secrets {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	if cfg.Production() {
		return errors.New("`noor dev` is for development; APP_ENV=production runs `noor serve` and `noor worker`")
	}
	httpPort := portOf(cfg.HTTPAddr)
	for name, p := range map[string]int{"HTTP_ADDR": httpPort, "Temporal UI (--ui-port)": *uiPort} {
		if p > 0 && !devstack.PortFree(p) {
			return fmt.Errorf("port %d (%s) is already in use: is another `make run` up? Stop it or pick another port", p, name)
		}
	}

	childLog, err := os.OpenFile(filepath.Join(dataDir, "services.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer childLog.Close()

	fmt.Println("▶ starting PostgreSQL and Temporal (logs: .data/dev/services.log)")
	stack, err := devstack.Start(ctx, devstack.Options{
		Name: "dev", RepoDir: repo, PGPort: *pgPort, TemporalPort: *tPort, UIPort: *uiPort,
		TemporalCLI: temporalCLI(), Persist: true, Database: "noor", Log: log, ChildLog: childLog,
	})
	if err != nil {
		return err
	}
	defer stack.Stop()

	cfg.DatabaseURL = config.Secret(stack.DatabaseURL)
	cfg.TemporalAddress = stack.TemporalAddress
	cfg.TemporalUIURL = stack.UIURL

	fmt.Println("▶ applying migrations and seeding demo data")
	a, err := app.Open(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := seed.Run(ctx, seed.Deps{Store: a.Store, Config: cfg, Log: log})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Println("  " + rep.String())

	srv, err := a.APIServer()
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	go func() {
		if waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/health/ready", httpPort)) {
			printBanner(cfg, stack, *pgPort)
			close(ready)
		}
	}()
	err = runAll(ctx,
		func(ctx context.Context) error { return srv.Start(ctx, cfg.HTTPAddr) },
		func(ctx context.Context) error { return a.RunWorker(ctx) },
	)
	fmt.Println("▶ stopping (API, worker, Temporal, PostgreSQL)")
	return err
}

func printBanner(cfg config.Config, stack *devstack.Stack, pgPort int) {
	base := strings.TrimRight(cfg.PublicBaseURL, "/")
	fmt.Printf(`
✅ Noor is ready

  API            %[1]s/api/v1   (header X-API-Key: %[2]s)
  Console        %[1]s/console  (user %[3]s / password %[4]s)
  Simulator      %[1]s/simulator (chat as a WhatsApp customer)
  Health         %[1]s/health/ready
  Temporal UI    %[5]s
  Temporal CLI   temporal workflow list --address %[6]s
  PostgreSQL     psql postgres://noor:noor@127.0.0.1:%[7]d/noor
  Providers      %[8]s

Press Ctrl-C to stop everything. Data stays in .data/dev.
`, base, cfg.APIKey.Reveal(), cfg.AdminUsername, cfg.AdminPassword.Reveal(), stack.UIURL,
		stack.TemporalAddress, pgPort, providerLine(cfg))
}

func providerLine(cfg config.Config) string {
	p := cfg.Providers()
	keys := []string{"messaging", "llm", "embeddings", "crm", "inventory", "catalog", "alerts"}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+p[k])
	}
	return strings.Join(parts, " ")
}

func waitReady(ctx context.Context, url string) bool {
	c := &http.Client{Timeout: 3 * time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// runTestEnv starts a throw-away stack (fresh data, free ports, headless Temporal),
// migrates a template database, runs the command with TEST_* variables pointing at it, and
// passes the command's exit status through.
func runTestEnv(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New("usage: noor testenv -- <command> [args…]")
	}
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	cfg, _ := config.Load()
	log := newLogger(cfg)
	dataDir := filepath.Join(repo, ".data", "test")
	if err := os.MkdirAll(filepath.Dir(dataDir), 0o755); err != nil {
		return err
	}
	// Fresh wipes .data/test, so the log lives beside it.
	childLog, err := os.Create(filepath.Join(repo, ".data", "test-services.log"))
	if err != nil {
		return err
	}
	defer childLog.Close()
	fmt.Println("▶ test stack: starting PostgreSQL and Temporal on free ports (log: .data/test-services.log)")
	stack, err := devstack.Start(ctx, devstack.Options{
		Name: "test", RepoDir: repo, Fresh: true, TemporalCLI: temporalCLI(),
		Database: "noor_template", Log: log, ChildLog: childLog,
	})
	if err != nil {
		return err
	}
	defer stack.Stop()
	if _, err := db.Migrate(ctx, stack.DatabaseURL); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	fmt.Printf("▶ test stack ready: postgres %s, temporal %s\n", redactURL(stack.AdminURL), stack.TemporalAddress)

	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"TEST_DATABASE_URL="+stack.AdminURL,
		"TEST_DATABASE_TEMPLATE=noor_template",
		"TEST_TEMPORAL_ADDRESS="+stack.TemporalAddress,
		"TEMPORAL_CLI="+temporalCLI(),
	)
	runErr := cmd.Run()
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		return exitCode(ee.ExitCode())
	}
	return runErr
}

func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.Index(u[i+3:], "@"); j >= 0 {
			return u[:i+3] + "…@" + u[i+3+j+1:]
		}
	}
	return u
}

// temporalCLI finds the Temporal CLI: $TEMPORAL_CLI, the make-installed cache, or PATH.
func temporalCLI() string {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "noor", "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p
	}
	return ""
}

// repoRoot is the directory holding go.mod, searched upwards from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run this from the repository (no go.mod above %s)", dir)
		}
	}
}

func loadOrCreateSecrets(path string) (map[string]string, error) {
	out := map[string]string{}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
				out[k] = v
			}
		}
		f.Close()
	}
	changed := false
	for _, k := range []string{"API_KEY", "ADMIN_PASSWORD", "SIGNING_KEY"} {
		if out[k] == "" {
			out[k] = randomSecret().Reveal()
			changed = true
		}
	}
	if changed {
		var b strings.Builder
		b.WriteString("# Generated by `noor dev` for this checkout; delete to regenerate.\n")
		for _, k := range []string{"API_KEY", "ADMIN_PASSWORD", "SIGNING_KEY"} {
			b.WriteString(k + "=" + out[k] + "\n")
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func randomSecret() config.Secret {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return config.Secret(base64.RawURLEncoding.EncodeToString(b))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func portOf(addr string) int {
	_, p, ok := strings.Cut(addr, ":")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
