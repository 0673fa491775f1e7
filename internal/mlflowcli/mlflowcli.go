// Package mlflowcli is the command line of modelgate-mlflow, the MLflow
// model-registry gate: the webhook receiver, reconcile and audit, the verify
// check a deployment runs, the job list and webhook registration. It is its
// own binary because the receiver's database drivers, S3 client and metrics
// would otherwise load (about 5 ms and 6 MB) on every scan any CI job or
// pre-commit hook runs; `modelgate mlflow ...` runs it.
package mlflowcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/core/signing/sigstoreverify"
	"github.com/modelgate/modelgate/internal/climain"
	"github.com/modelgate/modelgate/mlflowplugin"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// mlflowFlags are shared by the mlflow subcommands.
type mlflowFlags struct {
	db                   string
	protected            []string
	protectedStages      []string
	models               []string
	workers              int
	lease                time.Duration
	policyFile, failOn   string
	publicURL            string
	tempDir              string
	logFormat, logLevel  string
	readyTimeout         time.Duration
	scanWait             time.Duration
	secretFile, dbSecret string
}

func defaultDB() string {
	if dir := os.Getenv("STATE_DIRECTORY"); dir != "" { // systemd StateDirectory=
		return filepath.Join(strings.Split(dir, ":")[0], "modelgate-mlflow.db")
	}
	return "modelgate-mlflow.db"
}

func (f *mlflowFlags) store(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", defaultDB(), "state: a SQLite file, or postgres://... shared by several receivers")
}

func (f *mlflowFlags) jobs(cmd *cobra.Command) {
	f.store(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.protected, "protected-alias", nil, "alias kept off versions that did not pass (repeatable), e.g. champion")
	fl.StringSliceVar(&f.protectedStages, "protected-stage", []string{"Production"}, "stage a failed version is moved out of")
	fl.StringSliceVar(&f.models, "model", nil, "limit reconciliation to these registered models (repeatable)")
	fl.IntVar(&f.workers, "workers", 2, "jobs run at once")
	fl.DurationVar(&f.lease, "lease", 30*time.Second, "how long a job stays claimed without a heartbeat")
	fl.StringVar(&f.policyFile, "policy", "", "policy file (default: built-in policy)")
	fl.StringVar(&f.failOn, "fail-on", "high", "lowest severity that fails a version: critical|high|medium|low")
	fl.StringVar(&f.publicURL, "public-url", "", "the receiver's external URL, for the modelgate.report tag")
	fl.StringVar(&f.tempDir, "temp-dir", "", "directory for spool files (default: system temp)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.DurationVar(&f.readyTimeout, "ready-timeout", 30*time.Minute, "how long to wait for a version to become READY")
	fl.DurationVar(&f.scanWait, "scan-wait", 30*time.Minute, "how long an alias check waits for the version's scan")
}

func (f *mlflowFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, climain.Usage("--log-level: %v", err)
	}
	o := &slog.HandlerOptions{Level: lvl}
	switch f.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, climain.Usage("--log-format must be text or json")
}

// readSecret reads a secret from a file or an environment variable; it is
// never logged or echoed.
func readSecret(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, climain.Usage("secret file: %v", err)
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	return []byte(os.Getenv(env)), nil
}

func (f *mlflowFlags) options(stderr io.Writer) (mlflowplugin.Options, error) {
	log, err := f.logger(stderr)
	if err != nil {
		return mlflowplugin.Options{}, err
	}
	pol := policy.Default()
	polSource := "built-in"
	if f.policyFile != "" {
		if pol, err = policy.Load(f.policyFile, time.Now()); err != nil {
			return mlflowplugin.Options{}, climain.Usage("policy: %v", err)
		}
		polSource = f.policyFile
	}
	cfg := registry.ConfigFromEnv(nil)
	if cfg.TrackingURI == "" {
		return mlflowplugin.Options{}, climain.Usage("set MLFLOW_TRACKING_URI to the MLflow server")
	}
	failOn, tempDir := f.failOn, f.tempDir
	tool := scan.DefaultTool
	tool.Version = climain.Version
	return mlflowplugin.Options{
		DB: f.db, Registry: cfg, Protected: f.protected, ProtectedStages: f.protectedStages, Models: f.models,
		Workers: f.workers, Lease: f.lease, PublicURL: f.publicURL, Logger: log,
		ReadyTimeout: f.readyTimeout, ScanWait: f.scanWait, S3: artifacts.S3FromEnv(nil),
		ScanOptions: func() scan.Options {
			return scan.Options{Policy: pol, PolicySource: polSource, FailOn: failOn, TempDir: tempDir, Tool: tool, SignatureVerifier: sigstoreverify.Verifier{}}
		},
	}, nil
}

