package datasets

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MaxPNGImages bounds the images of a PNG set (MNIST has 70000).
const MaxPNGImages = 1 << 20

// PNGSet converts a folder of PNG images described by a labels CSV into
// the four files of an IDX set (IDXFiles order, uncompressed), so that a
// PNG set is staged, stored and read exactly as an IDX set is.
//
// The CSV (name labels, bytes data) has a header row with the columns
// file (the image's path relative to the CSV's folder) and label (an
// integer 0–255), and optionally split (train or test). Without a split
// column a seeded seventh of the images (MNIST's 10000 of 70000) is held
// out as the test split. read returns the bytes of a file named as in the
// CSV. Every image must have the CSV's first image's size; the set is
// grayscale when every image is (PNG colour type gray), and RGB otherwise
// (alpha is dropped, gray images of a mixed set repeat their value in the
// three channels). Every problem is a DataError naming the file, and for
// the CSV its row and column.
func PNGSet(labels string, data []byte, read func(file string) ([]byte, error)) ([][]byte, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fileError(labels, "no header row (%v): the labels CSV needs a header with the columns file and label (and optionally split)", err)
	}
	header = slices.Clone(header) // the reader reuses its record
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	fileCol, ok1 := col["file"]
	labelCol, ok2 := col["label"]
	splitCol, hasSplit := col["split"]
	if !ok1 || !ok2 {
		return nil, fileError(labels, "the header %q lacks the column file or label: a PNG set's labels CSV has the columns file (the image's path relative to the CSV) and label (0–255), and optionally split (train or test)", strings.Join(header, ","))
	}
	type item struct {
		file  string
		label byte
		test  bool
	}
	var items []item
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileError(labels, "line %d: %v: fix the CSV", line, err)
		}
		if len(items) == MaxPNGImages {
			return nil, fileError(labels, "more than %d images: split the set", MaxPNGImages)
		}
		it := item{file: strings.TrimSpace(rec[fileCol])}
		if it.file == "" {
			return nil, &DataError{File: labels, Row: line, Column: header[fileCol], Msg: "the file name is empty"}
		}
		// inside the CSV's folder only: an absolute path was silently read
		// as relative, and ../ read files from anywhere
		if c := path.Clean(filepath.ToSlash(it.file)); path.IsAbs(c) || filepath.IsAbs(it.file) || c == ".." || strings.HasPrefix(c, "../") {
			return nil, &DataError{File: labels, Row: line, Column: header[fileCol], Msg: fmt.Sprintf("the image path %q leaves the CSV's folder: give it relative to that folder, inside it", it.file)}
		}
		l, err := strconv.Atoi(strings.TrimSpace(rec[labelCol]))
		if err != nil || l < 0 || l > 255 {
			return nil, &DataError{File: labels, Row: line, Column: header[labelCol], Msg: fmt.Sprintf("label %q is not an integer 0–255", rec[labelCol])}
		}
		it.label = byte(l)
		if hasSplit {
			switch s := strings.ToLower(strings.TrimSpace(rec[splitCol])); s {
			case "train":
			case "test", "val", "validation":
				it.test = true
			default:
				return nil, &DataError{File: labels, Row: line, Column: header[splitCol], Msg: fmt.Sprintf("split %q is neither train nor test", rec[splitCol])}
			}
		}
		items = append(items, it)
	}
	if len(items) < 2 {
		return nil, fileError(labels, "%d images listed: a set needs images for training and for testing", len(items))
	}
	if !hasSplit {
		perm := rand.New(rand.NewPCG(0x1ab5, 0x5eed)).Perm(len(items))
		for _, i := range perm[:max(1, len(items)/7)] {
			items[i].test = true
		}
	}

	var shape ImageShape
	imgs := make([]image.Image, len(items))
	gray := true
	for i, it := range items {
		b, err := read(it.file)
		if err != nil {
			return nil, fileError(it.file, "cannot be read (%v): check the file column of %s", err, labels)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return nil, fileError(it.file, "not a readable PNG (%v): save it again as PNG", err)
		}
		s := ImageShape{H: cfg.Height, W: cfg.Width}
		if i == 0 {
			shape = s
			if s.H < MinImageSide || s.W < MinImageSide || s.H > MaxImageSide || s.W > MaxImageSide {
				return nil, fileError(it.file, "the image is %d×%d: each side must be %d to %d pixels", s.H, s.W, MinImageSide, MaxImageSide)
			}
		} else if s != shape {
			return nil, fileError(it.file, "the image is %d×%d while %s is %d×%d: every image of a set must have one size; resize them", s.H, s.W, items[0].file, shape.H, shape.W)
		}
		if imgs[i], err = png.Decode(bytes.NewReader(b)); err != nil {
			return nil, fileError(it.file, "not a readable PNG (%v): save it again as PNG", err)
		}
		switch cfg.ColorModel {
		case color.GrayModel, color.Gray16Model:
		default:
			gray = false
		}
	}
	shape.C = 3
	if gray {
		shape.C = 1
	}
	var files [4]*bytes.Buffer
	counts := [2]int{}
	for _, it := range items {
		if it.test {
			counts[1]++
		} else {
			counts[0]++
		}
	}
	for k, test := range []bool{false, true} {
		if counts[k] == 0 {
			return nil, fileError(labels, "no image is in the %s split: the split column needs both train and test rows", map[bool]string{false: "train", true: "test"}[test])
		}
		im, lb := new(bytes.Buffer), new(bytes.Buffer)
		if gray {
			writeIDXHeader(im, 0x0803, counts[k], shape.H, shape.W)
		} else {
			writeIDXHeader(im, 0x0804, counts[k], shape.H, shape.W, 3)
		}
		writeIDXHeader(lb, 0x0801, counts[k])
		for i, it := range items {
			if it.test != test {
				continue
			}
			appendPixels(im, imgs[i], gray)
			lb.WriteByte(it.label)
		}
		files[2*k], files[2*k+1] = im, lb
	}
	return [][]byte{files[0].Bytes(), files[1].Bytes(), files[2].Bytes(), files[3].Bytes()}, nil
}

