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

// BenchmarkStoreHandler measures Store per instance (256×256 16-bit MR, 128 KB): parse, SHA-256, rename,
// directory fsync, batched record; the C-STORE SCP's own file fsync is not included. Parallel runs show
// the effect of several associations.
func BenchmarkStoreHandler(b *testing.B) {
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("assoc=%d", par), func(b *testing.B) {
			st, err := store.Open(store.Config{DataDir: b.TempDir(), StableTime: time.Hour, Pipeline: nil})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			src := filepath.Join(b.TempDir(), "src.dcm")
			if err := storetest.WriteMR(src, storetest.MR{StudyUID: "1.2.3", SeriesUID: "1.2.3.1", SOPInstanceUID: "1.2.3.1.1",
				Rows: 256, Columns: 256}); err != nil {
				b.Fatal(err)
			}
			data, _ := os.ReadFile(src)
			// Prepare the received files first: only Store is timed.
			paths := make([]string, b.N)
			for i := range paths {
				m := storetest.MR{StudyUID: fmt.Sprintf("1.2.3.%d", i%par), SeriesUID: fmt.Sprintf("1.2.3.%d.1", i%par),
					SOPInstanceUID: fmt.Sprintf("1.2.3.%d.1.%d", i%par, i), Rows: 256, Columns: 256}
				paths[i] = filepath.Join(st.TempDir(), fmt.Sprintf("rx-%d", i))
				if err := storetest.WriteMR(paths[i], m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			work := make(chan string, len(paths))
			for _, p := range paths {
				work <- p
			}
			close(work)
			done := make(chan error, par)
			for w := 0; w < par; w++ {
				go func() {
					for p := range work {
						if s, err := st.Store(context.Background(), &dimse.StoredInstance{Path: p}); s != dimse.StatusSuccess {
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
