// Command dcsum-go-reference measures, in Go, what the reference implementation's shape costs:
// the node's per-heartbeat recompute of its dispatcher-set checksum over a sync.Map (and over a
// plain map), and the maintainer's per-dispatcher bookkeeping (move, add, remove). It prints one
// JSON document on stdout, progress lines ("progress: ...") on stderr, and exits non-zero, with
// the reason on stderr, if any walk or the maintainer's bookkeeping disagrees with the naive
// answer it folded straight from the generator.
//
// It is written from the reference pull request's description, not from its code. The Rust main
// job (bench/src/go_reference.rs) builds and runs it and checks every fingerprint it prints
// against the Rust naive oracle over the same generated set; see README.md.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Format names this output's layout; the Rust parser refuses any other.
const Format = "dcsum-go-reference/2"

// roundOps is the number of adds (then removes) per round of the add/remove measurement, as in
// the Rust maintainer benchmark: the map grows by at most this many entries and shrinks back.
const roundOps = 1000

// Output is the JSON document.
type Output struct {
	Format     string            `json:"format"`
	GoVersion  string            `json:"go_version"`
	GoMaxProcs int               `json:"gomaxprocs"`
	NumCPU     int               `json:"num_cpu"`
	Target     string            `json:"target"`
	Settings   Settings          `json:"settings"`
	Heartbeat  []HeartbeatResult `json:"heartbeat"`
	Maintainer *MaintainerResult `json:"maintainer"`
}

// Settings echoes the flags that shaped the run.
type Settings struct {
	Seed           uint64  `json:"seed"`
	Batches        int     `json:"batches"`
	WarmUpSeconds  float64 `json:"warm_up_seconds"`
	BatchSeconds   float64 `json:"batch_seconds"`
	BudgetSeconds  float64 `json:"budget_seconds"`
	MaintainerSeed uint64  `json:"maintainer_seed"`
	FreshSeed      uint64  `json:"fresh_seed"`
	Nodes          int     `json:"nodes"`
	GCWhileTiming  string  `json:"gc_while_timing"`
}

// Timed is a measurement with the answer the measured routine returned on its last call.
type Timed struct {
	Measurement
	Fingerprint Checksum `json:"fingerprint"`
}

// HeartbeatResult is one size of the node-side walk.
type HeartbeatResult struct {
	Dispatchers  int     `json:"dispatchers"`
	BuildSeconds float64 `json:"build_seconds"`
	// Generated is the checksum of every generated ID (whatever its state): if it differs from
	// the Rust side's, the generators differ; if only Included does, the state rule does.
	Generated Checksum `json:"generated"`
	Included  Checksum `json:"included"`
	SyncMap   Timed    `json:"sync_map"`
	PlainMap  Timed    `json:"plain_map"`
}

// MaintainerResult is the maintainer's per-dispatcher operations at one size.
type MaintainerResult struct {
	Dispatchers int         `json:"dispatchers"`
	Nodes       int         `json:"nodes"`
	Move        Measurement `json:"move"`
	Add         Measurement `json:"add"`
	Remove      Measurement `json:"remove"`
	// How many moves and churn rounds ran (warm-ups included): the Rust side replays exactly
	// these on its own tracker and compares the end states.
	MovesDone   int `json:"moves_done"`
	ChurnRounds int `json:"churn_rounds"`
	// After every timed operation: how many IDs are tracked, the union of every node's expected
	// checksum, and nodes 0 and 1.
	TrackedAfter int      `json:"tracked_after"`
	Total        Checksum `json:"total"`
	Node0        Checksum `json:"node0"`
	Node1        Checksum `json:"node1"`
}

var sink Checksum

