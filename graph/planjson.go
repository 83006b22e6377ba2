package graph

import "encoding/json"

// PlanFormatVersion is the version of the document that Plan.JSON writes.
const PlanFormatVersion = "1"

type planDocument struct {
	FormatVersion string      `json:"format_version"`
	Summary       Summary     `json:"summary"`
	Targeted      bool        `json:"targeted,omitempty"`
	Nodes         []planEntry `json:"nodes"`
}

type planEntry struct {
	Address string  `json:"address"`
	Type    string  `json:"type"`
	Kind    string  `json:"kind"`
	RunID   string  `json:"run_id"`
	Action  Action  `json:"action"`
	Reason  *Reason `json:"reason"`
	// SameRunAs is the address whose run this node shares, if any.
	SameRunAs string `json:"same_run_as,omitempty"`
}

// JSON encodes the plan as the versioned document of `llcflow plan --json`:
//
//	{"format_version": "1",
//	 "summary": {"run": 1, "cached": 0, "forced": 0},
//	 "nodes": [{"address": "sampler.sgld[seed=0]", "type": "sampler", "kind": "sgld",
//	            "run_id": "0123456789abcdef", "action": "run",
//	            "reason": {"code": "params_changed",
//	                       "message": "step_size changed from 0.0001 to 0.0002",
//	                       "changes": [{"path": "step_size", "old": 0.0001, "new": 0.0002}]}}]}
//
// The reason is null for cached nodes, "changes" is left out when there
// are none, and "targeted": true is added when targets restricted the plan.
// A node whose key equals an earlier node's has "same_run_as" naming that
// node, and the summary counts such nodes in "shared" only.
func (p *Plan) JSON() ([]byte, error) {
	doc := planDocument{
		FormatVersion: PlanFormatVersion,
		Summary:       p.Summary,
		Targeted:      p.Targeted,
		Nodes:         make([]planEntry, len(p.Entries)),
	}
	for i, e := range p.Entries {
		doc.Nodes[i] = planEntry{
			Address: e.Node.Address,
			Type:    e.Node.Type,
			Kind:    e.Node.Kind,
			RunID:   e.Node.RunID,
			Action:  e.Action,
			Reason:  e.Reason,
		}
		if e.SameRunAs != nil {
			doc.Nodes[i].SameRunAs = e.SameRunAs.Address
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}
