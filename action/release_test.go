package action

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// goreleaser is not built here (its module graph takes far longer to build
// than the rest of CI), so its config is checked for what the action
// depends on: the platforms, static builds, the archive names install.sh
// downloads and the checksums file it verifies against.
func TestGoReleaserConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int `yaml:"version"`
		Builds  []struct {
			ID      string   `yaml:"id"`
			Main    string   `yaml:"main"`
			Binary  string   `yaml:"binary"`
			Env     []string `yaml:"env"`
			Ldflags []string `yaml:"ldflags"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
		} `yaml:"builds"`
		Archives []struct {
			IDs             []string `yaml:"ids"`
			NameTemplate    string   `yaml:"name_template"`
			Formats         []string `yaml:"formats"`
			FormatOverrides []struct {
				Goos    string   `yaml:"goos"`
				Formats []string `yaml:"formats"`
			} `yaml:"format_overrides"`
			WrapInDirectory any `yaml:"wrap_in_directory"`
		} `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
			Algorithm    string `yaml:"algorithm"`
		} `yaml:"checksum"`
		ProjectName string `yaml:"project_name"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 3 || len(cfg.Archives) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	climain, err := os.ReadFile(filepath.Join("..", "internal", "climain", "climain.go"))
	if err != nil {
		t.Fatal(err)
	}
	// Every binary, built the same way; modelgate finds modelgate-full and
	// modelgate-mlflow beside it in the archive.
	var ids []string
	for _, b := range cfg.Builds {
		ids = append(ids, b.ID)
		if b.Binary != b.ID || b.Main != "./cmd/"+b.ID {
			t.Errorf("build %s: binary %s from %s, want the binary named after its ./cmd directory", b.ID, b.Binary, b.Main)
		}
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(b.Main), "main.go")); err != nil {
			t.Errorf("main %s: %v", b.Main, err)
		}
		if !slices.Contains(b.Env, "CGO_ENABLED=0") {
			t.Errorf("build %s is not static: env %v", b.ID, b.Env)
		}
		slices.Sort(b.Goos)
		slices.Sort(b.Goarch)
		if !slices.Equal(b.Goos, []string{"darwin", "linux", "windows"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
			t.Errorf("build %s: platforms %v %v", b.ID, b.Goos, b.Goarch)
		}
		if len(b.Ldflags) != 1 || !strings.Contains(b.Ldflags[0], "-X github.com/modelgate/modelgate/internal/climain.Version=") || !strings.Contains(string(climain), "var Version = ") {
			t.Errorf("build %s: ldflags %v do not set internal/climain.Version", b.ID, b.Ldflags)
		}
	}
	if !slices.Equal(ids, []string{"modelgate", "modelgate-full", "modelgate-mlflow"}) || !slices.Equal(cfg.Archives[0].IDs, ids) {
		t.Errorf("builds %v, archive ids %v: want modelgate, modelgate-full and modelgate-mlflow in one archive", ids, cfg.Archives[0].IDs)
	}
	a := cfg.Archives[0]
	if a.WrapInDirectory != nil || !slices.Equal(a.Formats, []string{"tar.gz"}) || len(a.FormatOverrides) != 1 ||
		a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives %+v", a)
	}
	if cfg.Checksum.NameTemplate != "checksums.txt" || cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v", cfg.Checksum)
	}
	// The names GoReleaser will produce are the ones install.sh fetches.
	script, err := os.ReadFile("install.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `archive="modelgate_${version#v}_${os}_${arch}.$ext"`) || !strings.Contains(string(script), "/checksums.txt") {
		t.Fatal("install.sh no longer names archives as modelgate_<version>_<os>_<arch>.<ext>")
	}
	name := strings.NewReplacer("{{ .ProjectName }}", cfg.ProjectName, "{{ .Version }}", "1.2.3", "{{ .Os }}", "linux", "{{ .Arch }}", "arm64").Replace(a.NameTemplate)
	if name != "modelgate_1.2.3_linux_arm64" {
		t.Errorf("archive name %q, install.sh expects modelgate_1.2.3_linux_arm64", name)
	}

	wf, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"actions/attest-build-provenance@", "id-token: write", "attestations: write", "dist/checksums.txt", "goreleaser/goreleaser-action@", "version: v2."} {
		if !strings.Contains(string(wf), s) {
			t.Errorf("release workflow lacks %q", s)
		}
	}
}

// fakeReleases serves GitHub's release download URLs for one version.
type fakeReleases struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  []string
}

func (f *fakeReleases) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits = append(f.hits, r.URL.Path)
	data, ok := f.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

func tarGz(t *testing.T, name string, content []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func installScript(t *testing.T, env map[string]string) (string, map[string]string, error) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIPPED: %s is not installed", tool)
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "output")
	cmd := exec.Command("bash", "install.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GITHUB_OUTPUT=" + out, "RUNNER_OS=Linux", "RUNNER_ARCH=X64"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	log, err := cmd.CombinedOutput()
	outputs := map[string]string{}
	data, _ := os.ReadFile(out)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	return string(log), outputs, err
}

func TestInstallScriptReleaseDownloadIsVerified(t *testing.T) {
	binary := []byte("#!/bin/sh\necho modelgate v9.9.9\n")
	archive := tarGz(t, "modelgate-full", binary)
	sum := sha256.Sum256(archive)
	const base = "/modelgate/modelgate/releases/download/v9.9.9/"
	checksums := fmt.Sprintf("%s  modelgate_9.9.9_linux_amd64.tar.gz\n%s  modelgate_9.9.9_darwin_arm64.tar.gz\n", hex.EncodeToString(sum[:]), strings.Repeat("0", 64))
	rel := &fakeReleases{files: map[string][]byte{base + "checksums.txt": []byte(checksums), base + "modelgate_9.9.9_linux_amd64.tar.gz": archive}}
	srv := httptest.NewServer(rel)
	defer srv.Close()
	cache := t.TempDir()
	env := map[string]string{"MODELGATE_VERSION": "v9.9.9", "GITHUB_SERVER_URL": srv.URL, "GITHUB_ACTION_REPOSITORY": "modelgate/modelgate", "RUNNER_TOOL_CACHE": cache}

	log, out, err := installScript(t, env)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, log)
	}
	want := filepath.Join(cache, "modelgate", "v9.9.9", "linux-amd64", "modelgate-full")
	if out["bin"] != want || !strings.Contains(log, "matches checksums.txt") {
		t.Fatalf("bin %q, want %q\n%s", out["bin"], want, log)
	}
	if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, binary) {
		t.Fatalf("installed binary: %v", err)
	}
	n := len(rel.hits)
	if _, out, err := installScript(t, env); err != nil || out["bin"] != want || len(rel.hits) != n {
		t.Errorf("second install: %v, bin %q, %d new downloads (want the cache)", err, out["bin"], len(rel.hits)-n)
	}

	t.Run("tampered archive", func(t *testing.T) {
		rel.files[base+"modelgate_9.9.9_linux_amd64.tar.gz"] = tarGz(t, "modelgate-full", []byte("#!/bin/sh\necho stolen\n"))
		env := maps(env, "RUNNER_TOOL_CACHE", t.TempDir())
		log, out, err := installScript(t, env)
		if err == nil || out["bin"] != "" || !strings.Contains(log, "checksum mismatch") {
			t.Errorf("err %v, bin %q\n%s", err, out["bin"], log)
		}
		if matches, _ := filepath.Glob(filepath.Join(env["RUNNER_TOOL_CACHE"], "modelgate", "*", "*", "modelgate*")); len(matches) != 0 {
			t.Errorf("a tampered binary was cached: %v", matches)
		}
	})
	t.Run("archive not in checksums.txt", func(t *testing.T) {
		env := maps(env, "RUNNER_TOOL_CACHE", t.TempDir())
		env["RUNNER_ARCH"] = "ARM64" // linux arm64 is not listed
		rel.files[base+"modelgate_9.9.9_linux_arm64.tar.gz"] = archive
		log, _, err := installScript(t, env)
		if err == nil || !strings.Contains(log, "does not list modelgate_9.9.9_linux_arm64.tar.gz") {
			t.Errorf("err %v\n%s", err, log)
		}
	})
	t.Run("not a release tag", func(t *testing.T) {
		log, _, err := installScript(t, maps(env, "MODELGATE_VERSION", "latest"))
		if err == nil || !strings.Contains(log, "want a release tag") {
			t.Errorf("err %v\n%s", err, log)
		}
	})
}

func maps(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func TestInstallScriptWithoutGoSaysWhatToDo(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("SKIPPED: bash is not installed")
	}
	// A PATH with the shell tools but no go.
	bin := t.TempDir()
	for _, tool := range []string{"dirname", "uname", "sed", "cat"} {
		if p, err := exec.LookPath(tool); err == nil {
			_ = os.Symlink(p, filepath.Join(bin, tool))
		}
	}
	cmd := exec.Command(bash, "install.sh")
	cmd.Env = []string{"PATH=" + bin, "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TOOL_CACHE=" + t.TempDir(), "GITHUB_ACTION_PATH=.."}
	out, err := cmd.CombinedOutput()
	if err == nil || !regexp.MustCompile(`no Go on this runner .*actions/setup-go .*version input`).Match(out) {
		t.Errorf("err %v\n%s", err, out)
	}
}
