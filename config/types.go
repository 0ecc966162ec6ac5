package config

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time written in Go syntax, such as "30s", "1m30s" or
// "500ms", optionally led by a whole number of days, such as "14d" or "1d12h". A day
// is 24 hours. A Duration is never negative.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d in Go syntax, such as "1m30s". Days are written as hours, so
// "14d" prints as "336h0m0s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText formats d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a duration such as "30s" or "14d". It rejects a negative
// duration and leaves d unchanged on error.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := parseDuration(string(text))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", text)
	}
	*d = Duration(v)
	return nil
}

// parseDuration parses what time.ParseDuration takes, after an optional count of
// whole days, such as "14d" or "1d12h".
func parseDuration(s string) (time.Duration, error) {
	invalid := fmt.Errorf("invalid duration %q: want a number and a unit, such as "+
		`"30s", "1m30s", "500ms" or "14d"`, s)
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays || !allDigits(days) {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, invalid
		}
		return v, nil
	}

	const maxDays = math.MaxInt64 / int64(24*time.Hour)
	n, err := strconv.ParseInt(days, 10, 64)
	if err != nil || n > maxDays {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	v := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return v, nil
	}
	more, err := time.ParseDuration(rest)
	if err != nil || more < 0 {
		return 0, invalid
	}
	if more > math.MaxInt64-v {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return v + more, nil
}

// Quantity is a threshold written either as a percentage ("95%", "2.5%") or as a size
// ("600MB", "1.5GiB", "600 MB").
//
// Size units are powers of 1024 whichever spelling is used: KB and KiB are both 1024
// bytes, MB and MiB 1024² bytes, GB and GiB 1024³ bytes, TB and TiB 1024⁴ bytes. That
// is how free from procps-ng 4.0.2 counts memory unless given --si, and it is how tend
// reads a limit such as "600 MB" taken over from a Monit rule. A fractional size is
// rounded to the nearest byte. The zero Quantity is a size of 0 bytes.
type Quantity struct {
	isPercent bool
	percent   float64
	bytes     uint64
}

// NewPercent returns the percentage p.
func NewPercent(p float64) Quantity { return Quantity{isPercent: true, percent: p} }

// NewSize returns the size of n bytes.
func NewSize(n uint64) Quantity { return Quantity{bytes: n} }

// IsPercent reports whether q is a percentage rather than a size.
func (q Quantity) IsPercent() bool { return q.isPercent }

// Percent returns the percentage, or 0 when q is a size.
func (q Quantity) Percent() float64 { return q.percent }

// Bytes returns the size in bytes, or 0 when q is a percentage.
func (q Quantity) Bytes() uint64 { return q.bytes }

type sizeUnit struct {
	name  string
	bytes uint64
}

// sizeUnits lists the units that Quantity accepts, largest first.
func sizeUnits() []sizeUnit {
	return []sizeUnit{
		{"TiB", 1 << 40}, {"TB", 1 << 40}, {"GiB", 1 << 30}, {"GB", 1 << 30},
		{"MiB", 1 << 20}, {"MB", 1 << 20}, {"KiB", 1 << 10}, {"KB", 1 << 10}, {"B", 1},
	}
}

// String formats q as "95%" or, for a size, in the largest binary unit that divides it
// exactly, such as "600MiB" or "1000B".
func (q Quantity) String() string {
	if q.isPercent {
		return strconv.FormatFloat(q.percent, 'f', -1, 64) + "%"
	}
	for _, u := range sizeUnits() {
		if strings.HasSuffix(u.name, "iB") && q.bytes >= u.bytes && q.bytes%u.bytes == 0 {
			return strconv.FormatUint(q.bytes/u.bytes, 10) + u.name
		}
	}
	return strconv.FormatUint(q.bytes, 10) + "B"
}

// MarshalText formats q as String does.
func (q Quantity) MarshalText() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalText parses a percentage or a size. Surrounding spaces are ignored, and
// spaces may separate the number from its unit. It leaves q unchanged on error.
func (q *Quantity) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		p, ok := parseDecimal(strings.TrimRight(rest, " \t"))
		if !ok {
			return invalidPercent(text)
		}
		*q = NewPercent(p)
		return nil
	}

	number := strings.TrimRight(s, "ABGKMTi \t")
	unit := strings.TrimLeft(s[len(number):], " \t")
	v, ok := parseDecimal(number)
	multiplier := uint64(0)
	for _, u := range sizeUnits() {
		if u.name == unit {
			multiplier = u.bytes
		}
	}
	if !ok || multiplier == 0 {
		return fmt.Errorf("invalid size %q: want a number followed by "+
			"B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", text)
	}
	n := math.Round(v * float64(multiplier))
	if n >= math.MaxUint64 {
		return fmt.Errorf("invalid size %q: too large", text)
	}
	*q = NewSize(uint64(n))
	return nil
}

func invalidPercent(text []byte) error {
	return fmt.Errorf(`invalid percentage %q: want a number followed by %%, such as "95%%"`, text)
}

// parseDecimal parses digits with an optional fraction, such as "95" or "2.5". It
// rejects signs, exponents and the other forms that strconv.ParseFloat accepts.
func parseDecimal(s string) (float64, bool) {
	whole, fraction, hasPoint := strings.Cut(s, ".")
	if !allDigits(whole) || hasPoint && !allDigits(fraction) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// masked replaces a Secret wherever it is printed.
const masked = "******"

// Secret is a string, such as a password, that prints as "******" through fmt (every
// verb), encoding.TextMarshaler and log/slog. Only Value returns the string itself.
type Secret struct {
	value string
}

// NewSecret returns a Secret that contains s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Value returns the secret string.
func (s Secret) Value() string { return s.value }

// String returns "******".
func (s Secret) String() string { return masked }

// GoString returns "******", so that %#v is masked too.
func (s Secret) GoString() string { return masked }

// Format writes "******" for every verb and flag.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, masked) }

// MarshalText returns "******".
func (s Secret) MarshalText() ([]byte, error) { return []byte(masked), nil }

// LogValue returns "******", so that a Secret in a log line is masked.
func (s Secret) LogValue() slog.Value { return slog.StringValue(masked) }
