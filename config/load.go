package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
)

// Load reads the main configuration file at path and every drop-in that its include
// globs match, applies the defaults and validates the result.
//
// It returns the configuration and a nil error, or a nil configuration and an Errors
// value with every problem in every file. A file that cannot be read or parsed is
// reported and the other files are still checked, except that the drop-ins of a main
// file that cannot be parsed are unknown and stay unchecked.
//
// The main file may contain interval, state_dir, include, hostname, a [mail] table and
// [[service]] entries. A drop-in may contain only [[service]] entries. Each include
// pattern is a filepath.Glob pattern, relative to the directory of the main file. The
// matches of all patterns are loaded in lexical order, each file once, and never the
// main file again. A pattern that matches nothing is no error. The other relative
// paths (state_dir, pidfile, directory, password_file) are joined to the directory of
// the file that contains them. Errors documents how each error names its key.
//
// When tend runs as root, every configuration file and every directory that contains
// one must be owned by root and not writable by group or others. An error names each
// that is not, with its owner or mode.
func Load(path string) (*Config, error) {
	return load(path, readRegularFile)
}

// loader is the state of one call to Load.
type loader struct {
	// read returns the contents of a configuration or password file.
	read  func(name string) ([]byte, error)
	files []*fileDecoder
	// names maps each service name to the place of its first name key.
	names map[string]Position
	// dependsOn lists the depends_on keys, checked once every file is read.
	dependsOn []dependsKey
	// mailTo is true when the [mail] table has a to key.
	mailTo bool
	// unread is true when a file could not be read or parsed, so that its services
	// are unknown.
	unread bool
	// checkedDirs records the directories whose owner and mode were checked.
	checkedDirs map[string]bool
}

