// Package ops holds liesweep's custom gorgonia operators: the fused layers
// and losses that replace chains of stock gorgonia ops where a profile of
// the training showed the chain's copies, broadcasts and boxed element
// loops (NOTES-gorgonia). Each op computes its value in tight slice loops
// over one or a few GEMMs, and has hand-written gradient ops:
//
//   - Conv3x3, UpConv3x3 and Upsample2x: the autoencoder's convolutions
//     (float32);
//   - Dense: a fully connected layer with its activation (float32 or
//     float64);
//   - ReLU and BCEWithLogits: the autoencoder's activation and loss
//     (float32);
//   - LinearTerms and MovedPoints: the loss terms of linear generators in a
//     graph whose size does not grow with the number of pairs (float64);
//   - Conv: ONNX's convolution with strides, dilations and unequal pads
//     (float64);
//   - ReshapeCopy: a reshape into memory of its own (float32 or float64).
//
// Every op writes into the output it kept from the previous run of the tape
// machine (owned), so a training step allocates nothing large, and splits
// its work over the cores in parts fixed by the shapes alone, so its result
// is the same bits on any number of cores.
package ops

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// Scalar returns the value of a scalar (or the first element of a tensor)
// of float32 or float64 data as a float64, and NaN for any other data.
func Scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case []float64:
		return x[0]
	case []float32:
		return float64(x[0])
	}
	return math.NaN()
}
