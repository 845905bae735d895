package main

import (
	"testing"
	"time"
)

// The first IDs of seed 1. bench/src/go_reference.rs pins the same values for the Rust IdStream,
// so a change to either generator fails a test on its own side.
func TestIDStreamMatchesTheRustFixture(t *testing.T) {
	s := NewIDStream(1)
	want := []DispatcherID{
		{High: 0xa7b77319d39f7883, Low: 0xed71fd2d7cca751a},
		{High: 0x499fbfbc1e7ef79b, Low: 0x1b0bce6910214d9a},
	}
	for i, w := range want {
		if got := s.Next(); got != w {
			t.Fatalf("ID %d of seed 1: got %#x, want %#x", i, got, w)
		}
	}
	if SyntheticState(0) != Initializing || SyntheticState(1) != Working || SyntheticState(5) != Working {
		t.Fatal("SyntheticState: index 0 is Initializing, 1 and 5 are Working")
	}
}

func TestStateRuleExcludesExactlyTheThreeSetUpStates(t *testing.T) {
	for state := Working; state <= WaitingMerge; state++ {
		excluded := state == Initializing || state == Preparing || state == MergeReady
		if IncludedInChecksum(state) == excluded {
			t.Errorf("state %d: included %v", state, IncludedInChecksum(state))
		}
	}
}

func TestBothWalksAgreeWithTheGeneratorsFold(t *testing.T) {
	w := buildNode(5000, 3)
	if w.included.Count == 0 || w.included.Count == w.generated.Count {
		t.Fatalf("the workload must include some and exclude some: %+v", w.included)
	}
	if got := w.syncMap.ComputeChecksum(); got != w.included {
		t.Errorf("sync.Map walk: %+v, want %+v", got, w.included)
	}
	if got := w.plainMap.ComputeChecksum(); got != w.included {
		t.Errorf("plain map walk: %+v, want %+v", got, w.included)
	}
	var back Checksum
	back.Merge(w.included)
	for id := range w.plainMap.dispatchers {
		back.Add(id)
		back.Remove(id)
	}
	if back != w.included {
		t.Error("Remove must undo Add")
	}
}

func TestMaintainerMovesAddsAndRemovesKeepEveryNodesChecksum(t *testing.T) {
	w := buildMaintainerWorkload(640, 8, 7)
	m := NewMaintainer(w.names, w.perNode, time.Now())
	a, b := w.names[0], w.names[1]
	id := w.perNode[0][0]
	m.ApplyDelta(b, []DispatcherID{id}, nil)
	if owner, _ := m.Owner(id); owner != b {
		t.Fatalf("after a move the owner is %s", owner)
	}
	wantA, wantB := w.expected[0], w.expected[1]
	wantA.Remove(id)
	wantB.Add(id)
	if m.Expected(a) != wantA || m.Expected(b) != wantB {
		t.Fatal("a move must take the ID out of one node's checksum and into the other's")
	}
	if m.nodes[a].seq != 2 || m.nodes[b].seq != 2 || len(m.dirtyNodes) != 2 {
		t.Fatalf("both nodes' seq goes up once and both are dirty: %d %d %d", m.nodes[a].seq, m.nodes[b].seq, len(m.dirtyNodes))
	}
	m.ApplyDelta(a, nil, []DispatcherID{id}) // not a's: skipped
	m.ApplyDelta(b, nil, []DispatcherID{id})
	fresh := DispatcherID{High: 1, Low: 2}
	m.ApplyDelta("new-node", []DispatcherID{fresh}, nil)
	if m.Tracked() != 640 || m.nodes["new-node"].seq != 1 || m.Expected(b) != w.expected[1] {
		t.Fatal("remove, then an add to a node met for the first time")
	}
}

func TestSizesParse(t *testing.T) {
	if got, err := parseSizes(" 10, 2000 ,"); err != nil || len(got) != 2 || got[1] != 2000 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"0", "-1", "1K", "x"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}
