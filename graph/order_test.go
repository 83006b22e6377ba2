package graph

import (
	"slices"
	"testing"
)

func TestCompareAddressesOrdersNumbers(t *testing.T) {
	got := []string{
		"sampler.sgld[step=1000]",
		"sampler.hmc[step=200]",
		"sampler.sgld[step=200]",
		"sampler.sgld[step=2000]",
		"sampler.sgld[step=800]",
		"sampler.sgld",
		"sampler.sgld[eps=1e-3,seed=1]",
		"sampler.sgld[eps=1e-4,seed=10]",
		"sampler.sgld[eps=1e-4,seed=2]",
		"sampler.sgld[step=abc]",
	}
	slices.SortFunc(got, CompareAddresses)
	want := []string{
		"sampler.hmc[step=200]",
		"sampler.sgld",
		"sampler.sgld[eps=1e-4,seed=2]",
		"sampler.sgld[eps=1e-4,seed=10]",
		"sampler.sgld[eps=1e-3,seed=1]",
		"sampler.sgld[step=200]",
		"sampler.sgld[step=800]",
		"sampler.sgld[step=1000]",
		"sampler.sgld[step=2000]",
		"sampler.sgld[step=abc]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("order\n%q\nwant\n%q", got, want)
	}
	if CompareAddresses("sampler.s[x=1.0]", "sampler.s[x=1]") == 0 {
		t.Error("two spellings of one number compare equal, want a total order")
	}
}

func BenchmarkCompareAddresses(b *testing.B) {
	x, y := "sampler.sgld_3[seed=1234,step_size=0.0001]", "sampler.sgld_3[seed=1234,step_size=0.001]"
	for b.Loop() {
		CompareAddresses(x, y)
	}
}
