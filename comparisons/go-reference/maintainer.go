package main

// The maintainer side, in the shape the reference's pull request describes: a map from dispatcher
// ID to its owning node, and per node the expected checksum with seq and dirty bookkeeping, all
// behind one mutex. ApplyDelta(node, add, remove) is how the operators report a change: an add of
// an ID another node owns is a move (the old owner's checksum loses it), and every node whose set
// changed gets its seq bumped once per call and is marked dirty for the next flush.

import (
	"fmt"
	"sync"
	"time"
)

// NodeID names a node. The reference's node IDs are strings (capture IDs, UUID-shaped), so the
// per-node maps here hash strings, as the reference's do.
type NodeID string

// nodeChecksumState is the per-node bookkeeping.
type nodeChecksumState struct {
	seq        uint64
	ackedSeq   uint64
	checksum   Checksum
	lastSendAt time.Time
}

// Maintainer holds one changefeed's expected sets for one mode.
type Maintainer struct {
	mu               sync.Mutex
	nodes            map[NodeID]*nodeChecksumState
	dirtyNodes       map[NodeID]struct{}
	dispatcherToNode map[DispatcherID]NodeID
}

// NewMaintainer builds the expected sets from a full assignment (the reset after bootstrap):
// every listed node starts at seq 1, acked 0.
func NewMaintainer(nodes []NodeID, expected [][]DispatcherID, now time.Time) *Maintainer {
	total := 0
	for _, ids := range expected {
		total += len(ids)
	}
	m := &Maintainer{
		nodes:            make(map[NodeID]*nodeChecksumState, len(nodes)),
		dirtyNodes:       make(map[NodeID]struct{}, len(nodes)),
		dispatcherToNode: make(map[DispatcherID]NodeID, total),
	}
	for i, node := range nodes {
		state := &nodeChecksumState{seq: 1, lastSendAt: now}
		m.nodes[node] = state
		for _, id := range expected[i] {
			m.dispatcherToNode[id] = node
			state.checksum.Add(id)
		}
	}
	return m
}

// stateOf is node's bookkeeping, created (at seq 0) the first time a node is met.
func (m *Maintainer) stateOf(node NodeID) *nodeChecksumState {
	state, ok := m.nodes[node]
	if !ok {
		state = &nodeChecksumState{}
		m.nodes[node] = state
	}
	return state
}

// ApplyDelta applies one batch of changes reported for node: removes of IDs node owns take them
// out (others are skipped); adds put IDs in, moving them from their previous owner. Removes apply
// before adds.
func (m *Maintainer) ApplyDelta(node NodeID, add, remove []DispatcherID) {
	if len(add) == 0 && len(remove) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := make(map[NodeID]struct{}, 2)
	for _, id := range remove {
		owner, ok := m.dispatcherToNode[id]
		if !ok || owner != node {
			continue
		}
		delete(m.dispatcherToNode, id)
		m.nodes[node].checksum.Remove(id)
		changed[node] = struct{}{}
	}
	if len(add) > 0 {
		target := m.stateOf(node)
		for _, id := range add {
			owner, ok := m.dispatcherToNode[id]
			if ok && owner == node {
				continue
			}
			if ok {
				m.nodes[owner].checksum.Remove(id)
				changed[owner] = struct{}{}
			}
			target.checksum.Add(id)
			m.dispatcherToNode[id] = node
			changed[node] = struct{}{}
		}
	}
	for changedNode := range changed {
		m.nodes[changedNode].seq++
		m.dirtyNodes[changedNode] = struct{}{}
	}
}

// Expected is node's expected checksum.
func (m *Maintainer) Expected(node NodeID) Checksum {
	m.mu.Lock()
	defer m.mu.Unlock()
	if state, ok := m.nodes[node]; ok {
		return state.checksum
	}
	return Checksum{}
}

// Owner is the node an ID is assigned to.
func (m *Maintainer) Owner(id DispatcherID) (NodeID, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	owner, ok := m.dispatcherToNode[id]
	return owner, ok
}

// Tracked is how many dispatchers are assigned.
func (m *Maintainer) Tracked() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.dispatcherToNode)
}

// nodeNames makes count UUID-shaped node names, deterministic so runs are comparable.
func nodeNames(count int) []NodeID {
	stream := NewIDStream(0x0DE5)
	names := make([]NodeID, count)
	for i := range names {
		id := stream.Next()
		names[i] = NodeID(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
			id.High>>32, (id.High>>16)&0xFFFF, id.High&0xFFFF, id.Low>>48, id.Low&0xFFFFFFFFFFFF))
	}
	return names
}

// maintainerWorkload is the cluster the maintainer benchmark runs on: n IDs from seed, the i-th
// assigned to node i mod nodes (as the Rust maintainer benchmark assigns them).
type maintainerWorkload struct {
	names    []NodeID
	perNode  [][]DispatcherID
	expected []Checksum // naive: each node's list folded directly
	all      Checksum
}

func buildMaintainerWorkload(n, nodes int, seed uint64) *maintainerWorkload {
	w := &maintainerWorkload{
		names:    nodeNames(nodes),
		perNode:  make([][]DispatcherID, nodes),
		expected: make([]Checksum, nodes),
	}
	stream := NewIDStream(seed)
	for i := 0; i < n; i++ {
		id := stream.Next()
		w.perNode[i%nodes] = append(w.perNode[i%nodes], id)
		w.expected[i%nodes].Add(id)
		w.all.Add(id)
	}
	return w
}
