package artifacts

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/modelgate/modelgate/mlflowplugin/registry"
)

// Location is where one model version's artifacts live.
type Location struct {
	// URI is what MLflow's get-download-uri answered (or the version's
	// source when that call is not available).
	URI string
	// FS streams the tree.
	FS fs.FS
}

// UnsupportedError is an artifact location this receiver cannot read: a
// scheme it does not speak, a store it has no access configured for. It
// does not get better with retries.
type UnsupportedError struct {
	URI string
	Err error
}

func (e *UnsupportedError) Error() string { return e.Err.Error() }
func (e *UnsupportedError) Unwrap() error { return e.Err }

// S3Opener builds a store for an s3:// URI (bucket, key prefix). It is a
// hook so the S3 client is configured once by the caller.
type S3Opener func(ctx context.Context, bucket, prefix string) (Store, error)

// Resolve finds a version's artifacts and returns a streaming FS over them:
// mlflow-artifacts:/ through the tracking server's proxy, runs:/ through
// the run-artifact API, s3:// through s3 (nil: unsupported), file:// and
// absolute paths on the local disk. Anything else is an error, so an
// unsupported store is reported, never passed.
func Resolve(ctx context.Context, c *registry.Client, name, version, source string, s3 S3Opener) (*Location, error) {
	uri, err := c.GetDownloadURI(ctx, name, version)
	if err != nil {
		if !registry.IsNotFound(err) || source == "" {
			return nil, err
		}
		uri = source
	}
	st, err := storeFor(ctx, c, uri, s3)
	if err != nil {
		return nil, &UnsupportedError{URI: uri, Err: err}
	}
	return &Location{URI: uri, FS: NewFS(ctx, st)}, nil
}

func storeFor(ctx context.Context, c *registry.Client, uri string, s3 S3Opener) (Store, error) {
	switch {
	case strings.HasPrefix(uri, "mlflow-artifacts:"):
		rel, err := proxyPath(uri)
		if err != nil {
			return nil, err
		}
		return &proxyStore{c: c, root: rel}, nil
	case strings.HasPrefix(uri, "runs:/"):
		rest := strings.TrimPrefix(uri, "runs:/")
		runID, rel, _ := strings.Cut(rest, "/")
		if runID == "" {
			return nil, fmt.Errorf("artifact uri %q names no run", uri)
		}
		return &runStore{c: c, runID: runID, root: strings.Trim(rel, "/")}, nil
	case strings.HasPrefix(uri, "models:/"):
		id := strings.Trim(strings.TrimPrefix(uri, "models:/"), "/")
		if id == "" || strings.ContainsAny(id, "/@") {
			// models:/NAME/VERSION and NAME@ALIAS are registry references,
			// not logged models; get-download-uri resolves those.
			return nil, fmt.Errorf("artifact uri %q is not models:/<logged model id>", uri)
		}
		return &loggedModelStore{c: c, id: id}, nil
	case strings.HasPrefix(uri, "s3://"):
		if s3 == nil {
			return nil, fmt.Errorf("artifacts at %s need S3 access, which is not configured", uri)
		}
		u, err := url.Parse(uri)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("artifact uri %q is not s3://bucket/prefix", uri)
		}
		return s3(ctx, u.Host, strings.Trim(u.Path, "/"))
	case strings.HasPrefix(uri, "file://"):
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("artifact uri %q: %w", uri, err)
		}
		return localStore(u.Path)
	case strings.HasPrefix(uri, "/"):
		return localStore(uri)
	}
	scheme, _, _ := strings.Cut(uri, ":")
	return nil, fmt.Errorf("artifact store %q (%s:) is not supported; serve artifacts through the MLflow proxy (--serve-artifacts) or use S3", uri, scheme)
}

// proxyPath maps mlflow-artifacts:[//host[:port]]/rel to rel.
func proxyPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("artifact uri %q: %w", uri, err)
	}
	rel := strings.Trim(path.Clean("/"+u.Path), "/")
	if rel == "" {
		return "", fmt.Errorf("artifact uri %q has no path", uri)
	}
	return rel, nil
}

func join(root, p string) string {
	if p == "." {
		return root
	}
	if root == "" {
		return p
	}
	return root + "/" + p
}

type proxyStore struct {
	c    *registry.Client
	root string
}

func (s *proxyStore) List(ctx context.Context, dir string) ([]Entry, error) {
	infos, err := s.c.ListProxyArtifacts(ctx, join(s.root, dir))
	if err != nil {
		return nil, err
	}
	return entries(infos), nil
}

func (s *proxyStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	return s.c.OpenProxyArtifact(ctx, join(s.root, p))
}

type runStore struct {
	c     *registry.Client
	runID string
	root  string
}

func (s *runStore) List(ctx context.Context, dir string) ([]Entry, error) {
	infos, err := s.c.ListRunArtifacts(ctx, s.runID, join(s.root, dir))
	if err != nil {
		return nil, err
	}
	return entries(infos), nil
}

func (s *runStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	return s.c.OpenRunArtifact(ctx, s.runID, join(s.root, p))
}

// loggedModelStore reads an MLflow 3 logged model through the tracking
// server's logged-model artifact routes.
type loggedModelStore struct {
	c  *registry.Client
	id string
}

func (s *loggedModelStore) List(ctx context.Context, dir string) ([]Entry, error) {
	rel := dir
	if rel == "." {
		rel = ""
	}
	infos, err := s.c.ListLoggedModelArtifacts(ctx, s.id, rel)
	if err != nil {
		return nil, err
	}
	return entries(infos), nil
}

func (s *loggedModelStore) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	return s.c.OpenLoggedModelArtifact(ctx, s.id, p)
}

func entries(infos []registry.ArtifactInfo) []Entry {
	out := make([]Entry, 0, len(infos))
	for _, i := range infos {
		// The proxy answers basenames, the run API paths relative to the
		// run root; both end in the base name.
		out = append(out, Entry{Name: path.Base(i.Path), IsDir: i.IsDir, Size: i.FileSize})
	}
	return out
}

// localStore serves a directory on this host (a file:// artifact root
// shared with the MLflow server).
func localStore(dir string) (Store, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("local artifact directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("local artifact location %s is not a directory", dir)
	}
	return &fsStore{fsys: os.DirFS(dir)}, nil
}

type fsStore struct{ fsys fs.FS }

func (s *fsStore) List(_ context.Context, dir string) ([]Entry, error) {
	des, err := fs.ReadDir(s.fsys, dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, d := range des {
		if !d.IsDir() && !d.Type().IsRegular() {
			continue // symlinks could leave the artifact root
		}
		size := int64(-1)
		if fi, err := d.Info(); err == nil {
			size = fi.Size()
		}
		out = append(out, Entry{Name: d.Name(), IsDir: d.IsDir(), Size: size})
	}
	return out, nil
}

func (s *fsStore) Open(_ context.Context, p string) (io.ReadCloser, error) {
	return s.fsys.Open(p)
}
