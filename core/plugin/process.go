package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/sdk"
	"github.com/modelgate/modelgate/sdk/pluginpb"
)

// Plugin is one running detector plugin. It implements engine.Format and is
// safe for concurrent use.
type Plugin struct {
	spec Spec
	sum  string // pinned or first-seen SHA-256 of the executable
	opts Options
	desc description

	mu       sync.Mutex
	proc     *process // nil after a crash until the next call restarts it
	restarts int
	dead     string // why the plugin will not run again in this scan

	used atomic.Int64 // nanoseconds spent in calls
	solo sync.RWMutex // held for writing by a retry after a crash
}

// process is one launch of the plugin executable.
type process struct {
	client *goplugin.Client
	det    pluginpb.DetectorClient
	pid    int
	tmp    string
	stderr *tail
	once   sync.Once
}

// start launches a plugin for the first time.
func start(ctx context.Context, spec Spec, opts Options) (*Plugin, error) {
	spec = spec.WithDefaults()
	path, err := resolvePath(spec.Path)
	if err != nil {
		return nil, err
	}
	// Unpinned plugins are held to what the file holds now; hashing a
	// plugin is the bulk of its start-up cost, so pinned ones are hashed
	// only by go-plugin.
	var sum string
	if spec.SHA256 != "" {
		sum, err = pluginspec.ParsePin(spec.SHA256)
	} else {
		sum, err = fileSHA256(path)
	}
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", spec.Path, err)
	}
	spec.Path = path
	p := &Plugin{spec: spec, sum: sum, opts: opts}
	proc, err := p.launch(ctx)
	if err != nil {
		return nil, err
	}
	desc, err := describe(ctx, proc)
	if err != nil {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: %w", spec.Path, err)
	}
	p.desc = desc
	p.proc = proc
	return p, nil
}

// launch starts the executable and connects to it.
func (p *Plugin) launch(ctx context.Context) (*process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want, err := hex.DecodeString(p.sum)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(p.opts.TempDir, "modelgate-plugin-")
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", p.spec.Path, err)
	}
	cmd := exec.Command(p.spec.Path)
	cmd.Dir = tmp
	// SkipHostEnv below keeps the host's environment (CI tokens, cloud
	// credentials) out; go-plugin adds only its handshake variables.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=" + tmp, "HOME=" + tmp, "LANG=C.UTF-8"}
	cmd.SysProcAttr = sysProcAttr()
	logOut := p.opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	stderr := &tail{max: 4096}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          goplugin.PluginSet{sdk.PluginName: &sdk.GRPCPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		SecureConfig:     &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     DefaultStartTimeout,
		Stderr:           io.MultiWriter(stderr, logOut),
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: logOut,
			Level: map[bool]hclog.Level{true: hclog.Off, false: hclog.Info}[p.opts.Log == nil]}),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes)),
			grpc.WithInitialWindowSize(sdk.WindowBytes), grpc.WithInitialConnWindowSize(sdk.WindowBytes)},
	})
	proc := &process{client: client, tmp: tmp, stderr: stderr}
	// go-plugin hashes the file and then executes it by path; the file's
	// identity before and the running executable's after show that what
	// runs is what was hashed.
	before, err := fileIdentity(p.spec.Path)
	if err != nil {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: %w", p.spec.Path, err)
	}
	rpc, err := client.Client()
	if err != nil {
		proc.kill()
		if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
			got, _ := fileSHA256(p.spec.Path)
			return nil, &ChecksumError{Path: p.spec.Path, Want: p.sum, Got: got}
		}
		return nil, fmt.Errorf("plugin %s: start: %w%s", p.spec.Path, err, proc.stderr.suffix())
	}
	if rc := client.ReattachConfig(); rc != nil {
		proc.pid = rc.Pid
	}
	if err := checkRunning(proc.pid, before); err != nil {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: %w", p.spec.Path, err)
	}
	if err := limitProcess(proc.pid, p.spec); err != nil {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: setting limits: %w", p.spec.Path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: %w", p.spec.Path, err)
	}
	det, ok := raw.(pluginpb.DetectorClient)
	if !ok {
		proc.kill()
		return nil, fmt.Errorf("plugin %s: unexpected client type %T", p.spec.Path, raw)
	}
	proc.det = det
	return proc, nil
}

