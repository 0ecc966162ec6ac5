package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LimitUnit is the unit of a Limit's Value. The zero value means no limit is set.
type LimitUnit int

// Limit units, written as the words in their comments.
const (
	// UnitCount (count) is a plain number: children, threads, file descriptors,
	// inodes or a load average.
	UnitCount LimitUnit = iota + 1
	// UnitPercent (percent) is a percentage, 95 for "95%".
	UnitPercent
	// UnitBytes (bytes) is a size in bytes.
	UnitBytes
	// UnitDuration (duration) is a length of time in seconds.
	UnitDuration
)

// String returns the word for u: count, percent, bytes or duration.
func (u LimitUnit) String() string {
	switch u {
	case UnitCount:
		return "count"
	case UnitPercent:
		return "percent"
	case UnitBytes:
		return "bytes"
	case UnitDuration:
		return "duration"
	}
	return "LimitUnit(" + strconv.Itoa(int(u)) + ")"
}

// noun returns how errors name a value of unit u, with its article.
func (u LimitUnit) noun() string {
	switch u {
	case UnitCount:
		return "a number"
	case UnitPercent:
		return "a percentage"
	case UnitBytes:
		return "a size"
	case UnitDuration:
		return "a duration"
	}
	return u.String()
}

// example returns a value of unit u as an operator writes it.
func (u LimitUnit) example() string {
	switch u {
	case UnitCount:
		return "50"
	case UnitPercent:
		return `"95%"`
	case UnitBytes:
		return `"600MB"`
	case UnitDuration:
		return `"5m"`
	}
	return ""
}

// Limit is the threshold of a check, from its above or below key. A check with an
// above limit fails when the observed figure is greater than Value, and one with a
// below limit when the figure is less than Value.
//
// The zero Limit has Unit 0 and means the check has no limit.
type Limit struct {
	// Below is true for a below key and false for an above key.
	Below bool
	// Value is in the unit of Unit: a plain number, a percentage (95 for "95%"),
	// bytes, or seconds for a duration.
	Value float64
	Unit  LimitUnit
	// Text is the value as the operator wrote it, such as "600 MB" or "1.5".
	Text string
}

// IsSet reports whether l is a limit rather than the zero Limit.
func (l Limit) IsSet() bool { return l.Unit != 0 }

// Exceeded reports whether the figure v, in the unit of l, fails the limit: v greater
// than Value for an above limit, v less than Value for a below limit. The zero Limit
// is never exceeded.
func (l Limit) Exceeded(v float64) bool {
	switch {
	case !l.IsSet():
		return false
	case l.Below:
		return v < l.Value
	default:
		return v > l.Value
	}
}

// String formats l as the comparison that fails, such as "> 95%", "> 600MiB" or
// "< 5m0s", or returns "" for the zero Limit.
func (l Limit) String() string {
	if !l.IsSet() {
		return ""
	}
	op := "> "
	if l.Below {
		op = "< "
	}
	return op + formatLimitValue(l.Value, l.Unit)
}