func main() {
	sizes := flag.String("sizes", "10000,1000000", "dispatchers per node for the heartbeat walk, comma-separated (empty: none)")
	seed := flag.Uint64("seed", 1, "seed of the node-side ID stream (the Rust heartbeat rows use 1)")
	batches := flag.Int("batches", 21, "timed batches per measurement (before the budget cut)")
	warmUpMs := flag.Int("warmup-ms", 60, "warm-up per routine, milliseconds")
	batchMs := flag.Int("batch-ms", 8, "target length of one timed batch, milliseconds")
	budget := flag.Float64("budget-s", 20, "seconds of timed batches per measurement at most (but at least 3 batches); 0: no limit")
	maintainerSize := flag.Int("maintainer-size", 1000000, "dispatchers tracked by the maintainer (0: skip)")
	nodes := flag.Int("nodes", 64, "nodes the maintainer's dispatchers are spread over")
	maintainerSeed := flag.Uint64("maintainer-seed", 7, "seed of the maintainer's ID stream (the Rust maintainer rows use 7)")
	freshSeed := flag.Uint64("fresh-seed", 0xADD, "seed of the stream of new IDs the add measurement inserts")
	flag.Parse()

	parsed, err := parseSizes(*sizes)
	if err == nil && (*batches < 1 || *warmUpMs < 0 || *batchMs < 1 || *budget < 0 || *maintainerSize < 0) {
		err = errors.New("-batches and -batch-ms must be at least 1; -warmup-ms, -budget-s and -maintainer-size non-negative")
	}
	if err == nil && *maintainerSize > 0 && (*nodes < 2 || *maintainerSize < *nodes) {
		err = errors.New("-nodes must be at least 2 and at most -maintainer-size")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-reference: %v\n", err)
		os.Exit(2)
	}
	config := measureConfig{
		warmUp:  time.Duration(*warmUpMs) * time.Millisecond,
		batch:   time.Duration(*batchMs) * time.Millisecond,
		batches: *batches,
		budget:  time.Duration(*budget * float64(time.Second)),
	}
	out := Output{
		Format:     Format,
		GoVersion:  runtime.Version(),
		GoMaxProcs: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
		Target:     runtime.GOARCH + "-" + runtime.GOOS,
		Settings: Settings{
			Seed:           *seed,
			Batches:        *batches,
			WarmUpSeconds:  config.warmUp.Seconds(),
			BatchSeconds:   config.batch.Seconds(),
			BudgetSeconds:  *budget,
			MaintainerSeed: *maintainerSeed,
			FreshSeed:      *freshSeed,
			Nodes:          *nodes,
			GCWhileTiming:  "off (collected before timing; the timed routines allocate nothing)",
		},
		Heartbeat: []HeartbeatResult{},
	}
	for _, n := range parsed {
		result, err := heartbeat(n, *seed, config)
		if err != nil {
			fail(err)
		}
		out.Heartbeat = append(out.Heartbeat, result)
		fmt.Fprintf(os.Stderr, "progress: heartbeat %d\n", n)
	}
	if *maintainerSize > 0 {
		result, err := maintainer(*maintainerSize, *nodes, *maintainerSeed, *freshSeed, config)
		if err != nil {
			fail(err)
		}
		out.Maintainer = &result
		fmt.Fprintf(os.Stderr, "progress: maintainer %d\n", *maintainerSize)
	}
	encoded, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(append(encoded, '\n'))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "go-reference: %v\n", err)
	os.Exit(1)
}

func parseSizes(text string) ([]int, error) {
	var sizes []int
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.ParseUint(part, 10, 40)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("-sizes: %q is not a positive whole number of dispatchers", part)
		}
		sizes = append(sizes, int(n))
	}
	return sizes, nil
}

// quiet collects garbage now and switches the collector off while the caller times routines that
// allocate nothing, so that no collection cycle (Go also forces one every two minutes) competes
// with them for the cores; the returned function switches it back on. This favours Go: a real
// node's collector runs whenever the rest of the node allocates.
func quiet() func() {
	runtime.GC()
	previous := debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(previous) }
}

// buildWithoutGC runs build with the collector off: building allocates tens of millions of live
// objects and almost no garbage (the maps' outgrown tables), so collections during it would only
// re-scan the growing heap, which at 10M dispatchers takes longer than the measurements.
func buildWithoutGC[T any](build func() T) T {
	previous := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(previous)
	return build()
}

// release drops a workload's memory before the next one is built.
func release() {
	runtime.GC()
	debug.FreeOSMemory()
}

func heartbeat(n int, seed uint64, config measureConfig) (HeartbeatResult, error) {
	start := time.Now()
	w := buildWithoutGC(func() *nodeWorkload { return buildNode(n, seed) })
	result := HeartbeatResult{
		Dispatchers:  n,
		BuildSeconds: time.Since(start).Seconds(),
		Generated:    w.generated,
		Included:     w.included,
	}
	restore := quiet()
	var viaSync, viaPlain Checksum
	timed := measureInterleaved(config, []func(){
		func() { viaSync = w.syncMap.ComputeChecksum() },
		func() { viaPlain = w.plainMap.ComputeChecksum() },
	})
	restore()
	sink = viaSync
	if viaSync != w.included || viaPlain != w.included {
		return result, fmt.Errorf("heartbeat %d: the walks disagree with the generator's own fold: sync.Map %+v, plain map %+v, expected %+v", n, viaSync, viaPlain, w.included)
	}
	result.SyncMap = Timed{Measurement: timed[0], Fingerprint: viaSync}
	result.PlainMap = Timed{Measurement: timed[1], Fingerprint: viaPlain}
	w = nil
	release()
	return result, nil
}

