// Package devstack starts the project-local PostgreSQL cluster and Temporal dev server that
// `make run` (noor dev) and `make test` (noor testenv) use. Both run as children of the
// calling process, in their own process group (so a terminal Ctrl-C reaches only us and we
// stop them in order) and die with it (Pdeathsig) if it is killed.
package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/treejar/noor/workflows"
)

// PGBinDir is where Debian installs the PostgreSQL 15 server binaries.
var PGBinDir = "/usr/lib/postgresql/15/bin"

// Options describe one stack ("dev" or "test").
type Options struct {
	Name         string // dev | test: selects the data directories
	RepoDir      string // absolute path of the checkout; data goes under RepoDir/.data/Name
	PGPort       int    // 0 = a free port
	TemporalPort int    // 0 = a free port
	UIPort       int    // 0 = headless
	TemporalCLI  string // path to the temporal binary
	Fresh        bool   // wipe the data first (tests)
	Persist      bool   // keep Temporal state in SQLite under .data (dev)
	Database     string // database to create (besides the template for tests)
	Log          *slog.Logger
	ChildLog     io.Writer // where the children's own output goes
}

// Stack is a running PostgreSQL + Temporal pair.
type Stack struct {
	DatabaseURL     string // the application database
	AdminURL        string // the maintenance database (for CREATE DATABASE in tests)
	TemporalAddress string
	UIURL           string
	PGDataDir       string

	pg       *proc
	temporal *proc
	log      *slog.Logger
}

// proc is a started child; exactly one goroutine reaps it and closes done.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

const (
	pgUser     = "noor"
	pgPassword = "noor"
)

// Start brings up PostgreSQL, then Temporal, and waits until both answer.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.ChildLog == nil {
		o.ChildLog = io.Discard
	}
	dataDir := filepath.Join(o.RepoDir, ".data", o.Name)
	if o.Fresh {
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, fmt.Errorf("wipe %s: %w", dataDir, err)
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dataDir, err)
	}
	s := &Stack{log: o.Log}
	var err error
	if o.PGPort == 0 {
		if o.PGPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := s.startPostgres(ctx, o, dataDir); err != nil {
		s.Stop()
		return nil, err
	}
	if o.TemporalPort == 0 {
		if o.TemporalPort, err = freePort(); err != nil {
			s.Stop()
			return nil, err
		}
	}
	if err := s.startTemporal(ctx, o, dataDir); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop shuts Temporal down, then PostgreSQL (fast shutdown), waiting for both.
func (s *Stack) Stop() {
	stop := func(name string, p *proc) {
		if p == nil {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			s.log.Warn("child did not stop in time; killing it", "process", name)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		s.log.Info("stopped", "process", name)
	}
	stop("temporal", s.temporal)
	s.temporal = nil
	stop("postgres", s.pg)
	s.pg = nil
}

// pgStateDir is where the cluster's files live. PostgreSQL refuses to run as root, so as
// root the cluster runs as the `postgres` user, whose files must sit where it can reach
// them: a checkout under /root is not. The path is keyed by the checkout so clones do not
// share data, and .data/<name>/postgres links to it.
func pgStateDir(o Options, dataDir string) (dir string, runAs *user.User, err error) {
	if os.Geteuid() != 0 {
		return filepath.Join(dataDir, "postgres"), nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return "", nil, fmt.Errorf("running as root needs the `postgres` system user (apt-get install postgresql-15): %w", err)
	}
	sum := sha256.Sum256([]byte(o.RepoDir))
	dir = filepath.Join("/var/lib/noor", o.Name+"-"+hex.EncodeToString(sum[:6]))
	link := filepath.Join(dataDir, "postgres")
	if cur, err := os.Readlink(link); err != nil || cur != dir {
		_ = os.Remove(link)
		if err := os.Symlink(dir, link); err != nil {
			return "", nil, fmt.Errorf("link %s -> %s: %w", link, dir, err)
		}
	}
	return dir, u, nil
}

func (s *Stack) startPostgres(ctx context.Context, o Options, dataDir string) error {
	state, runAs, err := pgStateDir(o, dataDir)
	if err != nil {
		return err
	}
	if o.Fresh {
		if err := os.RemoveAll(state); err != nil {
			return fmt.Errorf("wipe %s: %w", state, err)
		}
	}
	if runAs != nil {
		// The parent must be traversable by the postgres user.
		if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
			return err
		}
		_ = os.Chmod(filepath.Dir(state), 0o755)
	}
	pgdata := filepath.Join(state, "pgdata")
	sock := filepath.Join(state, "run")
	for _, d := range []string{state, sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if err := chownTo(d, runAs); err != nil {
			return err
		}
	}
	s.PGDataDir = pgdata
	cred := credential(runAs)

	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		s.log.Info("initialising PostgreSQL cluster", "dir", pgdata)
		pw := filepath.Join(state, "pwfile")
		if err := os.WriteFile(pw, []byte(pgPassword+"\n"), 0o600); err != nil {
			return err
		}
		if err := chownTo(pw, runAs); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, filepath.Join(PGBinDir, "initdb"),
			"-D", pgdata, "-U", pgUser, "--pwfile="+pw, "-E", "UTF8", "--locale=C.UTF-8",
			"--auth-local=trust", "--auth-host=scram-sha-256")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = state
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("initdb failed: %w\n%s", err, out)
		}
		_ = os.Remove(pw)
	}
	killStale(filepath.Join(pgdata, "postmaster.pid"), "postgres", s.log)

	args := []string{"-D", pgdata, "-p", strconv.Itoa(o.PGPort), "-k", sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"}
	if o.Fresh {
		// Test clusters are thrown away: trade durability for speed.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(PGBinDir, "postgres"), args...)
	cmd.Dir = state
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Stdout, cmd.Stderr = o.ChildLog, o.ChildLog
	if s.pg, err = startProc(cmd); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}

	s.AdminURL = fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", pgUser, pgPassword, o.PGPort)
	if err := waitFor(ctx, 60*time.Second, s.pg, "PostgreSQL", func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, s.AdminURL)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	}); err != nil {
		return err
	}
	if o.Database != "" {
		if err := createDatabase(ctx, s.AdminURL, o.Database); err != nil {
			return err
		}
		s.DatabaseURL = fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", pgUser, pgPassword, o.PGPort, o.Database)
	}
	s.log.Info("PostgreSQL ready", "port", o.PGPort, "data", pgdata)
	return nil
}

