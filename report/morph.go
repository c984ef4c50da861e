package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

// KeepP is the probability a frame's class must keep to count as kept
// (the paper: "classified correctly with predicted probability 1.0").
const KeepP = 0.99

// MorphFrame is one decoded image of the morphing grid (paper Fig. 8),
// judged twice: by ψ on its latent and by the pixel classifier φ on the
// decoded image.
type MorphFrame struct {
	// Step is the signed number of steps of ε from the class centre.
	Step int `json:"step"`
	// Psi and Phi are P(class of the row) under ψ and φ (Phi is null
	// when no φ is stored).
	Psi float64  `json:"psi"`
	Phi *float64 `json:"phi"`
	// PhiClass is the digit φ finds most probable (−1 when no φ is stored).
	PhiClass int `json:"phi_class"`
	// DataDistance is the frame's distance to the nearest validation
	// latent over the median nearest-neighbour distance among them: ≈ 1
	// among the data, ≫ 1 where ψ, D and the flow extrapolate.
	DataDistance float64 `json:"data_distance"`
}

// Morph is one row of the morphing grid: a streamline of one generator
// through the centre of one class, followed both ways.
type Morph struct {
	Dataset   string       `json:"dataset"`
	LatentDim int          `json:"latent_dim"`
	NG        int          `json:"ng"`
	Seed      int          `json:"seed"`
	Generator int          `json:"generator"`
	Class     int          `json:"class"`
	Eps       float64      `json:"eps"`
	Frames    []MorphFrame `json:"frames"`
	// KeptPsi and KeptPhi are the fractions of the row's frames whose
	// class probability is at least KeepP under ψ and under φ.
	KeptPsi float64  `json:"kept_psi"`
	KeptPhi *float64 `json:"kept_phi"`
}

// morphSides is the number of frames on each side of the centre: after
// 1/3, 2/3 and all of the streamline's steps (2000, 4000, 6000 for the
// paper's 6000 steps of ε = 1e-3).
const morphSides = 3

// morphGrid draws the paper's Fig. 8 for generator a of tr: one row per
// class, the class centre in the middle and the images decoded after
// StreamSteps/3, 2/3 and all of StreamSteps steps of ∓ε on either side,
// every frame judged by ψ and (when stored) by φ.
//
// A streamline that diverges (leaves every scale the networks know) costs
// its row only: the row is left out and a note says which and why.
func morphGrid(tr *pipeline.Trained, opt Options, t sweeps.TrialResult, a int) (Image, []Morph, []string, error) {
	starts, classes := centres(tr)
	spacing := nnSpacing(tr.Val, 500)
	var rows [][][]float32
	var morphs []Morph
	var notes []string
	every := max(1, opt.StreamSteps/morphSides)
	for ci, s := range starts {
		back, err := tr.Set.Streamline(a, s, -opt.StreamEps, every*morphSides, every)
		var fwd [][]float64
		if err == nil {
			fwd, err = tr.Set.Streamline(a, s, opt.StreamEps, every*morphSides, every)
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("digit %d left out of the grid: %v", tr.Classes[classes[ci]], err))
			continue
		}
		var pts [][]float64
		var steps []int
		for k := morphSides; k >= 1; k-- {
			pts, steps = append(pts, back[k]), append(steps, -k*every)
		}
		for k := 0; k <= morphSides; k++ {
			pts, steps = append(pts, fwd[k]), append(steps, k*every)
		}
		psi, err := tr.Classifier.Probabilities(pts)
		if err != nil {
			return Image{}, nil, nil, err
		}
		imgs, err := tr.AE.Decode(pts)
		if err != nil {
			return Image{}, nil, nil, err
		}
		rows = append(rows, imgs)
		var phi [][]float64
		if tr.Phi != nil {
			if phi, err = tr.Phi.Probabilities(imgs); err != nil {
				return Image{}, nil, nil, err
			}
		}
		c := classes[ci]
		m := Morph{NG: t.NG, Seed: t.Seed, Generator: a + 1, Class: tr.Classes[c], Eps: opt.StreamEps}
		keptPsi, keptPhi := 0, 0
		for i, p := range pts {
			f := MorphFrame{Step: steps[i], Psi: psi[i][c], PhiClass: -1, DataDistance: nearest(tr.Val, p) / spacing}
			if phi != nil {
				f.Phi, f.PhiClass = &phi[i][c], tr.Classes[models.Argmax(phi[i])]
				if *f.Phi >= KeepP {
					keptPhi++
				}
			}
			if f.Psi >= KeepP {
				keptPsi++
			}
			m.Frames = append(m.Frames, f)
		}
		m.KeptPsi = float64(keptPsi) / float64(len(pts))
		if phi != nil {
			k := float64(keptPhi) / float64(len(pts))
			m.KeptPhi = &k
		}
		morphs = append(morphs, m)
	}
	if len(rows) == 0 {
		return Image{}, nil, notes, fmt.Errorf("morphing grid of J%d: no streamline could be followed (%s)", a+1, strings.Join(notes, "; "))
	}
	b, err := tiles(rows, tr.AE.Shape, 2)
	if err != nil {
		return Image{}, nil, nil, err
	}
	img := Image{Name: fmt.Sprintf("morph-J%d", a+1), Title: fmt.Sprintf("Morphing the platonic digits along J%d (paper Fig. 8)", a+1), PNG: b,
		Caption: fmt.Sprintf("One row per digit: the class centre (middle column) and the images decoded after %d, %d and %d Runge–Kutta steps of ε = %g against (left) and along (right) the streamline of J%d through it (N_g = %d, seed %d).",
			every, 2*every, 3*every, opt.StreamEps, a+1, t.NG, t.Seed)}
	return img, morphs, notes, nil
}

