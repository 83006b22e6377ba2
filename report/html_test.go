package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func samplePage() *Page {
	return &Page{
		Title: "llcflow report", Sources: []string{"quick.hcl"}, Plan: "Plan: 0 to run, 6 cached.",
		Plots:   "Plot nodes: 3 drawn, 0 cached, 0 failed.",
		Columns: []string{"address", "llc"},
		Rows: []PageRow{
			{Address: "sampler.sgld[seed=0]", Link: "pages/aa.html", Cells: []string{"12.3"},
				Flags: []Flag{{Code: "rhat", Message: "R̂ = 1.03 exceeds 1.01"}}},
			{Address: "sampler.sgld[seed=1]", Link: "pages/bb.html", Cells: []string{"<b>11</b>"}},
		},
		Legend:    []Flag{{Code: "rhat", Message: "R̂ above 1.01"}},
		Notes:     []string{"2 sampler nodes have no result yet (run llcflow apply); llcflow results lists them."},
		Errors:    []PageError{{Address: "erm.fit", Stage: "erm", Error: "step 3: NaN", Log: "runs/failed/x/log.txt"}},
		Downloads: []Link{{Text: "results.csv", Href: "results.csv"}},
		Figures:   []PageFigure{{Title: "LLC against width", Caption: "c", PNG: "plots/p/llc.png", SVG: "plots/p/llc.svg"}},
	}
}

func TestWriteIndex(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteIndex(&buf, samplePage()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<table id="results">`, `<table id="errors">`, `<img src="plots/p/llc.png"`,
		`href="pages/aa.html"`, `class="flagged"`, `title="R̂ = 1.03 exceeds 1.01"`,
		"Plan: 0 to run, 6 cached.", "&lt;b&gt;11&lt;/b&gt;",
		`<dl id="legend">`, "<dd>R̂ above 1.01</dd>", "2 sampler nodes have no result yet",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Count(html, `<tr class="flagged">`) != 1 {
		t.Errorf("want exactly one flagged row")
	}
}

// TestPagesLoadNothingFromTheNetwork checks that every src and href of both
// page templates is relative, so that a report opens offline.
func TestPagesLoadNothingFromTheNetwork(t *testing.T) {
	var index, run bytes.Buffer
	if err := WriteIndex(&index, samplePage()); err != nil {
		t.Fatal(err)
	}
	rp := &RunPage{Title: "sampler.sgld[seed=0]", Index: "../index.html",
		Facts: []Fact{{Name: "LLC", Value: "12.3 ± 0.4"}}, Flags: []Flag{{Code: "low_ess", Message: "m"}},
		Figures: []PageFigure{{Title: "Rank plot", PNG: "../plots/q/rank.png", SVG: "../plots/q/rank.svg"}}}
	if err := WriteRunPage(&run, rp); err != nil {
		t.Fatal(err)
	}
	attr := regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	for name, html := range map[string]string{"index": index.String(), "run": run.String()} {
		links := attr.FindAllStringSubmatch(html, -1)
		if len(links) == 0 {
			t.Errorf("%s page has no links", name)
		}
		for _, m := range links {
			if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "/") {
				t.Errorf("%s page links to %q, want a relative path", name, m[1])
			}
		}
		if strings.Contains(html, "<link") || strings.Contains(html, "<script") {
			t.Errorf("%s page loads a stylesheet or script", name)
		}
	}
}
