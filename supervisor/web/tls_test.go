package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/config"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into a temporary
// directory and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tend test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "tend.crt"), filepath.Join(dir, "tend.key")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "PRIVATE KEY", keyDER)

	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t)
	cfg := &config.HTTP{Listen: "127.0.0.1:0", TLSCert: certPath, TLSKey: keyPath, Users: testUsers(t)}
	s := startServer(t, cfg, &fakeBackend{})
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL() = %q, want https://", s.URL())
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	resp := do(t, client, "GET", s.URL()+"/", func(r *http.Request) { r.SetBasicAuth(viewerName, viewerPassword) })
	if resp.status != 200 || !resp.tls {
		t.Errorf("GET / over TLS: status %d, TLS %v; body %q", resp.status, resp.tls, resp.body)
	}

	plain := "http://" + s.Addr().String() + "/"
	resp = do(t, http.DefaultClient, "GET", plain, func(r *http.Request) { r.SetBasicAuth(viewerName, viewerPassword) })
	if resp.status != http.StatusBadRequest {
		t.Errorf("GET %s without TLS: status %d, want 400", plain, resp.status)
	}
}

func TestNewErrors(t *testing.T) {
	certPath, _, _ := selfSigned(t)
	missing := filepath.Join(t.TempDir(), "missing.key")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()

	tests := []struct {
		name string
		cfg  *config.HTTP
		want string
	}{
		{"missing key", &config.HTTP{Listen: "127.0.0.1:0", TLSCert: certPath, TLSKey: missing},
			"load TLS certificate " + certPath + " and key " + missing},
		{"port in use", &config.HTTP{Listen: busy.Addr().String()},
			"listen on " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{Config: tt.cfg, Backend: &fakeBackend{}, Logger: testLogger(t)})
			if err == nil {
				_ = s.Close()
				t.Fatalf("New: nil error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %q, want one containing %q", err, tt.want)
			}
		})
	}
}
