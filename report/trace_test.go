package report

import (
	"slices"
	"strings"
	"testing"
)

const sgldTrace = `chain,draw,step,loss,llc,mala_accept
0,0,9,0.5,1.5,0.9
0,1,19,0.6,2.5,1
1,0,9,0.4,0.5,0.8
1,1,19,0.7,3.5,0.7
`

func TestParseTrace(t *testing.T) {
	tr, err := parseTrace(strings.NewReader(sgldTrace))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Chains) != 2 {
		t.Fatalf("%d chains, want 2", len(tr.Chains))
	}
	if !slices.Equal(tr.Series, []string{"mala_accept"}) {
		t.Errorf("series %v, want [mala_accept]", tr.Series)
	}
	c1 := tr.Chains[1]
	if !slices.Equal(c1.Step, []float64{9, 19}) || !slices.Equal(c1.Loss, []float64{0.4, 0.7}) ||
		!slices.Equal(c1.LLC, []float64{0.5, 3.5}) {
		t.Errorf("chain 1 = %+v", c1)
	}
	if got := c1.Series["mala_accept"]; !slices.Equal(got, []float64{0.8, 0.7}) {
		t.Errorf("chain 1 mala_accept = %v, want [0.8 0.7]", got)
	}
}

func TestParseTraceRejects(t *testing.T) {
	for name, text := range map[string]string{
		"header":      "chain,step,loss\n0,1,2\n",
		"number":      "chain,draw,step,loss,llc\n0,0,1,x,2\n",
		"chain order": "chain,draw,step,loss,llc\n1,0,1,1,2\n",
		"empty":       "",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseTrace(strings.NewReader(text)); err == nil {
				t.Errorf("parseTrace(%q) succeeded, want an error", text)
			}
		})
	}
}

func TestLLCChainsCutToShortest(t *testing.T) {
	tr := &Trace{Chains: []Chain{{LLC: []float64{1, 2, 3}}, {LLC: []float64{4, 5}}}}
	got := tr.LLCChains()
	if len(got[0]) != 2 || len(got[1]) != 2 {
		t.Errorf("LLCChains lengths %d and %d, want 2 and 2", len(got[0]), len(got[1]))
	}
}