func maintainer(n, nodes int, seed, freshSeed uint64, config measureConfig) (MaintainerResult, error) {
	w := buildWithoutGC(func() *maintainerWorkload { return buildMaintainerWorkload(n, nodes, seed) })
	m := buildWithoutGC(func() *Maintainer { return NewMaintainer(w.names, w.perNode, time.Now()) })
	result := MaintainerResult{Dispatchers: n, Nodes: nodes}
	restore := quiet()

	// The Rust SteadyState workload (bench/src/maintainer.rs), step for step: every tracked ID in
	// a ring, oldest first, with its owner (the i-th ID of the stream on node i mod nodes).
	r := newRing(w, n)
	var one [1]DispatcherID

	// Moves: a cursor walks the ring; each call re-homes the ID under it from node k to k+1.
	moveOnce := func() {
		e := r.at(r.cursor)
		e.node = (e.node + 1) % nodes
		one[0] = e.id
		m.ApplyDelta(w.names[e.node], one[:], nil)
		r.cursor++
		if r.cursor == r.len() {
			r.cursor = 0
		}
		result.MovesDone++
	}
	result.Move = measureInterleaved(config, []func(){moveOnce})[0]

	// Rounds: roundOps fresh IDs added, one call each, to the owners of the roundOps oldest IDs,
	// then those oldest IDs removed, one call each; the fresh IDs join the ring's back.
	fresh := NewIDStream(freshSeed)
	added := make([]ringEntry, roundOps)
	oneRound := func() (float64, float64) {
		for i := range added {
			added[i] = ringEntry{id: fresh.Next(), node: r.at(i).node}
		}
		start := time.Now()
		for i := range added {
			one[0] = added[i].id
			m.ApplyDelta(w.names[added[i].node], one[:], nil)
		}
		addTime := time.Since(start).Seconds()
		start = time.Now()
		for i := 0; i < roundOps; i++ {
			e := r.at(i)
			one[0] = e.id
			m.ApplyDelta(w.names[e.node], nil, one[:])
		}
		removeTime := time.Since(start).Seconds()
		r.dropFront(roundOps)
		r.entries = append(r.entries, added...)
		r.cursor -= roundOps
		if r.cursor < 0 {
			r.cursor = 0
		}
		result.ChurnRounds++
		return addTime, removeTime
	}
	result.Add, result.Remove = measureRounds(config, roundOps, oneRound)
	restore()

	// The answers: every node's expected checksum against a naive fold of what the ring gives it.
	want := make([]Checksum, nodes)
	var all Checksum
	for i := 0; i < r.len(); i++ {
		e := r.at(i)
		want[e.node].Add(e.id)
		all.Add(e.id)
	}
	result.TrackedAfter = m.Tracked()
	for k, name := range w.names {
		if m.Expected(name) != want[k] {
			return result, fmt.Errorf("maintainer %d: node %d's checksum disagrees with the naive fold of its ring entries", n, k)
		}
		result.Total.Merge(m.Expected(name))
	}
	result.Node0 = m.Expected(w.names[0])
	result.Node1 = m.Expected(w.names[1])
	if result.TrackedAfter != r.len() || result.Total != all {
		return result, fmt.Errorf("maintainer %d: the bookkeeping disagrees with the ring after the timed operations (tracked %d)", n, result.TrackedAfter)
	}
	release()
	return result, nil
}

// ringEntry is one tracked ID and the index of its owner.
type ringEntry struct {
	id   DispatcherID
	node int
}

// ring is every tracked ID, oldest first (entries[head:]), and the move cursor (a position in it).
type ring struct {
	entries []ringEntry
	head    int
	cursor  int
}

func newRing(w *maintainerWorkload, n int) *ring {
	nodes := len(w.perNode)
	r := &ring{entries: make([]ringEntry, 0, n+roundOps)}
	for i := 0; i < n; i++ {
		r.entries = append(r.entries, ringEntry{id: w.perNode[i%nodes][i/nodes], node: i % nodes})
	}
	return r
}

func (r *ring) len() int            { return len(r.entries) - r.head }
func (r *ring) at(i int) *ringEntry { return &r.entries[r.head+i] }
func (r *ring) dropFront(count int) {
	r.head += count
	// Compact once the dropped front is as long as the ring, so memory stays at twice the ring.
	if r.head >= r.len() {
		r.entries = append(r.entries[:0], r.entries[r.head:]...)
		r.head = 0
	}
}
