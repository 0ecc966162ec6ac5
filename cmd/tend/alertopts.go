package main

import (
	"log/slog"

	"tend/alert"
	"tend/config"
)

// alertOptions maps the [mail] and [alerts] settings and every alert route of cfg to
// the alert package's options.
func alertOptions(cfg *config.Config, log *slog.Logger) alert.Options {
	opts := alert.Options{
		StateDir:     cfg.StateDir,
		Mail:         mailOptions(cfg),
		Logger:       log,
		DigestWindow: cfg.Alerts.DigestWindow.D(),
		MaxPerHour:   cfg.Alerts.MaxPerHour,
		QueueLimit:   cfg.Alerts.QueueLimit,
	}
	for _, r := range cfg.AlertRoutes() {
		route := alert.Route{
			Name: r.Name, To: r.To,
			Filter: alert.Filter{Services: r.Services, Events: r.Events, ExceptEvents: r.ExceptEvents},
			// In the configuration zero means no reminders; in a Route it means all.
			Reminder: r.Reminder.D(),
		}
		if route.Reminder == 0 {
			route.Reminder = -1
		}
		if w := r.Webhook; w != nil {
			route.Webhook = &alert.WebhookOptions{URL: w.URL.Value(), Format: w.Format, Timeout: w.Timeout.D()}
			if auth := w.Authorization.Value(); auth != "" {
				route.Webhook.Headers = map[string]string{"Authorization": auth}
			}
		}
		opts.Routes = append(opts.Routes, route)
	}
	return opts
}

// mailOptions maps the [mail] settings and the templates of [alerts] to the alert
// package's options. It returns nil without a [mail] table, and alerts are then only
// logged.
func mailOptions(cfg *config.Config) *alert.MailOptions {
	m := cfg.Mail
	if m == nil {
		return nil
	}
	opts := &alert.MailOptions{From: m.From, To: m.To,
		SubjectTemplate: cfg.Alerts.Subject, BodyTemplate: cfg.Alerts.Body,
		DigestSubjectTemplate: cfg.Alerts.DigestSubject, DigestBodyTemplate: cfg.Alerts.DigestBody}
	for _, s := range m.Servers {
		tls := alert.TLSMode(s.TLS.String())
		if s.TLSOptional {
			tls = alert.TLSStartTLSOptional
		}
		server := alert.ServerOptions{
			Host:     s.Host,
			Port:     s.Port,
			TLS:      tls,
			Username: s.Username,
			Password: s.Password.Value(),
			Timeout:  s.Timeout.D(),
		}
		// The alert package rejects a mechanism without a username.
		if s.Username != "" {
			server.Auth = alert.AuthMechanism(s.Auth.String())
		}
		opts.Servers = append(opts.Servers, server)
	}
	return opts
}
