package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
)

// writeIDXSet writes an IDX image set into dir: the first nTrain training
// and nTest test images of the digits keep (real MNIST, from the GoMNIST
// module), the images gzip-compressed and the labels raw, as a user's own
// set would come.
func writeIDXSet(t *testing.T, dir string, keep map[int]bool, nTrain, nTest int) {
	t.Helper()
	m, err := datasets.LoadMNIST("")
	if err != nil {
		t.Skipf("MNIST files: %v", err)
	}
	write := func(name string, images [][]float32, labels []int, n int, gz bool) {
		var imgs, lbls bytes.Buffer
		var count uint32
		for i := range labels {
			if !keep[labels[i]] || int(count) == n {
				continue
			}
			count++
			for _, p := range images[i] {
				imgs.WriteByte(byte(p*255 + 0.5))
			}
			lbls.WriteByte(byte(labels[i]))
		}
		hi := make([]byte, 16)
		binary.BigEndian.PutUint32(hi, 0x803)
		binary.BigEndian.PutUint32(hi[4:], count)
		binary.BigEndian.PutUint32(hi[8:], 28)
		binary.BigEndian.PutUint32(hi[12:], 28)
		hl := make([]byte, 8)
		binary.BigEndian.PutUint32(hl, 0x801)
		binary.BigEndian.PutUint32(hl[4:], count)
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(append(hi, imgs.Bytes()...))
		zw.Close()
		os.WriteFile(filepath.Join(dir, name+"-images-idx3-ubyte.gz"), zb.Bytes(), 0o644)
		os.WriteFile(filepath.Join(dir, name+"-labels-idx1-ubyte"), append(hl, lbls.Bytes()...), 0o644)
	}
	write("train", m.TrainImages, m.TrainLabels, nTrain, true)
	write("t10k", m.TestImages, m.TestLabels, nTest, true)
}

