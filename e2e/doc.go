// Package e2e holds the end-to-end tests: the trading agent on a real
// Temporal dev server, with the server's copy of the history audited for
// plaintext. The tests need the Temporal CLI (make bin/temporal) and skip
// under go test -short.
package e2e
