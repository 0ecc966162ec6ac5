package main

import (
	"fmt"
	"slices"
)

// summary is the median and range of repeated measurements.
type summary struct {
	Median, Min, Max float64
	Count            int
}

// summarize returns the median and range of values; Count is 0 when values is empty.
// The median of an even count is the mean of the two middle values.
func summarize(values []float64) summary {
	if len(values) == 0 {
		return summary{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	mid := len(v) / 2
	median := v[mid]
	if len(v)%2 == 0 {
		median = (v[mid-1] + v[mid]) / 2
	}
	return summary{Median: median, Min: v[0], Max: v[len(v)-1], Count: len(v)}
}

// format returns "median (min–max)" with the unit, or the median alone for one value.
func (s summary) format(unit string) string {
	if s.Count == 0 {
		return "–"
	}
	if s.Count == 1 || s.Min == s.Max {
		return fmt.Sprintf("%s %s", number(s.Median), unit)
	}
	return fmt.Sprintf("%s %s (%s–%s)", number(s.Median), unit, number(s.Min), number(s.Max))
}

// number formats v with about three significant digits.
func number(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
