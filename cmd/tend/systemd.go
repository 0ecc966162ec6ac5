package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"tend/supervisor"
)

// statusLine is the STATUS= that systemctl status shows, such as
// "12 services: 11 running, 1 failed; cycle 42 took 3ms".
func statusLine(st supervisor.CycleStats) string {
	return fmt.Sprintf("%d services: %d running, %d failed; cycle %d took %s",
		st.Services, st.Running, st.Failed, st.Cycle, st.Duration.Round(time.Millisecond))
}

// notifyStatus sends STATUS= to systemd. Without NOTIFY_SOCKET it does nothing.
func notifyStatus(st supervisor.CycleStats) {
	_, _ = daemon.SdNotify(false, "STATUS="+statusLine(st))
}

// runWatchdog pings systemd's watchdog at a third of WatchdogSec until ctx ends. It
// pings only while the supervisor's loop replies to a status request within that third,
// so a stuck loop gets no ping and systemd restarts tend. It returns at once when the
// unit has no watchdog.
func runWatchdog(ctx context.Context, log *slog.Logger, sup *supervisor.Supervisor) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("read systemd watchdog settings", "err", err)
		return
	}
	if interval <= 0 {
		return
	}
	every := interval / 3
	log.Info("systemd watchdog on", "watchdog_sec", interval, "ping_every", every)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	missed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		probe, cancel := context.WithTimeout(ctx, every)
		_, err := sup.Status(probe)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !missed {
				log.Error("supervisor loop did not reply; withholding the watchdog ping", "waited", every)
			}
			missed = true
			continue
		}
		if missed {
			log.Info("supervisor loop replies again; watchdog pings resume")
			missed = false
		}
		if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
			log.Warn("notify systemd watchdog", "err", err)
		}
	}
}
