package fakemlflow

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// S3 is a FAKE of the two S3 calls an artifact reader makes
// (ListObjectsV2 with a delimiter, GetObject), path-style, without
// signature checks. For tests only.
type S3 struct {
	*httptest.Server
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
	gets    map[string]int
}

// NewS3 starts the fake with objects keyed "bucket/key".
func NewS3(objects map[string][]byte) *S3 {
	s := &S3{objects: map[string][]byte{}, gets: map[string]int{}}
	for k, v := range objects {
		s.objects[k] = v
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Put replaces an object.
func (s *S3) Put(key string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = b
}

// Gets counts GetObject calls for "bucket/key".
func (s *S3) Gets(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[key]
}

type listResult struct {
	XMLName        xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string
	Prefix         string
	Delimiter      string
	KeyCount       int
	MaxKeys        int
	IsTruncated    bool
	Contents       []object
	CommonPrefixes []prefix
}

type object struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type prefix struct{ Prefix string }

func etag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (s *S3) serve(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "not implemented", http.StatusNotImplemented)
		return
	}
	if key == "" && q.Get("list-type") == "2" {
		pfx, delim := q.Get("prefix"), q.Get("delimiter")
		res := listResult{Name: bucket, Prefix: pfx, Delimiter: delim, MaxKeys: 1000}
		seen := map[string]bool{}
		var keys []string
		for k := range s.objects {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, okey, _ := strings.Cut(k, "/")
			if b != bucket || !strings.HasPrefix(okey, pfx) {
				continue
			}
			rest := okey[len(pfx):]
			if delim != "" {
				if i := strings.Index(rest, delim); i >= 0 {
					cp := pfx + rest[:i+len(delim)]
					if !seen[cp] {
						seen[cp] = true
						res.CommonPrefixes = append(res.CommonPrefixes, prefix{cp})
					}
					continue
				}
			}
			res.Contents = append(res.Contents, object{Key: okey, LastModified: time.Unix(1_800_000_000, 0).UTC().Format(time.RFC3339),
				ETag: etag(s.objects[k]), Size: int64(len(s.objects[k])), StorageClass: "STANDARD"})
		}
		res.KeyCount = len(res.Contents) + len(res.CommonPrefixes)
		w.Header().Set("Content-Type", "application/xml")
		_ = xml.NewEncoder(w).Encode(res)
		return
	}
	b, ok := s.objects[bucket+"/"+key]
	if !ok {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`))
		return
	}
	s.gets[bucket+"/"+key]++
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("ETag", etag(b))
	w.Header().Set("Last-Modified", time.Unix(1_800_000_000, 0).UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}
