package report

import (
	"cmp"
	"strconv"
	"strings"
)

// CompareAddresses orders node addresses TYPE.NAME[axis=value,...] for
// tables: by TYPE.NAME, then by each axis value in turn, numerically when
// both values are numbers. So step=200 comes before step=1000, which a
// string comparison puts first.
func CompareAddresses(a, b string) int {
	baseA, axesA := splitAddress(a)
	baseB, axesB := splitAddress(b)
	if c := strings.Compare(baseA, baseB); c != 0 {
		return c
	}
	for i := 0; i < len(axesA) && i < len(axesB); i++ {
		if c := compareAxis(axesA[i], axesB[i]); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(axesA), len(axesB)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// splitAddress returns the part of an address before "[" and its
// "axis=value" items.
func splitAddress(address string) (string, []string) {
	open := strings.IndexByte(address, '[')
	if open < 0 || !strings.HasSuffix(address, "]") {
		return address, nil
	}
	return address[:open], strings.Split(address[open+1:len(address)-1], ",")
}

// compareAxis compares two "axis=value" items: by axis name, then by value,
// as numbers when both parse as one.
func compareAxis(a, b string) int {
	nameA, valueA, _ := strings.Cut(a, "=")
	nameB, valueB, _ := strings.Cut(b, "=")
	if c := strings.Compare(nameA, nameB); c != 0 {
		return c
	}
	x, errA := strconv.ParseFloat(valueA, 64)
	y, errB := strconv.ParseFloat(valueB, 64)
	if errA == nil && errB == nil {
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return strings.Compare(valueA, valueB)
}
