package radiomics

import (
	"math"
	"sort"
)

// moments holds the central moments of a sample (population definitions).
type moments struct {
	n, mean, m2, m3, m4 float64
}

func momentsOf(x []float64) moments {
	m := moments{n: float64(len(x))}
	for _, v := range x {
		m.mean += v
	}
	m.mean /= m.n
	for _, v := range x {
		d := v - m.mean
		d2 := d * d
		m.m2 += d2
		m.m3 += d2 * d
		m.m4 += d2 * d2
	}
	m.m2 /= m.n
	m.m3 /= m.n
	m.m4 /= m.n
	return m
}

// skewness is m3/m2^1.5, and 0 when the variance is 0 (PyRadiomics; IBSI leaves it undefined).
func (m moments) skewness() float64 {
	if m.m2 == 0 {
		return 0
	}
	return m.m3 / math.Pow(m.m2, 1.5)
}

// kurtosis is m4/m2² (PyRadiomics; IBSI subtracts 3), 0 when the variance is 0.
func (m moments) kurtosis() float64 {
	if m.m2 == 0 {
		return 0
	}
	return m.m4 / (m.m2 * m.m2)
}

// percentile is numpy's default (linear) percentile of sorted values, p in 0…100.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := (float64(len(sorted)) - 1) * p / 100
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// dispersion computes the deviation features shared by stat_* and ih_* on sorted values.
type dispersion struct {
	mean, variance, skew, kurt                     float64
	median, min, max, p10, p25, p75, p90, iqr, rng float64
	mad, rmad, medad, cov, qcod, energy, rms       float64
}

func dispersionOf(sorted []float64) dispersion {
	m := momentsOf(sorted)
	d := dispersion{mean: m.mean, variance: m.m2, skew: m.skewness(), kurt: m.kurtosis()}
	d.min, d.max = sorted[0], sorted[len(sorted)-1]
	d.median = percentile(sorted, 50)
	d.p10, d.p25, d.p75, d.p90 = percentile(sorted, 10), percentile(sorted, 25), percentile(sorted, 75), percentile(sorted, 90)
	d.iqr, d.rng = d.p75-d.p25, d.max-d.min
	var rn float64
	var rsum float64
	for _, x := range sorted {
		if x >= d.p10 && x <= d.p90 {
			rn++
			rsum += x
		}
	}
	rmean := rsum / rn
	for _, x := range sorted {
		d.mad += math.Abs(x - d.mean)
		d.medad += math.Abs(x - d.median)
		d.energy += x * x
		if x >= d.p10 && x <= d.p90 {
			d.rmad += math.Abs(x - rmean)
		}
	}
	n := float64(len(sorted))
	d.mad /= n
	d.medad /= n
	d.rmad /= rn
	d.rms = math.Sqrt(d.energy / n)
	d.cov = math.Sqrt(d.variance) / d.mean
	d.qcod = (d.p75 - d.p25) / (d.p75 + d.p25)
	return d
}

// undefined marks NaN/Inf values with a reason.
func feature(ibsi, class, py string, v float64, reason string) Feature {
	f := Feature{IBSI: ibsi, Class: class, PyRadiomics: py, Value: v}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		f.Value, f.Reason = math.NaN(), reason
	}
	return f
}

// ibsiDispersion returns the features IBSI defines alike for intensities (prefix "stat") and
// for the intensity histogram (prefix "ih"), in the reference table's order; mode (ih only) goes
// after the maximum when given.
func ibsiDispersion(prefix string, d dispersion, mode *float64) []Feature {
	kurt, skew := math.NaN(), math.NaN()
	if d.variance > 0 {
		kurt, skew = d.kurt-3, d.skew
	}
	f := func(name string, v float64, reason string) Feature {
		return feature(prefix+"_"+name, "", "", v, reason)
	}
	out := []Feature{
		f("mean", d.mean, ""), f("var", d.variance, ""), f("skew", skew, "zero variance"),
		f("kurt", kurt, "zero variance"), f("median", d.median, ""), f("min", d.min, ""),
		f("p10", d.p10, ""), f("p90", d.p90, ""), f("max", d.max, ""),
	}
	if mode != nil {
		out = append(out, f("mode", *mode, ""))
	}
	return append(out,
		f("iqr", d.iqr, ""), f("range", d.rng, ""), f("mad", d.mad, ""), f("rmad", d.rmad, ""),
		f("medad", d.medad, ""), f("cov", d.cov, "zero mean"), f("qcod", d.qcod, "P75 + P25 is zero"))
}

