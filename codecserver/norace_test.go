//go:build !race

package codecserver_test

// raceEnabled scales the load test down under the race detector.
const raceEnabled = false
