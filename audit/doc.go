// Package audit checks what a Temporal server stores for a workflow
// execution: whether every payload in it is encrypted by this project's
// codec, and whether any of a set of known secrets ("canaries") appears
// anywhere in it in plaintext.
//
// Run it with a client that has no codec, so that it sees exactly the bytes
// the server holds:
//
//	c, _ := client.Dial(client.Options{HostPort: addr}) // default converter
//	r, err := audit.Workflow(ctx, c, workflowID, runID, accountID, orderID)
//	fmt.Println(r.Verdict())
//
// # What is checked
//
// [Workflow] fetches every page of the execution's history and its
// DescribeWorkflowExecution response and hands each event, and the
// response, to a [Scanner]. The scanner walks every field of the message
// with protobuf reflection, so it finds a temporal.api.common.v1.Payload
// wherever one sits: workflow and activity inputs and results, memo, user
// metadata (summaries and details), headers, signal and update arguments,
// marker data, failure details, heartbeat details, and fields added to the
// API later. Each payload is ours when its metadata "encoding" is
// "binary/encrypted" ([codec.EncodingEncrypted]); the key ID and algorithm
// it names are recorded.
//
// Payloads inside temporal.api.common.v1.SearchAttributes are listed
// apart: the server must read them to index them, so they stay plaintext by
// design and do not count against the verdict.
//
// A failure written by an SDK (its source field set) whose message or stack
// trace is in plaintext is a finding too: it means the failure converter
// does not encode common attributes.
//
// Every canary is searched for in the serialized bytes of every event and
// of the response, and in every string and bytes field, so a hit names the
// field it was found in where it can.
//
// # Limitations
//
// Canaries are matched as exact byte strings: a secret that the application
// transforms (upper-cases, hashes, splits) before it reaches Temporal is not
// found in its transformed form. Only the named run is read; runs before a
// continue-as-new are audited separately. An execution that is still
// running can gain events after the audit.
package audit
