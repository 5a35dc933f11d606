// Package llm holds what the gateway must understand of LLM traffic that it
// otherwise passes through untouched: the server-sent-events framing of
// streamed responses (read event by event and forwarded byte for byte), the
// token usage that OpenAI-compatible APIs report, and the list prices that
// turn that usage into a cost. Everything here works on raw bytes so the hot
// path never decodes and re-encodes a body it does not change.
package llm
