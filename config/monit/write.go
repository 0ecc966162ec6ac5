package monit

// This file writes a Result into an output directory.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write writes the result into dir: tend.toml, conf.d/NAME.toml for each drop-in,
// IMPORT-NOTES.txt, and secrets.env with mode 0600 when there are secrets. It creates
// dir and conf.d when they are missing. It never overwrites a file: when one of them
// exists, it returns an error that names it and writes nothing.
func (r *Result) Write(dir string) error {
	files := []outputFile{{"tend.toml", r.Main, 0o644}}
	for _, d := range r.DropIns {
		files = append(files, outputFile{filepath.Join("conf.d", d.Name+".toml"), d.Data, 0o644})
	}
	files = append(files, outputFile{"IMPORT-NOTES.txt", []byte(r.NotesText()), 0o644})
	if len(r.Secrets) > 0 {
		files = append(files, outputFile{"secrets.env", []byte(r.secretsFile()), 0o600})
	}

	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists: remove it or choose another output directory", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	for _, f := range files {
		if err := f.write(dir); err != nil {
			return err
		}
	}
	return nil
}

// outputFile is one file that Write creates.
type outputFile struct {
	name string
	data []byte
	mode os.FileMode
}

// write creates the file with its mode, whatever the umask, and fails when it exists.
func (f outputFile) write(dir string) error {
	path := filepath.Join(dir, f.name)
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := file.Chmod(f.mode); err != nil {
		_ = file.Close()
		return fmt.Errorf("set mode of %s: %w", path, err)
	}
	if _, err := file.Write(f.data); err != nil {
		_ = file.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// NotesText returns the content of IMPORT-NOTES.txt: a header and one note a line.
func (r *Result) NotesText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tend import monit %s\n\n", r.Source)
	if len(r.Notes) == 0 {
		b.WriteString("Every statement was translated.\n")
	} else {
		noun := "statements were"
		if len(r.Notes) == 1 {
			noun = "statement was"
		}
		fmt.Fprintf(&b, "%d %s not translated, or translated with another meaning:\n\n", len(r.Notes), noun)
		for _, n := range r.Notes {
			b.WriteString(n.String() + "\n")
		}
	}
	if len(r.Secrets) > 0 {
		b.WriteString("\nsecrets.env contains passwords from the monitrc. Keep it mode 0600, owned by root, and\n" +
			"install it as /etc/default/tend, which the shipped unit loads into tend's environment;\n" +
			"for tend validate by hand, run set -a; . ./secrets.env; set +a first.\n")
	}
	return b.String()
}

// secretsFile returns secrets.env in the format of systemd's EnvironmentFile=, which a
// POSIX shell also reads: NAME="VALUE" with ", \, $ and ` escaped.
func (r *Result) secretsFile() string {
	var b strings.Builder
	b.WriteString("# Secrets of tend import monit. Keep this file mode 0600 and owned by root.\n")
	escape := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`")
	for _, s := range r.Secrets {
		fmt.Fprintf(&b, "# %s\n%s=\"%s\"\n", s.Use, s.Name, escape.Replace(s.Value))
	}
	return b.String()
}