// statFeatures computes the IBSI intensity statistics (stat_*, IBSI 3.3) of the intensity-mask values.
func statFeatures(sorted []float64) []Feature {
	d := dispersionOf(sorted)
	return append(ibsiDispersion("stat", d, nil),
		feature("stat_energy", "", "", d.energy, ""),
		feature("stat_rms", "", "", d.rms, ""))
}

// firstOrderFeatures computes PyRadiomics' firstorder class on the intensity-mask values
// (sorted), with its definitions: Kurtosis = IBSI + 3, voxelArrayShift added for the energies and
// RMS, Entropy and Uniformity on the binned values, TotalEnergy scaled by the voxel volume.
func firstOrderFeatures(sorted []float64, levels []int32, shift, voxelVolume float64) []Feature {
	d := dispersionOf(sorted)
	var energy float64
	for _, x := range sorted {
		energy += (x + shift) * (x + shift)
	}
	n := float64(len(sorted))
	ent, unif := histogramEntropy(levels)
	const c = "firstorder"
	energyTag, rmsTag := "stat_energy", "stat_rms"
	if shift != 0 { // the shifted values are not IBSI's
		energyTag, rmsTag = "", ""
	}
	return []Feature{
		feature(energyTag, c, "Energy", energy, ""),
		feature("", c, "TotalEnergy", energy*voxelVolume, ""),
		feature("ih_entropy", c, "Entropy", ent, ""),
		feature("stat_min", c, "Minimum", d.min, ""),
		feature("stat_p10", c, "10Percentile", d.p10, ""),
		feature("stat_p90", c, "90Percentile", d.p90, ""),
		feature("stat_max", c, "Maximum", d.max, ""),
		feature("stat_mean", c, "Mean", d.mean, ""),
		feature("stat_median", c, "Median", d.median, ""),
		feature("stat_iqr", c, "InterquartileRange", d.iqr, ""),
		feature("stat_range", c, "Range", d.rng, ""),
		feature("stat_mad", c, "MeanAbsoluteDeviation", d.mad, ""),
		feature("stat_rmad", c, "RobustMeanAbsoluteDeviation", d.rmad, ""),
		feature(rmsTag, c, "RootMeanSquared", math.Sqrt(energy/n), ""),
		feature("", c, "StandardDeviation", math.Sqrt(d.variance), ""),
		feature("stat_skew", c, "Skewness", d.skew, ""),
		feature("", c, "Kurtosis", d.kurt, ""),
		feature("stat_var", c, "Variance", d.variance, ""),
		feature("ih_uniformity", c, "Uniformity", unif, ""),
	}
}

// histogramEntropy returns PyRadiomics' Entropy (−Σ p log2(p+ε)) and Uniformity (Σ p²) of levels.
func histogramEntropy(levels []int32) (entropy, uniformity float64) {
	var top int32
	for _, l := range levels {
		top = max(top, l)
	}
	counts := make([]float64, top+1) // a slice, not a map: the sums must not depend on map order
	for _, l := range levels {
		counts[l]++
	}
	n := float64(len(levels))
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := c / n
		entropy -= p * math.Log2(p+machineEpsilon)
		uniformity += p * p
	}
	return entropy, uniformity
}