// TestImagesIDXSet: a user's own IDX image set (here 400 + 100 real MNIST
// 0s and 1s written as a new set) runs through the conv autoencoder, ψ and
// the generators with `liesweep run`; its SHA-256 is in every image stage
// key, so the same spec on MNIST itself shares no stage; a truncated file
// is an error naming it, before anything trains.
func TestImagesIDXSet(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an autoencoder")
	}
	dir := t.TempDir()
	set := filepath.Join(dir, "myset")
	os.MkdirAll(set, 0o755)
	writeIDXSet(t, set, map[int]bool{0: true, 1: true}, 400, 100)
	spec := filepath.Join(dir, "images.yaml")
	const text = `name: images-test
dataset: {kind: images, path: myset, classes: [0, 1]}
latent_dims: [2]
ng: [1]
autoencoder: {epochs: 8}
oracle_net: {epochs: 20}
classifier: {epochs: 1}
train: {epochs: 100, eval_points: 50, early_stop: false}
`
	s := validateSpec(t, spec, text, "400 training and 100 test images")
	mn := s
	mn.Dataset = sweeps.Dataset{Kind: "mnist", Classes: []int{0, 1}}
	ki, km := sweeps.StageKeys(&s, sweeps.Trial{Latent: 2, NG: 1, Seed: 1}), sweeps.StageKeys(&mn, sweeps.Trial{Latent: 2, NG: 1, Seed: 1})
	if ki.Autoencoder == km.Autoencoder || ki.Classifier == km.Classifier || ki.Generators == km.Generators {
		t.Errorf("the IDX set shares stage keys with MNIST: %+v vs %+v", ki, km)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, code := execute(t, "run", "--spec", spec, "--out", out); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	var v sweeps.VerdictDoc
	readJSON(t, filepath.Join(out, "verdict.json"), &v)
	if len(v.Groups) != 1 || !strings.HasPrefix(v.Groups[0].Dataset, "images(myset)") {
		t.Fatalf("verdict groups %+v", v.Groups)
	}
	tr := v.Groups[0].Levels[0].Trials[0]
	if tr.OracleAccuracy == nil || tr.AutoencoderMSE == nil {
		t.Fatalf("no ψ accuracy (%v) or autoencoder MSE (%v)", tr.OracleAccuracy, tr.AutoencoderMSE)
	}
	// 0 against 1 is the easiest pair: the paper's ψ reaches 99 % on the
	// full set; 300 training images and 8 autoencoder epochs give > 90 %
	if *tr.OracleAccuracy < 0.9 {
		t.Errorf("ψ accuracy %.3f on the validation images (autoencoder MSE %.4f)", *tr.OracleAccuracy, *tr.AutoencoderMSE)
	}
	t.Logf("ψ accuracy %.3f, autoencoder MSE %.4f", *tr.OracleAccuracy, *tr.AutoencoderMSE)

	// a truncated label file is refused, naming it
	lf := filepath.Join(set, "t10k-labels-idx1-ubyte")
	b, _ := os.ReadFile(lf)
	os.WriteFile(lf, b[:len(b)-7], 0o644)
	_, stderr, code := execute(t, "run", "--spec", spec, "--out", filepath.Join(dir, "out2"))
	if code != exitUsage || !strings.Contains(stderr, "t10k-labels-idx1-ubyte") {
		t.Errorf("truncated labels: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "out2", "artifacts")); len(entries) > 0 {
		t.Errorf("bad images left artifacts: %v", entries)
	}
}

// validateSpec writes a spec's text to path and runs `liesweep validate` on
// it: the test fails unless validate exits 0 with want in its stderr. It
// returns the staged spec validate prints.
func validateSpec(t *testing.T, path, text, want string) sweeps.Spec {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := execute(t, "validate", path)
	if code != 0 || !strings.Contains(stderr, want) {
		t.Fatalf("validate: exit %d\n%s", code, stderr)
	}
	var s sweeps.Spec
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// writePNGSet writes a folder of RGB PNGs of 30×30 and its labels CSV:
// the first n real MNIST images of the digits keep, each framed by one
// black pixel and tinted by a colour drawn per image (not per class), so
// that only the shape tells the digits apart.
func writePNGSet(t *testing.T, dir string, keep map[int]bool, n int) (meanSq float64) {
	t.Helper()
	m, err := datasets.LoadMNIST("")
	if err != nil {
		t.Skipf("MNIST files: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "img"), 0o755)
	var csv strings.Builder
	csv.WriteString("file,label\n")
	r := rand.New(rand.NewPCG(7, 7))
	count := 0
	for i, l := range m.TrainLabels {
		if !keep[l] || count == n {
			continue
		}
		tint := [3]float64{0.4 + 0.6*r.Float64(), 0.4 + 0.6*r.Float64(), 0.4 + 0.6*r.Float64()}
		img := image.NewRGBA(image.Rect(0, 0, 30, 30))
		for y := range 28 {
			for x := range 28 {
				v := float64(m.TrainImages[i][y*28+x])
				c := color.RGBA{uint8(255 * v * tint[0]), uint8(255 * v * tint[1]), uint8(255 * v * tint[2]), 255}
				for _, u := range []uint8{c.R, c.G, c.B} {
					meanSq += float64(u) * float64(u) / (255 * 255)
				}
				img.Set(x+1, y+1, c)
			}
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		name := fmt.Sprintf("img/%05d.png", count)
		os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
		fmt.Fprintf(&csv, "%s,%d\n", name, l)
		count++
	}
	os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(csv.String()), 0o644)
	return meanSq / float64(count*3*30*30)
}

// TestImagesPNGFolder: a folder of RGB PNGs of 30×30 (a size the conv
// networks pad to 32×32) with a labels CSV runs through `liesweep run`:
// staging names its shape, ψ separates the classes on the latents, the
// report's decoded images are RGB at the set's size; a PNG of another
// size is an error naming it, before anything trains.
func TestImagesPNGFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an autoencoder")
	}
	dir := t.TempDir()
	set := filepath.Join(dir, "pngs")
	meanSq := writePNGSet(t, set, map[int]bool{0: true, 1: true}, 490)
	spec := filepath.Join(dir, "png.yaml")
	const text = `name: png-test
dataset: {kind: images, path: pngs/labels.csv, classes: [0, 1]}
latent_dims: [2]
ng: [1]
autoencoder: {epochs: 20, batch: 32}
oracle_net: {epochs: 20}
classifier: {epochs: 2}
train: {epochs: 60, eval_points: 50, early_stop: false}
`
	s := validateSpec(t, spec, text, "420 training and 70 test images, 30×30 RGB")
	if !slices.Equal(s.Dataset.ImageShape, []int{3, 30, 30}) {
		t.Fatalf("staged image_shape %v, want [3 30 30]", s.Dataset.ImageShape)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, code := execute(t, "run", "--spec", spec, "--out", out); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	var v sweeps.VerdictDoc
	readJSON(t, filepath.Join(out, "verdict.json"), &v)
	tr := v.Groups[0].Levels[0].Trials[0]
	if tr.OracleAccuracy == nil || tr.AutoencoderMSE == nil {
		t.Fatalf("no ψ accuracy (%v) or autoencoder MSE (%v)", tr.OracleAccuracy, tr.AutoencoderMSE)
	}
	t.Logf("ψ accuracy %.3f, autoencoder MSE %.4f", *tr.OracleAccuracy, *tr.AutoencoderMSE)
	if *tr.OracleAccuracy < 0.9 {
		t.Errorf("ψ accuracy %.3f on the validation images (autoencoder MSE %.4f)", *tr.OracleAccuracy, *tr.AutoencoderMSE)
	}
	// an autoencoder that learnt nothing would draw black images, whose
	// MSE is the pixels' mean square; 20 epochs of 420 images halve it
	// (0.47 of it on 30×30 RGB, as on MNIST's own 28×28)
	if *tr.AutoencoderMSE > 0.7*meanSq {
		t.Errorf("autoencoder MSE %.4f against the pixels' mean square %.4f: the RGB images were not learnt", *tr.AutoencoderMSE, meanSq)
	}
	// the decoded streamline frames are drawn in colour at the set's size:
	// one row of frames 3× zoomed with a 2-pixel frame, 30·3 + 4 high
	strips, _ := filepath.Glob(filepath.Join(out, "report", "plots", "*decoded*.png"))
	if len(strips) == 0 {
		t.Fatal("no decoded streamline strip in the report")
	}
	for _, p := range strips {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.ColorModel != color.RGBAModel || cfg.Height != 30*3+4 {
			t.Errorf("%s: %v, %d×%d (%v): want an RGB strip %d high", filepath.Base(p), err, cfg.Width, cfg.Height, cfg.ColorModel, 30*3+4)
		}
	}
	if d := os.Getenv("LIESWEEP_KEEP_PLOTS"); d != "" {
		os.CopyFS(d, os.DirFS(filepath.Join(out, "report", "plots")))
	}

	// one image of another size is refused, naming it
	small := image.NewGray(image.Rect(0, 0, 28, 28))
	var b bytes.Buffer
	png.Encode(&b, small)
	os.WriteFile(filepath.Join(set, "img", "00003.png"), b.Bytes(), 0o644)
	_, stderr, code := execute(t, "run", "--spec", spec, "--out", filepath.Join(dir, "out2"))
	if code != exitUsage || !strings.Contains(stderr, "00003.png") || !strings.Contains(stderr, "one size") {
		t.Errorf("a 28×28 image among 30×30: exit %d\n%s", code, stderr)
	}
}
