package gitlab_test

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// No container engine runs on the test machines, so the image itself is
// not built here. These tests check what can be checked without one: the
// Dockerfile's final stage (non-root user, entrypoint, CA certificates),
// and that the build command it runs yields a static binary that works.

type dockerStage struct {
	from  string
	lines []string // instructions, continuation lines joined
}

func dockerfileStages(t testing.TB) []dockerStage {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cur = cur+line, ""
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			stages = append(stages, dockerStage{from: strings.Fields(line)[1]})
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
		}
	}
	return stages
}

// dockerfileArg returns the default of ARG name in the Dockerfile.
func dockerfileArg(name string) (string, error) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^ARG ` + name + `=(\S+)$`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("Dockerfile has no ARG %s=default", name)
	}
	return string(m[1]), nil
}

func TestDockerfileFinalStage(t *testing.T) {
	stages := dockerfileStages(t)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want build + runtime", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("build stage FROM %s", build.from)
	}
	if !strings.HasPrefix(final.from, "alpine:") {
		t.Errorf("runtime stage FROM %s, want a minimal base with /bin/sh (GitLab runs the job script in the image)", final.from)
	}
	var user, entrypoint, copyLine string
	caCerts, buildStatic := false, false
	for _, l := range build.lines {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "CGO_ENABLED=0 go build") && strings.Contains(l, "./cmd/modelgate ") && strings.Contains(l, "./cmd/modelgate-full ") && strings.Contains(l, "./cmd/modelgate-mlflow") {
			buildStatic = true
		}
	}
	for _, l := range final.lines {
		switch {
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "ENTRYPOINT "):
			entrypoint = strings.TrimPrefix(l, "ENTRYPOINT ")
		case strings.HasPrefix(l, "COPY --from=build "):
			copyLine = l
		case strings.HasPrefix(l, "RUN ") && strings.Contains(l, "apk add --no-cache ca-certificates"):
			caCerts = true
		}
	}
	if !buildStatic {
		t.Error("the build stage does not run CGO_ENABLED=0 go build ./cmd/modelgate ./cmd/modelgate-full ./cmd/modelgate-mlflow")
	}
	if !caCerts {
		t.Error("the runtime stage does not install ca-certificates")
	}
	uid, _, _ := strings.Cut(user, ":")
	if user == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q, want a non-root user", user)
	}
	if !regexp.MustCompile(`adduser .*-u ` + regexp.QuoteMeta(uid) + ` `).MatchString(strings.Join(final.lines, "\n")) {
		t.Errorf("uid %s is not created with adduser in the runtime stage", uid)
	}
	if entrypoint != `["/usr/local/bin/modelgate"]` {
		t.Errorf("ENTRYPOINT %s, want exec form of /usr/local/bin/modelgate", entrypoint)
	}
	// modelgate runs modelgate-full and modelgate-mlflow from beside itself.
	if copyLine != "COPY --from=build /out/modelgate /out/modelgate-full /out/modelgate-mlflow /usr/local/bin/" {
		t.Errorf("binaries copied with %q, want modelgate, modelgate-full and modelgate-mlflow into /usr/local/bin/", copyLine)
	}
}

// TestDockerfileBinaryIsStatic builds modelgate the way the Dockerfile
// does and checks the ELF has no interpreter and no shared libraries (so
// it runs on any base), and that the version reaches the binary.
func TestDockerfileBinaryIsStatic(t *testing.T) {
	bin := modelgateBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has a program interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v (%v)", libs, err)
	}
	version, err := dockerfileArg("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v"+version) {
		t.Errorf("modelgate version: %q %v, want v%s", out, err, version)
	}
}
