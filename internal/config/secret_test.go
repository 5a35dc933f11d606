package config

import (
	"strings"
	"testing"
)

func TestIsSecretRef(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"env:OPENAI_API_KEY", true},
		{"env:_X", true},
		{"env:lower_case1", true},
		{"env:", false},
		{"env:1ABC", false},
		{"env:A-B", false},
		{"env: A", false},
		{"ENV:A", false},
		{"sk-abc", false},
		{"", false},
		{"vault:secret/x", false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := IsSecretRef(tc.in); got != tc.want {
				t.Errorf("IsSecretRef(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveSecret(t *testing.T) {
	t.Setenv("HG_TEST_SET", "s3cret")
	t.Setenv("HG_TEST_EMPTY", "")
	cases := []struct {
		name    string
		ref     string
		want    string
		wantErr string
	}{
		{name: "set", ref: "env:HG_TEST_SET", want: "s3cret"},
		{name: "empty", ref: "env:HG_TEST_EMPTY", wantErr: "resolving env:HG_TEST_EMPTY: environment variable HG_TEST_EMPTY is empty"},
		{name: "unset", ref: "env:HG_TEST_UNSET_VARIABLE", wantErr: "resolving env:HG_TEST_UNSET_VARIABLE: environment variable HG_TEST_UNSET_VARIABLE is not set"},
		{name: "not a reference", ref: "sk-live-abc", wantErr: "not a secret reference: want env:NAME"},
		{name: "malformed reference", ref: "env:1X", wantErr: "not a secret reference: want env:NAME"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveSecret(tc.ref)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got (%q, %v), want error %q", got, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "sk-") {
					t.Errorf("the error quotes the value")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got (%q, %v), want %q", got, err, tc.want)
			}
		})
	}
}
