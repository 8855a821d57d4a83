package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sacrum-dev/sacrum/dimse"
)

// TestConfigYAMLDocumentsTheDefaults: the repository's config.yaml holds exactly the defaults
// that apply without a file.
func TestConfigYAMLDocumentsTheDefaults(t *testing.T) {
	got, err := LoadConfig(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Compare as YAML, where an empty list and no list are the same.
	a, _ := yaml.Marshal(got)
	b, _ := yaml.Marshal(DefaultConfig())
	if string(a) != string(b) {
		t.Errorf("config.yaml differs from DefaultConfig():\n got %s\nwant %s", a, b)
	}
	def, err := LoadConfig("")
	if err != nil || !reflect.DeepEqual(def, DefaultConfig()) {
		t.Errorf("LoadConfig(\"\") = %+v, %v", def, err)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(Config) bool
		wantErr string
	}{
		{"node keys", "node:\n  ae_title: NODE1\n  listen: 127.0.0.1:104\n  idle_timeout: 90s\n  allow: [PACS@10.0.0.5, '*']\n  fsync: false\n",
			func(c Config) bool {
				return c.Node.AETitle == "NODE1" && c.Node.Listen == "127.0.0.1:104" && time.Duration(c.Node.IdleTimeout) == 90*time.Second &&
					reflect.DeepEqual(c.Node.Allow, []string{"PACS@10.0.0.5", "*"}) && !c.Node.Fsync && c.Node.MaxAssociations == 16
			}, ""},
		{"store and admin", "store:\n  data_dir: /srv/x\nadmin:\n  listen: :9000\n",
			func(c Config) bool { return c.Store.DataDir == "/srv/x" && c.Admin.Listen == ":9000" }, ""},
		{"unknown key", "node:\n  ae_titel: X\n", nil, "ae_titel"},
		{"bad duration", "node:\n  artim_timeout: soon\n", nil, "not a duration"},
		{"bad allow entry", "node:\n  allow: [PACS@notanip]\n", nil, "not an IP address"},
		{"AE title too long", "node:\n  ae_title: ABCDEFGHIJKLMNOPQ\n", nil, "1 to 16 characters"},
		{"cert without key", "node:\n  tls:\n    cert: a.pem\n", nil, "both cert and key"},
		{"small max PDU", "node:\n  max_pdu_length: 100\n", nil, "outside 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o644)
			c, err := LoadConfig(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("config = %+v", c)
			}
		})
	}
}

// TestServeFlagsOverrideConfig: --aet and --allow-aet replace the file's node.ae_title and node.allow.
func TestServeFlagsOverrideConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("node:\n  ae_title: FROMFILE\n  allow: [OTHER]\n"), 0o644)
	host, port, _ := inProcessServe(t, "--config", p, "--aet", "FROMFLAG", "--allow-aet", "TESTSCU")
	addr := net.JoinHostPort(host, port)
	cfg := dimse.ClientConfig{CallingAE: "TESTSCU", CalledAE: "FROMFLAG", Timeout: 5 * time.Second}
	if err := dimse.Echo(context.Background(), addr, cfg); err != nil {
		t.Fatalf("echo to the flag's AE title: %v", err)
	}
	cfg.CalledAE = "FROMFILE"
	var rj *dimse.RejectError
	if err := dimse.Echo(context.Background(), addr, cfg); !errors.As(err, &rj) || rj.Reason != dimse.ReasonCalledAENotRecognized {
		t.Errorf("echo to the file's AE title: %v, want called AE title not recognized", err)
	}
	cfg.CalledAE, cfg.CallingAE = "FROMFLAG", "OTHER"
	if err := dimse.Echo(context.Background(), addr, cfg); !errors.As(err, &rj) || rj.Reason != dimse.ReasonCallingAENotRecognized {
		t.Errorf("echo from the file's allowed AE: %v, want calling AE title not recognized", err)
	}
}
