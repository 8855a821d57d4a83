package synth

import (
	"math"
	"testing"
)

type cohortStats struct {
	n, test                   int
	age, male, asas20, asas40 float64
	nested                    bool
	oracleTest, clinTest      float64
}

func statsOf(t *testing.T, recs []Record) cohortStats {
	s := cohortStats{n: len(recs), nested: true}
	var trX [][]float64
	var trY []bool
	var teClin, teOracle []float64
	var teY []bool
	for _, p := range recs {
		s.age += float64(p.Age) / float64(len(recs))
		if p.Sex == "M" {
			s.male += 1 / float64(len(recs))
		}
		if p.ASAS20 {
			s.asas20 += 1 / float64(len(recs))
		}
		if p.ASAS40 {
			s.asas40 += 1 / float64(len(recs))
		}
		if p.ASAS40 && !p.ASAS20 {
			s.nested = false
		}
		if p.Split == "train" {
			trX = append(trX, clinicalX(p))
			trY = append(trY, p.ASAS40)
		} else {
			s.test++
			teOracle = append(teOracle, p.P40)
			teY = append(teY, p.ASAS40)
		}
	}
	score := fitLogistic(t, trX, trY, 1)
	for _, p := range recs {
		if p.Split == "test" {
			teClin = append(teClin, score(clinicalX(p)))
		}
	}
	s.oracleTest = AUC(teOracle, teY)
	s.clinTest = AUC(teClin, teY)
	return s
}

// TestCohortModel checks the generating model on a large cohort: demographics and response rates as
// documented, ASAS40 ⊂ ASAS20, and an oracle that clearly beats a clinical-only model.
func TestCohortModel(t *testing.T) {
	recs := NewCohort(7, 5000)
	s := statsOf(t, recs)
	sum := Summarise(recs)
	t.Logf("n=%d age=%.2f male=%.3f asas20=%.3f asas40=%.3f oracle=%.3f clinical=%.3f", s.n, s.age, s.male, s.asas20, s.asas40, s.oracleTest, s.clinTest)
	checks := []struct {
		name        string
		got, lo, hi float64
	}{
		{"mean age", s.age, 25.5, 27.5},
		{"age SD", sum.SDAge, 8.0, 10.0},
		{"youngest", float64(minAge(recs)), 16, 16},
		{"male fraction", s.male, 0.63, 0.69},
		{"ASAS20 rate", s.asas20, 0.60, 0.70},
		{"ASAS40 rate", s.asas40, 0.40, 0.50},
		{"oracle AUC", s.oracleTest, 0.85, 0.95},
		{"clinical-only AUC", s.clinTest, 0.60, s.oracleTest - 0.10},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %.3f, want %.2f…%.2f", c.name, c.got, c.lo, c.hi)
		}
	}
	if !s.nested {
		t.Errorf("an ASAS40 responder is not an ASAS20 responder")
	}
}

// TestCohortSeed1 is acceptance 3 for the demonstration cohort (--patients 183 --seed 1): the oracle
// AUC for ASAS40 on the test split lies in 0.85–0.95 and a clinical-only logistic model is clearly lower.
func TestCohortSeed1(t *testing.T) {
	s := statsOf(t, NewCohort(1, 183))
	t.Logf("seed 1: n=%d test=%d asas20=%.3f asas40=%.3f oracle AUC=%.3f clinical-only AUC=%.3f", s.n, s.test, s.asas20, s.asas40, s.oracleTest, s.clinTest)
	if s.test < 33 || s.test > 40 {
		t.Errorf("test split has %d patients, want about 183/5", s.test)
	}
	if s.oracleTest < 0.85 || s.oracleTest > 0.95 {
		t.Errorf("oracle test AUC %.3f, want 0.85–0.95", s.oracleTest)
	}
	if s.clinTest > s.oracleTest-0.08 {
		t.Errorf("clinical-only test AUC %.3f is not clearly below the oracle %.3f", s.clinTest, s.oracleTest)
	}
	if math.IsNaN(s.clinTest) {
		t.Errorf("clinical AUC is NaN")
	}
}

func minAge(recs []Record) int {
	m := recs[0].Age
	for _, p := range recs {
		m = min(m, p.Age)
	}
	return m
}
