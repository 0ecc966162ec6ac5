package notify

import (
	"bytes"
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// run reads datagrams until the socket is closed or a read fails, and sends each valid
// message on s.messages. It closes s.messages and then s.stopped when it returns.
func (s *Socket) run() {
	defer close(s.stopped)
	defer close(s.messages)

	buf := make([]byte, maxDatagram)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*maxPassedFDs))
	for {
		n, oobn, flags, _, err := s.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.mu.Lock()
				s.readErr = err
				s.mu.Unlock()
			}
			return
		}

		msg, ok := decode(buf[:n], oob[:oobn], flags)
		if !ok {
			s.dropped.Add(1)
			continue
		}
		select {
		case s.messages <- msg:
		case <-s.closing:
			return
		}
	}
}

// decode turns one datagram and its control messages into a Message. It closes every file
// descriptor passed along, because FDSTORE=1 is not supported. Closing them also completes
// BARRIER=1 (sd_notify_barrier(3)), whose sender waits until the receiver has closed the
// passed pipe. decode reports false for a datagram that was truncated, is empty, contains a
// NUL byte, or came without credentials naming a PID.
func decode(data, oob []byte, flags int) (Message, bool) {
	pid := readControl(oob)
	if flags&unix.MSG_TRUNC != 0 || len(data) == 0 || bytes.IndexByte(data, 0) >= 0 || pid <= 0 {
		return Message{}, false
	}
	return Parse(pid, string(data)), true
}

// readControl closes the file descriptors in the control messages and returns the PID from
// the SCM_CREDENTIALS message, or 0 when there is none. The kernel sets the PID to 0 when
// the sender is in a PID namespace that this process cannot see.
func readControl(oob []byte) int {
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	pid := 0
	for _, cm := range cmsgs {
		if cm.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch cm.Header.Type {
		case unix.SCM_CREDENTIALS:
			if cred, err := unix.ParseUnixCredentials(&cm); err == nil {
				pid = int(cred.Pid)
			}
		case unix.SCM_RIGHTS:
			fds, _ := unix.ParseUnixRights(&cm)
			for _, fd := range fds {
				_ = unix.Close(fd)
			}
		}
	}
	return pid
}
