package supervisor

import (
	"context"
	"time"

	"tend/checks"
)

// observeProcess identifies the main process of svc in the snapshot and moves svc
// between running and failed accordingly.
func (s *Supervisor) observeProcess(ctx context.Context, svc *service, snap *checks.Snapshot) {
	oldPID := svc.pid
	reason := svc.identify(snap)
	switch {
	case reason == "" && svc.awaitingReady:
		// Found, but not up until it sends READY=1 or its start timeout ends.
	case reason == "" && svc.state != StateRunning:
		if p, ok := snap.Alive(svc.pid, svc.startTicks); ok && svc.child == nil {
			svc.started = snap.StartTime(p)
		}
		svc.setState(StateRunning, "process found")
		s.startWaiting(ctx)
	case reason != "" && svc.state == StateRunning:
		if svc.child == nil && oldPID != 0 {
			// Only a parent learns the exit status of a process.
			svc.lastExit = &Exit{PID: oldPID, Status: "exit status unknown", Code: -1, Uptime: time.Since(svc.started)}
		}
		svc.started = time.Time{}
		svc.setState(StateFailed, reason)
	}
}
