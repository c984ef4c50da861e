package datasets

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Analytic oracle kinds.
const (
	OracleNorm    = "norm"    // φ(x) = Σ x_i², symmetry algebra so(n)
	OracleLorentz = "lorentz" // φ(x) = x_0² − Σ_{i≥1} x_i², symmetry algebra so(1, n−1)
	OracleExpr    = "expr"    // user expressions, one per output
)

// AnalyticOracle returns the expressions of an analytic oracle over R^dim:
// norm and lorentz are written as expressions too, so every analytic oracle
// takes the same path into a graph.
func AnalyticOracle(kind string, dim int, exprs []string) ([]*Expr, error) {
	if dim < 1 {
		return nil, fmt.Errorf("analytic oracle: dim must be ≥ 1, got %d", dim)
	}
	var src []string
	switch kind {
	case OracleNorm, OracleLorentz:
		terms := make([]string, dim)
		for i := range terms {
			terms[i] = fmt.Sprintf("x%d^2", i)
		}
		sep := " + "
		if kind == OracleLorentz {
			sep = " - "
		}
		src = []string{strings.Join(terms, sep)}
	case OracleExpr:
		if len(exprs) == 0 {
			return nil, fmt.Errorf("analytic oracle expr: dataset.expr is empty; give one expression per output, e.g. [\"x0^2 + x1^2\"]")
		}
		src = exprs
	default:
		return nil, fmt.Errorf("analytic oracle %q: unknown kind (want %s, %s or %s)", kind, OracleNorm, OracleLorentz, OracleExpr)
	}
	out := make([]*Expr, len(src))
	for i, s := range src {
		e, err := ParseExpr(s, dim)
		if err != nil {
			return nil, fmt.Errorf("dataset.expr[%d]: %w", i, err)
		}
		out[i] = e
	}
	return out, nil
}

// GaussianSamples draws n points of N(0, I_dim) from a generator seeded with
// (seed, stream): the same arguments always give the same points.
func GaussianSamples(n, dim int, seed, stream uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, stream))
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, dim)
		for j := range out[i] {
			out[i][j] = r.NormFloat64()
		}
	}
	return out
}

// Split is a set of images with labels given as indices into the selected
// classes (so a {0, 1} subset has labels 0 and 1, a {3, 8} subset too).
type Split struct {
	Images [][]float32
	Labels []int
}

// Select returns the train and validation splits for classes. All ten
// classes (or none given) use the standard 60000/10000 split; a subset takes
// its images from the training set and splits them 3:1 at random (paper
// §5.1), shuffled by seed. maxTrain and maxVal cap the sizes when positive
// (unit tests train on a few hundred images).
func (m *MNIST) Select(classes []int, seed uint64, maxTrain, maxVal int) (train, val Split, err error) {
	if len(classes) == 0 {
		classes = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	index := map[int]int{}
	for i, c := range classes {
		if c < 0 || c > 255 {
			return train, val, fmt.Errorf("image classes: %d is not a label 0–255", c)
		}
		if _, dup := index[c]; dup {
			return train, val, fmt.Errorf("image classes: %d is listed twice", c)
		}
		index[c] = i
	}
	if len(classes) == 10 {
		train = Split{Images: m.TrainImages, Labels: remap(m.TrainLabels, index)}
		val = Split{Images: m.TestImages, Labels: remap(m.TestLabels, index)}
	} else {
		var all Split
		for i, l := range m.TrainLabels {
			if k, ok := index[l]; ok {
				all.Images = append(all.Images, m.TrainImages[i])
				all.Labels = append(all.Labels, k)
			}
		}
		perm := rand.New(rand.NewPCG(seed, 0x5eed5)).Perm(len(all.Labels))
		nTrain := len(perm) * 3 / 4
		for j, p := range perm {
			dst := &val
			if j < nTrain {
				dst = &train
			}
			dst.Images = append(dst.Images, all.Images[p])
			dst.Labels = append(dst.Labels, all.Labels[p])
		}
	}
	train, val = capSplit(train, maxTrain), capSplit(val, maxVal)
	return train, val, nil
}

func remap(labels []int, index map[int]int) []int {
	out := make([]int, len(labels))
	for i, l := range labels {
		out[i] = index[l]
	}
	return out
}

func capSplit(s Split, n int) Split {
	if n > 0 && len(s.Labels) > n {
		return Split{Images: s.Images[:n], Labels: s.Labels[:n]}
	}
	return s
}
