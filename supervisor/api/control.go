package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"tend/supervisor"
)

// TargetAll is the control target that names every service.
const TargetAll = "all"

func (h *handler) control(w http.ResponseWriter, r *http.Request) error {
	var req ControlRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	cmd, err := supervisor.ParseCommand(req.Command)
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if req.Target == "" {
		return errorf(http.StatusBadRequest, "missing target: want a service name, a group name or %q", TargetAll)
	}
	by := CallerFrom(r.Context()).Name
	h.log.Info("control command", "command", cmd, "target", req.Target, "by", by)

	list, err := h.backend.Status(r.Context())
	if err != nil {
		return err
	}
	names, err := resolveTarget(req.Target, list)
	if err != nil {
		return err
	}
	result, failed := h.apply(r.Context(), cmd, names, by)
	result.Target = req.Target
	status := http.StatusOK
	if failed != nil {
		result.Error = failed.Error()
		status = http.StatusConflict
		if errors.Is(failed, supervisor.ErrNoService) {
			// The service went away in a reload between the lookup and the command.
			status = http.StatusNotFound
		}
	}
	writeJSON(w, status, result)
	return nil
}

// apply sends cmd to each service in names. It returns the outcome of each and the
// first error, or nil when every service accepted the command.
func (h *handler) apply(ctx context.Context, cmd supervisor.Command, names []string, by string) (ControlResult, error) {
	result := ControlResult{Command: cmd.String(), Services: make([]ControlOutcome, 0, len(names))}
	var first error
	for _, name := range names {
		out := ControlOutcome{Service: name}
		if err := h.backend.Control(ctx, name, cmd, by); err != nil {
			out.Error = err.Error()
			if first == nil {
				first = err
			}
		}
		result.Services = append(result.Services, out)
	}
	return result, first
}

// resolveTarget returns the names of the services that target names, in configuration
// order. A service name wins over a group of the same name, and both win over "all".
// An unknown target is a 404 error that suggests the nearest service or group name.
func resolveTarget(target string, list []supervisor.ServiceStatus) ([]string, error) {
	var group []string
	for _, st := range list {
		if st.Name == target {
			return []string{target}, nil
		}
		if slices.Contains(st.Groups, target) {
			group = append(group, st.Name)
		}
	}
	if len(group) > 0 {
		return group, nil
	}
	if target == TargetAll {
		all := make([]string, len(list))
		for i, st := range list {
			all[i] = st.Name
		}
		return all, nil
	}
	return nil, errorf(http.StatusNotFound, "%s", noServiceMessage(target, list, true))
}

// noServiceMessage returns the error text for name, which no service has, and suggests the nearest
// service name, or group name when withGroups is true.
func noServiceMessage(name string, list []supervisor.ServiceStatus, withGroups bool) string {
	var candidates []string
	for _, st := range list {
		candidates = append(candidates, st.Name)
		if withGroups {
			candidates = append(candidates, st.Groups...)
		}
	}
	what := "no service named"
	if withGroups {
		what = "no service or group named"
	}
	msg := fmt.Sprintf("%s '%s'", what, name)
	if best := nearest(name, candidates); best != "" {
		msg += fmt.Sprintf("; did you mean '%s'?", best)
	}
	return msg
}

// nearest returns the candidate with the smallest edit distance to name, or "" when
// none is close: a suggestion needs a distance of at most a third of the name's
// length, and at least 1 edit is always allowed.
func nearest(name string, candidates []string) string {
	limit := max(1, len([]rune(name))/3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance returns the optimal string alignment distance between a and b: the
// number of rune insertions, deletions, substitutions and swaps of two neighbours
// that turn a into b, so that the typing slip "redsi" is one edit from "redis".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
