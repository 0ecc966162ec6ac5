package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
)

// The chart is drawn with plain pixels: golang.org/x/image is not in tend's module
// graph, so it has no text, and the page carries the legend and the scales.

const chartTitle = "daemon CPU per cycle, resident memory and private memory across N"

// chartMetrics are the panels of the chart, left to right, with one word per panel
// for the legend.
var (
	chartMetrics = []metric{mCPU, mRSS, mPrivate}
	panelSides   = []string{"Left", "Middle", "Right"}
)

// toolColors are the line colors of the tools.
var toolColors = map[toolKind]color.RGBA{
	tendExternal: {R: 0x1f, G: 0x4e, B: 0xd8, A: 0xff},
	tendOwned:    {R: 0x17, G: 0xa2, B: 0xb8, A: 0xff},
	monit:        {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	supervisord:  {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

var colorNames = map[toolKind]string{
	tendExternal: "dark blue", tendOwned: "teal", monit: "red", supervisord: "green",
}

const (
	panelWidth  = 420
	panelHeight = 300
	margin      = 30
	yTicks      = 5
)

// niceCeiling returns the smallest of 1, 2, 2.5 or 5 times a power of ten that is at
// least v, so that a fifth of it is a round tick.
func niceCeiling(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*exp >= v {
			return f * exp
		}
	}
	return 10 * exp
}

// scale returns the top of the y axis of metric m: the largest median, rounded up.
func (r *report) scale(m metric) float64 {
	top := 0.0
	for _, t := range r.plan.Tools {
		for _, n := range r.plan.Sizes {
			top = max(top, r.res.get(m, t, n).Median)
		}
	}
	return niceCeiling(top)
}

// chartLegend returns the text that explains the chart's colors and axes.
func (r *report) chartLegend() string {
	var b strings.Builder
	b.WriteString("Lines: ")
	var names []string
	for _, t := range r.plan.Tools {
		names = append(names, fmt.Sprintf("%s %s", colorNames[t], t.label()))
	}
	b.WriteString(strings.Join(names, ", "))
	fmt.Fprintf(&b, ". Each panel's x axis has N = %s, evenly spaced left to right; ",
		strings.Trim(strings.ReplaceAll(fmt.Sprint(r.plan.Sizes), " ", ", "), "[]"))
	b.WriteString("the y axis starts at 0 and has a tick at every fifth of its top. ")
	for i, m := range chartMetrics {
		top := r.scale(m)
		fmt.Fprintf(&b, "%s: %s, top %s %s, a tick every %s %s", panelSides[i], m.Title, number(top), m.Unit,
			number(top/yTicks), m.Unit)
		for _, t := range r.plan.Tools {
			if _, no := m.Unsupported[t]; no {
				fmt.Fprintf(&b, ", no line for %s", t.label())
			}
		}
		b.WriteString(". ")
	}
	b.WriteString("The points are medians.")
	return b.String()
}

// writeChart draws one panel per chart metric and writes the PNG to path.
func writeChart(path string, r *report) error {
	img := image.NewRGBA(image.Rect(0, 0, panelWidth*len(chartMetrics), panelHeight))
	fill(img, img.Bounds(), color.RGBA{0xff, 0xff, 0xff, 0xff})
	for i, m := range chartMetrics {
		r.drawPanel(img, image.Rect(i*panelWidth, 0, (i+1)*panelWidth, panelHeight), m)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}

func (r *report) drawPanel(img *image.RGBA, area image.Rectangle, m metric) {
	axis := color.RGBA{0x33, 0x33, 0x33, 0xff}
	grid := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	left, right := area.Min.X+margin, area.Max.X-margin/2
	top, bottom := area.Min.Y+margin/2, area.Max.Y-margin

	for i := 1; i <= yTicks; i++ {
		y := bottom - i*(bottom-top)/yTicks
		line(img, left, y, right, y, grid, 1)
		line(img, left-5, y, left, y, axis, 1)
	}
	line(img, left, bottom, right, bottom, axis, 1)
	line(img, left, top, left, bottom, axis, 1)

	sizes := r.plan.Sizes
	xAt := func(i int) int {
		if len(sizes) == 1 {
			return (left + right) / 2
		}
		return left + 10 + i*(right-left-20)/(len(sizes)-1)
	}
	for i := range sizes {
		line(img, xAt(i), bottom, xAt(i), bottom+5, axis, 1)
	}

	yTop := r.scale(m)
	for _, t := range r.plan.Tools {
		r.drawSeries(img, m, t, xAt, func(v float64) int {
			return bottom - int(math.Round(v/yTop*float64(bottom-top)))
		})
	}
}

func (r *report) drawSeries(img *image.RGBA, m metric, t toolKind, xAt func(int) int, yAt func(float64) int) {
	c := toolColors[t]
	prevX, prevY, have := 0, 0, false
	for i, n := range r.plan.Sizes {
		s := r.res.get(m, t, n)
		if s.Count == 0 {
			have = false
			continue
		}
		x, y := xAt(i), yAt(s.Median)
		if have {
			line(img, prevX, prevY, x, y, c, 2)
		}
		fill(img, image.Rect(x-3, y-3, x+4, y+4), c)
		prevX, prevY, have = x, y, true
	}
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// line draws a straight line of the given width from (x0, y0) to (x1, y1).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, width int) {
	steps := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= steps; i++ {
		x := x0 + (x1-x0)*i/steps
		y := y0 + (y1-y0)*i/steps
		fill(img, image.Rect(x, y, x+width, y+width), c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
