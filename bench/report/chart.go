package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one line of a chart: throughput of one benchmark family across
// the payload sizes.
type Series struct {
	Label string
	// Bench names the benchmarks, with %s standing for the size.
	Bench string
	Color color.Color
	Width vg.Length
	// Dashes draw the line dashed; the limits use them.
	Dashes []vg.Length
	Glyph  draw.GlyphDrawer
}

// Panel is one plot of a chart.
type Panel struct {
	Title  string
	Series []Series
}

// Chart is a figure of panels side by side sharing one legend, made of
// the first panel's series in columns of PerColumn entries.
type Chart struct {
	File      string // base name, without extension
	Panels    []Panel
	PerColumn int
}

// Okabe and Ito's palette, which stays distinct for colour-blind readers.
var (
	black     = color.RGBA{0, 0, 0, 255}
	grey      = color.RGBA{150, 150, 150, 255}
	orange    = color.RGBA{230, 159, 0, 255}
	green     = color.RGBA{0, 158, 115, 255}
	blue      = color.RGBA{0, 114, 178, 255}
	vermilion = color.RGBA{213, 94, 0, 255}
	purple    = color.RGBA{204, 121, 167, 255}
)

var (
	dashed = []vg.Length{vg.Points(7), vg.Points(4)}
	dotted = []vg.Length{vg.Points(2), vg.Points(3)}
)

// Charts returns the charts the report draws: the codec against the limit
// and the baselines for AES-256-GCM, and the codec for every algorithm
// against that algorithm's limit.
func Charts() []Chart {
	main := func(op, limit, baseOp string) Panel {
		return Panel{
			Title: op + " (AES-256-GCM, JSON payloads)",
			Series: []Series{
				{Label: "AES-256-GCM Seal (left) and Open (right) alone: the limit", Bench: "Benchmark" + limit + "/aes-256-gcm/%s",
					Color: black, Width: 2, Dashes: dashed},
				{Label: "AES-256-GCM alone, into a new buffer", Bench: "Benchmark" + limit + "New/aes-256-gcm/%s",
					Color: grey, Width: 2, Dashes: dotted},
				{Label: "codec", Bench: "Benchmark" + op + "/aes-256-gcm/none/json/%s",
					Color: blue, Width: 2.5, Glyph: draw.CircleGlyph{}},
				{Label: "codec + zstd", Bench: "Benchmark" + op + "/aes-256-gcm/zstd/json/%s",
					Color: green, Width: 2.5, Glyph: draw.TriangleGlyph{}},
				{Label: "codec + zstd, random bytes", Bench: "Benchmark" + op + "/aes-256-gcm/zstd/random/%s",
					Color: green, Width: 1.5, Dashes: dashed, Glyph: draw.TriangleGlyph{}},
				{Label: "sample-style codec", Bench: "BenchmarkSample" + baseOp + "/none/json/%s",
					Color: vermilion, Width: 2, Glyph: draw.BoxGlyph{}},
				{Label: "SDK zlib + sample-style codec", Bench: "BenchmarkSample" + baseOp + "/zlib/json/%s",
					Color: purple, Width: 2, Glyph: draw.PyramidGlyph{}},
			},
		}
	}
	colors := []color.Color{blue, orange, green, vermilion}
	algs := func(op, limit string) Panel {
		p := Panel{Title: op + " per algorithm, against " + limit + " alone (JSON, no compression)"}
		for i, a := range Algorithms {
			p.Series = append(p.Series,
				Series{Label: a + " codec", Bench: "Benchmark" + op + "/" + a + "/none/json/%s",
					Color: colors[i], Width: 2.5, Glyph: draw.CircleGlyph{}},
				Series{Label: a + " alone", Bench: "Benchmark" + limit + "/" + a + "/%s",
					Color: colors[i], Width: 1.5, Dashes: dashed})
		}
		return p
	}
	return []Chart{
		{File: "benchmarks", Panels: []Panel{main("Encode", "Seal", "Encode"), main("Decode", "Open", "Decode")}, PerColumn: 4},
		{File: "algorithms", Panels: []Panel{algs("Encode", "Seal"), algs("Decode", "Open")}, PerColumn: 2},
	}
}

// Chart size, in inches, and the PNG's resolution.
const (
	chartWidth  = 13
	chartHeight = 7.5
	chartDPI    = 110
	legendBand  = 1.4 // inches below the panels for the legend and footnote
)

