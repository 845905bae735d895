package main

// The node side, in the shape the reference's pull request describes: the dispatcher manager keeps
// its dispatchers in a sync.Map from ID to *Dispatcher; at every heartbeat it walks the whole map,
// reads each dispatcher's component status under that dispatcher's own lock, skips the three
// excluded states and adds every other ID to the checksum. The same walk over a plain Go map is
// measured beside it, to separate what sync.Map costs from what the walk itself costs.

import "sync"

// Dispatcher is one dispatcher as a node holds it: the ID and status the checksum needs, and the
// fields a real dispatcher carries besides (span, progress timestamps, counters), so that walking
// a map of them touches the memory a real walk touches. A real reference dispatcher is larger
// still (sinks, channels, a table-progress tracker), so this walk is if anything cheaper than the
// reference's. The fields mirror the Rust fixture's Dispatcher.
type Dispatcher struct {
	id DispatcherID

	// The status sits next to its own mutex, inside the dispatcher object. (A status object of its
	// own, reached through a pointer, would add one dependent load per dispatcher to the walk; the
	// cheaper layout keeps the comparison conservative.)
	mu     sync.Mutex
	status ComponentState

	span            *TableSpan
	schemaID        int64
	checkpointTs    uint64
	resolvedTs      uint64
	eventsReceived  uint64
	rowsFlushed     uint64
	bytesFlushed    uint64
	lastHeartbeatMs uint64
}

// NewDispatcher makes a freshly created dispatcher for tableID in state.
func NewDispatcher(id DispatcherID, state ComponentState, tableID int64) *Dispatcher {
	return &Dispatcher{
		id:       id,
		status:   state,
		span:     WholeTable(tableID),
		schemaID: tableID / 64,
	}
}

// ComponentStatus reads the status under the dispatcher's lock, as every reader in the reference
// does (the dispatcher's own goroutines write it concurrently).
func (d *Dispatcher) ComponentStatus() ComponentState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// SyncMapManager is the reference's dispatcher manager, reduced to its dispatcher map.
type SyncMapManager struct {
	dispatchers sync.Map // DispatcherID -> *Dispatcher
}

// ComputeChecksum is the heartbeat's recompute over the sync.Map.
func (m *SyncMapManager) ComputeChecksum() Checksum {
	var sum Checksum
	m.dispatchers.Range(func(key, value any) bool {
		id := key.(DispatcherID)
		d := value.(*Dispatcher)
		if IncludedInChecksum(d.ComponentStatus()) {
			sum.Add(id)
		}
		return true
	})
	return sum
}

// PlainMapManager is the same manager over a plain Go map (no sync.Map).
type PlainMapManager struct {
	dispatchers map[DispatcherID]*Dispatcher
}

// ComputeChecksum is the same recompute over the plain map.
func (m *PlainMapManager) ComputeChecksum() Checksum {
	var sum Checksum
	for id, d := range m.dispatchers {
		if IncludedInChecksum(d.ComponentStatus()) {
			sum.Add(id)
		}
	}
	return sum
}

// nodeWorkload is one size's generated dispatchers in both managers (sharing the objects) and the
// naive answers: the checksum of every generated ID and of the included ones, folded straight from
// the generator without any map.
type nodeWorkload struct {
	syncMap   *SyncMapManager
	plainMap  *PlainMapManager
	generated Checksum
	included  Checksum
}

// buildNode generates n dispatchers from seed, as the Rust fixture's synthetic_dispatchers(n, seed)
// does: IDs from the stream, states from SyntheticState, table 100+index for the index-th.
func buildNode(n int, seed uint64) *nodeWorkload {
	w := &nodeWorkload{
		syncMap:  &SyncMapManager{},
		plainMap: &PlainMapManager{dispatchers: make(map[DispatcherID]*Dispatcher, n)},
	}
	ids := NewIDStream(seed)
	for i := 0; i < n; i++ {
		id := ids.Next()
		state := SyntheticState(uint64(i))
		d := NewDispatcher(id, state, 100+int64(i))
		w.syncMap.dispatchers.Store(id, d)
		w.plainMap.dispatchers[id] = d
		w.generated.Add(id)
		if IncludedInChecksum(state) {
			w.included.Add(id)
		}
	}
	return w
}