// load is Load with the function that reads files, which FuzzLoad confines to a
// temporary directory.
func load(path string, read func(string) ([]byte, error)) (*Config, error) {
	l := &loader{read: read, names: map[string]Position{}}
	cfg := &Config{Path: path, Interval: Duration(DefaultInterval), StateDir: DefaultStateDir}
	if root := l.open(path); root != nil {
		for _, name := range l.decodeMain(root, cfg) {
			if dropIn := l.open(name); dropIn != nil {
				cfg.Services = append(cfg.Services, l.decodeDropIn(dropIn)...)
			}
		}
		l.checkDependencies(cfg.Services)
		l.checkRecipients(cfg)
	}

	var errs Errors
	for _, f := range l.files {
		sortByLine(f.errs)
		errs = append(errs, f.errs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// open reads and parses the file at name and returns its top-level table, or nil
// when the file cannot be read or is not valid TOML.
func (l *loader) open(name string) *table {
	f := &fileDecoder{name: name, dir: filepath.Dir(name)}
	l.files = append(l.files, f)
	data, err := l.read(name)
	if err != nil {
		f.add(0, "", "cannot read: %s", describeReadError(err))
		l.unread = true
		return nil
	}
	l.checkPermissions(f)

	var values map[string]any
	if _, err := toml.Decode(string(data), &values); err != nil {
		f.addSyntaxError(err)
		l.unread = true
		return nil
	}
	f.lines = indexLines(string(data))
	return &table{f: f, values: values}
}

// addSyntaxError reports an error of the TOML parser.
func (f *fileDecoder) addSyntaxError(err error) {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		f.add(0, "", "invalid TOML: %v", err)
		return
	}
	msg := pe.Message
	if last := pe.LastKey[strings.LastIndex(pe.LastKey, ".")+1:]; last == "password" || last == "password_hash" {
		// The parser quotes what it found, which here may be part of the password.
		msg = "invalid value of password (the parser's message is withheld because it may quote the password)"
	}
	f.add(pe.Position.Line, "", "invalid TOML: %s", msg)
}

// decodeMain decodes the main file into cfg and returns the drop-ins to load.
func (l *loader) decodeMain(root *table, cfg *Config) []string {
	root.rejectUnknown("interval", "state_dir", "include", "hostname", "mail", "alerts",
		"control", "http", "service")
	if root.text("interval", &cfg.Interval, `"30s"`) && cfg.Interval.D() < MinInterval {
		root.errorf("interval", "%s is too short: want at least %s", cfg.Interval, Duration(MinInterval))
	}
	root.resolvePath("state_dir", &cfg.StateDir)
	decodeHostname(root, cfg)
	if t, ok := root.sub("mail", "[mail]"); ok {
		cfg.Mail = l.decodeMail(t)
	}
	cfg.Alerts = defaultAlerts()
	if t, ok := root.sub("alerts", "[alerts]"); ok {
		cfg.Alerts = l.decodeAlerts(t)
	}
	cfg.Control = l.decodeControl(root)
	cfg.HTTP = l.decodeHTTP(root)
	cfg.Services = l.decodeServices(root)
	return l.expandIncludes(root, cfg)
}

// decodeDropIn decodes the services of a drop-in and rejects every other key.
func (l *loader) decodeDropIn(root *table) []Service {
	var other []string
	for key := range root.values {
		if key != "service" {
			other = append(other, key)
		}
	}
	slices.Sort(other)
	for _, key := range other {
		root.errorf(key, "not allowed in a drop-in, which may contain only [[service]] entries")
	}
	return l.decodeServices(root)
}

// decodeHostname sets cfg.Hostname from the hostname key or, when it is absent, from
// the kernel.
func decodeHostname(root *table, cfg *Config) {
	if root.has("hostname") {
		if root.str("hostname", &cfg.Hostname) && cfg.Hostname == "" {
			root.errorf("hostname", "empty: want the name that alerts show for this machine, "+
				"or leave the key out to use the kernel's host name")
		}
		return
	}
	name, err := os.Hostname()
	if err != nil {
		root.f.add(0, "hostname", "missing, and the kernel's host name is unavailable: %v", err)
		return
	}
	cfg.Hostname = name
}

// expandIncludes stores the include patterns in cfg, joined to the directory of the
// main file, and returns the files they match: sorted, each once, and without the
// main file.
func (l *loader) expandIncludes(root *table, cfg *Config) []string {
	var patterns []string
	if !root.strs("include", &patterns, `["conf.d/*.toml"]`) {
		return nil
	}
	main := root.f.name
	seen := map[string]bool{filepath.Clean(main): true}
	mainInfo, mainErr := os.Stat(main)

	var files []string
	for i, p := range patterns {
		line := root.itemLine("include", i)
		if p == "" {
			root.f.add(line, "include", `item %d: empty: want a glob pattern such as "conf.d/*.toml"`, i+1)
			continue
		}
		pattern := root.f.resolve(p)
		cfg.Include = append(cfg.Include, pattern)
		matches, err := filepath.Glob(pattern)
		if err != nil {
			root.f.add(line, "include", "item %d: invalid glob pattern %q: %v", i+1, p, err)
			continue
		}
		for _, name := range matches {
			if seen[filepath.Clean(name)] || mainErr == nil && isFile(mainInfo, name) {
				continue
			}
			seen[filepath.Clean(name)] = true
			files = append(files, name)
		}
	}
	slices.Sort(files)
	return files
}

// isFile reports whether name is the file that info describes.
func isFile(info os.FileInfo, name string) bool {
	other, err := os.Stat(name)
	return err == nil && os.SameFile(info, other)
}

// readRegularFile returns the contents of the regular file at name. It rejects other
// kinds of file, such as /dev/zero or a FIFO, which could block or never end.
func readRegularFile(name string) ([]byte, error) {
	// O_NONBLOCK keeps the open of a FIFO from waiting for a writer. It changes
	// nothing for a regular file.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()

	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case info.IsDir():
		return nil, errors.New("is a directory")
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file (mode %s)", info.Mode())
	}
	return io.ReadAll(f)
}

// describeReadError returns err without the path that fs.PathError repeats, since the
// error message names the file already.
func describeReadError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
