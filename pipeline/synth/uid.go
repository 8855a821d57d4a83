package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/rand/v2"
)

// UIDRoot is the root of every UID sacrum synth makes: 2.25 followed by the decimal value of a 128-bit
// number (PS3.5 §B.2), here the first 16 bytes of SHA-256 over the seed and the object's role, so that
// the same seed gives the same UIDs and different seeds or roles do not collide in practice.
const UIDRoot = "2.25."

// uid derives a UID from the seed and a role such as "study/17" or "stir/17/5".
func uid(seed int64, role string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "sacrum-synth/%d/%s", seed, role))
	n := new(big.Int).SetBytes(h[:16])
	return UIDRoot + n.String()
}

// newRand returns a deterministic generator for one stream (e.g. "clinical/17" or "image/17").
func newRand(seed int64, stream string) *rand.Rand {
	h := sha256.Sum256(fmt.Appendf(nil, "sacrum-synth-rng/%d/%s", seed, stream))
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
}
