package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// hashCost is the bcrypt cost of `tend hash-password`: 2^12 rounds, about a quarter
// of a second per check on a current server core. The HTTP server caches a verified
// password for a minute, so a page refresh does not pay it again.
const hashCost = 12

// cmdHashPassword reads a password and prints its bcrypt hash for password_hash in
// [[http.user]]. From a terminal it prompts twice without echo, and otherwise it
// reads one line from stdin.
func cmdHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: tend hash-password < password-file\n\n"+
			"Reads a password, from the terminal twice or from the first line of stdin, and prints\n"+
			"its bcrypt hash for password_hash in an [[http.user]] entry.\n")
	}
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}

	password, err := readNewPassword(stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tend hash-password: %v\n", err)
		return 1
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), hashCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		fmt.Fprintln(stderr, "tend hash-password: the password is longer than 72 bytes, the maximum bcrypt uses: choose a shorter one")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "tend hash-password: hash: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, string(hash))
	return 0
}

// readNewPassword returns the password typed twice at a terminal, or the first line
// of stdin without its line ending when stdin is not a terminal.
func readNewPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && isTerminal(int(f.Fd())) {
		return readTerminalPassword(f, stderr)
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("empty password: write the password as the first line of stdin")
	}
	return password, nil
}

// readTerminalPassword prompts for the password twice, with echo off, and returns it
// when both entries are the same.
func readTerminalPassword(tty *os.File, stderr io.Writer) (string, error) {
	restore, err := disableEcho(int(tty.Fd()))
	if err != nil {
		return "", err
	}
	defer restore()
	in := bufio.NewReader(tty)
	var entries [2]string
	for i, prompt := range []string{"Password: ", "Repeat password: "} {
		fmt.Fprint(stderr, prompt)
		line, err := in.ReadString('\n')
		fmt.Fprintln(stderr)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		entries[i] = strings.TrimRight(line, "\r\n")
		if entries[i] == "" {
			return "", errors.New("empty password")
		}
	}
	if entries[0] != entries[1] {
		return "", errors.New("the passwords differ")
	}
	return entries[0], nil
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// disableEcho turns off the echo of the terminal fd and returns the function that
// turns it back on.
func disableEcho(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("read terminal settings: %w", err)
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return nil, fmt.Errorf("turn off terminal echo: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
