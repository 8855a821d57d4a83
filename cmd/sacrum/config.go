package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sacrum-dev/sacrum/dimse"
)

// Config is sacrum's configuration file (config.yaml). Every key has a default, so the node runs
// without a file. Sections belong to the packages that use them; each adds its own keys.
type Config struct {
	Node         NodeConfig          `yaml:"node"`
	Store        StoreConfig         `yaml:"store"`
	Admin        AdminConfig         `yaml:"admin"`
	Destinations []DestinationConfig `yaml:"destinations"` // serve_store.go
	Queue        QueueConfig         `yaml:"queue"`        // serve_store.go
	Pipeline     PipelineConfig      `yaml:"pipeline"`     // pipeline_config.go
}

// NodeConfig is the DICOM node: the C-ECHO/C-STORE SCP and the identity the SCU uses.
type NodeConfig struct {
	AETitle          string    `yaml:"ae_title"`
	Listen           string    `yaml:"listen"`
	MaxPDULength     uint32    `yaml:"max_pdu_length"`
	MaxAssociations  int       `yaml:"max_associations"`
	IdleTimeout      Duration  `yaml:"idle_timeout"`
	ARTIMTimeout     Duration  `yaml:"artim_timeout"`
	Fsync            bool      `yaml:"fsync"`
	Allow            []string  `yaml:"allow"`
	TLS              TLSConfig `yaml:"tls"`
	TransferSyntaxes []string  `yaml:"transfer_syntaxes"`
	SOPClasses       []string  `yaml:"sop_classes"`
}

// TLSConfig enables DICOM over TLS for the SCP (and, with the same files, for the SCU).
type TLSConfig struct {
	Cert              string `yaml:"cert"`
	Key               string `yaml:"key"`
	ClientCA          string `yaml:"client_ca"`
	RequireClientCert bool   `yaml:"require_client_cert"`
}

// StoreConfig is the instance store.
type StoreConfig struct {
	DataDir      string           `yaml:"data_dir"`
	StoreOptions `yaml:",inline"` // serve_store.go
}

// AdminConfig is the admin HTTP endpoint.
type AdminConfig struct {
	Listen       string           `yaml:"listen"`
	AdminOptions `yaml:",inline"` // serve_store.go
}

// Duration is a time.Duration written as "30s", "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 30s, 5m): %w", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// DefaultConfig returns the documented defaults (config.yaml at the repository root shows them).
func DefaultConfig() Config {
	return Config{
		Node: NodeConfig{
			AETitle:          "SACRUM",
			Listen:           ":11112",
			MaxPDULength:     262144,
			MaxAssociations:  16,
			IdleTimeout:      Duration(5 * time.Minute),
			ARTIMTimeout:     Duration(30 * time.Second),
			Fsync:            true,
			TransferSyntaxes: append([]string(nil), dimse.DefaultTransferSyntaxes...),
			SOPClasses:       append([]string(nil), dimse.DefaultSOPClasses...),
		},
		Store:    StoreConfig{DataDir: "./data", StoreOptions: defaultStoreOptions()},
		Admin:    AdminConfig{Listen: "127.0.0.1:8080", AdminOptions: defaultAdminOptions()},
		Queue:    defaultQueue(),
		Pipeline: DefaultPipelineConfig(),
	}
}

// LoadConfig reads path over the defaults. Unknown keys are errors (they are usually typos).
// An empty path returns the defaults.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks values that the YAML types cannot.
func (c *Config) Validate() error {
	n := &c.Node
	if n.AETitle == "" || len(n.AETitle) > 16 {
		return fmt.Errorf("node.ae_title %q must have 1 to 16 characters", n.AETitle)
	}
	if n.MaxAssociations < 1 {
		return fmt.Errorf("node.max_associations must be at least 1")
	}
	if n.MaxPDULength < 4096 || n.MaxPDULength > 64<<20 {
		return fmt.Errorf("node.max_pdu_length %d is outside 4096 … 67108864", n.MaxPDULength)
	}
	if _, err := n.allowEntries(); err != nil {
		return err
	}
	if err := c.Pipeline.Validate(); err != nil {
		return err
	}
	if (n.TLS.Cert == "") != (n.TLS.Key == "") {
		return errors.New("node.tls needs both cert and key")
	}
	if n.TLS.RequireClientCert && n.TLS.ClientCA == "" {
		return errors.New("node.tls.require_client_cert needs node.tls.client_ca")
	}
	return nil
}

func (n *NodeConfig) allowEntries() ([]dimse.AllowEntry, error) {
	var out []dimse.AllowEntry
	for _, s := range n.Allow {
		e, err := dimse.ParseAllowEntry(s)
		if err != nil {
			return nil, fmt.Errorf("node.allow: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// serverTLS builds the SCP's tls.Config, or nil when TLS is not configured.
func (t TLSConfig) serverTLS() (*tls.Config, error) {
	if t.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("node.tls: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientCA != "" {
		pool, err := loadPool(t.ClientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if t.RequireClientCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	return cfg, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls CA %s: no PEM certificates", path)
	}
	return pool, nil
}

// tlsFlags are the SCU's TLS options (echo, send).
type tlsFlags struct {
	enabled  bool
	ca       string
	cert     string
	key      string
	insecure bool
	server   string
}

// clientTLS builds the SCU's tls.Config, or nil when TLS is off.
func (f *tlsFlags) clientTLS(addr string) (*tls.Config, error) {
	if !f.enabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: f.insecure}
	cfg.ServerName = f.server
	if cfg.ServerName == "" {
		host := addr
		if i := strings.LastIndex(addr, ":"); i >= 0 {
			host = addr[:i]
		}
		cfg.ServerName = strings.Trim(host, "[]")
	}
	if f.ca != "" {
		pool, err := loadPool(f.ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if f.cert != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