// formatLimitValue formats v in unit: sizes as Quantity does and durations in Go
// syntax.
func formatLimitValue(v float64, unit LimitUnit) string {
	switch unit {
	case UnitPercent:
		return strconv.FormatFloat(v, 'f', -1, 64) + "%"
	case UnitBytes:
		return NewSize(uint64(v)).String()
	case UnitDuration:
		return time.Duration(v * float64(time.Second)).String()
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// parseLimit parses the value of an above or below key: a TOML integer or float is a
// count, and a string is a count ("1.5"), a percentage ("95%"), a size ("600MB") or a
// duration ("5m", "14d"). It does not check the unit it recognised against units,
// which serve only to word the error for a value that matches no unit.
func parseLimit(v any, units []LimitUnit) (Limit, error) {
	switch v := v.(type) {
	case int64:
		return Limit{Value: float64(v), Unit: UnitCount, Text: strconv.FormatInt(v, 10)}, nil
	case float64:
		text := strconv.FormatFloat(v, 'f', -1, 64)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Limit{}, fmt.Errorf("invalid limit %s: want a finite number", text)
		}
		return Limit{Value: v, Unit: UnitCount, Text: text}, nil
	case string:
		return parseLimitText(v, units)
	}
	return Limit{}, fmt.Errorf("got %s, want %s", typeName(v), describeUnits(units))
}

// parseLimitText parses the string form of a limit.
func parseLimitText(text string, units []LimitUnit) (Limit, error) {
	s := strings.TrimSpace(text)
	if n, ok := parseDecimal(s); ok {
		return Limit{Value: n, Unit: UnitCount, Text: text}, nil
	}

	var q Quantity
	err := q.UnmarshalText([]byte(text))
	switch {
	case err == nil && q.IsPercent():
		return Limit{Value: q.Percent(), Unit: UnitPercent, Text: text}, nil
	case err == nil:
		return Limit{Value: float64(q.Bytes()), Unit: UnitBytes, Text: text}, nil
	case strings.HasSuffix(s, "%"):
		return Limit{}, err
	case strings.HasSuffix(s, "B") && slices.Contains(units, UnitBytes):
		return Limit{}, err // a size with a unit that Quantity lists in its error
	}

	if d, err := parseDuration(s); err == nil && d >= 0 {
		return Limit{Value: d.Seconds(), Unit: UnitDuration, Text: text}, nil
	}
	return Limit{}, fmt.Errorf("invalid limit %q: want %s", text, describeUnits(units))
}

// describeUnits lists units with an example of each, such as `a size such as "600MB"
// or a percentage such as "95%"`.
func describeUnits(units []LimitUnit) string {
	words := make([]string, len(units))
	for i, u := range units {
		words[i] = u.noun() + " such as " + u.example()
	}
	return wordList(words, "or")
}

// decodeLimit decodes the above or below key of a check whose type takes units.
func decodeLimit(t *table, c *Check, spec checkSpec) {
	hasAbove, hasBelow := t.has("above"), t.has("below")
	switch {
	case spec.units == nil:
		return
	case hasAbove && hasBelow:
		t.errorf("below", "cannot be combined with above: a check takes one limit")
		return
	case !hasAbove && !hasBelow:
		if spec.needsLimit {
			t.missing("above", "above or below with "+describeUnits(spec.units))
		}
		return
	}

	key := "above"
	if hasBelow {
		key = "below"
	}
	limit, err := parseLimit(t.values[key], spec.units)
	if err != nil {
		t.errorf(key, "%v", err)
		return
	}
	limit.Below = hasBelow
	displayed := limit.Text
	if _, isString := t.values[key].(string); isString {
		displayed = fmt.Sprintf("%q", limit.Text)
	}
	if !slices.Contains(spec.units, limit.Unit) {
		t.errorf(key, "%s is %s, but %s needs %s", displayed, limit.Unit.noun(), checkNoun(c.Type),
			describeUnits(spec.units))
		return
	}
	if msg := checkLimitRange(limit, c); msg != "" {
		t.errorf(key, "%s is out of range: %s", displayed, msg)
		return
	}
	c.Limit = limit
}

// checkLimitRange returns what limit should be when it is out of range for c, or "".
func checkLimitRange(limit Limit, c *Check) string {
	v := limit.Value
	switch limit.Unit {
	case UnitPercent:
		if c.Of == CPUScopeCore {
			if v <= 0 || v > 100000 {
				return "want a percentage greater than 0% and at most 100000%"
			}
			return ""
		}
		if v <= 0 || v > 100 {
			msg := "want a percentage greater than 0% and at most 100%"
			if v > 100 && (c.Type == CheckCPU || c.Type == CheckTotalCPU) {
				msg += `, where 100% is all cores busy: set of = "core" to make 100% one core`
			}
			return msg
		}
	case UnitCount:
		if limit.Below && v <= 0 {
			return "want a number greater than 0, since a figure below 0 cannot occur"
		}
		if v < 0 {
			return "want a number of 0 or more"
		}
	case UnitBytes:
		if v <= 0 {
			return "want a size greater than 0"
		}
	case UnitDuration:
		if v <= 0 {
			return "want a duration greater than 0"
		}
	}
	return ""
}
