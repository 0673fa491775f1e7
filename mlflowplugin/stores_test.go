package mlflowplugin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/mlflowplugin"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// TestFakeMLflowAPI_ArtifactStores scans versions whose artifacts live in
// each supported kind of store, and checks an unsupported one is an error,
// never a pass.
func TestFakeMLflowAPI_ArtifactStores(t *testing.T) {
	s3 := fakemlflow.NewS3(nil)
	defer s3.Close()
	for p, b := range evilModel(t) {
		s3.Put("mlartifacts/7/abc/artifacts/model/"+p, b)
	}
	s3env := map[string]string{"MLFLOW_S3_ENDPOINT_URL": s3.URL, "AWS_ACCESS_KEY_ID": "minio", "AWS_SECRET_ACCESS_KEY": "minio123", "AWS_REGION": "us-east-1"}
	r := newRig(t, func(o *mlflowplugin.Options) {
		o.S3 = artifacts.S3FromEnv(func(k string) string { return s3env[k] })
	})
	local := t.TempDir()
	for p, b := range cleanModel(t) {
		if err := os.WriteFile(filepath.Join(local, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, uri, status string
		files             map[string][]byte
	}{
		{"run artifact API", "runs:", "failed", evilModel(t)},
		{"logged model", "models:", "failed", evilModel(t)},
		{"s3", "s3://mlartifacts/7/abc/artifacts/model", "failed", nil},
		{"file uri", "file://" + local, "passed", nil},
		{"unsupported store", "gs://bucket/model", "error", cleanModel(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := r.fake.CreateVersion(c.name, c.files, fakemlflow.CreateOptions{ArtifactURI: c.uri})
			tags := r.waitStatus(t, c.name, v, "passed", "failed", "error")
			if tags[worker.TagStatus] != c.status {
				t.Fatalf("status %q (%s), want %q", tags[worker.TagStatus], tags[worker.TagReason], c.status)
			}
			if c.status == "error" && !strings.Contains(tags[worker.TagReason], "not supported") {
				t.Fatalf("reason %q", tags[worker.TagReason])
			}
		})
	}
	if n := s3.Gets("mlartifacts/7/abc/artifacts/model/model.pkl"); n != 1 {
		t.Fatalf("model.pkl fetched from S3 %d times, want once", n)
	}
	// verify re-hashes through the same store: change the S3 object.
	ref := mlflowplugin.ModelRef{Name: "file uri", Version: "1"}
	if v, err := mlflowplugin.Verify(context.Background(), r.svc.Client, ref, nil); err != nil || !v.Passed {
		t.Fatalf("verify on a file:// version: %+v %v", v, err)
	}
	if err := os.WriteFile(filepath.Join(local, "model.pkl"), fixture(t, "malicious/posix_system_reduce_p2.pkl"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := mlflowplugin.Verify(context.Background(), r.svc.Client, ref, nil); err != nil || v.Passed {
		t.Fatalf("verify after the file changed: %+v %v", v, err)
	}
}