// WriteCharts draws every chart as PNG and SVG into dir and returns the
// files written. footnote is printed under the legend (machine, date).
func WriteCharts(res *Results, dir, footnote string) ([]string, error) {
	var files []string
	for _, ch := range Charts() {
		for _, ext := range []string{"png", "svg"} {
			path := filepath.Join(dir, ch.File+"."+ext)
			if err := ch.write(res, path, ext, footnote); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func (ch Chart) write(res *Results, path, ext, footnote string) error {
	w, h := vg.Length(chartWidth)*vg.Inch, vg.Length(chartHeight)*vg.Inch
	var canvas vg.CanvasWriterTo
	switch ext {
	case "png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(chartDPI))}
	case "svg":
		canvas = vgsvg.New(w, h)
	default:
		return fmt.Errorf("report: no %s charts", ext)
	}
	if err := ch.draw(res, draw.New(canvas), footnote); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return f.Close()
}

func (ch Chart) draw(res *Results, dc draw.Canvas, footnote string) error {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	band := vg.Length(legendBand) * vg.Inch
	top := draw.Crop(dc, 0, 0, band, 0)
	bottom := draw.Crop(dc, 0, 0, 0, -(dc.Max.Y - dc.Min.Y - band))

	lo, hi := math.Inf(1), math.Inf(-1)
	plots := make([]*plot.Plot, len(ch.Panels))
	for i, panel := range ch.Panels {
		p, plo, phi := panel.plot(res)
		plots[i] = p
		lo, hi = math.Min(lo, plo), math.Max(hi, phi)
	}
	if math.IsInf(lo, 0) {
		return fmt.Errorf("report: chart %s: no results to draw", ch.File)
	}
	// One y range for every panel, so they compare at a glance.
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	for _, p := range plots {
		p.Y.Min, p.Y.Max = lo, hi
		p.Y.Tick.Marker = decadeTicks{}
	}

	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Inch / 3,
		PadTop: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 4}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, top)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}

	series := ch.Panels[0].Series
	perColumn := max(ch.PerColumn, 1)
	cols := (len(series) + perColumn - 1) / perColumn
	legendArea := draw.Crop(bottom, vg.Inch/2, -vg.Inch/2, vg.Inch/3, -vg.Inch/8)
	colWidth := (legendArea.Max.X - legendArea.Min.X) / vg.Length(cols)
	for c := range cols {
		l := plot.NewLegend()
		l.Top, l.Left = true, true
		l.ThumbnailWidth = vg.Points(40)
		l.TextStyle.Font.Size = vg.Points(12)
		l.Padding = vg.Points(5)
		for _, s := range series[c*perColumn : min((c+1)*perColumn, len(series))] {
			line, points := s.thumbs()
			if points != nil {
				l.Add(s.Label, line, points)
			} else {
				l.Add(s.Label, line)
			}
		}
		area := legendArea
		area.Min.X = legendArea.Min.X + vg.Length(c)*colWidth
		area.Max.X = area.Min.X + colWidth
		l.Draw(area)
	}
	sty := plot.NewLegend().TextStyle
	sty.Font = font.From(sty.Font, vg.Points(10))
	sty.Color = grey
	dc.FillText(sty, vg.Point{X: legendArea.Min.X, Y: dc.Min.Y + vg.Inch/10}, footnote)
	return nil
}

// plot builds one panel and returns the range of its y values.
func (panel Panel) plot(res *Results) (*plot.Plot, float64, float64) {
	p := plot.New()
	p.Title.Text = panel.Title
	p.Title.TextStyle.Font.Size = vg.Points(15)
	// Keep the y label short: gonum pads the plot to fit its length.
	p.X.Label.Text = "payload size (log scale)"
	p.Y.Label.Text = "throughput (log scale)"
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	var ticks []plot.Tick
	for _, s := range Sizes {
		ticks = append(ticks, plot.Tick{Value: float64(s.Bytes), Label: sizeLabel(s.Name)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = float64(Sizes[0].Bytes)/1.5, float64(Sizes[len(Sizes)-1].Bytes)*1.5
	grid := plotter.NewGrid()
	grid.Horizontal.Color = color.Gray{Y: 225}
	grid.Vertical.Color = color.Gray{Y: 225}
	p.Add(grid)

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range panel.Series {
		var xys plotter.XYs
		for _, size := range Sizes {
			b := res.Get(fmt.Sprintf(s.Bench, size.Name), 0)
			if b == nil {
				continue
			}
			// MB/s from the median time, so the point matches the
			// benchstat table's centre.
			mbs := float64(size.Bytes) / b.Median(NsPerOp) * 1e3
			if mbs > 0 && !math.IsInf(mbs, 0) && !math.IsNaN(mbs) {
				xys = append(xys, plotter.XY{X: float64(size.Bytes), Y: mbs})
				lo, hi = math.Min(lo, mbs), math.Max(hi, mbs)
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points := s.thumbs()
		line.XYs = xys
		p.Add(line)
		if points != nil {
			points.XYs = xys
			p.Add(points)
		}
	}
	return p, lo, hi
}

// thumbs returns the styled line and, if the series has glyphs, points.
func (s Series) thumbs() (*plotter.Line, *plotter.Scatter) {
	line := &plotter.Line{LineStyle: draw.LineStyle{Color: s.Color, Width: vg.Points(float64(s.Width)), Dashes: s.Dashes}}
	if s.Glyph == nil {
		return line, nil
	}
	points := &plotter.Scatter{GlyphStyle: draw.GlyphStyle{
		Color: s.Color, Radius: vg.Points(3.5), Shape: s.Glyph,
	}}
	return line, points
}

func sizeLabel(name string) string {
	for _, unit := range []string{"KiB", "MiB", "B"} {
		if n, ok := strings.CutSuffix(name, unit); ok {
			return n + " " + unit
		}
	}
	return name
}

// decadeTicks marks every power of ten, labelled in MB/s, with minor
// ticks at 2 and 5.
type decadeTicks struct{}

func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		d := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := m * d
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = mbLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func mbLabel(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%g GB/s", v/1000)
	case v < 1:
		return fmt.Sprintf("%g kB/s", v*1000)
	}
	return fmt.Sprintf("%g MB/s", v)
}
