// kstatus reads Kubernetes objects as JSON (one per line) on stdin and prints,
// for each, the status Flux and kpt compute for it with the kstatus library
// (sigs.k8s.io/cli-utils/pkg/kstatus/status): {"status":"Current","message":"..."}.
// A test helper for the TurnRelay status conventions; not part of the product.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		// Decoded as the API machinery does (integers as int64, as kstatus expects).
		var obj unstructured.Unstructured
		if err := obj.UnmarshalJSON(in.Bytes()); err != nil {
			_ = out.Encode(result{Error: fmt.Sprintf("not a Kubernetes object: %v", err)})
			continue
		}
		res, err := status.Compute(&obj)
		if err != nil {
			_ = out.Encode(result{Error: err.Error()})
			continue
		}
		_ = out.Encode(result{Status: res.Status.String(), Message: res.Message})
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
