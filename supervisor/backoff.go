package supervisor

import (
	"context"
	"time"
)

// nextRestartDelay returns how long to wait before an automatic restart of svc and
// counts the restart. The first restart after a stable period runs at once. Each later
// one waits twice as long as the one before, from RestartDelay up to RestartDelayMax.
// A service that ran for StableAfter since its last start is stable again.
func (svc *service) nextRestartDelay(now time.Time) time.Duration {
	svc.resetStreakIfStable(now)
	streak := svc.restartStreak
	svc.restartStreak++
	if streak == 0 {
		return 0
	}
	d, ceiling := svc.cfg.RestartDelay.D(), svc.cfg.RestartDelayMax.D()
	for i := 1; i < streak && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// scheduleRestart runs req after delay unless an operator's command or another action
// cancels it first.
func (s *Supervisor) scheduleRestart(svc *service, req actionRequest, delay time.Duration) {
	svc.cancelDelay()
	req.delayed = true
	token := svc.delayToken
	svc.log.Info("restart delayed", "delay", delay, "restarts_in_a_row", svc.restartStreak-1,
		"trigger", req.trigger)
	svc.delay = s.after(delay, func(ctx context.Context) {
		if svc.delayToken != token {
			return // Canceled after the timer fired.
		}
		svc.delay = nil
		s.requestAction(ctx, svc, req)
	})
}

// cancelDelay cancels a restart waiting for its backoff delay.
func (svc *service) cancelDelay() {
	svc.delayToken++
	if svc.delay != nil {
		svc.delay.Stop()
		svc.delay = nil
	}
}

// after runs f on the loop's goroutine once d has passed. The caller checks inside f
// whether f still applies, because stopping the returned timer does not withdraw an f
// that was already on its way to the loop.
func (s *Supervisor) after(d time.Duration, f func(ctx context.Context)) *time.Timer {
	return time.AfterFunc(d, func() {
		select {
		case s.calls <- f:
		case <-s.done:
		}
	})
}

// processRecovery is the longest a restarted process must stay up before its process
// check recovers; a shorter stable_after is used instead. A crash loop is faster than
// that, while a crash minutes after the last one is a new incident that is alerted.
var processRecovery = time.Minute

// upLongEnough reports whether the current process of svc has stayed up long enough
// for its process check to recover: stable_after, at most processRecovery.
func (svc *service) upLongEnough(now time.Time) bool {
	need := min(svc.cfg.StableAfter.D(), processRecovery)
	return !svc.started.IsZero() && now.Sub(svc.started) >= need
}

// resetStreakIfStable clears the count of restarts in a row once the last process of
// svc ran for StableAfter.
func (svc *service) resetStreakIfStable(now time.Time) {
	var uptime time.Duration
	switch {
	case svc.lastExit != nil:
		uptime = svc.lastExit.Uptime
	case !svc.started.IsZero():
		uptime = now.Sub(svc.started)
	}
	if uptime >= svc.cfg.StableAfter.D() {
		svc.restartStreak = 0
	}
}