// morphTable is the Markdown of the judges' verdicts on the morphing grid.
func morphTable(morphs []Morph, phiAcc float64) string {
	var b strings.Builder
	if len(morphs) == 0 {
		return ""
	}
	fr := morphs[0].Frames
	b.WriteString("P(class of the row) for every frame, judged by ψ on the latent and by the pixel classifier φ on the decoded image (φ is a separate CNN trained on the MNIST images, sharing no weights with the autoencoder or ψ")
	if phiAcc > 0 {
		fmt.Fprintf(&b, "; validation accuracy %.4f", phiAcc)
	}
	fmt.Fprintf(&b, "). \"kept\" is the fraction of the row's %d frames with p ≥ %.2f; d is the frame's distance to the nearest validation latent over the median nearest-neighbour spacing (≈ 1 among the data). A φ verdict in brackets names the digit φ sees when it is not the row's.\n\n", len(fr), KeepP)
	b.WriteString("| digit | judge |")
	for _, f := range fr {
		fmt.Fprintf(&b, " %+d |", f.Step)
	}
	b.WriteString(" kept |\n|---|---|")
	for range fr {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	var sumPsi, sumPhi float64
	for _, m := range morphs {
		fmt.Fprintf(&b, "| %d | ψ |", m.Class)
		for _, f := range m.Frames {
			fmt.Fprintf(&b, " %.3f |", f.Psi)
		}
		fmt.Fprintf(&b, " %.2f |\n| | φ |", m.KeptPsi)
		for _, f := range m.Frames {
			switch {
			case f.Phi == nil:
				b.WriteString(" – |")
			case f.PhiClass != m.Class:
				fmt.Fprintf(&b, " %.3f (%d) |", *f.Phi, f.PhiClass)
			default:
				fmt.Fprintf(&b, " %.3f |", *f.Phi)
			}
		}
		if m.KeptPhi == nil {
			b.WriteString(" – |\n")
		} else {
			fmt.Fprintf(&b, " %.2f |\n", *m.KeptPhi)
			sumPhi += *m.KeptPhi
		}
		fmt.Fprintf(&b, "| | d |")
		for _, f := range m.Frames {
			fmt.Fprintf(&b, " %.2g |", f.DataDistance)
		}
		b.WriteString(" |\n")
		sumPsi += m.KeptPsi
	}
	n := float64(len(morphs))
	fmt.Fprintf(&b, "\nFrames kept with p ≥ %.2f over all digits: ψ %.2f", KeepP, sumPsi/n)
	if morphs[0].KeptPhi != nil {
		fmt.Fprintf(&b, ", φ %.2f", sumPhi/n)
	}
	b.WriteString(".\n\n")
	return b.String()
}

// nnSpacing is the median distance from each of the first n points to its
// nearest neighbour among all of them: the data's typical spacing.
func nnSpacing(pts [][]float64, n int) float64 {
	n = min(n, len(pts))
	d := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		best := math.Inf(1)
		for j, q := range pts {
			if j != i {
				best = math.Min(best, dist(pts[i], q))
			}
		}
		d = append(d, best)
	}
	if len(d) == 0 {
		return 1
	}
	sort.Float64s(d)
	if d[len(d)/2] == 0 {
		return 1
	}
	return d[len(d)/2]
}

// nearest is the distance from p to the closest of pts.
func nearest(pts [][]float64, p []float64) float64 {
	best := math.Inf(1)
	for _, q := range pts {
		best = math.Min(best, dist(p, q))
	}
	return best
}

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}
