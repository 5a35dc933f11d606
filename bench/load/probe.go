package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// waitReady polls url with GET until it answers 200 or the timeout passes.
func waitReady(url string, timeout time.Duration) error {
	if err := loopbackOnly(url); err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s (last: %s)", url, timeout, last)
}

// checkOnce sends the run's request once and shows the answer, so that a
// misconfigured target fails loudly before any load is sent to it.
func checkOnce(o options) error {
	if err := loopbackOnly(o.url); err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, o.url, bytes.NewReader(o.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: o.timeout}).Do(req)
	if err != nil {
		return fmt.Errorf("checking %s: %w", o.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("checking %s: reading answer: %w", o.url, err)
	}
	fmt.Fprintf(os.Stderr, "%s %s in %s: %s\n", o.url, resp.Status, time.Since(start).Round(time.Microsecond), truncate(string(body), 300))
	if !is2xx(resp.StatusCode) {
		return fmt.Errorf("checking %s: answered %s", o.url, resp.Status)
	}
	if o.stream && !bytes.Contains(body, doneLine) {
		return errors.New("checking " + o.url + ": stream did not end with data: [DONE]")
	}
	return nil
}