func describe(ctx context.Context, proc *process) (description, error) {
	dctx, cancel := context.WithTimeout(ctx, DefaultStartTimeout)
	defer cancel()
	d, err := proc.det.Describe(dctx, &pluginpb.DescribeRequest{ProtocolVersion: sdk.ProtocolVersion})
	if err != nil {
		return description{}, fmt.Errorf("describe: %w%s", err, proc.stderr.suffix())
	}
	return validateDescription(d)
}

// acquire returns a running process, restarting the plugin if its last
// process died, or an explanation why it cannot run.
func (p *Plugin) acquire(ctx context.Context) (*process, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead != "" {
		return nil, p.dead
	}
	if time.Duration(p.used.Load()) >= p.spec.TimeBudget {
		p.dead = fmt.Sprintf("plugin %s used up its time budget of %s", p.desc.name, p.spec.TimeBudget)
		p.killLocked()
		return nil, p.dead
	}
	if p.proc != nil && !p.proc.client.Exited() {
		return p.proc, ""
	}
	if p.proc != nil {
		p.proc.kill()
		p.proc = nil
	}
	if p.restarts >= MaxRestarts {
		p.dead = fmt.Sprintf("plugin %s failed %d times in this scan and is not restarted again", p.desc.name, p.restarts+1)
		return nil, p.dead
	}
	p.restarts++
	proc, err := p.launch(ctx)
	if err == nil {
		var d description
		if d, err = describe(ctx, proc); err == nil && !d.equal(p.desc) {
			err = errors.New("describes itself differently after a restart")
		}
		if err != nil {
			proc.kill()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, "scan cancelled"
		}
		p.dead = fmt.Sprintf("plugin %s could not be restarted: %v", p.desc.name, err)
		return nil, p.dead
	}
	p.proc = proc
	return proc, ""
}

// discard kills proc (after it crashed, hung or broke the protocol) so the
// next call starts a fresh one.
func (p *Plugin) discard(proc *process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == proc {
		p.proc = nil
	}
	proc.kill()
}

func (p *Plugin) killLocked() {
	if p.proc != nil {
		p.proc.kill()
		p.proc = nil
	}
}

func (p *Plugin) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead == "" {
		p.dead = fmt.Sprintf("plugin %s was stopped", p.desc.name)
	}
	p.killLocked()
}

// kill stops the process (gracefully first: go-plugin closes the
// connection and waits briefly), then anything left in its process group,
// and removes its temporary directory.
func (proc *process) kill() {
	// Once: after the first kill the pid may be reused by someone else.
	proc.once.Do(func() {
		proc.client.Kill()
		killGroup(proc.pid)
		if proc.tmp != "" {
			os.RemoveAll(proc.tmp)
		}
	})
}

// Pid is the process id of the plugin's current process (0 if none).
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return 0
	}
	return p.proc.pid
}

// tail keeps the last bytes a plugin wrote to stderr, to explain a crash.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

// suffix is ": <last stderr line>" or "".
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.buf), []byte("\n"))
	// A Go panic prints "panic: ..." followed by a stack; that line says more
	// than the last.
	var kept [][]byte
	for _, l := range lines {
		// go-plugin's own log lines (JSON) say nothing about a crash.
		if !bytes.HasPrefix(l, []byte(`{"@level"`)) {
			kept = append(kept, l)
		}
	}
	lines = kept
	if len(lines) == 0 {
		return ""
	}
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("panic: ")) || bytes.HasPrefix(l, []byte("fatal error: ")) {
			return "; plugin stderr: " + clipString(string(l), 300)
		}
	}
	if last := lines[len(lines)-1]; len(last) > 0 {
		return "; plugin stderr: " + clipString(string(last), 300)
	}
	return ""
}
