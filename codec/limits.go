package codec

import "go.temporal.io/sdk/temporal"

// nonRetryable wraps err so that an activity whose result is too large
// fails at once instead of being retried into the same error.
func nonRetryable(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), "PayloadTooLarge", err)
}
