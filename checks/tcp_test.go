package checks

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestProbeTCP(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name       string
		address    string
		wantOK     bool
		wantReason string
	}{
		{"listening", open.Addr().String(), true, ""},
		{"closed port", closedAddr, false, "connection refused on " + closedAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := ProbeTCP(ctx, tt.address)
			if r.OK != tt.wantOK {
				t.Errorf("ProbeTCP(%s).OK = %v, want %v (reason %q)", tt.address, r.OK, tt.wantOK, r.Reason)
			}
			if !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("ProbeTCP(%s).Reason = %q, want %q", tt.address, r.Reason, tt.wantReason)
			}
		})
	}
}
