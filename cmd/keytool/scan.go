package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/temporal-encryption/temporal-encryption/audit"
	"github.com/temporal-encryption/temporal-encryption/codec/keyring"
	"github.com/temporal-encryption/temporal-encryption/internal/cli"
)

// EnvAPIKey names the variable that gives -api-key its default, as the
// Temporal CLI names it.
const EnvAPIKey = "TEMPORAL_API_KEY"

type scanFlags struct {
	conn      cli.Conn
	query     string
	keyring   string
	unused    []string
	limit     int
	timeout   time.Duration
	apiKey    string
	tlsCert   string
	tlsKey    string
	tlsCA     string
	tlsServer string
}

// keyUse is what the scan found for one key ID.
type keyUse struct {
	payloads   int
	executions int
	example    string // one workflow ID/run ID that uses it
}

// scan reads every payload of every matching workflow execution with a
// client that has no codec, and counts the key IDs they name.
func scan(args []string, stdout io.Writer) error {
	var sf scanFlags
	fs := flag.NewFlagSet("keytool scan", flag.ContinueOnError)
	sf.conn.AddFlags(fs)
	fs.StringVar(&sf.query, "query", "", "visibility query selecting the executions (default: all)")
	fs.StringVar(&sf.keyring, "keyring", os.Getenv(EnvKeyring), "keyring file to compare with (env "+EnvKeyring+")")
	fs.Func("unused", "fail if any scanned execution uses this key ID (repeatable)", func(s string) error {
		sf.unused = append(sf.unused, s)
		return nil
	})
	fs.IntVar(&sf.limit, "limit", 100000, "scan at most this many executions")
	fs.DurationVar(&sf.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.StringVar(&sf.apiKey, "api-key", os.Getenv(EnvAPIKey), "API key (env "+EnvAPIKey+")")
	fs.StringVar(&sf.tlsCert, "tls-cert", "", "client certificate for mTLS (PEM)")
	fs.StringVar(&sf.tlsKey, "tls-key", "", "client key for mTLS (PEM)")
	fs.StringVar(&sf.tlsCA, "tls-ca", "", "CA certificates to trust (PEM); default: the system's")
	fs.StringVar(&sf.tlsServer, "tls-server-name", "", "server name to verify")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if sf.limit < 1 {
		return fmt.Errorf("-limit must be at least 1")
	}

	var ring *keyring.File
	if sf.keyring != "" {
		var err error
		if ring, err = keyring.ReadFile(sf.keyring); err != nil {
			return err
		}
		defer ring.Wipe()
	}

	ctx, cancel := context.WithTimeout(context.Background(), sf.timeout)
	defer cancel()
	c, err := dialPlain(ctx, sf)
	if err != nil {
		return err
	}
	defer c.Close()

	uses, executions, plaintext, err := collect(ctx, c, sf)
	if err != nil {
		return err
	}
	report(stdout, sf, ring, uses, executions, plaintext)

	var still []string
	for _, id := range sf.unused {
		if u := uses[id]; u != nil {
			still = append(still, fmt.Sprintf("%s (%d executions, such as %s)", id, u.executions, u.example))
		}
	}
	if len(still) > 0 {
		return cli.WithHint(fmt.Errorf("still in use: %s", strings.Join(still, "; ")),
			"keep the key decrypt-only until these executions pass their retention period, or reset them")
	}
	return nil
}

// dialPlain connects with the SDK's default data converter: no codec, so
// the payloads are seen as the server stores them.
func dialPlain(ctx context.Context, sf scanFlags) (client.Client, error) {
	opts := client.Options{
		HostPort:  sf.conn.Address,
		Namespace: sf.conn.Namespace,
		Logger:    cli.Logger(os.Stderr),
	}
	if sf.apiKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(sf.apiKey)
	}
	if sf.tlsCert != "" || sf.tlsKey != "" || sf.tlsCA != "" || sf.tlsServer != "" || sf.apiKey != "" {
		tc, err := tlsConfig(sf)
		if err != nil {
			return nil, err
		}
		opts.ConnectionOptions.TLS = tc
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, cli.WithHint(fmt.Errorf("connect to %s: %w", sf.conn.Address, err),
			"check -address, -namespace and the TLS or API key flags")
	}
	return c, nil
}

func tlsConfig(sf scanFlags) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: sf.tlsServer}
	if (sf.tlsCert == "") != (sf.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if sf.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(sf.tlsCert, sf.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if sf.tlsCA != "" {
		pem, err := os.ReadFile(sf.tlsCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificates", sf.tlsCA)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func collect(ctx context.Context, c client.Client, sf scanFlags) (map[string]*keyUse, int, int, error) {
	uses := make(map[string]*keyUse)
	executions, plaintext := 0, 0
	var token []byte
	for executions < sf.limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     sf.conn.Namespace,
			PageSize:      int32(min(1000, sf.limit-executions)),
			NextPageToken: token,
			Query:         sf.query,
		})
		if err != nil {
			return nil, 0, 0, fmt.Errorf("list workflows: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			if executions >= sf.limit {
				break
			}
			wid, rid := info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId()
			r, err := audit.Workflow(ctx, c, wid, rid)
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				continue // deleted since it was listed
			}
			if err != nil {
				return nil, 0, 0, err
			}
			executions++
			plaintext += len(r.Payloads) - r.Encrypted()
			for id, n := range r.KeyIDs() {
				u := uses[id]
				if u == nil {
					u = &keyUse{example: wid + "/" + rid}
					uses[id] = u
				}
				u.payloads += n
				u.executions++
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return uses, executions, plaintext, nil
}

func report(w io.Writer, sf scanFlags, ring *keyring.File, uses map[string]*keyUse, executions, plaintext int) {
	total := 0
	for _, u := range uses {
		total += u.payloads
	}
	fmt.Fprintf(w, "scanned %d workflow executions in namespace %s: %d encrypted payloads, %d not encrypted\n",
		executions, sf.conn.Namespace, total, plaintext)
	if executions >= sf.limit {
		fmt.Fprintf(w, "stopped at -limit %d; there may be more\n", sf.limit)
	}

	ids := make([]string, 0, len(uses))
	for id := range uses {
		ids = append(ids, id)
	}
	if ring != nil {
		for _, e := range ring.Keys {
			if uses[e.ID] == nil {
				ids = append(ids, e.ID)
			}
		}
	}
	sort.Strings(ids)
	ids = slices.Compact(ids)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "KEY ID\tPAYLOADS\tEXECUTIONS"
	if ring != nil {
		header += "\tKEYRING"
	}
	fmt.Fprintln(tw, header)
	for _, id := range ids {
		u := uses[id]
		if u == nil {
			u = &keyUse{}
		}
		line := fmt.Sprintf("%s\t%d\t%d", id, u.payloads, u.executions)
		if ring != nil {
			state := "not in keyring"
			if e := ring.Find(id); e != nil {
				state = string(e.State)
			}
			line += "\t" + state
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}
