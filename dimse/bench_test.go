package dimse_test

import (
	"context"
	"testing"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/dimse/dimsetest"
)

// BenchmarkStoreLoopback measures C-STORE of 256×256 16-bit MR images over loopback to a
// DirHandler without fsync: the protocol and file-writing cost of our SCP and SCU.
func BenchmarkStoreLoopback(b *testing.B) {
	paths, err := dimsetest.WriteSeries(b.TempDir(), dimsetest.Series(5, 50, 256, 256))
	if err != nil {
		b.Fatal(err)
	}
	srv := startServer(b, func(c *dimse.ServerConfig) {
		c.NoFsync = true
		c.Handler = dimse.DirHandler{Dir: c.Handler.(dimse.DirHandler).Dir, NoSync: true}
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := dimse.SendFiles(context.Background(), srv.addr, client(), paths)
		if err != nil || !res[len(res)-1].OK() {
			b.Fatalf("%v %+v", err, res[len(res)-1])
		}
	}
	b.ReportMetric(float64(b.N*len(paths))/b.Elapsed().Seconds(), "images/s")
}