// histogramFeatures computes the IBSI intensity histogram features (ih_*, IBSI 3.4) of grey
// levels 1…ng.
func histogramFeatures(levels []int32, ng int) []Feature {
	x := make([]float64, len(levels))
	h := make([]float64, ng+2)
	for i, l := range levels {
		x[i] = float64(l)
		h[l]++
	}
	sort.Float64s(x)
	d := dispersionOf(x)
	n := float64(len(levels))
	mode, modeCount := 0, -1.0
	var entropy, uniformity float64
	for i := 1; i <= ng; i++ {
		if h[i] > modeCount || (h[i] == modeCount && math.Abs(float64(i)-d.mean) < math.Abs(float64(mode)-d.mean)) {
			mode, modeCount = i, h[i]
		}
		if p := h[i] / n; p > 0 {
			entropy -= p * math.Log2(p)
			uniformity += p * p
		}
	}
	// Histogram gradient: forward difference at the first bin, backward at the last, central elsewhere.
	grad := func(i int) float64 {
		switch {
		case ng == 1:
			return 0
		case i == 1:
			return h[2] - h[1]
		case i == ng:
			return h[ng] - h[ng-1]
		}
		return (h[i+1] - h[i-1]) / 2
	}
	maxG, minG := math.Inf(-1), math.Inf(1)
	var maxGL, minGL int
	for i := 1; i <= ng; i++ {
		g := grad(i)
		if g > maxG {
			maxG, maxGL = g, i
		}
		if g < minG {
			minG, minGL = g, i
		}
	}
	m := float64(mode)
	return append(ibsiDispersion("ih", d, &m),
		feature("ih_entropy", "", "", entropy, ""),
		feature("ih_uniformity", "", "", uniformity, ""),
		feature("ih_max_grad", "", "", maxG, ""),
		feature("ih_max_grad_g", "", "", float64(maxGL), ""),
		feature("ih_min_grad", "", "", minG, ""),
		feature("ih_min_grad_g", "", "", float64(minGL), ""),
	)
}

// ivhFeatures computes the intensity-volume histogram features (ivh_*, IBSI 3.5) from discretised
// levels 1…ng; value converts a level to the intensity it stands for.
func ivhFeatures(levels []int32, ng int, value func(int) float64) []Feature {
	n := float64(len(levels))
	h := make([]float64, ng+2)
	for _, l := range levels {
		h[l]++
	}
	// nu[i] is the fraction of the volume with level ≥ i.
	nu := make([]float64, ng+2)
	for i := ng; i >= 1; i-- {
		nu[i] = nu[i+1] + h[i]/n
	}
	lmin, lmax := ng, 1
	for _, l := range levels {
		lmin, lmax = min(lmin, int(l)), max(lmax, int(l))
	}
	// Volume fraction at intensity fraction f: levels i with (i−lmin)/(lmax−lmin) ≥ f.
	volumeAt := func(f float64) float64 {
		if lmax == lmin {
			return math.NaN()
		}
		for i := lmin; i <= lmax; i++ {
			if float64(i-lmin)/float64(lmax-lmin) >= f-1e-12 {
				return nu[i]
			}
		}
		return 0
	}
	// Intensity at volume fraction f: the lowest level whose fraction ν does not exceed f.
	intensityAt := func(f float64) float64 {
		for i := lmin; i <= lmax; i++ {
			if nu[i] <= f+1e-12 {
				return value(i)
			}
		}
		return value(lmax + 1)
	}
	v10, v90 := volumeAt(0.1), volumeAt(0.9)
	i10, i90 := intensityAt(0.1), intensityAt(0.9)
	// Area under the curve ν(γ) by the trapezoidal rule over the levels present in the range.
	auc := math.NaN()
	if lmax > lmin {
		auc = 0
		for i := lmin; i < lmax; i++ {
			auc += (nu[i] + nu[i+1]) / 2 / float64(lmax-lmin)
		}
	}
	return []Feature{
		feature("ivh_v10", "", "", v10, "a single grey level"),
		feature("ivh_v90", "", "", v90, "a single grey level"),
		feature("ivh_i10", "", "", i10, ""),
		feature("ivh_i90", "", "", i90, ""),
		feature("ivh_diff_v10_v90", "", "", v10-v90, "a single grey level"),
		feature("ivh_diff_i10_i90", "", "", i10-i90, ""),
		feature("ivh_auc", "", "", auc, "a single grey level"),
	}
}

// machineEpsilon is numpy's float64 eps, added by PyRadiomics inside logarithms.
const machineEpsilon = 2.220446049250313e-16
