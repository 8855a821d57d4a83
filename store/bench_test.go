package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sacrum-dev/sacrum/dimse"
	"github.com/sacrum-dev/sacrum/store"
	"github.com/sacrum-dev/sacrum/store/storetest"
)

// BenchmarkStoreHandler measures the C-STORE handler per instance (256×256 16-bit MR, 128 KB), until
// every instance is in place with its record (Flush): the store given the SCP's receive files (parse on
// the response path; SHA-256, move into studies/<study>/<series>/, directory fsyncs and bbolt records
// in the batch writer), the store given other files (Store waits for the writer), and
// dimse.DirHandler (rename into one directory, directory fsync), the handler sacrum serve had before
// the store. The SCP's file fsync is in none. Parallel runs stand for several associations.
func BenchmarkStoreHandler(b *testing.B) {
	for _, c := range []struct {
		handler string
		par     int
	}{{"store", 1}, {"store-other", 1}, {"dir", 1}, {"store", 4}, {"store-other", 4}, {"dir", 4}} {
		par := c.par
		b.Run(fmt.Sprintf("handler=%s/assoc=%d", c.handler, par), func(b *testing.B) {
			st, err := store.Open(store.Config{DataDir: b.TempDir(), StableTime: time.Hour, Pipeline: nil})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var h dimse.StoreHandler = st
			if c.handler == "dir" {
				dir := filepath.Join(st.DataDir(), "flat")
				os.MkdirAll(dir, 0o750)
				h = dimse.DirHandler{Dir: dir}
			}
			src := filepath.Join(b.TempDir(), "src.dcm")
			if err := storetest.WriteMR(src, storetest.MR{StudyUID: "1.2.3", SeriesUID: "1.2.3.1", SOPInstanceUID: "1.2.3.1.1",
				Rows: 256, Columns: 256}); err != nil {
				b.Fatal(err)
			}
			data, _ := os.ReadFile(src)
			// Prepare the received files first: only Store is timed.
			paths := make([]string, b.N)
			sops := make([]string, b.N)
			for i := range paths {
				m := storetest.MR{StudyUID: fmt.Sprintf("1.2.3.%d", i%par), SeriesUID: fmt.Sprintf("1.2.3.%d.1", i%par),
					SOPInstanceUID: fmt.Sprintf("1.2.3.%d.1.%d", i%par, i), Rows: 256, Columns: 256}
				paths[i] = filepath.Join(st.TempDir(), fmt.Sprintf("other-%d", i))
				if c.handler == "store" {
					paths[i] = filepath.Join(st.IncomingDir(), fmt.Sprintf("rx-%016x.part", i))
				}
				sops[i] = m.SOPInstanceUID
				if err := storetest.WriteMR(paths[i], m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			work := make(chan int, len(paths))
			for i := range paths {
				work <- i
			}
			close(work)
			done := make(chan error, par)
			for w := 0; w < par; w++ {
				go func() {
					for i := range work {
						si := &dimse.StoredInstance{Path: paths[i]}
						si.SOPInstanceUID = sops[i]
						if s, err := h.Store(context.Background(), si); s != dimse.StatusSuccess {
							done <- fmt.Errorf("status 0x%04X: %v", s, err)
							return
						}
					}
					done <- nil
				}()
			}
			for w := 0; w < par; w++ {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
			st.Flush()
		})
	}
}
