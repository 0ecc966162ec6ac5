package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	for _, input := range []string{"correct horse\nsecond line\n", "correct horse\r\n", "correct horse"} {
		var stdout, stderr bytes.Buffer
		code := cmdHashPassword(nil, strings.NewReader(input), &stdout, &stderr)
		if code != 0 {
			t.Fatalf("cmdHashPassword(%q) = %d, want 0; stderr %q", input, code, stderr.String())
		}
		hash := strings.TrimSuffix(stdout.String(), "\n")
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")); err != nil {
			t.Errorf("hash %q of %q does not match the password: %v", hash, input, err)
		}
		if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != hashCost {
			t.Errorf("bcrypt.Cost(%q) = %d, %v; want %d", hash, cost, err, hashCost)
		}
	}
}

func TestHashPasswordRejects(t *testing.T) {
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"empty", "\n", nil, 1, "empty password"},
		{"no input", "", nil, 1, "empty password"},
		{"too long", strings.Repeat("x", 73) + "\n", nil, 1, "longer than 72 bytes"},
		{"argument", "secret\n", []string{"secret"}, 2, `unexpected argument "secret"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdHashPassword(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("cmdHashPassword = %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}
