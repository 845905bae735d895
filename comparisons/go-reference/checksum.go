package main

// The fingerprint of a set of dispatcher IDs, as the reference computes it: the count, the XOR of
// the high halves, the XOR of the low halves, and the wrapping sums of both halves. Go's uint64
// arithmetic wraps, so Add and Remove are each other's inverse without any overflow handling.

// DispatcherID is a 128-bit dispatcher ID held as its two 64-bit halves, the shape of the
// reference's ID (a struct of two uint64) and of its wire message (fields high and low).
type DispatcherID struct {
	High uint64
	Low  uint64
}

// Checksum is the five-word set fingerprint. The JSON names are the reference's wire names, which
// are also what the Rust crate's Fingerprint reads, so the Rust side can parse it directly.
type Checksum struct {
	Count   uint64 `json:"count"`
	XorHigh uint64 `json:"xorHigh"`
	XorLow  uint64 `json:"xorLow"`
	SumHigh uint64 `json:"sumHigh"`
	SumLow  uint64 `json:"sumLow"`
}

// Add folds one ID in.
func (c *Checksum) Add(id DispatcherID) {
	c.Count++
	c.XorHigh ^= id.High
	c.XorLow ^= id.Low
	c.SumHigh += id.High
	c.SumLow += id.Low
}

// Remove takes one ID out (it does not check the ID was in, as the reference does not).
func (c *Checksum) Remove(id DispatcherID) {
	c.Count--
	c.XorHigh ^= id.High
	c.XorLow ^= id.Low
	c.SumHigh -= id.High
	c.SumLow -= id.Low
}

// Merge folds in the checksum of a disjoint set (the union's checksum).
func (c *Checksum) Merge(other Checksum) {
	c.Count += other.Count
	c.XorHigh ^= other.XorHigh
	c.XorLow ^= other.XorLow
	c.SumHigh += other.SumHigh
	c.SumLow += other.SumLow
}