func (s *Stack) startTemporal(ctx context.Context, o Options, dataDir string) error {
	if o.TemporalCLI == "" {
		return errors.New("path to the temporal CLI is not set (make installs it; see README)")
	}
	if _, err := os.Stat(o.TemporalCLI); err != nil {
		return fmt.Errorf("temporal CLI not found at %s (run `make tools`): %w", o.TemporalCLI, err)
	}
	pidFile := filepath.Join(dataDir, "temporal.pid")
	killStale(pidFile, "temporal", s.log)

	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(o.TemporalPort),
		"--namespace", "default", "--log-level", "warn",
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false",
		// Conversations are long-lived; let the SDK's continue-as-new suggestion fire early
		// enough in development to be seen.
	}
	if o.Persist {
		args = append(args, "--db-filename", filepath.Join(dataDir, "temporal.db"))
	}
	if o.UIPort > 0 {
		args = append(args, "--ui-port", strconv.Itoa(o.UIPort), "--ui-ip", "127.0.0.1")
	} else {
		args = append(args, "--headless")
	}
	for _, sa := range workflows.SearchAttributes() {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	cmd := exec.Command(o.TemporalCLI, args...)
	cmd.Dir = dataDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Stdout, cmd.Stderr = o.ChildLog, o.ChildLog
	var err error
	if s.temporal, err = startProc(cmd); err != nil {
		return fmt.Errorf("start temporal dev server: %w", err)
	}
	_ = os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)

	s.TemporalAddress = fmt.Sprintf("127.0.0.1:%d", o.TemporalPort)
	if o.UIPort > 0 {
		s.UIURL = fmt.Sprintf("http://localhost:%d", o.UIPort)
	}
	err = waitFor(ctx, 90*time.Second, s.temporal, "Temporal", func(ctx context.Context) error {
		c, err := client.Dial(client.Options{HostPort: s.TemporalAddress, Logger: quietLogger{}})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
		if err != nil {
			return err
		}
		// The namespace is registered a moment after the frontend answers.
		_, err = c.WorkflowService().DescribeNamespace(ctx, describeDefault())
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("Temporal ready", "address", s.TemporalAddress, "ui", s.UIURL)
	return nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// CreateDatabase creates a database (from an optional template) on the cluster.
func CreateDatabase(ctx context.Context, adminURL, name, template string) error {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := c.Exec(ctx, q); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops a database, disconnecting its sessions.
func DropDatabase(ctx context.Context, adminURL, name string) error {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// WithDatabase returns url with its database name replaced.
func WithDatabase(url, name string) string {
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}

func credential(u *user.User) *syscall.Credential {
	if u == nil {
		return nil
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func chownTo(path string, u *user.User) error {
	if u == nil {
		return nil
	}
	c := credential(u)
	if err := os.Chown(path, int(c.Uid), int(c.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// killStale stops a process left over from a previous run that was killed before it could
// stop its children (its pid is in pidFile and its command line names want).
func killStale(pidFile, want string, log *slog.Logger) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	line := strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)[0]
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), want) {
		return
	}
	log.Warn("stopping a leftover process from an earlier run", "process", want, "pid", pid)
	p, _ := os.FindProcess(pid)
	_ = p.Signal(syscall.SIGINT)
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = p.Kill()
}

func waitFor(ctx context.Context, limit time.Duration, p *proc, what string, probe func(context.Context) error) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		last = probe(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s stopped while starting (%v); see its log under .data/", what, p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready within %s: %w", what, limit, last)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports whether 127.0.0.1:port can be bound.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func describeDefault() *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: "default"}
}

// quietLogger drops the SDK's connection-retry noise while we poll for readiness.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
