package chattemplate

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/engine"
)

// FuzzTokenizerConfig runs arbitrary bytes through the tokenizer-config
// format (JSON decoding, chat_template lists, the Jinja checks) inside the
// engine: no panic, no hang. Seeds: testdata/fuzz/FuzzTokenizerConfig,
// written from the tokenizer fixtures by python3 test/fuzz_seeds.py.
func FuzzTokenizerConfig(f *testing.F) {
	f.Add([]byte(`{"chat_template": "{{ messages[0]['content'] }}"}`))
	f.Add([]byte(`{"chat_template": [{"name": "tool_use", "template": "{% for m in messages %}{{ m|attr('__class__') }}{% endfor %}"}]}`))
	f.Add([]byte(`{"chat\u005ftemplate": "{{ cycler.__init__.__globals__.os.popen('id').read() }}"}`))
	eng, err := engine.New(engine.Options{Formats: []engine.Format{TokenizerConfig{}}, Jobs: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res := eng.ScanReaderAt(ctx, "tokenizer_config.json", bytes.NewReader(data), int64(len(data)))
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("%d bytes: %s", len(data), u.Reason)
			}
		}
	})
}
