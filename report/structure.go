package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/liesweep/liesweep/sweeps"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// structureStats are the structure constants of a group's passing trials
// at its verdict's N_g over seeds: Mean[k][γ] and Std[k][γ] of a_[αβ]γ
// for the k-th pair (α, β) = Pairs[k], α < β. Std is the sample standard
// deviation (n − 1), nil with one seed.
type structureStats struct {
	N     int
	Seeds []int
	Pairs [][2]int
	Mean  [][]float64
	Std   [][]float64
}

// passedAt is the passing trials of the group at N_g = ng, the best (the
// one the report shows) first, the others by seed.
func passedAt(g sweeps.Group, ng int) []sweeps.TrialResult {
	for _, lv := range g.Levels {
		if lv.NG != ng {
			continue
		}
		best := lv.Best()
		if !best.Passed {
			return nil
		}
		out := []sweeps.TrialResult{best}
		for _, t := range lv.Trials {
			if t.Passed && t.Seed != best.Seed {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// cube reports whether a is n × n × n.
func cube(a [][][]float64, n int) bool {
	if len(a) != n {
		return false
	}
	for _, x := range a {
		if len(x) != n {
			return false
		}
		for _, y := range x {
			if len(y) != n {
				return false
			}
		}
	}
	return true
}

// statsOf averages the structure constants of the trials' (each n × n × n;
// others are left out) over seeds.
func statsOf(n int, seeds []int, consts [][][][]float64) structureStats {
	st := structureStats{N: n, Seeds: seeds}
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			st.Pairs = append(st.Pairs, [2]int{a, b})
		}
	}
	k := float64(len(consts))
	st.Mean = make([][]float64, len(st.Pairs))
	if len(consts) > 1 {
		st.Std = make([][]float64, len(st.Pairs))
	}
	for i, p := range st.Pairs {
		st.Mean[i] = make([]float64, n)
		if st.Std != nil {
			st.Std[i] = make([]float64, n)
		}
		for c := 0; c < n; c++ {
			var s float64
			for _, a := range consts {
				s += a[p[0]][p[1]][c]
			}
			m := s / k
			st.Mean[i][c] = m
			if st.Std != nil {
				var ss float64
				for _, a := range consts {
					d := a[p[0]][p[1]][c] - m
					ss += d * d
				}
				st.Std[i][c] = math.Sqrt(ss / (k - 1))
			}
		}
	}
	return st
}

// learnedStructure is the mean and spread over the passing seeds of the
// structure constants in the learned bases.
func learnedStructure(g sweeps.Group) (structureStats, bool) {
	ts := passedAt(g, g.MaxNG)
	n := g.MaxNG
	var seeds []int
	var consts [][][][]float64
	for _, t := range ts {
		if cube(t.StructureConstants, n) {
			seeds = append(seeds, t.Seed)
			consts = append(consts, t.StructureConstants)
		}
	}
	if n < 2 || len(consts) == 0 {
		return structureStats{}, false
	}
	return statsOf(n, seeds, consts), true
}

// sparseStructure is the mean and spread over the passing seeds of the
// structure constants in the sparse bases, each seed's basis first put in
// the order and signs of the best seed's (alignSparse): the sparse basis
// is canonical up to those.
func sparseStructure(g sweeps.Group) (structureStats, bool) {
	ts := passedAt(g, g.MaxNG)
	n := g.MaxNG
	if n < 2 || len(ts) == 0 || !sparseOK(ts[0].SparseBasis, n) {
		return structureStats{}, false
	}
	ref := ts[0].SparseBasis
	var seeds []int
	var consts [][][][]float64
	for _, t := range ts {
		if !sparseOK(t.SparseBasis, n) {
			continue
		}
		perm, sign := alignSparse(ref.Matrices, t.SparseBasis.Matrices)
		seeds = append(seeds, t.Seed)
		consts = append(consts, permuteConstants(t.SparseBasis.StructureConstants, perm, sign))
	}
	return statsOf(n, seeds, consts), true
}

func sparseOK(sb *sweeps.SparseBasis, n int) bool {
	if sb == nil || len(sb.Matrices) != n || !cube(sb.StructureConstants, n) {
		return false
	}
	for _, m := range sb.Matrices {
		if len(m) != len(sb.Matrices[0]) {
			return false
		}
		for _, r := range m {
			if len(r) != len(sb.Matrices[0][0]) {
				return false
			}
		}
	}
	return true
}

// alignSparse matches the basis other to ref: other[perm[α]] ≈ sign[α]·ref[α],
// greedily by the largest |cosine| between the matrices (Frobenius inner
// product) among the pairs still free. The bases must have as many
// matrices of one shape.
func alignSparse(ref, other [][][]float64) (perm []int, sign []float64) {
	n := len(ref)
	dot := func(a, b [][]float64) float64 {
		var s float64
		for i := range a {
			for j := range a[i] {
				s += a[i][j] * b[i][j]
			}
		}
		return s
	}
	type pair struct {
		a, b int
		cos  float64
	}
	var ps []pair
	for a := range ref {
		for b := range other {
			na, nb := math.Sqrt(dot(ref[a], ref[a])), math.Sqrt(dot(other[b], other[b]))
			c := 0.0
			if na > 0 && nb > 0 {
				c = dot(ref[a], other[b]) / (na * nb)
			}
			ps = append(ps, pair{a, b, c})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return math.Abs(ps[i].cos) > math.Abs(ps[j].cos) })
	perm, sign = make([]int, n), make([]float64, n)
	usedA, usedB := make([]bool, n), make([]bool, n)
	for _, p := range ps {
		if usedA[p.a] || usedB[p.b] {
			continue
		}
		usedA[p.a], usedB[p.b] = true, true
		perm[p.a], sign[p.a] = p.b, 1
		if p.cos < 0 {
			sign[p.a] = -1
		}
	}
	return perm, sign
}

// permuteConstants returns the structure constants in the basis
// N_α = sign[α] M_perm[α]: since the bracket is bilinear,
//
//	a'_[αβ]γ = sign[α] sign[β] sign[γ] a_[perm[α] perm[β]] perm[γ].
func permuteConstants(a [][][]float64, perm []int, sign []float64) [][][]float64 {
	n := len(perm)
	out := make([][][]float64, n)
	for x := range out {
		out[x] = make([][]float64, n)
		for y := range out[x] {
			out[x][y] = make([]float64, n)
			for z := range out[x][y] {
				out[x][y][z] = sign[x] * sign[y] * sign[z] * a[perm[x]][perm[y]][perm[z]]
			}
		}
	}
	return out
}

// labelTicks labels positions 0..len(names)−1 (Reverse: the first name at
// the top), at most 40 of them.
type labelTicks struct {
	Names   []string
	Reverse bool
}

func (t labelTicks) Ticks(lo, hi float64) []plot.Tick {
	n := len(t.Names)
	every := max(1, (n+39)/40)
	var out []plot.Tick
	for i, name := range t.Names {
		at := float64(i)
		if t.Reverse {
			at = float64(n - 1 - i)
		}
		if i%every != 0 {
			name = ""
		}
		out = append(out, plot.Tick{Value: at, Label: name})
	}
	return out
}

// structurePanel draws vals[k][γ] (row k: pair Pairs[k], from the top) as
// a heat map on [lo, hi] with its colour bar; small tables carry their
// numbers in the cells.
func structurePanel(title, letter, barLabel string, st structureStats, vals [][]float64, lo, hi float64, cmap colourMap, format string) (*plot.Plot, *colourBar) {
	rows := len(st.Pairs)
	g := &grid{}
	for c := 0; c < st.N; c++ {
		g.Xs = append(g.Xs, float64(c))
	}
	for r := 0; r < rows; r++ {
		g.Ys = append(g.Ys, float64(r))
		g.Vals = append(g.Vals, vals[rows-1-r]) // the first pair at the top
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = panelTitle
	p.X.Label.Text = "γ (the bracket's component along " + letter + "_γ)"
	p.Y.Label.Text = "pair [" + letter + "_α, " + letter + "_β]"
	p.Add(&rasterHeat{G: g, Map: cmap, Lo: lo, Hi: hi})
	var cols, pairs []string
	for c := 0; c < st.N; c++ {
		cols = append(cols, fmt.Sprintf("%s%d", letter, c+1))
	}
	for _, pr := range st.Pairs {
		pairs = append(pairs, fmt.Sprintf("[%s%d,%s%d]", letter, pr[0]+1, letter, pr[1]+1))
	}
	p.X.Tick.Marker = labelTicks{Names: cols}
	p.Y.Tick.Marker = labelTicks{Names: pairs, Reverse: true}
	p.X.Min, p.X.Max = -0.5, float64(st.N)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	if rows <= 21 && st.N <= 8 {
		t := &cellText{Size: vg.Points(8)}
		span := hi - lo
		if !(span > 0) {
			span = 1
		}
		for k, row := range vals {
			for c, v := range row {
				t.At = append(t.At, plotter.XY{X: float64(c), Y: float64(rows - 1 - k)})
				txt := fmt.Sprintf(format, v)
				if strings.Trim(txt, "-0.") == "" {
					txt = "0" // no "-0.00"
				}
				t.Text = append(t.Text, txt)
				t.Dark = append(t.Dark, luminance(cmap((v-lo)/span)) < 0.45)
			}
		}
		p.Add(t)
	}
	return p, &colourBar{Label: barLabel, Lo: lo, Hi: hi, Map: cmap}
}

// structureImage draws the structure constants at the group's verdict N_g
// as heat maps, a row per pair α < β and a column per γ: the mean over
// the seeds that passed and, with two or more, their sample standard
// deviation; in the learned bases (sparse false) or in the sparse bases
// aligned to the best seed's (sparse true). It returns false when there
// is nothing to draw (N_g < 2, no passing seed, no sparse basis).
func structureImage(g sweeps.Group, sparse bool) (Image, bool, error) {
	st, ok := learnedStructure(g)
	letter, name, basis := "J", "structure", "the learned bases"
	if sparse {
		st, ok = sparseStructure(g)
		letter, name, basis = "M", "sparse-structure", "the sparse basis"
	}
	if !ok {
		return Image{}, false, nil
	}
	m := 0.0
	for _, r := range st.Mean {
		for _, v := range r {
			m = math.Max(m, math.Abs(v))
		}
	}
	if m == 0 {
		m = 1
	}
	seeds := fmt.Sprintf("%d seeds", len(st.Seeds))
	if len(st.Seeds) == 1 {
		seeds = "1 seed"
	}
	mean, meanBar := structurePanel(fmt.Sprintf("mean of a_[αβ]γ over %s", seeds), letter, "mean", st, st.Mean, -m, m, coolWarm, "%.2f")
	row := []*plot.Plot{mean}
	bars := map[*plot.Plot]*colourBar{mean: meanBar}
	if st.Std != nil {
		s := 0.0
		for _, r := range st.Std {
			for _, v := range r {
				s = math.Max(s, v)
			}
		}
		if s == 0 {
			s = m
		}
		std, stdBar := structurePanel(fmt.Sprintf("sample std over %s", seeds), letter, "std", st, st.Std, 0, s, spread, "%.2g")
		row = append(row, std)
		bars[std] = stdBar
	}
	// two panels with their bars at most 13 inches wide: page width
	w := math.Min(5.6, math.Max(3.4, 1.6+0.45*float64(st.N))) + barStrip
	h := math.Min(14, math.Max(2.8, 1.3+0.3*float64(len(st.Pairs))))
	png, err := figure{Panels: [][]*plot.Plot{row}, W: w, H: h, Bars: bars}.render()
	if err != nil {
		return Image{}, false, err
	}
	sorted := append([]int(nil), st.Seeds...)
	sort.Ints(sorted)
	var list []string
	for _, s := range sorted {
		list = append(list, fmt.Sprint(s))
	}
	caption := fmt.Sprintf("a_[αβ]γ with [%[1]s_α, %[1]s_β] ≈ Σ_γ a_[αβ]γ %[1]s_γ in %[2]s at the verdict's N_g = %[3]d: one row per pair α < β, one column per γ (blue negative, white 0, red positive). Left: the mean over the %[4]s that passed at N_g = %[3]d (seeds %[5]s); ",
		letter, basis, g.MaxNG, seeds, strings.Join(list, ", "))
	if st.Std != nil {
		caption += "right: their sample standard deviation (n − 1; white 0). "
	} else {
		caption += "one seed passed, so there is no spread over seeds to show. "
	}
	if sparse {
		caption += fmt.Sprintf("The sparse basis (result.json's sparse_basis: the generators rotated within their span to the fewest non-zero entries) is canonical up to the order and the signs of its elements; each seed's was matched to the best seed's (seed %d) by the largest |cosine| between the matrices and its signs aligned, so mean ± std over seeds is meaningful here: a small std says the seeds found the same algebra with the same constants.", st.Seeds[0])
	} else {
		caption += "The learned bases differ between seeds (any rotation of the span is an equally good basis), so this mean mixes different bases: a large spread here says the seeds chose different bases, not that the algebra is uncertain. The sparse basis, canonical up to order and sign, is comparable across seeds"
		if sparseOK(passedAt(g, g.MaxNG)[0].SparseBasis, g.MaxNG) {
			caption += " (its heat map follows)."
		} else {
			caption += " (not stored for these trials)."
		}
	}
	return Image{Name: name, Title: fmt.Sprintf("Structure constants at N_g = %d in %s", g.MaxNG, basis), PNG: png, Caption: caption}, true, nil
}
