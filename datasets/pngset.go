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
	"math/rand/v2"
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
			if gray {
				w.WriteByte(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
				continue
			}
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			w.Write([]byte{c.R, c.G, c.B})
		}
	}
}
