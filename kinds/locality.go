package kinds

// RunsLocally reports whether a node reads a file that the HCL names (a
// file dataset, or an erm that starts from a weights file). Only the
// process that loaded the HCL has the path of such a file, so these nodes
// run in that process whatever the backend. They are quick: they read a
// file and, for an erm from weights, train zero steps by default.
func RunsLocally(blockType, kind string, params map[string]any) bool {
	if blockType == "dataset" {
		_, readsFile := fileChecks[blockType+"."+kind]
		return readsFile
	}
	if blockType == "erm" {
		_, fromFile := params["weights_sha256"]
		return fromFile
	}
	return false
}
