package testenv

import "testing"

func TestStartMailpit(t *testing.T) {
	m := StartMailpit(t)
	if got := m.Messages(t); len(got) != 0 {
		t.Fatalf("Messages() on a new mailpit = %d messages, want 0", len(got))
	}
}
