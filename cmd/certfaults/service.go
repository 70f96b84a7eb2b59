package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// service is one certapi process, started on the environment certfaults runs in.
type service struct {
	o       options
	base    string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	log     *os.File
}

func newService(o options) *service {
	return &service{o: o, base: "http://" + o.addr}
}

// start runs the binary and waits until /readyz answers 200; it returns how long
// that took.
func (s *service) start() (time.Duration, error) {
	if s.log == nil {
		f, err := os.OpenFile(s.o.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		s.log = f
	}
	cmd := exec.Command(s.o.bin, "serve")
	cmd.Env = append(os.Environ(), "CERTAPI_ADDR="+s.o.addr)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	dieWithParent(cmd)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	s.cmd, s.exited, s.waitErr = cmd, make(chan struct{}), nil
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	for time.Since(t0) < time.Minute {
		select {
		case <-s.exited:
			return 0, fmt.Errorf("certapi exited while starting: %v (its output is in %s)", s.waitErr, s.o.logPath)
		default:
		}
		if st, _, _ := probe(s.base + "/readyz"); st == http.StatusOK {
			return time.Since(t0), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("certapi did not become ready within a minute")
}

// running says whether the process is still alive.
func (s *service) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop kills the process if it still runs; every scenario defers it.
func (s *service) stop() {
	if s.cmd != nil && s.running() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// probe GETs u once with a short deadline: its status (0 if no answer), latency
// and the answer's headers.
func probe(u string) (int, time.Duration, http.Header) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	t0 := time.Now()
	res, err := probeClient.Do(req)
	if err != nil {
		return 0, time.Since(t0), nil
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(t0), res.Header
}

var probeClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// token signs in as the bootstrap admin (OAuth2 password grant).
func (s *service) token() (string, error) {
	form := url.Values{"grant_type": {"password"}, "username": {s.o.cfg.BootstrapAdminEmail},
		"password": {s.o.cfg.BootstrapAdminPassword}}
	res, err := http.Post(s.base+"/v1/auth/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("token: status %d (%v)", res.StatusCode, err)
	}
	return tok.AccessToken, nil
}

// shell runs an operator's command (stop or start the database), its output in the
// service's log.
func (s *service) shell(command string) error {
	cmd := exec.Command("sh", "-c", command)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	return cmd.Run()
}
