package main

// The generated workload. It reproduces, bit for bit, the Rust harness's fixtures
// (bench/src/fixtures.rs: IdStream, synthetic_state, synthetic_dispatchers), so the Go program
// walks exactly the set the Rust rows walk and the Rust side can check the Go answer against its
// naive oracle. The scheme is spelled out in README.md; change both sides together.

import "encoding/binary"

// ComponentState is a dispatcher's lifecycle state, numbered as on the wire.
type ComponentState int32

// The states, with the reference's wire numbers.
const (
	Working      ComponentState = 0
	Stopped      ComponentState = 1
	Removed      ComponentState = 2
	Initializing ComponentState = 3
	Preparing    ComponentState = 4
	MergeReady   ComponentState = 5
	WaitingMerge ComponentState = 6
)

// IDStream is SplitMix64 over a counter: the counter starts at seed * 0xD6E8FEB86659FD93 and every
// word is the SplitMix64 finaliser of the counter after adding the golden-ratio increment. An ID
// takes two consecutive words, high first.
type IDStream struct {
	state uint64
}

// NewIDStream starts a stream from seed.
func NewIDStream(seed uint64) *IDStream {
	return &IDStream{state: seed * 0xD6E8FEB86659FD93}
}

func (s *IDStream) nextWord() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Next returns the next ID.
func (s *IDStream) Next() DispatcherID {
	high := s.nextWord()
	low := s.nextWord()
	return DispatcherID{High: high, Low: low}
}

// SyntheticState is the state of the index-th generated dispatcher: the top 7 bits of
// index * 0x9E3779B97F4A7C15 pick one of 128 slots; slots 0-5 are Initializing, Preparing,
// MergeReady, Stopped, Removed, WaitingMerge, the other 122 are Working. So about 2.3% are excluded
// from the checksum and 2.3% are in the other included states, spread without a period a branch
// predictor could learn.
func SyntheticState(index uint64) ComponentState {
	switch (index * 0x9E3779B97F4A7C15) >> 57 {
	case 0:
		return Initializing
	case 1:
		return Preparing
	case 2:
		return MergeReady
	case 3:
		return Stopped
	case 4:
		return Removed
	case 5:
		return WaitingMerge
	default:
		return Working
	}
}

// IncludedInChecksum is the reference's rule: dispatchers still being set up (Initializing,
// Preparing) or about to be merged away (MergeReady) are left out; every other state counts.
func IncludedInChecksum(state ComponentState) bool {
	switch state {
	case Initializing, Preparing, MergeReady:
		return false
	default:
		return true
	}
}

// TableSpan is the key range a dispatcher replicates, with heap-allocated keys as in the
// reference.
type TableSpan struct {
	TableID  int64
	StartKey []byte
	EndKey   []byte
}

// encodeTableKey is the record-range prefix TiKV uses for a table: 't', the table ID big-endian
// with its sign bit flipped, "_r".
func encodeTableKey(tableID int64) []byte {
	key := make([]byte, 0, 11)
	key = append(key, 't')
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], uint64(tableID)^(1<<63))
	key = append(key, be[:]...)
	return append(key, '_', 'r')
}

// WholeTable is the span covering a table's whole record range.
func WholeTable(tableID int64) *TableSpan {
	return &TableSpan{
		TableID:  tableID,
		StartKey: encodeTableKey(tableID),
		EndKey:   encodeTableKey(tableID + 1),
	}
}
