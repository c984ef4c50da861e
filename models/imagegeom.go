package models

import (
	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// imageGeom is the geometry the conv networks (the autoencoder and φ) work
// in for images of one shape: the image padded with zeros at the bottom
// and the right to sides that are multiples of 4, so that two stride-2
// convolutions and two 2× upsamplings come back to the same size. MNIST's
// 28×28 needs no padding.
type imageGeom struct {
	datasets.ImageShape
	hp, wp int // padded height and width
}

// geomOf returns the geometry for images of shape s; the zero shape is
// MNIST's.
func geomOf(s datasets.ImageShape) imageGeom {
	if s == (datasets.ImageShape{}) {
		s = datasets.MNISTShape
	}
	return imageGeom{ImageShape: s, hp: (s.H + 3) / 4 * 4, wp: (s.W + 3) / 4 * 4}
}

// padded reports whether the working image is larger than the image.
func (g imageGeom) padded() bool { return g.hp != g.H || g.wp != g.W }

// size is the number of values of one working (padded) image.
func (g imageGeom) size() int { return g.C * g.hp * g.wp }

// flat is the number of features after the two stride-2 convolutions of
// aeC2 channels: 32·(hp/4)·(wp/4), 1568 for MNIST.
func (g imageGeom) flat() int { return aeC2 * (g.hp / 4) * (g.wp / 4) }

// put writes one image (C·H·W pixels) into dst (size() values) in the
// working layout; the padding is left as it is (zero).
func (g imageGeom) put(dst, img []float32) {
	if !g.padded() {
		copy(dst, img)
		return
	}
	for c := 0; c < g.C; c++ {
		for y := 0; y < g.H; y++ {
			copy(dst[(c*g.hp+y)*g.wp:], img[(c*g.H+y)*g.W:(c*g.H+y+1)*g.W])
		}
	}
}

// crop returns image i of vals, a batch of working images, as C·H·W
// pixels.
func (g imageGeom) crop(vals []float64, i int) []float32 {
	out := make([]float32, g.Pixels())
	base := i * g.size()
	for c := 0; c < g.C; c++ {
		for y := 0; y < g.H; y++ {
			src := vals[base+(c*g.hp+y)*g.wp:]
			dst := out[(c*g.H+y)*g.W:]
			for x := 0; x < g.W; x++ {
				dst[x] = float32(src[x])
			}
		}
	}
	return out
}

// shape is the shape of a batch of n working images.
func (g imageGeom) shape(n int) tensor.Shape { return tensor.Shape{n, g.C, g.hp, g.wp} }

// node is a constant batch of images in the working layout.
func (g imageGeom) node(graph *G.ExprGraph, images [][]float32) *G.Node {
	flat := make([]float32, len(images)*g.size())
	for i, im := range images {
		g.put(flat[i*g.size():], im)
	}
	return G.NewTensor(graph, tensor.Float32, 4, G.WithName("x"), G.WithShape(g.shape(len(images))...), G.WithValue(tensor.New(tensor.WithShape(g.shape(len(images))...), tensor.WithBacking(flat))))
}
