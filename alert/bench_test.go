package alert

import (
	"fmt"
	"log/slog"
	"testing"
)

// BenchmarkSend measures Send, which writes and fsyncs the event into the queue of
// every route that takes it before it returns, for one and for three routes. Nothing
// delivers, so the queues grow; the queue limit keeps them to 1000 files each.
func BenchmarkSend(b *testing.B) {
	for _, routes := range []int{1, 3} {
		b.Run(fmt.Sprintf("routes=%d", routes), func(b *testing.B) {
			opts := Options{StateDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler), QueueLimit: 1000}
			for i := range routes {
				opts.Routes = append(opts.Routes, Route{Name: fmt.Sprintf("r%d", i),
					Webhook: &WebhookOptions{URL: "http://127.0.0.1:9/hook"}})
			}
			n, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := n.Send(serviceEvent(i % 100)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
