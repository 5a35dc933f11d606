package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ToYAML writes c as a declarative file: fields in a fixed order, entities in
// the order given, two-space indentation, short structures (targets, keys,
// prices, name lists) on one line. The same configuration always gives the
// same bytes, so the output can be committed and diffed, and Parse reads it
// back to an equal Config. An empty configuration is an empty file.
func ToYAML(c *Config) ([]byte, error) {
	if c == nil {
		c = &Config{}
	}
	var root yaml.Node
	if err := root.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding configuration: %w", err)
	}
	flowShortNodes(&root, "")
	if len(root.Content) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("encoding configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// flowKeys are the keys whose values read best on one line, as in the
// examples in the documentation.
var flowKeys = map[string]bool{
	"api_keys":  true,
	"fallbacks": true,
	"retry":     true,
	"breaker":   true,
	"models":    true, // only the consumer allow-list: see flowShortNodes
	"price":     true,
	// services and policies
	"tags":          true,
	"methods":       true,
	"hosts":         true,
	"origins":       true,
	"expose":        true,
	"remove":        true,
	"allow":         true,
	"deny":          true,
	"subscriptions": true,
	"rate_limit":    true,
	"quota":         true,
	"budget":        true,
	"health":        true,
	"cache":         true,
	"canary":        true,
	"enum":          true,
	// the anomaly detectors' settings
	"disabled":          true,
	"refusal":           true,
	"repetition":        true,
	"long_output":       true,
	"language_mismatch": true,
	"latency_outlier":   true,
	"ttft_outlier":      true,
	"error_burst":       true,
	// hypercare windows
	"target":   true,
	"baseline": true,
	"exit":     true,
	"verdict":  true,
	// review queues
	"dimensions": true,
	"reviewers":  true,
	// triage
	"severity": true,
	// status
	"incident_severities": true,
}

// flowItemKeys are the lists whose items are each written on one line.
var flowItemKeys = map[string]bool{
	"targets":   true,
	"keys":      true,
	"variables": true,
	"scores":    true,
	"rules":     true, // a review queue's rules
}

// flowShortNodes sets flow style on the short structures. key is the mapping
// key n is the value of; the top-level "models" (a list of entities) stays in
// block style.
func flowShortNodes(n *yaml.Node, key string) {
	switch {
	case flowKeys[key] && !(key == "models" && n.Kind == yaml.SequenceNode && hasMappings(n)):
		n.Style = yaml.FlowStyle
		return
	case flowItemKeys[key] && n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			item.Style = yaml.FlowStyle
		}
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			flowShortNodes(n.Content[i+1], n.Content[i].Value)
		}
		return
	}
	for _, c := range n.Content {
		flowShortNodes(c, "")
	}
}

func hasMappings(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind == yaml.MappingNode {
			return true
		}
	}
	return false
}

// MarshalJSON writes absent sections as empty lists rather than null, which
// is what clients of the admin API expect.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	p := plain(c)
	if p.Providers == nil {
		p.Providers = []Provider{}
	}
	if p.Models == nil {
		p.Models = []Model{}
	}
	if p.Consumers == nil {
		p.Consumers = []Consumer{}
	}
	if p.Teams == nil {
		p.Teams = []Team{}
	}
	if p.Services == nil {
		p.Services = []Service{}
	}
	if p.Prompts == nil {
		p.Prompts = []Prompt{}
	}
	if p.Notifiers == nil {
		p.Notifiers = []Notifier{}
	}
	if p.Alerts == nil {
		p.Alerts = []Alert{}
	}
	if p.Probes == nil {
		p.Probes = []Probe{}
	}
	if p.Hypercare == nil {
		p.Hypercare = []Hypercare{}
	}
	if p.Scores == nil {
		p.Scores = []Score{}
	}
	if p.ReviewQueues == nil {
		p.ReviewQueues = []ReviewQueue{}
	}
	return json.Marshal(p)
}
