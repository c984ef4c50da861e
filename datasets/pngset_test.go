package datasets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
)

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPNGSetRoundTrip converts a small PNG set to IDX and reads it back:
// grayscale stays one channel; RGB becomes three, channel-first, with the
// exact pixel values; the split column is honoured.
func TestPNGSetRoundTrip(t *testing.T) {
	for _, rgb := range []bool{false, true} {
		files := map[string][]byte{}
		var csv strings.Builder
		csv.WriteString("file,label,split\n")
		for i := range 6 {
			var img image.Image
			if rgb {
				m := image.NewNRGBA(image.Rect(0, 0, 5, 7))
				m.Set(2, 3, color.NRGBA{R: uint8(10 * i), G: 200, B: 51, A: 255})
				img = m
			} else {
				m := image.NewGray(image.Rect(0, 0, 5, 7))
				m.SetGray(2, 3, color.Gray{Y: uint8(10 * i)})
				img = m
			}
			name := fmt.Sprintf("d/%d.png", i)
			files[name] = pngBytes(t, img)
			split := "train"
			if i >= 4 {
				split = "test"
			}
			fmt.Fprintf(&csv, "%s,%d,%s\n", name, i%3, split)
		}
		idx, err := PNGSet("labels.csv", []byte(csv.String()), func(f string) ([]byte, error) {
			if b, ok := files[f]; ok {
				return b, nil
			}
			return nil, errors.New("no such file")
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseIDXSet(IDXFiles, idx)
		if err != nil {
			t.Fatal(err)
		}
		want := ImageShape{1, 7, 5}
		if rgb {
			want.C = 3
		}
		if m.Shape != want || len(m.TrainImages) != 4 || len(m.TestImages) != 2 || m.TestLabels[1] != 5%3 {
			t.Fatalf("rgb %v: shape %v, %d/%d images, test labels %v", rgb, m.Shape, len(m.TrainImages), len(m.TestImages), m.TestLabels)
		}
		im := m.TrainImages[3]
		if got := im[3*5+2]; got != float32(30)/255 {
			t.Errorf("rgb %v: pixel (2,3) channel 0 = %v, want 30/255", rgb, got)
		}
		if rgb && (im[35+3*5+2] != float32(200)/255 || im[70+3*5+2] != float32(51)/255) {
			t.Errorf("G, B of pixel (2,3) = %v, %v: want 200/255, 51/255", im[35+3*5+2], im[70+3*5+2])
		}
	}
}

// TestPNGSetErrors: each bad set is a DataError naming the file (and for
// the CSV its line and column).
func TestPNGSetErrors(t *testing.T) {
	g := pngBytes(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	other := pngBytes(t, image.NewGray(image.Rect(0, 0, 9, 8)))
	tiny := pngBytes(t, image.NewGray(image.Rect(0, 0, 3, 8)))
	files := map[string][]byte{"a.png": g, "b.png": g, "c.png": other, "t.png": tiny, "bad.png": []byte("not a png")}
	read := func(f string) ([]byte, error) {
		if b, ok := files[f]; ok {
			return b, nil
		}
		return nil, errors.New("no such file")
	}
	for _, tc := range []struct{ csv, want string }{
		{"name,label\na.png,1\n", "lacks the column file or label"},
		{"file,label\na.png,1\nb.png,x\n", `row 3, column "label": label "x" is not an integer 0–255`},
		{"file,label\na.png,1\nb.png,256\n", "not an integer 0–255"},
		{"file,label\na.png,1\nc.png,0\n", `"c.png": the image is 8×9`},
		{"file,label\nt.png,1\na.png,0\n", "each side must be 4 to 512"},
		{"file,label\na.png,1\nmissing.png,0\n", `"missing.png": cannot be read`},
		{"file,label\na.png,1\nbad.png,0\n", `"bad.png": not a readable PNG`},
		{"file,label\na.png,1\n", "1 images listed"},
		{"file,label,split\na.png,1,train\nb.png,0,train\n", "no image is in the test split"},
		{"file,label,split\na.png,1,train\nb.png,0,later\n", `split "later" is neither train nor test`},
		{"file,label\na.png,1\n/etc/passwd,0\n", "leaves the CSV's folder"},
		{"file,label\na.png,1\nimgs/../../../etc/hostname,0\n", "leaves the CSV's folder"},
	} {
		_, err := PNGSet("labels.csv", []byte(tc.csv), read)
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a DataError containing %q", tc.csv, err, tc.want)
		}
	}
}

// TestShuffleLabelsRoundTrip: a shuffled set keeps the images and the
// label counts of each split, changes which image has which label, and
// survives EncodeIDXSet → ParseIDXSet unchanged.
func TestShuffleLabelsRoundTrip(t *testing.T) {
	m, err := LoadMNIST("")
	if err != nil {
		t.Skipf("MNIST files: %v", err)
	}
	s := ShuffleLabels(m, 1, []int{0, 1})
	count := func(ls []int) map[int]int {
		c := map[int]int{}
		for _, l := range ls {
			c[l]++
		}
		return c
	}
	var orig []int
	for _, l := range m.TrainLabels {
		if l < 2 {
			orig = append(orig, l)
		}
	}
	if fmt.Sprint(count(s.TrainLabels)) != fmt.Sprint(count(orig)) || len(s.TrainImages) != len(orig) {
		t.Fatalf("label counts %v, want %v", count(s.TrainLabels), count(orig))
	}
	same := 0
	for i, l := range s.TrainLabels {
		if l == orig[i] {
			same++
		}
	}
	// a random permutation of ~47 % zeros keeps about half the labels
	if frac := float64(same) / float64(len(orig)); frac > 0.6 {
		t.Errorf("%.2f of the labels unchanged: not shuffled", frac)
	}
	files, err := EncodeIDXSet(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseIDXSet(IDXFiles, files)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.TrainLabels) != fmt.Sprint(s.TrainLabels) || back.Shape != MNISTShape {
		t.Fatal("labels or shape changed in the round trip")
	}
	for i := range back.TrainImages {
		for j, v := range back.TrainImages[i] {
			if v != s.TrainImages[i][j] {
				t.Fatalf("image %d pixel %d: %v after the round trip, %v before", i, j, v, s.TrainImages[i][j])
			}
		}
	}
}

// TestExprTable: a formula table's target is the formula of its features
// (noise 0), the same seed gives the same rows, and a bad formula is an
// error.
func TestExprTable(t *testing.T) {
	k, err := ExprTable("x0^2 + sin(x1)", 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.Generate(50, 3), k.Generate(50, 3)
	for i := range a.N {
		x := a.Row(i)
		if want := x[0]*x[0] + math.Sin(x[1]); math.Abs(a.Y[i]-want) > 1e-12 || a.Y[i] != b.Y[i] {
			t.Fatalf("row %d: y %v, want %v (and the same again: %v)", i, a.Y[i], want, b.Y[i])
		}
	}
	if _, err := ExprTable("x5", 2, 0); err == nil {
		t.Error("x5 in 2 dimensions accepted")
	}
}

// TestPNGSetGrayTransparent: a gray PNG with a transparent value (tRNS,
// decoded as NRGBA) keeps its gray values: alpha is dropped, not
// multiplied in.
func TestPNGSetGrayTransparent(t *testing.T) {
	// an 8-bit gray PNG whose value 200 is transparent, written by hand:
	// image/png writes no tRNS, so patch one in after IHDR
	m := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range m.Pix {
		m.Pix[i] = 200
	}
	b := pngBytes(t, m)
	ihdrEnd := 8 + 8 + 13 + 4
	trns := []byte{0, 0, 0, 2, 't', 'R', 'N', 'S', 0, 200}
	crc := crc32.ChecksumIEEE(trns[4:])
	trns = binary.BigEndian.AppendUint32(trns, crc)
	b = append(append(append([]byte(nil), b[:ihdrEnd]...), trns...), b[ihdrEnd:]...)
	if img, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	} else if _, ok := img.(*image.NRGBA); !ok {
		t.Fatalf("decoded as %T, want *image.NRGBA (the tRNS case)", img)
	}
	files := map[string][]byte{"a.png": b, "b.png": b}
	idx, err := PNGSet("l.csv", []byte("file,label\na.png,0\nb.png,1\n"), func(f string) ([]byte, error) { return files[f], nil })
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseIDXSet(IDXFiles, idx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Shape.C != 1 || s.TrainImages[0][5] != 200.0/255 {
		t.Errorf("shape %v, pixel %v: want grayscale 200/255", s.Shape, s.TrainImages[0][5])
	}
}