// writeIDXHeader writes an IDX header of unsigned bytes: the magic and
// the dimensions, big-endian.
func writeIDXHeader(w *bytes.Buffer, magic uint32, dims ...int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], magic)
	w.Write(b[:])
	for _, d := range dims {
		binary.BigEndian.PutUint32(b[:], uint32(d))
		w.Write(b[:])
	}
}

// appendPixels writes an image's pixels row by row, one byte each
// (grayscale) or three (RGB, channels last), 8 bits per channel.
func appendPixels(w *bytes.Buffer, img image.Image, gray bool) {
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			// straight (not alpha-premultiplied) colour: alpha is dropped,
			// also from a gray PNG with a transparent value (tRNS), which
			// decodes as NRGBA
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if gray {
				w.WriteByte(uint8((19595*uint32(c.R) + 38470*uint32(c.G) + 7471*uint32(c.B) + 1<<15) >> 16))
				continue
			}
			w.Write([]byte{c.R, c.G, c.B})
		}
	}
}

// EncodeIDXSet writes an image set as the four files of an IDX set
// (IDXFiles order, uncompressed): pixels back to bytes (round(255·p)),
// grayscale [N, H, W] or RGB [N, H, W, 3] (channels last), labels as
// bytes. It is ParseIDXSet's inverse for sets whose pixels are k/255.
func EncodeIDXSet(m *MNIST) ([][]byte, error) {
	shape := m.ImageShape()
	out := make([][]byte, 0, 4)
	for _, part := range []struct {
		imgs   [][]float32
		labels []int
	}{{m.TrainImages, m.TrainLabels}, {m.TestImages, m.TestLabels}} {
		if len(part.imgs) != len(part.labels) {
			return nil, fmt.Errorf("encode idx set: %d images and %d labels", len(part.imgs), len(part.labels))
		}
		im, lb := new(bytes.Buffer), new(bytes.Buffer)
		if shape.C == 1 {
			writeIDXHeader(im, 0x0803, len(part.imgs), shape.H, shape.W)
		} else {
			writeIDXHeader(im, 0x0804, len(part.imgs), shape.H, shape.W, shape.C)
		}
		writeIDXHeader(lb, 0x0801, len(part.labels))
		hw := shape.H * shape.W
		for i, img := range part.imgs {
			if len(img) != shape.Pixels() {
				return nil, fmt.Errorf("encode idx set: image %d has %d pixels, want %d", i, len(img), shape.Pixels())
			}
			for k := 0; k < hw; k++ {
				for c := 0; c < shape.C; c++ {
					v := math.Round(255 * float64(img[c*hw+k]))
					im.WriteByte(byte(math.Max(0, math.Min(255, v))))
				}
			}
			if part.labels[i] < 0 || part.labels[i] > 255 {
				return nil, fmt.Errorf("encode idx set: label %d of image %d is not 0–255", part.labels[i], i)
			}
			lb.WriteByte(byte(part.labels[i]))
		}
		out = append(out, im.Bytes(), lb.Bytes())
	}
	return out, nil
}

// ShuffleLabels returns a copy of the set whose training and test labels
// are each permuted at random (seeded): a null control with the images'
// statistics and no relation between an image and its label. keep, when
// not empty, first keeps only the images of those labels.
func ShuffleLabels(m *MNIST, seed uint64, keep []int) *MNIST {
	want := map[int]bool{}
	for _, c := range keep {
		want[c] = true
	}
	out := &MNIST{Shape: m.Shape}
	r := rand.New(rand.NewPCG(seed, 0x5b1f))
	for _, part := range []struct {
		imgs   [][]float32
		labels []int
		dstI   *[][]float32
		dstL   *[]int
	}{{m.TrainImages, m.TrainLabels, &out.TrainImages, &out.TrainLabels}, {m.TestImages, m.TestLabels, &out.TestImages, &out.TestLabels}} {
		for i, l := range part.labels {
			if len(want) == 0 || want[l] {
				*part.dstI = append(*part.dstI, part.imgs[i])
				*part.dstL = append(*part.dstL, l)
			}
		}
		ls := *part.dstL
		r.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
	}
	return out
}
