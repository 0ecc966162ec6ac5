package supervisor

// ReloadPlan says what a new configuration changes: which services it adds, removes,
// updates in place and restarts. Each list holds service names in configuration order.
type ReloadPlan struct {
	Added, Removed, Updated, Restarted, Unchanged []string
}
