package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one image of a report: a grid of panels drawn into a PNG and
// an SVG of the same drawing.
type Figure struct {
	// Name is the file name without extension, such as "running_llc".
	Name string
	// Title is a short heading and Caption a sentence on how to read the
	// figure, for the HTML page.
	Title, Caption string
	// Panels are rows of plots that share their axes' alignment.
	Panels [][]*plot.Plot
}

// Figure sizes and resolution. At 96 dots per inch a one-panel PNG is
// 576 × 384 pixels.
const (
	panelWidth  = 6 * vg.Inch
	panelHeight = 4 * vg.Inch
	pngDPI      = 96
)

// Size returns the width and height of the drawing.
func (f *Figure) Size() (vg.Length, vg.Length) {
	rows := len(f.Panels)
	cols := 0
	for _, r := range f.Panels {
		cols = max(cols, len(r))
	}
	return panelWidth * vg.Length(cols), panelHeight * vg.Length(rows)
}

// Render draws the figure as "png" or "svg" bytes.
func (f *Figure) Render(format string) ([]byte, error) {
	w, h := f.Size()
	var buf bytes.Buffer
	switch format {
	case "png":
		img := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI),
			vgimg.UseBackgroundColor(color.White))}
		f.draw(draw.New(img))
		if _, err := img.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("render %s.png: %w", f.Name, err)
		}
	case "svg":
		img := vgsvg.New(w, h)
		f.draw(draw.New(img))
		if _, err := img.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("render %s.svg: %w", f.Name, err)
		}
	default:
		panic("report: unknown image format " + format)
	}
	return buf.Bytes(), nil
}

func (f *Figure) draw(dc draw.Canvas) {
	if len(f.Panels) == 1 && len(f.Panels[0]) == 1 {
		drawPanel(f.Panels[0][0], dc)
		return
	}
	tiles := draw.Tiles{
		Rows: len(f.Panels), Cols: len(f.Panels[0]),
		PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2,
	}
	canvases := plot.Align(f.Panels, tiles, dc)
	for i, row := range f.Panels {
		for j, p := range row {
			if p != nil {
				drawPanel(p, canvases[i][j])
			}
		}
	}
}

// legendGap is the space left between a legend and the highest point of
// the data below it.
const legendGap = 2 * vg.Millimeter

// drawPanel draws p into c with its y range raised, for this drawing only,
// so that a legend at the top of the data area sits in a band above every
// data point and error bar and covers none of them.
func drawPanel(p *plot.Plot, c draw.Canvas) {
	yMax := p.Y.Max
	defer func() { p.Y.Max = yMax }()
	p.Y.Max = legendYMax(p, c)
	p.Draw(c)
}

// legendYMax returns the top of the y range at which the data of p fill
// the data area below a band that holds p's top legend, or p.Y.Max when
// p has no top legend or the band does not fit.
func legendYMax(p *plot.Plot, c draw.Canvas) float64 {
	yMin, yMax := p.Y.Min, p.Y.Max
	legend := p.Legend.Rectangle(draw.Canvas{}).Size().Y
	data := p.DataCanvas(c).Size().Y
	if !p.Legend.Top || legend == 0 || data <= 2*(legend+legendGap) || !(yMax > yMin) {
		return yMax
	}
	// The data keep the fraction 1 − free of the data area's height, and
	// the band above them holds the legend.
	free := float64((legend + legendGap) / data)
	if _, isLog := p.Y.Scale.(plot.LogScale); isLog && yMin > 0 {
		lo, hi := math.Log(yMin), math.Log(yMax)
		return math.Exp(lo + (hi-lo)/(1-free))
	}
	return yMin + (yMax-yMin)/(1-free)
}

// plainTicks are gonum's default ticks with the labels written in the
// shortest form, "250" for "250.00" and "0.5" for "0.50".
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
	}
	return ticks
}

// integerTicks are gonum's default ticks at whole numbers only, for axes
// of steps, lags and counts.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value != math.Trunc(t.Value) {
			continue
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
		}
		out = append(out, t)
	}
	return out
}

// setIntegerTicks gives a linear axis of whole-number values ticks at
// whole numbers only.
func setIntegerTicks(a *plot.Axis) {
	a.Tick.Marker = integerTicks{}
}

// Files returns the names of the figure's PNG and SVG files.
func (f *Figure) Files() (png, svg string) {
	return f.Name + ".png", f.Name + ".svg"
}

// Save writes the figure's PNG and SVG files into dir.
func (f *Figure) Save(dir string) error {
	png, svg := f.Files()
	for _, out := range []struct{ format, name string }{{"png", png}, {"svg", svg}} {
		data, err := f.Render(out.format)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, out.name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", out.name, err)
		}
	}
	return nil
}

// newPlot returns a plot with a title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	return p
}

// seriesColor returns the colour of series i, repeating after seven.
func seriesColor(i int) color.Color {
	return plotutil.Color(i)
}

// translucent returns c with the given alpha in [0, 255].
func translucent(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

// addLine adds a line through xys with a legend entry, if name is not "".
func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, name string) *plotter.Line {
	l, err := plotter.NewLine(xys)
	if err != nil {
		// NewLine fails only on NaN or Inf, and every caller passes finite
		// points (through finiteXYs or from finite summary values).
		panic("report: " + err.Error())
	}
	l.Color = c
	l.Width = vg.Points(1)
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return l
}

// addHLine adds a dashed horizontal line at y across the x range.
func addHLine(p *plot.Plot, y, x0, x1 float64, c color.Color, name string) {
	l := addLine(p, plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}}, c, name)
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	l.Width = vg.Points(1.5)
}
