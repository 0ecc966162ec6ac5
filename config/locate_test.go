package config

import (
	"testing"
)

func TestIndexLines(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]int
	}{
		{
			name: "top-level keys and comments",
			src:  "# comment\ninterval = \"30s\" # trailing\n\nstate_dir = '/var/lib/tend'\n",
			want: map[string]int{"interval": 2, "state_dir": 4},
		},
		{
			name: "table",
			src:  "a = 1\n[mail]\nhost = \"x\"\n\nport = 25\n",
			want: map[string]int{"a": 1, "mail": 2, "mail.host": 3, "mail.port": 5},
		},
		{
			name: "arrays of tables",
			src: "[[service]]\nname = \"a\"\n[[service.check]]\ntype = \"tcp\"\n" +
				"[[service]]\nname = \"b\"\n[[service.check]]\ntype = \"cpu\"\n[[service.check]]\nabove = \"9%\"\n",
			want: map[string]int{
				"service": 1, "service[0]": 1, "service[0].name": 2,
				"service[0].check": 3, "service[0].check[0]": 3, "service[0].check[0].type": 4,
				"service[1]": 5, "service[1].name": 6,
				"service[1].check": 7, "service[1].check[0]": 7, "service[1].check[0].type": 8,
				"service[1].check[1]": 9, "service[1].check[1].above": 10,
			},
		},
		{
			name: "sub-table of an array entry",
			src:  "[[service]]\nname = \"a\"\n[service.environment]\nPATH = \"/bin\"\n",
			want: map[string]int{"service[0].environment": 3, "service[0].environment.PATH": 4},
		},
		{
			name: "dotted keys",
			src:  "[service_]\nrestart_limit.restarts = 5\n  restart_limit . cycles = 3\n",
			want: map[string]int{
				"service_.restart_limit": 2, "service_.restart_limit.restarts": 2,
				"service_.restart_limit.cycles": 3,
			},
		},
		{
			name: "quoted keys",
			src: "[env]\n\"A B\" = \"1\"\n'C.D' = \"2\"\n\"E\\u0046\" = \"3\"\n" +
				"\"\\xe9\\U0001F600\\t\" = 4\n'\\n' = 5\n",
			want: map[string]int{
				`env."A B"`: 2, `env."C.D"`: 3, "env.EF": 4, `env."é😀\t"`: 5, `env."\\n"`: 6,
			},
		},
		{
			name: "quoted header",
			src:  "[\"my table\" . sub]\nkey = 1\n",
			want: map[string]int{`"my table"`: 1, `"my table".sub`: 1, `"my table".sub.key`: 2},
		},
		{
			name: "inline table",
			src:  "[[service]]\nrestart_limit = { restarts = 5, cycles = 5 }\nname = \"a\"\n",
			want: map[string]int{
				"service[0].restart_limit": 2, "service[0].restart_limit.restarts": 2,
				"service[0].restart_limit.cycles": 2, "service[0].name": 3,
			},
		},
		{
			name: "inline table over lines",
			src:  "env = {\n  A = \"1\",\n  B = { C = 2 },\n}\nnext = 1\n",
			want: map[string]int{"env": 1, "env.A": 2, "env.B": 3, "env.B.C": 3, "next": 5},
		},
		{
			name: "multi-line array",
			src:  "to = [\n  \"a@example.com\", # first\n\n  \"b@example.com\",\n]\nnext = 1\n",
			want: map[string]int{"to": 1, "to[0]": 2, "to[1]": 4, "next": 6},
		},
		{
			name: "array of inline tables",
			src:  "service = [\n  { name = \"a\" },\n  { name = \"b\",\n    command = [\"b\"] },\n]\n",
			want: map[string]int{
				"service[0]": 2, "service[0].name": 2, "service[1]": 3, "service[1].name": 3,
				"service[1].command": 4, "service[1].command[0]": 4,
			},
		},
		{
			name: "nested arrays",
			src:  "a = [[1, 2],\n  [3]]\nb = 1\n",
			want: map[string]int{"a[0]": 1, "a[0][1]": 1, "a[1]": 2, "a[1][0]": 2, "b": 3},
		},
		{
			name: "multi-line strings",
			src: "a = \"\"\"\nline [x]\nb = 2 \\\"\"\" \"\"\"\nc = '''\n# not a comment\n'''\n" +
				"d = \"\"\"x\"\"\"\"\"\ne = 'it''s'\nf = 5\n",
			want: map[string]int{"a": 1, "c": 4, "d": 7, "f": 9},
		},
		{
			name: "strings with brackets and hashes",
			src:  "a = \"[not] # a header\"\nb = '{'\nc = \"\\\"]\"\nd = 1\n",
			want: map[string]int{"a": 1, "b": 2, "c": 3, "d": 4},
		},
		{
			name: "date with a space",
			src:  "a = 1979-05-27 07:32:00Z\nb = [1979-05-27 07:32:00, 2]\nc = 1\n",
			want: map[string]int{"a": 1, "b[1]": 2, "c": 3},
		},
		{
			name: "CRLF line ends",
			src:  "a = 1\r\n[t]\r\nb = [\r\n  2,\r\n]\r\nc = 3\r\n",
			want: map[string]int{"a": 1, "t": 2, "t.b": 3, "t.b[0]": 4, "t.c": 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := indexLines(tt.src)
			for path, line := range tt.want {
				if got[path] != line {
					t.Errorf("indexLines: line of %s = %d, want %d", path, got[path], line)
				}
			}
		})
	}
}

func TestIndexLinesNeverStalls(t *testing.T) {
	// Text that is not TOML must still end the scan, whatever it records.
	for _, src := range []string{
		"", "[", "[[", "=", "a =", "a = [", "a = {", "a = \"", "a = '''", "a = [}", "a = {]",
		"]]]", "\"\"\"", "a.b.", "[a.]", "a = [1 2 3]", "{ = }", "a = \"\\", "# only",
	} {
		if got := indexLines(src); got == nil {
			t.Errorf("indexLines(%q) = nil, want a map", src)
		}
	}
}
