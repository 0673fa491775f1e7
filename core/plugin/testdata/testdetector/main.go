// Command testdetector is a plugin that misbehaves on request, for the host's
// tests. It claims content starting with "MGTEST:" and acts on the word
// after it: ok, readall, crash, panic, hang, garbage-rule, garbage-offset,
// garbage-severity, oversize, env, memhog.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/modelgate/modelgate/sdk"
)

type detector struct{}

func (detector) Describe() sdk.Description {
	return sdk.Description{
		Name: "testdetector", Version: "1.0.0", InformationURI: "https://example.invalid/testdetector",
		Rules: []sdk.Rule{{ID: "TST001", Name: "TestFinding", Severity: sdk.SeverityHigh,
			Title: "Test detector finding", What: "The test detector saw its marker.", Why: "Tests.", Fix: "None.",
			Tags: []string{"test"}}},
		Claims: []sdk.Claim{{Magic: []sdk.Magic{{Offset: 0, Bytes: []byte("MGTEST:")}}}},
	}
}

func (detector) Scan(ctx context.Context, in *sdk.Input) (*sdk.Result, error) {
	word, _, _ := strings.Cut(strings.TrimPrefix(string(in.Head), "MGTEST:"), "\n")
	word = strings.TrimSpace(word)
	ok := func(evidence string) *sdk.Result {
		return &sdk.Result{Findings: []sdk.Finding{{RuleID: "TST001", Offset: 0, Global: "test.marker",
			Message: "marker " + word, Evidence: evidence}}}
	}
	switch word {
	case "ok":
		return ok(""), nil
	case "none":
		return &sdk.Result{}, nil
	case "readall":
		// Reads in small pieces, as parsers do; reports nothing.
		n, err := io.Copy(io.Discard, io.NewSectionReader(in.R, 0, in.Size))
		if err == nil && n != in.Size {
			err = fmt.Errorf("read %d of %d bytes", n, in.Size)
		}
		return &sdk.Result{}, err
	case "crash":
		os.Exit(3)
	case "panic":
		// A panic outside the Scan goroutine is not recovered by the SDK.
		go panic("testdetector: deliberate crash")
		time.Sleep(time.Minute)
	case "hang":
		time.Sleep(time.Hour)
	case "garbage-rule":
		return &sdk.Result{Findings: []sdk.Finding{{RuleID: "NOPE1", Offset: -1, Message: "undeclared"},
			{RuleID: "TST001", Offset: -1, Message: "kept"}}}, nil
	case "garbage-offset":
		return &sdk.Result{Findings: []sdk.Finding{{RuleID: "TST001", Offset: 1 << 40, Message: "far away"}}}, nil
	case "garbage-severity":
		return &sdk.Result{Findings: []sdk.Finding{{RuleID: "TST001", Severity: 42, Offset: -1}}}, nil
	case "oversize":
		return &sdk.Result{Findings: []sdk.Finding{{RuleID: "TST001", Offset: -1,
			Evidence: string(bytes.Repeat([]byte("x"), 5<<20))}}}, nil
	case "env":
		var keys []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return ok(strings.Join(keys, ",")), nil
	case "memhog":
		var hog [][]byte
		for i := 0; i < 64; i++ {
			b := make([]byte, 256<<20)
			for j := range b {
				b[j] = byte(j)
			}
			hog = append(hog, b)
		}
		return ok(fmt.Sprint(len(hog))), nil
	}
	return &sdk.Result{}, ctx.Err()
}

func main() { sdk.Serve(detector{}) }
