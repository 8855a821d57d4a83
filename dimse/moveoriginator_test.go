package dimse

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type captureHandler struct {
	mu  sync.Mutex
	got []StoredInstance
}

func (h *captureHandler) Admit(ctx context.Context, req *StoreRequest) uint16 { return StatusSuccess }
func (h *captureHandler) Store(ctx context.Context, inst *StoredInstance) (uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, *inst)
	return StatusSuccess, nil
}

// TestMoveOriginatorKept: a C-STORE sub-operation of a C-MOVE carries the Move Originator AE title
// and message ID; the SCP hands both to the store, and answers in the right message.
func TestMoveOriginatorKept(t *testing.T) {
	h := &captureHandler{}
	addr, _ := startTestSCP(t, ServerConfig{AETitle: "SACRUM", TempDir: filepath.Join(t.TempDir(), "tmp"), Handler: h, NoFsync: true,
		Allow: []AllowEntry{{AETitle: "*"}}, Logger: slog.New(slog.DiscardHandler)})

	cl, err := Dial(context.Background(), addr, ClientConfig{CallingAE: "PACS", CalledAE: "SACRUM", Timeout: 5 * time.Second},
		[]Proposal{{AbstractSyntax: MRImageStorage, TransferSyntaxes: []string{ImplicitVRLittleEndian}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Release()
	cmd := &command{CommandField: cStoreRQ, MessageID: 77, AffectedSOPClassUID: MRImageStorage, AffectedSOPInstanceUID: "1.2.3.4", DataSetType: 0,
		HasMoveOriginator: true, MoveOriginatorAE: "MOVESCU", MoveOriginatorMessageID: 12}
	ds := concat(rawHeader(0x0010, 0x0010, 4), []byte("A^B "))
	st, err := cl.exchange(1, cmd, bytesReader(ds), int64(len(ds)))
	if err != nil || st != StatusSuccess {
		t.Fatalf("C-STORE: %04X %v", st, err)
	}
	if len(h.got) != 1 {
		t.Fatalf("%d instances stored", len(h.got))
	}
	g := h.got[0]
	if g.MoveOriginatorAE != "MOVESCU" || g.MoveOriginatorMessageID != 12 || g.MessageID != 77 || g.TransferSyntaxUID != ImplicitVRLittleEndian || g.Assoc.CallingAE != "PACS" {
		t.Errorf("stored %+v", g.StoreRequest)
	}
}
