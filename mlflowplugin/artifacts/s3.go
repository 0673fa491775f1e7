package artifacts

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3FromEnv returns an S3Opener configured the way MLflow configures boto3:
// MLFLOW_S3_ENDPOINT_URL for S3-compatible stores (MinIO, Ceph),
// MLFLOW_S3_IGNORE_TLS, AWS_REGION/AWS_DEFAULT_REGION, and the usual AWS
// credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared
// credentials file, instance roles). The client is built on first use.
func S3FromEnv(getenv func(string) string) S3Opener {
	if getenv == nil {
		getenv = os.Getenv
	}
	var once sync.Once
	var client *minio.Client
	var cerr error
	return func(ctx context.Context, bucket, prefix string) (Store, error) {
		once.Do(func() { client, cerr = newS3Client(getenv) })
		if cerr != nil {
			return nil, cerr
		}
		return &s3Store{c: client, bucket: bucket, prefix: strings.Trim(prefix, "/")}, nil
	}
}

func newS3Client(getenv func(string) string) (*minio.Client, error) {
	endpoint, secure := "s3.amazonaws.com", true
	if e := getenv("MLFLOW_S3_ENDPOINT_URL"); e != "" {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("MLFLOW_S3_ENDPOINT_URL %q is not a URL", e)
		}
		endpoint, secure = u.Host, u.Scheme != "http"
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ignore, _ := strconv.ParseBool(getenv("MLFLOW_S3_IGNORE_TLS")); ignore {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // MLflow's own opt-in switch
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Profile: getenv("AWS_PROFILE")},
		&credentials.IAM{},
	})
	c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: region, Transport: tr,
		BucketLookup: minio.BucketLookupAuto})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return c, nil
}

type s3Store struct {
	c      *minio.Client
	bucket string
	prefix string
}

func (s *s3Store) key(p string) string {
	if p == "." {
		return s.prefix
	}
	if s.prefix == "" {
		return p
	}
	return s.prefix + "/" + p
}

func (s *s3Store) List(ctx context.Context, dir string) ([]Entry, error) {
	pfx := s.key(dir)
	if pfx != "" {
		pfx += "/"
	}
	var out []Entry
	for obj := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: pfx}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("s3 list s3://%s/%s: %w", s.bucket, pfx, obj.Err)
		}
		rest := strings.TrimPrefix(obj.Key, pfx)
		if rest == "" {
			continue // the directory marker itself
		}
		if strings.HasSuffix(rest, "/") {
			out = append(out, Entry{Name: path.Base(rest), IsDir: true})
			continue
		}
		out = append(out, Entry{Name: rest, Size: obj.Size})
	}
	if len(out) == 0 && dir == "." {
		return nil, fmt.Errorf("s3://%s/%s holds no objects", s.bucket, pfx)
	}
	return out, nil
}

func (s *s3Store) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	obj, err := s.c.GetObject(ctx, s.bucket, s.key(p), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3 get s3://%s/%s: %w", s.bucket, s.key(p), err)
	}
	return obj, nil
}
