// Package llm holds what the gateway must understand of LLM traffic. For
// traffic it passes through untouched: the server-sent-events framing of
// streamed responses (read event by event and forwarded byte for byte), the
// token usage that OpenAI-compatible APIs report, and the list prices that
// turn that usage into a cost — all read from raw bytes, so the hot path
// never decodes and re-encodes a body it does not change. For traffic it
// translates between API formats: the provider-neutral chat model and the
// codec interfaces each family implements (chat.go). And token estimates
// for calls whose upstream reported no usage (tokens.go).
package llm
