package policy

import (
	"strings"
	"sync"
)

// classCache memoizes ClassifyGlobal, RoutineCallee and InertResult per
// (module, name).
// Both are pure for one policy, and every pickle asks them about the same
// few hundred globals (torch._utils._rebuild_tensor_v2, collections
// OrderedDict, numpy dtypes): once per global while the VM runs, again per
// global and call while the trace is judged. A directory of small models
// asked them afresh for every file, each answer costing a name join and
// several lookups. The cache is shared by the scan's workers and bounded,
// so a hostile stream of distinct names only stops being cached.
type classCache struct {
	mu sync.RWMutex
	m  map[[2]string]classEntry
}

// classCacheMax bounds the cache; real scans name far fewer globals.
const classCacheMax = 1 << 15

type classEntry struct {
	class      Class
	hasClass   bool
	routine    bool
	inert      bool // see InertResult
	hasRoutine bool // routine and inert are set
}

func newClassCache() *classCache { return &classCache{m: map[[2]string]classEntry{}} }

func (c *classCache) get(module, name string) (classEntry, bool) {
	if c == nil {
		return classEntry{}, false
	}
	c.mu.RLock()
	e, ok := c.m[[2]string{module, name}]
	c.mu.RUnlock()
	return e, ok
}

// update applies set to the entry of (module, name), if there is room.
func (c *classCache) update(module, name string, set func(*classEntry)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]string{module, name}
	e, ok := c.m[key]
	if !ok {
		if len(c.m) >= classCacheMax {
			return
		}
		// Names may be slices of a file's bytes read in place: the
		// cache must not keep the file alive.
		key = [2]string{strings.Clone(module), strings.Clone(name)}
	}
	set(&e)
	c.m[key] = e
}
