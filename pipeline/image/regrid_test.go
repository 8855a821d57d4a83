package image

import "testing"

func TestLabelsOnGridFlipAndShift(t *testing.T) {
	g := obliqueGrid()
	m := NewLabels(g)
	for i := range m.Data {
		m.Data[i] = uint8(i % 7)
	}
	f := m.FlipRows()
	if f.SameGrid(g, 1e-6) {
		t.Fatal("flipped grid equals the original")
	}
	// Every voxel keeps its place in patient space.
	p1, p2 := m.Point(1, 0, 1), f.Point(1, float64(g.Size[1]-1), 1)
	for a := 0; a < 3; a++ {
		if d := p1[a] - p2[a]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("flip moved voxel: %v vs %v", p1, p2)
		}
	}
	back, err := LabelsOnGrid(f, g)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.Data {
		if back.Data[i] != m.Data[i] {
			t.Fatalf("voxel %d = %d, want %d", i, back.Data[i], m.Data[i])
		}
	}
	// Shift the target grid by one voxel along i: the last column falls outside and is 0.
	sh := g
	sh.Origin = g.Point(1, 0, 0)
	moved, err := LabelsOnGrid(m, sh)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := moved.Data[sh.Index(0, 1, 1)], m.Data[g.Index(1, 1, 1)]; got != want {
		t.Fatalf("shifted voxel = %d, want %d", got, want)
	}
	if got := moved.Data[sh.Index(g.Size[0]-1, 1, 1)]; got != 0 {
		t.Fatalf("voxel outside the source = %d, want 0", got)
	}
}

func TestReorient(t *testing.T) {
	g := obliqueGrid()
	m := NewLabels(g)
	m.Data[3], m.Data[17] = 1, 2
	back, err := Reorient(m.FlipRows(), g)
	if err != nil {
		t.Fatal(err)
	}
	if back.Data[3] != 1 || back.Data[17] != 2 || back.Count(0) != g.Len()-2 {
		t.Fatalf("reoriented labels differ: %v", back.Data)
	}
	half := g
	half.Origin = g.Point(0.5, 0, 0) // voxel centres half a voxel apart
	if _, err := Reorient(m, half); err == nil {
		t.Fatal("Reorient accepted a grid shifted by half a voxel")
	}
	other := g
	other.Size[2]++
	if _, err := Reorient(m, other); err == nil {
		t.Fatal("Reorient accepted a grid of another size")
	}
}
