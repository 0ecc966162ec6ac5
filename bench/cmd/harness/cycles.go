package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"tend/supervisor/api"
)

// cyclePoll is the interval between two requests for the check time of the watched
// service. Each request reads that one service, at the same pace for tend and Monit.
const cyclePoll = 250 * time.Millisecond

// checkStamp returns a text that a daemon changes once per cycle: when it last checked
// the watched service. Stamps are compared as text, never parsed.
type checkStamp func(ctx context.Context) (string, error)

// tendCheckStamp returns a checkStamp that requests service name alone from tend's
// control API and returns the latest `at` time of its checks, or empty while tend
// evaluated none of them.
func tendCheckStamp(c *api.Client, name string) checkStamp {
	return func(ctx context.Context) (string, error) {
		view, err := c.Service(ctx, name)
		if err != nil {
			return "", err
		}
		var latest time.Time
		for _, check := range view.Checks {
			if check.At != nil && check.At.After(latest) {
				latest = *check.At
			}
		}
		if latest.IsZero() {
			return "", nil
		}
		return latest.Format(time.RFC3339Nano), nil
	}
}

// monitCheckStamp returns a checkStamp that requests the page of service name, which
// Monit's web server serves at /NAME, and returns its "Data collected" time. Unlike
// Monit's status of every service, the size of that page does not grow with N.
func monitCheckStamp(port int, name string) checkStamp {
	page := "http://" + addr(port) + "/" + url.PathEscape(name)
	// Each poll has a connection of its own, so that no idle connection stays open
	// to Monit's web server while the harness reads Monit's CPU.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return func(ctx context.Context) (string, error) {
		body, err := httpGet(ctx, client, page)
		if err != nil {
			return "", err
		}
		return parseMonitCollected(body)
	}
}

// monitCollectedCell is the start of the table row of a Monit 5.33 service page that
// gives when Monit last collected the service's data, in whole seconds, for example
// "<td>Data collected</td><td>Fri, 04 Dec 2026 20:13:29</td>".
const monitCollectedCell = "<td>Data collected</td><td>"

// parseMonitCollected returns the text of the "Data collected" cell of a Monit
// service page.
func parseMonitCollected(page []byte) (string, error) {
	_, rest, found := bytes.Cut(page, []byte(monitCollectedCell))
	if !found {
		return "", errors.New(`monit service page: no "Data collected" row`)
	}
	value, _, found := bytes.Cut(rest, []byte("</td>"))
	value = bytes.TrimSpace(value)
	if !found || len(value) == 0 || bytes.ContainsAny(value, "<>") {
		return "", fmt.Errorf("monit service page: invalid \"Data collected\" cell %.60q", rest)
	}
	return string(value), nil
}

// cycleLimit bounds the wait for one cycle of the daemon. Monit 5.33 took 12.1 s per
// cycle at 500 services with a 2 s interval on a 2-core machine, so about 20 ms per
// service plus its interval. The limit allows five times that, and a minute more.
func (s *session) cycleLimit() time.Duration {
	return time.Minute + 5*(s.plan.Interval+time.Duration(s.n)*20*time.Millisecond)
}

// nextCycle polls the daemon's check stamp every cyclePoll until it is set and differs
// from prev, and returns the new stamp. With prev empty it returns the current stamp,
// which is not a cycle boundary. It fails after cycleLimit with the last error of a
// request, if any.
func (s *session) nextCycle(prev string) (string, error) {
	var stamp string
	var lastErr error
	_, err := waitUntil(time.Now(), s.cycleLimit(), cyclePoll, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stamp, lastErr = s.d.checkStamp(ctx)
		return lastErr == nil && stamp != "" && stamp != prev
	})
	if err == nil {
		return stamp, nil
	}
	problem := fmt.Sprintf("service %s: no check time", s.w.watched().Name)
	if prev != "" {
		problem = fmt.Sprintf("service %s: no check after %s", s.w.watched().Name, prev)
	}
	if lastErr != nil {
		return "", fmt.Errorf("%s (last request error: %w): %w", problem, lastErr, err)
	}
	return "", fmt.Errorf("%s: %w", problem, err)
}
