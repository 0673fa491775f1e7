package signing

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DiskModel reads a model on disk: a directory (every regular file below
// it, the signature excluded) or a single file. sigPath "" means
// model.sig inside the directory, or beside the file.
func DiskModel(modelPath, sigPath string) (Model, error) {
	st, err := os.Stat(modelPath)
	if err != nil {
		return Model{}, err
	}
	if sigPath == "" {
		if st.IsDir() {
			sigPath = filepath.Join(modelPath, "model.sig")
		} else {
			sigPath = filepath.Join(filepath.Dir(modelPath), "model.sig")
		}
	}
	bundle, err := readCapped(sigPath)
	if err != nil {
		return Model{}, fmt.Errorf("signature: %w", err)
	}
	m := Model{Bundle: bundle}
	if !st.IsDir() {
		m.SingleFile = true
		m.Files = []File{diskFile(filepath.Base(modelPath), modelPath)}
		return m, nil
	}
	sigAbs, _ := filepath.Abs(sigPath)
	err = filepath.WalkDir(modelPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if abs, _ := filepath.Abs(p); abs == sigAbs {
			return nil
		}
		rel, err := filepath.Rel(modelPath, p)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, diskFile(filepath.ToSlash(rel), p))
		return nil
	})
	return m, err
}

func diskFile(name, p string) File {
	return File{Name: name, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }}
}

func readCapped(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxBundleBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBundleBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, MaxBundleBytes)
	}
	return b, nil
}
