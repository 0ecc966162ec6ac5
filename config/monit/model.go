package monit

// This file contains what the parser reads from a monitrc, before translation.

// monitrc is a parsed monitrc with its included files.
type monitrc struct {
	daemon *daemonSetting

	mailServers []mailServer
	// mailTimeout is the timeout of "set mailserver ... with timeout N seconds", in
	// seconds, or 0 when unset.
	mailTimeout int
	mailFrom    string
	mailFromPos position

	// alerts are the "set alert" recipients.
	alerts     []recipient
	eventQueue *eventQueue
	httpd      *httpd
	services   []*service

	// notes are statements read but not translated.
	notes []Note
}

type daemonSetting struct {
	interval   int // seconds
	startDelay int // seconds, 0 when unset
	pos        position
}

type mailServer struct {
	host               string
	port               int // 0 when unset
	username, password string
	// ssl is set by "using ssl", "using tls" or a TLS version such as tlsv12.
	ssl bool
	pos position
}

// recipient is a "set alert" or service "alert" statement.
type recipient struct {
	address string
	// events are the Monit event names in braces; except is true for "not on {...}".
	events []string
	except bool
	// reminder is the N of "reminder on N cycles", or 0.
	reminder int
	pos      position
}

type eventQueue struct {
	basedir string
	slots   int // 0 when unset
	pos     position
}

type httpd struct {
	port    int
	address string
	users   []httpUser
	// allowHosts are the host and network entries of allow statements.
	allowHosts []string
	// pemFile, pemChain and pemKey come from pemfile or ssl { ... }.
	pemFile, pemChain, pemKey string
	pos                       position
}

type httpUser struct {
	name, password string
	readOnly       bool
	pos            position
}

// program is a start, stop or restart program, a check program's command, or the
// command of an exec action.
type program struct {
	argv     []string
	uid, gid string
	timeout  int // seconds, 0 when unset
	pos      position
}

// service is one check statement.
type service struct {
	// kind is process, file, fifo, directory, filesystem, host, system, program or
	// network.
	kind string
	name string
	pos  position

	pidfile string
	match   string
	// path is the path of a file, directory, fifo or filesystem check.
	path string
	// address is the address of a host check.
	address string
	// command is the program of a check program.
	command *program

	start, stop, restart *program
	tests                []*test
	restartLimit         *actionRate
	dependsOn            []string
	dependsPos           position
	groups               []string
	alerts               []recipient
}

// actionRate is "if N restarts within M cycles then ACTION".
type actionRate struct {
	restarts, cycles int
	action           string
	pos              position
}

// test is one "if ... then ..." statement of a service.
type test struct {
	pos position
	// text is the statement as written, with secrets left out, for notes.
	text string
	// kind names the test: resource, exist, nonexist, changed, uptime, connection,
	// unix, url, timestamp, size, checksum, permission, uid, gid, content, status,
	// space, inode, fds or unknown.
	kind string
	// resource names the figure of a resource, space or inode test: cpu, totalcpu,
	// memory, totalmemory, children, threads, loadavg1, loadavg5, loadavg15, cpuuser,
	// cpusystem, cpuwait, swap, or another cpu figure such as cpunice. For a changed
	// test it names what changed: pid, ppid, checksum, timestamp, size, permission or
	// status.
	resource string
	perCore  bool
	// free is set for "space free" and "inode free".
	free bool
	// timestamp names the time of a timestamp test: time, atime, ctime or mtime.
	timestamp string

	op    string // >, <, >=, <=, =, != or "" when the test has no comparison
	value float64
	// unit is %, B, KB, MB, GB, ms, s, m, h, d, month or "" for a plain number.
	unit string
	// word is the string of the test: a user, group, permission, checksum or regular
	// expression.
	word string
	// negate is set for "content != ...".
	negate bool

	conn *connection

	forCycles, withinCycles int
	action                  action
	// elseAction is the action of an else clause other than alert, or "".
	elseAction string
	// inverted is set for "if succeeded ...".
	inverted bool
}

// action is the action of a test.
type action struct {
	// kind is alert, restart, start, stop, unmonitor, exec or ignore.
	kind string
	exec *program
	// repeat is the N of "repeat every N cycles", 0 when unset.
	repeat int
}

// connection is the target and options of a port, unixsocket or url test.
type connection struct {
	host   string
	port   int
	socket string
	url    string
	udp    bool
	// protocol is the protocol word in lower case, or "" for a plain connection.
	protocol string
	ssl      bool
	// certDays is N of "certificate valid > N days", or 0.
	certDays int

	request, hostHeader, method string
	status                      int
	statusOp                    string
	content                     string
	contentNegate               bool

	timeout, retry               int
	username, password, database string
	steps                        []sendExpect
	// unsupported lists options that the translation cannot carry over.
	unsupported []string
}

type sendExpect struct {
	send, expect string
}
