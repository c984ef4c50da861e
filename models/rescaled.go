package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Rescaled is an oracle on raw features seen from standardised ones, with
// what the flows preserve:
//
//	ψ'(z) = f(ψ(z ⊙ Scale + Shift)),
//
// f the identity (PreserveLogits) or the sigmoid of one output and the
// softmax of several (PreserveProbabilities). It carries a network the
// user trained on their raw features (an imported ONNX model) into the
// standardised space the generators flow in.
type Rescaled struct {
	Inner        Oracle
	Shift, Scale []float64
	Preserve     string

	scale, shift *Param
}

var _ Oracle = (*Rescaled)(nil)

func (o *Rescaled) InDim() int  { return o.Inner.InDim() }
func (o *Rescaled) OutDim() int { return o.Inner.OutDim() }

func (o *Rescaled) apply(b *binder, x *G.Node) (*G.Node, error) {
	d := o.InDim()
	if len(o.Shift) != d || len(o.Scale) != d {
		return nil, fmt.Errorf("rescaled oracle: %d shifts and %d scales for %d inputs", len(o.Shift), len(o.Scale), d)
	}
	// frozen like ψ's weights: graph nodes outside every gradient
	if o.scale == nil {
		o.scale = &Param{Name: "rescale.scale", Dense: tensor.New(tensor.WithShape(1, d), tensor.WithBacking(append([]float64(nil), o.Scale...)))}
		o.shift = &Param{Name: "rescale.shift", Dense: tensor.New(tensor.WithShape(1, d), tensor.WithBacking(append([]float64(nil), o.Shift...)))}
	}
	h, err := G.BroadcastHadamardProd(x, b.node(o.scale), nil, []byte{0})
	if err != nil {
		return nil, err
	}
	if h, err = G.BroadcastAdd(h, b.node(o.shift), nil, []byte{0}); err != nil {
		return nil, err
	}
	y, err := o.Inner.apply(b, h)
	if err != nil || o.Preserve != PreserveProbabilities {
		return y, err
	}
	if o.OutDim() == 1 {
		return G.Sigmoid(y)
	}
	return G.SoftMax(y, 1)
}
