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
const Format = "dcsum-go-reference/1"

// roundOps is the number of adds (then removes) per round of the add/remove measurement, as in
// the Rust maintainer benchmark: the map grows by at most this many entries and shrinks back.
const roundOps = 1000

// movable is how many of node 0's dispatchers the move measurement shuttles between nodes 0 and 1.
const movable = 1000

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
	// After every timed operation (moves returned, adds removed): how many IDs are tracked, the
	// union of every node's expected checksum, and nodes 0 and 1 (the ones the operations touch).
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
	a, b := w.names[0], w.names[1]
	result := MaintainerResult{Dispatchers: n, Nodes: nodes}
	restore := quiet()

	// Moves: node 0's first dispatchers go to node 1 one by one, then back, every call a move.
	shuttle := w.perNode[0]
	if len(shuttle) > movable {
		shuttle = shuttle[:movable]
	}
	var one [1]DispatcherID
	calls := 0
	moveOnce := func() {
		one[0] = shuttle[calls%len(shuttle)]
		to := b
		if (calls/len(shuttle))%2 == 1 {
			to = a
		}
		m.ApplyDelta(to, one[:], nil)
		calls++
	}
	result.Move = measureInterleaved(config, []func(){moveOnce})[0]
	for _, id := range shuttle {
		if owner, _ := m.Owner(id); owner != a {
			m.ApplyDelta(a, []DispatcherID{id}, nil)
		}
	}

	// Adds of fresh IDs to node 0, then removes of the same IDs: the map's size stays steady.
	fresh := NewIDStream(freshSeed)
	round := make([]DispatcherID, roundOps)
	oneRound := func() (float64, float64) {
		for i := range round {
			round[i] = fresh.Next()
		}
		start := time.Now()
		for i := range round {
			one[0] = round[i]
			m.ApplyDelta(a, one[:], nil)
		}
		added := time.Since(start).Seconds()
		start = time.Now()
		for i := range round {
			one[0] = round[i]
			m.ApplyDelta(a, nil, one[:])
		}
		return added, time.Since(start).Seconds()
	}
	result.Add, result.Remove = measureRounds(config, roundOps, oneRound)
	restore()

	result.TrackedAfter = m.Tracked()
	for _, name := range w.names {
		result.Total.Merge(m.Expected(name))
	}
	result.Node0 = m.Expected(a)
	result.Node1 = m.Expected(b)
	if result.TrackedAfter != n || result.Total != w.all || result.Node0 != w.expected[0] || result.Node1 != w.expected[1] {
		return result, fmt.Errorf("maintainer %d: the bookkeeping disagrees with the generator's own fold after the timed operations (tracked %d)", n, result.TrackedAfter)
	}
	release()
	return result, nil
}
