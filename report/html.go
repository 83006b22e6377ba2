package report

import (
	"html/template"
	"io"
)

// Page is the index.html of a report. Every link in it is relative to the
// report folder, and the page loads nothing from the network.
type Page struct {
	Title string
	// Sources are the HCL files or folders the report was made from.
	Sources []string
	// Plan is the plan's summary line, such as "Plan: 0 to run, 6 cached.",
	// and Plots the same for the plot nodes.
	Plan, Plots string
	// Columns and Rows are the results table, one row per sampler run.
	Columns []string
	Rows    []PageRow
	// Legend lists the flag codes that the rows raise, with their
	// meanings as the messages.
	Legend []Flag
	// Notes are sentences shown under the results table, such as the
	// number of sampler nodes without a result.
	Notes []string
	// Errors are the failed nodes.
	Errors    []PageError
	Downloads []Link
	// Figures are the sweep plots.
	Figures []PageFigure
}

// PageRow is one row of the results table.
type PageRow struct {
	Address string
	// Link is the run page of the row, relative to the report folder.
	Link  string
	Cells []string
	Flags []Flag
}

// PageError is one failed node.
type PageError struct {
	Address, Stage, Error, Log string
}

// Link is a hyperlink relative to the page.
type Link struct {
	Text, Href string
}

// PageFigure is one figure on a page, with its image paths relative to
// the page.
type PageFigure struct {
	Title, Caption, PNG, SVG string
}

// RunPage is the page of one sampler run.
type RunPage struct {
	Title string
	// Index is the path of index.html relative to this page.
	Index   string
	Facts   []Fact
	Flags   []Flag
	Figures []PageFigure
}

// Fact is one named value on a run page, such as the estimate.
type Fact struct {
	Name, Value string
}

// WriteIndex writes the report's index.html.
func WriteIndex(w io.Writer, p *Page) error {
	return indexTemplate.Execute(w, p)
}

// WriteRunPage writes the page of one run.
func WriteRunPage(w io.Writer, p *RunPage) error {
	return runTemplate.Execute(w, p)
}

const pageStyle = `
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
tr.flagged { background: #fff4e5; }
.flag { display: inline-block; background: #c0392b; color: white; border-radius: 0.3em;
        padding: 0 0.4em; margin: 0 0.15em; font-size: 0.85em; }
.ok { color: #2e7d32; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; max-width: 40em; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
pre { white-space: pre-wrap; margin: 0; }
#legend dt { float: left; clear: left; margin-right: 0.5em; }
#legend dd { margin: 0 0 0.3em 0; font-size: 0.9em; }
.note { color: #8a4b00; }
`

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Made from {{range $i, $s := .Sources}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}.</p>
<h2 id="plan">Plan</h2>
<p>{{.Plan}}</p>
<p>{{.Plots}}</p>
<h2 id="results-heading">Results</h2>
{{if .Rows}}
<table id="results">
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}<th>flags</th></tr></thead>
<tbody>
{{range .Rows}}<tr{{if .Flags}} class="flagged"{{end}}>
<td><a href="{{.Link}}">{{.Address}}</a></td>{{range .Cells}}<td>{{.}}</td>{{end}}
<td class="text">{{range .Flags}}<span class="flag" title="{{.Message}}">{{.Code}}</span>{{else}}<span class="ok">ok</span>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
{{if .Legend}}<dl id="legend">
{{range .Legend}}<dt><span class="flag">{{.Code}}</span></dt><dd>{{.Message}}</dd>
{{end}}</dl>
{{end}}<p>Hover over a flag for its reason.
{{range .Downloads}} <a href="{{.Href}}">{{.Text}}</a>{{end}}</p>
{{else}}
<p>No sampler results yet; run <code>llcflow apply</code> first.</p>
{{end}}
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}
{{if .Errors}}
<h2 id="errors-heading">Failed nodes</h2>
<table id="errors">
<thead><tr><th>address</th><th>stage</th><th>error</th><th>log</th></tr></thead>
<tbody>
{{range .Errors}}<tr><td>{{.Address}}</td><td class="text">{{.Stage}}</td><td class="text"><pre>{{.Error}}</pre></td><td class="text"><code>{{.Log}}</code></td></tr>
{{end}}</tbody>
</table>
{{end}}
{{if .Figures}}
<h2 id="sweep">Sweep plots</h2>
{{range .Figures}}<figure>
<img src="{{.PNG}}" alt="{{.Title}}">
<figcaption><b>{{.Title}}.</b> {{.Caption}} <a href="{{.SVG}}">SVG</a></figcaption>
</figure>
{{end}}
{{end}}
{{if .Rows}}
<h2 id="runs">Runs</h2>
<ul>
{{range .Rows}}<li><a href="{{.Link}}">{{.Address}}</a></li>
{{end}}</ul>
{{end}}
</body>
</html>
`))

var runTemplate = template.Must(template.New("run").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>` + pageStyle + `</style>
</head>
<body>
<p><a href="{{.Index}}">Back to the report</a></p>
<h1>{{.Title}}</h1>
<table id="facts">
<tbody>
{{range .Facts}}<tr><th>{{.Name}}</th><td class="text">{{.Value}}</td></tr>
{{end}}</tbody>
</table>
{{if .Flags}}<ul id="flags">
{{range .Flags}}<li><span class="flag">{{.Code}}</span> {{.Message}}</li>
{{end}}</ul>{{else}}<p class="ok">No trust flags.</p>{{end}}
{{range .Figures}}<figure>
<img src="{{.PNG}}" alt="{{.Title}}">
<figcaption><b>{{.Title}}.</b> {{.Caption}} <a href="{{.SVG}}">SVG</a></figcaption>
</figure>
{{end}}
</body>
</html>
`))
