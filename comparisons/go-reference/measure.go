package main

// Timing, with the Rust main job's method (bench/src/measure.rs) so the two sides' numbers mean
// the same thing: run each routine for a warm-up period, which also estimates its cost; choose a
// batch size so that one batch lasts about the batch time; time several batches, interleaving the
// routines that are compared with one another batch by batch (a burst of other work on a shared
// machine then slows all of them alike); report per-call median, quartiles and extremes.
//
// One addition: a time budget per measurement. A 10M-dispatcher sync.Map walk takes seconds, and
// 21 of them would make the main job several times longer, so the number of batches is cut to
// what fits in the budget, but never below minBatches.

import (
	"sort"
	"time"
)

const minBatches = 3

type measureConfig struct {
	warmUp  time.Duration
	batch   time.Duration
	batches int
	budget  time.Duration
}

// Measurement is one routine's per-call times in seconds, the Rust harness's Measurement.
type Measurement struct {
	Median        float64 `json:"median"`
	Min           float64 `json:"min"`
	Max           float64 `json:"max"`
	Q1            float64 `json:"q1"`
	Q3            float64 `json:"q3"`
	CallsPerBatch uint64  `json:"calls_per_batch"`
	Batches       int     `json:"batches"`
}

// warmUp runs routine for at least d (and at least once), doubling the calls per round; returns
// the mean seconds per call.
func warmUp(d time.Duration, routine func()) float64 {
	start := time.Now()
	calls := uint64(0)
	round := uint64(1)
	for calls == 0 || time.Since(start) < d {
		for i := uint64(0); i < round; i++ {
			routine()
		}
		calls += round
		round *= 2
	}
	return time.Since(start).Seconds() / float64(calls)
}

func callsFor(batch time.Duration, perCall float64) uint64 {
	if perCall <= 0 {
		return 1_000_000
	}
	calls := uint64(batch.Seconds()/perCall + 0.999999)
	if calls < 1 {
		calls = 1
	}
	if calls > 100_000_000 {
		calls = 100_000_000
	}
	return calls
}

// batchesWithin is how many batches fit in the budget when one repetition (a batch of every
// interleaved routine) takes about perRepetition seconds.
func (c measureConfig) batchesWithin(perRepetition float64) int {
	batches := c.batches
	if batches < 1 {
		batches = 1
	}
	if c.budget > 0 && perRepetition > 0 {
		fit := int(c.budget.Seconds() / perRepetition)
		if fit < minBatches {
			fit = minBatches
		}
		if fit < batches {
			batches = fit
		}
	}
	return batches
}

// measureInterleaved measures routines that are compared with one another, batch by batch.
func measureInterleaved(c measureConfig, routines []func()) []Measurement {
	calls := make([]uint64, len(routines))
	perRepetition := 0.0
	for i, routine := range routines {
		perCall := warmUp(c.warmUp, routine)
		calls[i] = callsFor(c.batch, perCall)
		perRepetition += perCall * float64(calls[i])
	}
	batches := c.batchesWithin(perRepetition)
	times := make([][]float64, len(routines))
	for b := 0; b < batches; b++ {
		for i, routine := range routines {
			start := time.Now()
			for k := uint64(0); k < calls[i]; k++ {
				routine()
			}
			times[i] = append(times[i], time.Since(start).Seconds()/float64(calls[i]))
		}
	}
	out := make([]Measurement, len(routines))
	for i := range routines {
		out[i] = summarise(times[i], calls[i])
	}
	return out
}

// measureRounds measures two operations that must alternate to keep a structure's size steady
// (adds of fresh IDs, then removes of the same IDs). round performs one round of opsPerRound of
// each, untimed setup included, and returns the seconds spent in each timed part.
func measureRounds(c measureConfig, opsPerRound int, round func() (float64, float64)) (Measurement, Measurement) {
	start := time.Now()
	rounds := 0
	for rounds == 0 || time.Since(start) < c.warmUp {
		round()
		rounds++
	}
	perRound := time.Since(start).Seconds() / float64(rounds)
	roundsPerBatch := callsFor(c.batch, perRound)
	batches := c.batchesWithin(perRound * float64(roundsPerBatch))
	var first, second []float64
	ops := float64(roundsPerBatch) * float64(opsPerRound)
	for b := 0; b < batches; b++ {
		a, r := 0.0, 0.0
		for k := uint64(0); k < roundsPerBatch; k++ {
			da, dr := round()
			a += da
			r += dr
		}
		first = append(first, a/ops)
		second = append(second, r/ops)
	}
	calls := roundsPerBatch * uint64(opsPerRound)
	return summarise(first, calls), summarise(second, calls)
}

func summarise(times []float64, calls uint64) Measurement {
	sort.Float64s(times)
	quartile := func(fraction float64) float64 {
		position := fraction * float64(len(times)-1)
		low := int(position)
		high := low
		if float64(low) < position {
			high = low + 1
		}
		return times[low] + (times[high]-times[low])*(position-float64(low))
	}
	middle := len(times) / 2
	median := times[middle]
	if len(times)%2 == 0 {
		median = (times[middle-1] + times[middle]) / 2
	}
	return Measurement{
		Median:        median,
		Min:           times[0],
		Max:           times[len(times)-1],
		Q1:            quartile(0.25),
		Q3:            quartile(0.75),
		CallsPerBatch: calls,
		Batches:       len(times),
	}
}
