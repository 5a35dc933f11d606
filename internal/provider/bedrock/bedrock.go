// Package bedrock connects the gateway to Amazon Bedrock's Converse and
// ConverseStream APIs (bedrock-runtime.<region>.amazonaws.com): the Adapter
// says where a model's operations live and signs each request with AWS
// Signature Version 4, and the Codec translates the neutral chat model of
// package llm to Converse's format and back — its JSON bodies, and the
// binary AWS event-stream framing of ConverseStream — for clients that
// speak OpenAI's or Anthropic's format. OpenAI embeddings requests go to
// InvokeModel, in the bodies of the Titan and Cohere embedding models.
//
// # Configuration
//
// The region is read from the base URL's host, bedrock-runtime.<region>.
// amazonaws.com (and the -fips and VPC-endpoint forms, whose host also has
// the region right after the bedrock-runtime label); a base URL without one,
// such as a local proxy, is signed for us-east-1. The credentials are one
// secret, ACCESS_KEY_ID:SECRET_ACCESS_KEY or
// ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN for temporary credentials:
//
//	providers:
//	  - name: bedrock-eu
//	    type: bedrock
//	    base_url: https://bedrock-runtime.eu-west-1.amazonaws.com
//	    api_key: env:AWS_BEDROCK_CREDENTIALS
//
// Every choice the translation makes where the two models differ is
// documented on Codec.EncodeRequest, Codec.DecodeResponse,
// Codec.NewStreamReader and Codec.DecodeError.
package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hypergate/hypergate/internal/llm"
	"github.com/hypergate/hypergate/internal/provider"
)

// Type is the configuration's provider type for Bedrock upstreams.
const Type = "bedrock"

// Adapter implements provider.Adapter, Translator, Supporter and Signer for
// Amazon Bedrock.
type Adapter struct{}

var (
	_ provider.Adapter    = Adapter{}
	_ provider.Translator = Adapter{}
	_ provider.Supporter  = Adapter{}
	_ provider.Signer     = Adapter{}
)

func init() { provider.Register(Type, Adapter{}) }

// service is the SigV4 signing name of bedrock-runtime.
const service = "bedrock"

// defaultRegion signs requests to a base URL whose host names no region.
const defaultRegion = "us-east-1"

// eventStreamType is the media type of ConverseStream answers.
const eventStreamType = "application/vnd.amazon.eventstream"

// DefaultBaseURL is the Bedrock runtime endpoint of us-east-1.
func (Adapter) DefaultBaseURL() string {
	return "https://bedrock-runtime.us-east-1.amazonaws.com"
}

// URL is {base}/model/{modelId}/converse, or /converse-stream when
// streaming, and /invoke (InvokeModel) for embeddings, which Converse does
// not offer. The model id (or inference-profile id, or ARN) is escaped as
// one path segment, ':' and '/' included, since Bedrock ids contain both
// ("anthropic.claude-3-5-sonnet-20240620-v1:0", "arn:aws:bedrock:…/…").
func (Adapter) URL(baseURL string, op provider.Operation, model string, stream bool) string {
	target := baseURL + "/model/" + strings.ReplaceAll(url.PathEscape(model), ":", "%3A")
	switch {
	case op == provider.Embeddings:
		return target + "/invoke"
	case stream:
		return target + "/converse-stream"
	}
	return target + "/converse"
}

// Credentials returns nothing: Bedrock requests are signed as a whole by
// Sign, which needs the URL and body the key alone does not give.
func (Adapter) Credentials(string) []provider.Header { return nil }

// Format is Bedrock's Converse API.
func (Adapter) Format() string { return Type }

// Codec translates to and from Converse.
func (Adapter) Codec() llm.UpstreamCodec { return Codec{} }

// Supports reports whether the gateway can reach op on Bedrock: chat
// through Converse, and embeddings through InvokeModel for the model
// families Codec.EncodeEmbeddings knows.
func (Adapter) Supports(op provider.Operation) bool {
	return op == provider.Chat || op == provider.Embeddings
}

// errMalformedKey is returned for a key that is not two or three
// colon-separated parts. It never includes the key.
var errMalformedKey = errors.New("bedrock: malformed credentials: want ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]")

// Sign signs a request with AWS Signature Version 4 for the service
// "bedrock", in the region of the URL's host (see the package comment), at
// now. key is ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN].
//
// It returns the headers to send: Authorization, X-Amz-Date,
// X-Amz-Content-Sha256 (the body's hash, signed so that the body cannot be
// swapped), X-Amz-Security-Token for temporary credentials, Content-Type
// application/json, and for converse-stream Accept
// application/vnd.amazon.eventstream. The signature also covers Host and
// Content-Length, which the gateway sends as they are. Errors never contain
// the key.
func (Adapter) Sign(method, rawURL string, body []byte, key string, now time.Time) ([]provider.Header, error) {
	creds, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bedrock: signing: %w", err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(req.URL.Path, "/converse-stream") {
		req.Header.Set("Accept", eventStreamType)
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	// A signer per request: v4.Signer caches the derived signing key by
	// region and access key id, not by secret, so a shared one would keep
	// signing with a corrected (hot-reloaded) secret's old key until
	// midnight UTC. Deriving the key is four HMACs, nothing next to a model
	// call.
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hash, service, region(req.URL.Hostname()), now); err != nil {
		return nil, fmt.Errorf("bedrock: signing: %w", err)
	}
	var out []provider.Header
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Security-Token", "Content-Type", "Accept"} {
		if v := req.Header.Get(name); v != "" {
			out = append(out, provider.Header{Name: name, Value: v})
		}
	}
	return out, nil
}

// parseKey splits ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]. Neither
// an access key id nor a secret contains ':', and session tokens are
// base64, so the first two colons separate the parts.
func parseKey(key string) (aws.Credentials, error) {
	parts := strings.SplitN(strings.TrimSpace(key), ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return aws.Credentials{}, errMalformedKey
	}
	c := aws.Credentials{AccessKeyID: parts[0], SecretAccessKey: parts[1]}
	if len(parts) == 3 {
		c.SessionToken = parts[2]
	}
	return c, nil
}

// region finds the label after bedrock-runtime (or bedrock-runtime-fips)
// in host: bedrock-runtime.eu-west-1.amazonaws.com,
// vpce-0abc.bedrock-runtime.eu-west-1.vpce.amazonaws.com.
func region(host string) string {
	labels := strings.Split(strings.ToLower(host), ".")
	for i := 0; i+2 < len(labels); i++ {
		if (labels[i] == "bedrock-runtime" || labels[i] == "bedrock-runtime-fips") && labels[i+1] != "" {
			return labels[i+1]
		}
	}
	return defaultRegion
}
