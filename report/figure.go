package report

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"

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
		f.Panels[0][0].Draw(dc)
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
				p.Draw(canvases[i][j])
			}
		}
	}
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
