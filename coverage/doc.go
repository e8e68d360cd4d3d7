// Package coverage holds the coverage integration tests: they run every
// kind of payload a Temporal workflow can produce through a real dev server
// with the encryption plugin installed, then read what the server stored
// with a client that has no codec.
//
// One workflow exercises inputs and results, activities and local
// activities, side effects, signals, queries, updates, child workflows,
// continue-as-new, memo, user metadata, nested application errors and a
// header written by a context propagator, each carrying its own plaintext
// marker. The audit follows every run (across continue-as-new and into
// children) through history and DescribeWorkflowExecution, and fails on
// any marker found, or any payload other than a search attribute that is
// not ours. Separate tests turn the reported-fault cases C01 to C07 into
// scenarios, and pin what the SDK or the server keeps in clear, as listed
// in docs/what-is-encrypted.md.
//
// The tests start one dev server for the package from bin/temporal (or
// $TEMPORAL_CLI). Without it they fail, except under go test -short, where
// they skip.
package coverage
