package monit

// This file is the entry point of the translation and writes the main file.

import (
	"fmt"
	"net"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Options adjusts the translation.
type Options struct {
	// Hostname replaces $HOST in service names and mail addresses. Empty means the
	// kernel's host name.
	Hostname string
}

// Result is a monitrc translated into tend's configuration.
type Result struct {
	// Source is the path of the monitrc.
	Source string
	// Main is the content of tend.toml.
	Main []byte
	// DropIns are the drop-ins, one per translated check, in the order of the monitrc.
	DropIns []DropIn
	// Secrets are the passwords and credentials found in the monitrc, which the TOML
	// names by environment variable and which belong in secrets.env.
	Secrets []Secret
	// Notes list what was not translated, or translated with another meaning.
	Notes []Note
}

// DropIn is one file of conf.d.
type DropIn struct {
	// Name is the service name and, with .toml, the file name.
	Name string
	Data []byte
}

// Secret is one variable of secrets.env.
type Secret struct {
	// Name is the environment variable that the TOML names with password_env.
	Name string
	// Value is the secret itself; it is written to secrets.env only.
	Value string
	// Use describes the secret in the comment of secrets.env.
	Use string
}

// Import reads the monitrc at path and the files it includes, and translates them.
//
// It returns the result and a nil error, or a nil result and an *Error that names
// the file, the line and what was expected, for a monitrc that cannot be read or is
// not valid Monit syntax. A statement that is valid but has no counterpart in tend is
// no error: it is listed in Result.Notes.
func Import(path string, opts Options) (*Result, error) {
	rc, err := parse(path)
	if err != nil {
		return nil, err
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	return translate(rc, path, opts), nil
}

// translator is the state of one translation.
type translator struct {
	rc   *monitrc
	opts Options
	res  *Result
	// interval is the cycle length in seconds.
	interval int
	// names maps each Monit service name to its tend name.
	names map[string]string
}

func translate(rc *monitrc, source string, opts Options) *Result {
	tr := &translator{
		rc:       rc,
		opts:     opts,
		res:      &Result{Source: source, Notes: slices.Clone(rc.notes)},
		interval: 30,
		names:    map[string]string{},
	}
	if rc.daemon != nil {
		tr.interval = rc.daemon.interval
	}
	tr.nameServices()
	tr.services()
	tr.res.Main = tr.mainFile()
	slices.SortStableFunc(tr.res.Notes, func(a, b Note) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
	return tr.res
}

func (tr *translator) note(at position, format string, args ...any) {
	tr.res.Notes = append(tr.res.Notes, noteAt(at, format, args...))
}

// addSecret records a secret under an environment variable derived from name and
// returns the variable.
func (tr *translator) addSecret(name, value, use string) string {
	base := envName(name)
	env := base
	for i := 2; slices.ContainsFunc(tr.res.Secrets, func(s Secret) bool { return s.Name == env }); i++ {
		env = base + "_" + strconv.Itoa(i)
	}
	tr.res.Secrets = append(tr.res.Secrets, Secret{Name: env, Value: value, Use: use})
	return env
}

// envName turns s into an environment variable name: upper case letters, digits and
// underscores.
func envName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// mainFile renders tend.toml. The header is written last because the settings
// decide whether there are secrets to mention.
func (tr *translator) mainFile() []byte {
	var body tomlDoc
	var top []keyValue
	if tr.rc.daemon != nil {
		top = append(top, keyValue{key: "interval", value: formatSeconds(tr.interval)})
		if tr.rc.daemon.startDelay > 0 {
			tr.note(tr.rc.daemon.pos, "start delay %d is not translated: tend starts checking at once and waits start_timeout for services it started", tr.rc.daemon.startDelay)
		}
	}
	top = append(top, keyValue{key: "include", value: []string{"conf.d/*.toml"}})
	body.keys(top)
	tr.mail(&body)
	tr.alerts(&body)
	tr.http(&body)

	var d tomlDoc
	d.comment(fmt.Sprintf("Translated from %s by tend import monit.\n"+
		"IMPORT-NOTES.txt lists what was not translated.", tr.res.Source))
	if len(tr.res.Secrets) > 0 {
		d.comment("The *_env keys name variables of secrets.env: install that file as\n" +
			"/etc/default/tend (mode 0600), which the shipped unit loads into tend's environment.")
	}
	d.b.WriteString("\n" + body.b.String())
	return d.bytes()
}

// formatSeconds formats n seconds as a duration such as "30s", "5m" or "2d".
func formatSeconds(n int) string {
	switch {
	case n > 0 && n%86400 == 0:
		return strconv.Itoa(n/86400) + "d"
	case n > 0 && n%3600 == 0:
		return strconv.Itoa(n/3600) + "h"
	case n > 0 && n%60 == 0:
		return strconv.Itoa(n/60) + "m"
	}
	return strconv.Itoa(n) + "s"
}

// hasRecipients reports whether any alert statement names a recipient.
func (tr *translator) hasRecipients() bool {
	if len(tr.rc.alerts) > 0 {
		return true
	}
	for _, svc := range tr.rc.services {
		if len(svc.alerts) > 0 {
			return true
		}
	}
	return false
}

// firstRecipientPos returns the position of the first alert statement, global or of
// a service. Call it only when hasRecipients is true.
func (tr *translator) firstRecipientPos() position {
	if len(tr.rc.alerts) > 0 {
		return tr.rc.alerts[0].pos
	}
	for _, svc := range tr.rc.services {
		if len(svc.alerts) > 0 {
			return svc.alerts[0].pos
		}
	}
	return position{file: tr.res.Source}
}

// mail writes [mail] and its [[mail.server]] entries.
func (tr *translator) mail(d *tomlDoc) {
	if !tr.hasRecipients() {
		if len(tr.rc.mailServers) > 0 {
			tr.note(tr.rc.mailServers[0].pos, "set mailserver is not translated: no set alert names a recipient, so tend only logs alerts")
		}
		return
	}
	var keys []keyValue
	keys = append(keys, keyValue{key: "from", value: tr.mailFrom()})
	if to := tr.unfilteredRecipients(); len(to) > 0 {
		keys = append(keys, keyValue{key: "to", value: to})
	}
	d.table("[mail]", "")
	d.keys(keys)

	servers := tr.rc.mailServers
	if len(servers) == 0 {
		servers = []mailServer{{host: "localhost", port: 25, pos: tr.firstRecipientPos()}}
		tr.note(servers[0].pos, "no set mailserver: tend sends mail to localhost port 25, Monit's default")
	}
	for i, s := range servers {
		d.table("[[mail.server]]", "")
		d.keys(tr.mailServer(i, s))
	}
}

// mailFrom returns the sender: the from of set mail-format, or Monit's default
// monit@HOST.
func (tr *translator) mailFrom() string {
	from := tr.rc.mailFrom
	if from == "" {
		from = "monit@" + tr.opts.Hostname
	}
	from = strings.ReplaceAll(from, "$HOST", tr.opts.Hostname)
	if _, err := mail.ParseAddress(from); err != nil {
		at := tr.rc.mailFromPos
		if at.file == "" {
			at = tr.firstRecipientPos()
		}
		tr.note(at, "sender %q is not a valid address: tend sends from tend@localhost; set [mail] from", from)
		from = "tend@localhost"
	}
	return from
}

// unfilteredRecipients returns the set alert addresses without an event filter or a
// reminder, which become the to of [mail].
func (tr *translator) unfilteredRecipients() []string {
	var to []string
	for _, r := range tr.rc.alerts {
		if len(r.events) == 0 && r.reminder == 0 && !slices.Contains(to, r.address) {
			to = append(to, r.address)
		}
	}
	return to
}

// mailServer returns the keys of the index-th [[mail.server]] entry.
//
// Monit speaks TLS from the first byte when "using ssl" or "using tls" is set, and
// otherwise upgrades with STARTTLS when the server offers it. Port 465 is SMTPS, so
// "using tls" on any other port, as in the common "port 587 ... using tlsv1", is
// translated to STARTTLS.
//
// NOTE: that Monit upgrades without an ssl option is not checked against Monit's
// SMTP code; starttls_optional keeps mail flowing either way.
func (tr *translator) mailServer(index int, s mailServer) []keyValue {
	port := s.port
	if port == 0 {
		port = 25
	}
	mode := "starttls_optional"
	switch {
	case s.ssl && port == 465:
		mode = "tls"
	case s.ssl:
		mode = "starttls"
	}
	keys := []keyValue{{key: "host", value: s.host}, {key: "port", value: port}, {key: "tls", value: mode}}
	if s.username != "" {
		keys = append(keys, keyValue{key: "username", value: s.username})
		if s.password == "" {
			tr.note(s.pos, "mail server %s has a username but no password: set password_env in its [[mail.server]] entry", s.host)
		}
	}
	if s.password != "" && s.username != "" {
		name := "TEND_SMTP_PASSWORD"
		if index > 0 {
			name = fmt.Sprintf("TEND_SMTP_PASSWORD_%d", index+1)
		}
		env := tr.addSecret(name, s.password, "SMTP password of "+s.host)
		keys = append(keys, keyValue{key: "password_env", value: env})
	}
	if s.password != "" && s.username == "" {
		tr.note(s.pos, "the password of mail server %s is not translated: it has no username", s.host)
	}
	if tr.rc.mailTimeout > 0 {
		keys = append(keys, keyValue{key: "timeout", value: formatSeconds(tr.rc.mailTimeout)})
	}
	return keys
}

// http writes the [http] table of set httpd.
func (tr *translator) http(d *tomlDoc) {
	h := tr.rc.httpd
	if h == nil {
		return
	}
	host := h.address
	switch {
	case host == "":
		host = "127.0.0.1"
		tr.note(h.pos, "httpd has no use address: Monit listens on every interface, tend on 127.0.0.1 only")
	case host != "localhost" && !isLoopbackIP(host):
		tr.note(h.pos, "httpd address %s is not loopback: tend listens on 127.0.0.1 until [[http.user]] entries "+
			"with password hashes exist; add them (see the comments in tend.toml), then set listen = %q",
			host, net.JoinHostPort(host, strconv.Itoa(h.port)))
		host = "127.0.0.1"
	}
	keys := []keyValue{{key: "listen", value: net.JoinHostPort(host, strconv.Itoa(h.port))}}
	if cert, key := httpTLSFiles(h); cert != "" {
		keys = append(keys, keyValue{key: "tls_cert", value: cert}, keyValue{key: "tls_key", value: key})
	}
	d.table("[http]", "")
	d.keys(keys)

	for _, allowed := range h.allowHosts {
		tr.note(h.pos, "allow %s is not translated: tend has no address allow list; it authenticates users and listens where listen says", allowed)
	}
	for _, u := range h.users {
		tr.httpUser(d, u)
	}
}

// httpTLSFiles returns the certificate and key files of set httpd, or two empty
// strings. A Monit pemfile holds both, and Go reads each from the same file.
func httpTLSFiles(h *httpd) (cert, key string) {
	switch {
	case h.pemFile != "":
		return h.pemFile, h.pemFile
	case h.pemChain != "" && h.pemKey != "":
		return h.pemChain, h.pemKey
	}
	return "", ""
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpUser writes an allow user:password entry as a commented [[http.user]] entry:
// tend accepts only bcrypt hashes, which the operator makes with tend hash-password.
func (tr *translator) httpUser(d *tomlDoc, u httpUser) {
	role := "admin"
	if u.readOnly {
		role = "read-only"
	}
	file := "http-" + envFileName(u.name) + ".hash"
	var b strings.Builder
	fmt.Fprintf(&b, "Monit user %s: tend accepts only bcrypt hashes. Make one in the directory of\n", u.name)
	fmt.Fprintf(&b, "this file, which password_hash_file is relative to, and remove the #s:\n")
	fmt.Fprintf(&b, "  tend hash-password > %s\n", file)
	fmt.Fprintf(&b, "[[http.user]]\nname = %s\npassword_hash_file = %s\nrole = %s",
		tomlString(u.name), tomlString(file), tomlString(role))
	d.b.WriteString("\n")
	d.comment(b.String())

	if u.password != "" {
		env := tr.addSecret("TEND_HTTP_PASSWORD_"+u.name, u.password, "Monit's password of HTTP user "+u.name+"; hash it with tend hash-password, then delete it")
		tr.note(u.pos, "allow %s: the user is commented out in tend.toml until you run tend hash-password; its Monit password is %s in secrets.env", u.name, env)
	}
}

// envFileName turns a user name into a file name part.
func envFileName(s string) string {
	return strings.ToLower(envName(s))
}
