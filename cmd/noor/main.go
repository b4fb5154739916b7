// Command noor is the one binary of the Treejar AI salesperson: the API, the Temporal
// worker, migrations, seeding, the local development stack and the test environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/treejar/noor/internal/config"
	"github.com/treejar/noor/internal/logging"
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "start the whole local stack (PostgreSQL, Temporal, API, worker) — what `make run` runs", runDev},
		{"serve", "run the HTTP API, webhooks and console", runServe},
		{"worker", "run the Temporal worker", runWorker},
		{"migrate", "apply database migrations", runMigrate},
		{"seed", "load the demo catalog, knowledge base and CRM fixtures (idempotent)", runSeed},
		{"reembed", "recompute every product and knowledge-base embedding (after changing the embeddings provider)", runReembed},
		{"kb-index", "index the knowledge base (bundled documents and KB_DIR); unchanged documents are skipped", runKBIndex},
		{"replay", "replay running workflows' histories against this build (pre-deploy check)", runReplay},
		{"testenv", "start a throw-away PostgreSQL + Temporal and run a command against them (`make test`)", runTestEnv},
		{"version", "print the version", func(context.Context, []string) error { fmt.Println(version); return nil }},
	}
}

var version = "dev"

func usage() {
	fmt.Fprintf(os.Stderr, "Usage: noor <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nConfiguration comes from the environment; see .env.example.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		// SIGINT/SIGTERM cancel the context; every command shuts down gracefully from there.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := c.run(ctx, os.Args[2:])
		stop()
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "noor %s: %v\n", name, err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "noor: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}

// exitCode lets a command end the process with a specific status (testenv passes the
// tests' status through).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// loadConfig reads the environment and builds the logger.
func loadConfig() (config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newLogger(cfg config.Config) *slogLogger {
	return logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
}
