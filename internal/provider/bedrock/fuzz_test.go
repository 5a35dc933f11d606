package bedrock

import (
	"bytes"
	"testing"

	"github.com/hypergate/hypergate/internal/provider/codectest"
)

// FuzzStreamReader feeds arbitrary bytes to the event-stream reader: it
// must never panic or loop, must end with an error that stays put, and must
// keep the event order the neutral model promises.
func FuzzStreamReader(f *testing.F) {
	f.Add(encodeFrames(f, textFrames...))
	f.Add(encodeFrames(f, toolFrames...))
	f.Add(encodeFrames(f, frame{exception: "validationException", payload: `{"message":"x"}`}))
	f.Add(encodeFrames(f, frame{event: "metadata", payload: `{"usage":{"inputTokens":-5}}`}, frame{event: "messageStop", payload: `{}`}))
	f.Fuzz(func(t *testing.T, stream []byte) {
		codectest.CheckStream(t, Codec{}.NewStreamReader(bytes.NewReader(stream)), len(stream))
	})
}
