package supervisor

import (
	"context"
	"fmt"
	"slices"
)

// downDependency returns the first service that svc depends on and that is not
// running, or nil when all of them run.
func (s *Supervisor) downDependency(svc *service) *service {
	for _, name := range svc.cfg.DependsOn {
		if dep := s.byName[name]; dep != nil && dep.state != StateRunning {
			return dep
		}
	}
	return nil
}

// holdForDependency keeps a start or restart of svc waiting until dep runs, and starts
// dep if nothing else will: it is neither held by the operator nor busy already.
func (s *Supervisor) holdForDependency(ctx context.Context, svc, dep *service, req actionRequest) {
	svc.waiting = &req
	reason := fmt.Sprintf("waiting for %s (%s)", dep.cfg.Name, dep.state)
	if svc.state == StateRunning || svc.state == StateFailed {
		svc.setState(StateFailed, reason)
	} else {
		svc.setState(StateStarting, reason)
	}
	if dep.held || dep.busy || dep.waiting != nil || dep.delay != nil || !dep.cfg.HasProcess() {
		return
	}
	if dep.state == StateStopped || dep.state == StateFailed {
		s.requestAction(ctx, dep, actionRequest{kind: actionStart, trigger: "needed by " + svc.cfg.Name})
	}
}

// startWaiting runs the held start of every service whose dependencies all run now.
// The loop calls it after any service enters the running state.
func (s *Supervisor) startWaiting(ctx context.Context) {
	for _, svc := range s.services {
		if svc.waiting == nil || svc.busy || s.downDependency(svc) != nil {
			continue
		}
		req := *svc.waiting
		svc.waiting = nil
		s.requestAction(ctx, svc, req)
	}
}

// restartDependents restarts the running services that depend on svc, because a
// dependency that restarted may have dropped their connections.
func (s *Supervisor) restartDependents(ctx context.Context, svc *service) {
	for _, other := range s.services {
		if !slices.Contains(other.cfg.DependsOn, svc.cfg.Name) || other.held || !canRestart(other) {
			continue
		}
		if other.state != StateRunning && !other.busy {
			continue
		}
		s.requestAction(ctx, other, actionRequest{
			kind: actionRestart, trigger: "dependency " + svc.cfg.Name + " restarted", manual: true,
		})
	}
}

// canRestart reports whether tend can start svc's process again.
func canRestart(svc *service) bool {
	return svc.cfg.Owned() || len(svc.cfg.Start) > 0
}

// stopOrder returns the services in the order to stop them: every service before the
// services it depends on.
func stopOrder(services []*service, byName map[string]*service) []*service {
	var order []*service
	visited := make(map[*service]bool, len(services))
	// Visiting dependencies first gives the start order; reversing it gives the stop
	// order. The configuration loader rejects cycles, so the depth is bounded.
	var visit func(svc *service)
	visit = func(svc *service) {
		if visited[svc] {
			return
		}
		visited[svc] = true
		for _, name := range svc.cfg.DependsOn {
			if dep := byName[name]; dep != nil {
				visit(dep)
			}
		}
		order = append(order, svc)
	}
	for _, svc := range services {
		visit(svc)
	}
	slices.Reverse(order)
	return order
}

// stopLevels groups the services for stopping: the first level holds the services
// that nothing depends on, and each later level the services whose dependents are all
// in earlier levels.
func stopLevels(services []*service, byName map[string]*service) [][]*service {
	level := make(map[*service]int, len(services))
	var levels [][]*service
	// stopOrder puts every service after its dependents, so their levels are known.
	for _, svc := range stopOrder(services, byName) {
		n := 0
		for _, other := range services {
			if slices.Contains(other.cfg.DependsOn, svc.cfg.Name) {
				n = max(n, level[other]+1)
			}
		}
		level[svc] = n
		for len(levels) <= n {
			levels = append(levels, nil)
		}
		levels[n] = append(levels[n], svc)
	}
	return levels
}
