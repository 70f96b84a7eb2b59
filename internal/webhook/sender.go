package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// DefaultTimeout bounds one attempt, from the connection to the end of the answer.
const DefaultTimeout = 10 * time.Second

// Message is one attempt of a delivery, ready to send.
type Message struct {
	// ID is the delivery's id: the webhook-id header, the same on every attempt.
	ID     string
	URL    string
	Secret string
	Body   []byte
	// At is when the attempt is made: the webhook-timestamp header.
	At time.Time
}

// Sender sends deliveries: a POST of the body, signed as the Standard Webhooks
// specification says, to an address the policy allows (checked on the address the
// connection is made to), following no redirect.
type Sender struct {
	client *http.Client
	policy Policy
}

// NewSender returns a sender whose attempts each last at most timeout
// (DefaultTimeout when zero).
func NewSender(p Policy, timeout time.Duration) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: p.control}
	transport := &http.Transport{
		// No proxy: the address checked must be the receiver's, not a proxy's.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          50,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &Sender{policy: p, client: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// maxError is the longest error an attempt keeps.
const maxError = 500

// Send makes one attempt and says how it went. The receiver's answer body is read
// (up to a bound, so that the connection can be reused) and not kept.
func (s *Sender) Send(ctx context.Context, m Message) Attempt {
	a := Attempt{At: m.At}
	start := time.Now()
	if _, v := s.policy.checkForm(m.URL); len(v) > 0 {
		a.Error = clip("the URL is no longer allowed: " + v[0].Message)
		a.Duration = time.Since(start)
		return a
	}
	req, err := s.request(ctx, m)
	if err != nil {
		a.Error = clip(err.Error())
		a.Duration = time.Since(start)
		return a
	}
	res, err := s.client.Do(req)
	if err != nil {
		a.Error = clip(describe(err))
		a.Duration = time.Since(start)
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	a.StatusCode = res.StatusCode
	switch {
	case a.Succeeded():
	case res.StatusCode >= 300 && res.StatusCode < 400:
		a.Error = "the receiver answered " + res.Status + ": redirects are not followed"
	default:
		a.Error = clip("the receiver answered " + res.Status)
	}
	a.Duration = time.Since(start)
	return a
}

// request is the signed POST of a message.
func (s *Sender) request(ctx context.Context, m Message) (*http.Request, error) {
	wh, err := standardwebhooks.NewWebhook(m.Secret)
	if err != nil {
		return nil, fmt.Errorf("the subscription's secret: %w", err)
	}
	signature, err := wh.Sign(m.ID, m.At, m.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "certapi-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, m.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(m.At.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, signature)
	return req, nil
}

// describe says why no answer came, without the URL the client's errors repeat.
func describe(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	switch {
	case errors.Is(err, ErrAddressNotAllowed):
		return "the host resolves to an address deliveries may not go to"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within the time allowed"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "no answer within the time allowed"
	}
	return err.Error()
}

func clip(s string) string {
	if len(s) <= maxError {
		return s
	}
	s = s[:maxError]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
