// Package units formats sizes and durations for people: in logs, alerts, the status
// table and the status page.
package units

import (
	"fmt"
	"time"
)

// Bytes returns n in binary units with one decimal, such as "512 B" or "12.5 MiB".
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for rest := n / unit; rest >= unit; rest /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Duration returns d in its two largest units, such as "3d4h", "2h5m", "1m30s" or
// "42s". A negative d counts as zero.
func Duration(d time.Duration) string {
	d = max(d, 0)
	days, hours := int(d/(24*time.Hour)), int(d/time.Hour)%24
	minutes, secs := int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh%dm", hours, minutes)
	case minutes > 0:
		return fmt.Sprintf("%dm%ds", minutes, secs)
	}
	return fmt.Sprintf("%ds", secs)
}
