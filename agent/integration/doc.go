// Package integration holds the trading agent's tests on a real Temporal
// dev server: the model providers against a fake model service with the
// API key searched for in the whole history, human approval through
// updates, continue-as-new, and a worker killed in the middle of a run.
// One dev server serves the whole package. The tests need the Temporal
// CLI (make bin/temporal): without it they fail, except under go test
// -short, where they skip.
package integration
