package config

// HTTP contains the [http] settings of the main file: the status page, the JSON API and
// the metrics.
type HTTP struct {
	// Listen is the host:port the HTTP server listens on.
	Listen string
	// Pos is the position of the [http] header.
	Pos Position
}

// decodeHTTP decodes the [http] table of the main file; it returns nil when the table
// is absent.
func (l *loader) decodeHTTP(root *table) *HTTP {
	return nil
}