// Run executes the modelgate-mlflow command line and returns the process
// exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := climain.Root("modelgate-mlflow", "Gate an MLflow model registry: webhook receiver, reconcile, verify (also run as `modelgate mlflow`)",
		`Scan every new MLflow model version as one model directory, tag the verdict on the
version (modelgate.status = passed|failed|error|blocked), and keep versions that did not
pass out of protected aliases and stages. The MLflow client reads MLFLOW_TRACKING_URI,
MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_INSECURE_TLS,
MLFLOW_TRACKING_SERVER_CERT_PATH and MLFLOW_TRACKING_CLIENT_CERT_PATH.`, stdout, stderr)
	root.AddCommand(newServeCmd(stderr), newReconcileCmd(stdout, stderr, false), newReconcileCmd(stdout, stderr, true),
		newVerifyCmd(stdout, stderr), newJobsCmd(stdout), newRegisterCmd(stdout))
	return climain.Execute(root, args, stdin, stdout, stderr)
}

// serveMemoryLimit is the receiver's soft heap target: artifacts stream
// through spool files, so what stays live is small.
const serveMemoryLimit = 120 << 20

func newServeCmd(stderr io.Writer) *cobra.Command {
	var f mlflowFlags
	var listen, tlsCert, tlsKey string
	var maxAge, reconcile, grace time.Duration
	var maxBody int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the webhook receiver (POST /webhooks/mlflow, /webhooks/databricks)",
		Long: `Run the webhook receiver. The MLflow webhook secret comes from
MODELGATE_MLFLOW_WEBHOOK_SECRET or --secret-file; the Databricks endpoint is enabled by
MODELGATE_DATABRICKS_WEBHOOK_SECRET or --databricks-secret-file. Deliveries are answered
once their job is committed to the store; jobs survive restarts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.options(stderr)
			if err != nil {
				return err
			}
			if opts.Secret, err = readSecret(f.secretFile, "MODELGATE_MLFLOW_WEBHOOK_SECRET"); err != nil {
				return err
			}
			if opts.DatabricksSecret, err = readSecret(f.dbSecret, "MODELGATE_DATABRICKS_WEBHOOK_SECRET"); err != nil {
				return err
			}
			if len(opts.Secret) == 0 && len(opts.DatabricksSecret) == 0 {
				return climain.Usage("no webhook secret: set MODELGATE_MLFLOW_WEBHOOK_SECRET or --secret-file")
			}
			if (tlsCert == "") != (tlsKey == "") {
				return climain.Usage("--tls-cert and --tls-key go together")
			}
			opts.MaxAge, opts.MaxBody = maxAge, maxBody
			// Scans run concurrently for the process's life, so the soft
			// heap target is set once here rather than per scan.
			if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
				debug.SetMemoryLimit(serveMemoryLimit)
			}
			ctx := cmd.Context() // cancelled on SIGINT and SIGTERM (climain.Execute)
			svc, err := mlflowplugin.Open(ctx, opts)
			if err != nil {
				return climain.Exit(2, err)
			}
			defer svc.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return climain.Exit(2, err)
			}
			err = svc.Serve(ctx, ln, mlflowplugin.ServeOptions{TLSCert: tlsCert, TLSKey: tlsKey, ReconcileInterval: reconcile, Grace: grace})
			if err != nil {
				return climain.Exit(2, err)
			}
			return nil
		},
	}
	f.jobs(cmd)
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.secretFile, "secret-file", "", "file holding the MLflow webhook secret")
	fl.StringVar(&f.dbSecret, "databricks-secret-file", "", "file holding the Databricks webhook secret")
	fl.StringVar(&tlsCert, "tls-cert", "", "TLS certificate (PEM); MLflow delivers to https only by default")
	fl.StringVar(&tlsKey, "tls-key", "", "TLS key (PEM)")
	fl.DurationVar(&maxAge, "max-age", 5*time.Minute, "oldest delivery timestamp accepted")
	fl.Int64Var(&maxBody, "max-body", 1<<20, "largest delivery body accepted, in bytes")
	fl.DurationVar(&reconcile, "reconcile-interval", 10*time.Minute, "how often to look for versions no delivery announced (0: never)")
	fl.DurationVar(&grace, "shutdown-grace", 30*time.Second, "how long running jobs may finish at shutdown")
	return cmd
}

func newReconcileCmd(stdout, stderr io.Writer, audit bool) *cobra.Command {
	var f mlflowFlags
	var noWait bool
	use, short := "reconcile", "Scan every version without a modelgate.status tag and re-check protected aliases, once"
	if audit {
		use, short = "audit", "Scan every existing version of the chosen models again (backfill), with the same tagging"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if audit && len(f.models) == 0 {
				return climain.Usage("audit needs --model NAME (repeatable)")
			}
			opts, err := f.options(stderr)
			if err != nil {
				return err
			}
			opts.Owner = "cli/" + use
			svc, err := mlflowplugin.Open(cmd.Context(), opts)
			if err != nil {
				return climain.Exit(2, err)
			}
			defer svc.Close()
			st, err := svc.Reconcile(cmd.Context(), audit)
			if err != nil {
				return climain.Exit(2, err)
			}
			fmt.Fprintf(stdout, "%d versions seen, %d protected aliases checked, %d jobs queued\n", st.Versions, st.Aliases, st.Queued)
			if noWait {
				return nil
			}
			if err := svc.Pool.Drain(cmd.Context()); err != nil {
				return climain.Exit(2, err)
			}
			failed, err := svc.Store.Jobs(cmd.Context(), store.JobFilter{State: store.StateFailed, Limit: 1000})
			if err != nil {
				return climain.Exit(2, err)
			}
			fmt.Fprintf(stdout, "queue drained; %d failed jobs in the store (see `modelgate mlflow jobs --state failed`)\n", len(failed))
			return nil
		},
	}
	f.jobs(cmd)
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "only queue the jobs (a running receiver on the same store runs them)")
	return cmd
}

func newVerifyCmd(stdout, stderr io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "verify models:/NAME@ALIAS | models:/NAME/VERSION",
		Short: "Exit 0 only when the version's scan passed and its artifacts still match the scanned digest",
		Long: `The check a deployment job runs before it loads a model. It reads the version's
modelgate.* tags, re-hashes every artifact file and compares the digest with the one the
scan recorded. Exit 0: passed and unchanged. Exit 1: anything else, with the reason.
Exit 2: usage error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := mlflowplugin.ParseModelRef(args[0])
			if err != nil {
				return climain.Usage("%v", err)
			}
			if format != "text" && format != "json" {
				return climain.Usage("--format must be text or json")
			}
			cfg := registry.ConfigFromEnv(nil)
			client, err := registry.New(cfg)
			if err != nil {
				return climain.Usage("%v", err)
			}
			v, err := mlflowplugin.Verify(cmd.Context(), client, ref, artifacts.S3FromEnv(nil))
			if err != nil {
				v = &mlflowplugin.Verdict{Model: ref.Name, Version: ref.Version, Reason: "cannot check: " + err.Error()}
			}
			if format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				_ = enc.Encode(v)
			} else {
				word := "FAIL"
				if v.Passed {
					word = "PASS"
				}
				fmt.Fprintf(stdout, "%s models:/%s/%s: %s\n", word, v.Model, v.Version, v.Reason)
			}
			if !v.Passed {
				return climain.Exit(1, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	return cmd
}

func newJobsCmd(stdout io.Writer) *cobra.Command {
	var f mlflowFlags
	var format, state string
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the receiver's jobs and their states (queued, running, done, failed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return climain.Usage("--format must be text or json")
			}
			st, err := store.Open(cmd.Context(), f.db)
			if err != nil {
				return climain.Exit(2, err)
			}
			defer st.Close()
			jobs, err := st.Jobs(cmd.Context(), store.JobFilter{State: state, Limit: limit})
			if err != nil {
				return climain.Exit(2, err)
			}
			if format == "json" {
				if jobs == nil {
					jobs = []store.Job{}
				}
				for i := range jobs {
					jobs[i].Payload = nil
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(jobs)
			}
			tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tKIND\tMODEL\tVERSION\tALIAS/STAGE\tATTEMPTS\tUPDATED\tLAST ERROR / NOTE")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.State, j.Kind, j.Model, j.Version, j.Alias, j.Attempts,
					j.UpdatedAt.UTC().Format(time.RFC3339), oneLine(j.LastError, 80))
			}
			return tw.Flush()
		},
	}
	f.store(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	cmd.Flags().StringVar(&state, "state", "", "only jobs in this state")
	cmd.Flags().IntVar(&limit, "limit", 200, "most jobs listed, newest first (0: all)")
	return cmd
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

func newRegisterCmd(stdout io.Writer) *cobra.Command {
	var name, target, secretFile, description string
	var events []string
	cmd := &cobra.Command{
		Use:   "register-webhook --url https://receiver/webhooks/mlflow",
		Short: "Create the MLflow webhook that delivers registry events to the receiver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return climain.Usage("--url is required")
			}
			secret, err := readSecret(secretFile, "MODELGATE_MLFLOW_WEBHOOK_SECRET")
			if err != nil {
				return err
			}
			if len(secret) == 0 {
				return climain.Usage("no webhook secret: set MODELGATE_MLFLOW_WEBHOOK_SECRET or --secret-file")
			}
			var evs []registry.WebhookEvent
			for _, e := range events {
				ev, err := registry.ParseWebhookEvent(e)
				if err != nil {
					return climain.Usage("%v", err)
				}
				evs = append(evs, ev)
			}
			client, err := registry.New(registry.ConfigFromEnv(nil))
			if err != nil {
				return climain.Usage("%v", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			wh, err := client.CreateWebhook(ctx, name, target, string(secret), description, evs)
			if err != nil {
				return climain.Exit(2, err)
			}
			fmt.Fprintf(stdout, "created webhook %s (%s) -> %s for %s\n", wh.ID, name, target, strings.Join(events, ", "))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "modelgate", "webhook name")
	fl.StringVar(&target, "url", "", "the receiver's /webhooks/mlflow URL")
	fl.StringVar(&secretFile, "secret-file", "", "file holding the webhook secret (default: MODELGATE_MLFLOW_WEBHOOK_SECRET)")
	fl.StringVar(&description, "description", "modelgate: scan model versions, guard protected aliases", "webhook description")
	fl.StringSliceVar(&events, "event", []string{"model_version.created", "model_version_alias.created", "model_version_tag.set", "model_version_tag.deleted"}, "events to subscribe to (repeatable)")
	return cmd
}
