package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for localhost and its key as PEM files.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestServeTLS: node.tls in the configuration makes serve require TLS and, with
// require_client_cert, a client certificate; sacrum echo --tls connects with the right files.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	srvCert, srvKey := writeCert(t, dir, "server")
	cliCert, cliKey := writeCert(t, dir, "client")
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("node:\n  tls:\n    cert: "+srvCert+"\n    key: "+srvKey+"\n    client_ca: "+cliCert+"\n    require_client_cert: true\n"), 0o644)
	host, port, _ := inProcessServe(t, "--config", cfg, "--allow-aet", "SACRUM")
	addr := net.JoinHostPort(host, port)
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"TLS with client certificate", []string{"--tls", "--tls-ca", srvCert, "--tls-cert", cliCert, "--tls-key", cliKey}, true},
		{"TLS without client certificate", []string{"--tls", "--tls-ca", srvCert}, false},
		{"TLS with an untrusted server", []string{"--tls", "--tls-cert", cliCert, "--tls-key", cliKey}, false},
		{"plain TCP", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			m := &Main{Stdout: &out, Stderr: &out}
			args := append(append([]string{"echo", "--aec", "SACRUM", "--timeout", "5s"}, tt.args...), addr)
			err := m.Run(context.Background(), args)
			if (err == nil) != tt.ok {
				t.Fatalf("sacrum %v: err = %v, want ok = %v\n%s", args, err, tt.ok, out.String())
			}
		})
	}
}
