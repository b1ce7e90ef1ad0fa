//go:build race

package build

// raceEnabled: the race detector slows builds about tenfold.
const raceEnabled = true
