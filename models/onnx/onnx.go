// Package onnx imports an oracle ψ trained elsewhere (PyTorch, exported
// with torch.onnx.export) from an ONNX model. Import rebuilds the network op
// by op in the generators' own gorgonia graph, as a models.GraphOracle, so
// that their losses differentiate through it like through
// models.MLPOracle. The model's protobuf is decoded with the generated
// types of github.com/advancedclimatesystems/gonnx/onnx; the mapping of
// operators onto gorgonia is liesweep's own. ψ computes in float64 whatever
// the model's element type: float32 weights are widened once, at import.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	pb "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/models/ops"
	"github.com/liesweep/liesweep/sweeps"
	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// onnxMinOpset is the oldest opset of the default domain that Import
// reads. Opset 13 moved Softmax to a single axis and Unsqueeze's and
// Squeeze's axes to an input; nothing older is handled.
const onnxMinOpset = 13

// onnxProbeRows are the numbers of rows of the trial builds that Import
// runs to check a model's shapes: two, so that a model whose shapes hold
// for one batch size only (exported with a fixed batch, or mixing the batch
// axis into its weights) is refused; neither 1 nor a usual batch size.
var onnxProbeRows = [2]int{7, 11}

// onnxMaxElems bounds the elements of one tensor of a model (2^28 float64,
// 2 GiB), so a corrupt size fails before it is allocated.
const onnxMaxElems = 1 << 28

// onnxOps are the operators of the default domain Import imports.
var onnxOps = map[string]bool{
	"Abs": true, "Add": true, "Cast": true, "Concat": true, "Constant": true,
	"Conv": true, "Div": true, "Exp": true, "Flatten": true, "Gather": true,
	"Gemm": true, "Identity": true, "LeakyRelu": true, "Log": true, "MatMul": true,
	"Mul": true, "Neg": true, "Relu": true, "Reshape": true, "Shape": true,
	"Sigmoid": true, "Softmax": true, "Softplus": true, "Sqrt": true,
	"Squeeze": true, "Sub": true, "Tanh": true, "Transpose": true, "Unsqueeze": true,
}

func onnxOpList() string {
	ops := make([]string, 0, len(onnxOps))
	for op := range onnxOps {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return strings.Join(ops, ", ")
}

// onnxImports numbers the imported models, so the parameter nodes of two
// of them never share a name in one graph.
var onnxImports atomic.Int64

// UnsupportedOpError is a node whose operator Import cannot import. It
// is an invalid spec: errors.Is(err, sweeps.ErrInvalidSpec) holds.
type UnsupportedOpError struct {
	Node   string // the node's name, or "#i" for the i-th unnamed node
	Op     string // its operator
	Domain string // its operator set's domain; "" is the default, ai.onnx
}

func (e *UnsupportedOpError) Error() string {
	op := e.Op
	if e.Domain != "" && e.Domain != "ai.onnx" {
		op = e.Domain + "." + e.Op
	}
	return fmt.Sprintf("onnx: node %q uses operator %s, which liesweep cannot import (supported: %s)", e.Node, op, onnxOpList())
}

// Unwrap returns sweeps.ErrInvalidSpec.
func (e *UnsupportedOpError) Unwrap() error { return sweeps.ErrInvalidSpec }

// onnxError is any other reason Import refuses a model: an invalid spec
// whose message starts "onnx: ".
type onnxError struct{ err error }

func (e *onnxError) Error() string   { return "onnx: " + e.err.Error() }
func (e *onnxError) Unwrap() []error { return []error{sweeps.ErrInvalidSpec, e.err} }

func errONNX(format string, args ...any) error {
	return &onnxError{err: fmt.Errorf(format, args...)}
}

// Oracle is a frozen ψ imported from an ONNX model by Import: In is ℓ,
// the width of the model's input [N, ℓ], Out is k, the width of its output
// [N, k], and Build puts the model into a graph. Its weights are graph
// nodes that no optimizer is given: gradients flow through ψ into the
// generators and never change it.
type Oracle struct {
	models.GraphOracle
	input  string // the graph input that receives the points
	output string // the graph output that is ψ
	flat   bool   // the output is [N], returned as [N, 1]
	nodes  []onnxNode
	consts map[string]*onnxConst // initializers and Constant nodes
}

var _ models.Oracle = (*Oracle)(nil)

// nodeOf gives the graph node of a parameter (GraphOracle.Build's param).
type nodeOf = func(*models.Param) *G.Node

// graphParams is the nodeOf of a graph of the importer's own (the trial
// builds of probe): one node per parameter, made at its first use.
func graphParams(g *G.ExprGraph) nodeOf {
	nodes := map[*models.Param]*G.Node{}
	return func(p *models.Param) *G.Node {
		if _, ok := nodes[p]; !ok {
			nodes[p] = G.NodeFromAny(g, p.Dense, G.WithName(p.Name))
		}
		return nodes[p]
	}
}

// onnxNode is one operation of the model, its attributes decoded.
type onnxNode struct {
	label   string // name, or "#i"
	op      string
	inputs  []string // "" for an omitted optional input
	outputs []string
	attrs   map[string]*pb.AttributeProto
	// dense is set for a Gemm that runs as one fused Dense op.
	dense *onnxDense
	// fused marks an activation that its Gemm's Dense op already applies.
	fused bool
}

// onnxDense is a Gemm y = act(x·W + b) with constant W (In×Out, already
// transposed when the node's transB is set) and b (1×Out).
type onnxDense struct {
	w, b *models.Param
	act  string
}

// onnxConst is a tensor known when the graph is built: an initializer, the
// value of a Constant node, or an integer tensor computed from shapes.
// Exactly one of f and ints holds its elements, in row-major order.
type onnxConst struct {
	shape []int
	f     []float64
	ints  []int64
	param *models.Param // f as a parameter node's storage; nil for a scalar
}

func (c *onnxConst) isInt() bool { return c.ints != nil }

// onnxValue is a tensor while the graph is built: a graph node, or a
// constant.
type onnxValue struct {
	node *G.Node
	c    *onnxConst
}

func (v onnxValue) shape() []int {
	if v.node != nil {
		return []int(v.node.Shape().Clone())
	}
	return v.c.shape
}

// Import reads a serialised ONNX ModelProto (a .onnx file, opset 13 or
// later) as an oracle ψ: R^ℓ → R^k. The model must have one input [N, ℓ]
// (N dynamic or fixed; with a fixed N, every reshape must still work for
// other batch sizes) and its first output must be [N, k] or [N]; the
// weights must be inside the file, as float32 or float64. Supported
// operators: Gemm, MatMul, Add, Sub, Mul, Div (with numpy broadcasting),
// Conv (1-D [N, C, L] or 2-D [N, C, H, W], group 1, any strides, pads and
// dilations; see convNode), Relu, LeakyRelu, Tanh, Sigmoid, Softplus,
// Softmax (last axis), Abs, Neg, Exp, Log, Sqrt, Flatten, Reshape,
// Transpose, Squeeze, Unsqueeze, Concat, Identity, Constant and Cast, and
// Shape and Gather on shapes (as PyTorch emits for x.view(x.size(0), …)).
// Nodes that ψ's output does not depend on are ignored.
//
// The model is built on two trial batches (onnxProbeRows), so shape errors
// surface here, not when a generator is trained.
// Every error is an invalid spec (errors.Is(err, sweeps.ErrInvalidSpec));
// an operator it cannot import is an *UnsupportedOpError naming the node.
func Import(data []byte) (*Oracle, error) {
	var m pb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, errONNX("decode model: %w", err)
	}
	if err := checkOpset(&m); err != nil {
		return nil, err
	}
	g := m.GetGraph()
	if g == nil {
		return nil, errONNX("the model has no graph (is this an ONNX file?)")
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errONNX("sparse initializers are not supported")
	}
	id := onnxImports.Add(1)
	o := &Oracle{consts: map[string]*onnxConst{}}
	o.Build = o.apply
	for _, t := range g.GetInitializer() {
		c, err := constFromProto(t)
		if err != nil {
			return nil, errONNX("initializer %q: %w", t.GetName(), err)
		}
		o.consts[t.GetName()] = c
	}
	if err := o.readIO(g); err != nil {
		return nil, err
	}
	if err := o.readNodes(g); err != nil {
		return nil, err
	}
	o.planDense(id)
	for name, c := range o.consts {
		if c.f != nil && len(c.shape) > 0 {
			c.param = &models.Param{Name: fmt.Sprintf("onnx%d/%s", id, name), Dense: tensor.New(tensor.WithShape(c.shape...), tensor.WithBacking(c.f))}
		}
	}
	if err := o.probe(); err != nil {
		return nil, err
	}
	return o, nil
}

// checkOpset requires opset 13 or later of the default domain.
func checkOpset(m *pb.ModelProto) error {
	for _, op := range m.GetOpsetImport() {
		if d := op.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		if v := op.GetVersion(); v < onnxMinOpset {
			return errONNX("the model uses opset %d; liesweep imports opset %d or later (export with torch.onnx.export(..., opset_version=%d) or higher)", v, onnxMinOpset, onnxMinOpset)
		}
		return nil
	}
	return errONNX("the model imports no opset of the default domain (is this an ONNX file?)")
}

// readIO finds the input (the one graph input that is not an initializer)
// and the output, and reads ℓ and, where the model states it, k.
func (o *Oracle) readIO(g *pb.GraphProto) error {
	var inputs []*pb.ValueInfoProto
	for _, in := range g.GetInput() {
		if _, ok := o.consts[in.GetName()]; !ok {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.GetName()
		}
		return errONNX("the model has %d inputs %q; ψ takes one, the points [N, d]", len(inputs), names)
	}
	in := inputs[0]
	o.input = in.GetName()
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return errONNX("input %q is not a tensor", o.input)
	}
	if et := pb.TensorProto_DataType(tt.GetElemType()); et != pb.TensorProto_FLOAT && et != pb.TensorProto_DOUBLE {
		return errONNX("input %q holds %v; ψ takes float or double points", o.input, et)
	}
	dims := tt.GetShape().GetDim()
	if tt.GetShape() == nil || len(dims) != 2 {
		return errONNX("input %q has shape %s; ψ takes points [N, d] (images are not this path)", o.input, dimString(dims))
	}
	if o.In = int(dims[1].GetDimValue()); o.In <= 0 || dims[1].GetDimParam() != "" {
		return errONNX("input %q has shape %s; its width d must be fixed", o.input, dimString(dims))
	}
	if len(g.GetOutput()) == 0 {
		return errONNX("the model has no output")
	}
	out := g.GetOutput()[0]
	o.output = out.GetName()
	if _, ok := o.consts[o.output]; ok || o.output == o.input {
		return errONNX("output %q does not depend on the points through any node", o.output)
	}
	if dims := out.GetType().GetTensorType().GetShape().GetDim(); len(dims) == 2 && dims[1].GetDimValue() > 0 {
		o.Out = int(dims[1].GetDimValue())
	}
	return nil
}

func dimString(dims []*pb.TensorShapeProto_Dimension) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		switch {
		case d.GetDimParam() != "":
			s[i] = d.GetDimParam()
		case d.GetDimValue() > 0:
			s[i] = fmt.Sprint(d.GetDimValue())
		default:
			s[i] = "?"
		}
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// readNodes keeps the nodes ψ's output depends on, checks that each reads
// only tensors defined before it and that its operator is supported, and
// folds Constant nodes into constants.
func (o *Oracle) readNodes(g *pb.GraphProto) error {
	all := g.GetNode()
	need := map[string]bool{o.output: true}
	keep := make([]bool, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		for _, out := range all[i].GetOutput() {
			if need[out] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range all[i].GetInput() {
				need[in] = true
			}
		}
	}
	defined := map[string]bool{o.input: true}
	for name := range o.consts {
		defined[name] = true
	}
	for i, pn := range all {
		if !keep[i] {
			continue
		}
		n := onnxNode{label: pn.GetName(), op: pn.GetOpType(), inputs: pn.GetInput(), outputs: pn.GetOutput(), attrs: map[string]*pb.AttributeProto{}}
		if n.label == "" {
			n.label = fmt.Sprintf("#%d", i)
		}
		if d := pn.GetDomain(); (d != "" && d != "ai.onnx") || !onnxOps[n.op] {
			return &UnsupportedOpError{Node: n.label, Op: n.op, Domain: d}
		}
		for _, a := range pn.GetAttribute() {
			if a.GetRefAttrName() != "" {
				return errONNX("node %q (%s): attribute %q refers to a function's attribute", n.label, n.op, a.GetName())
			}
			n.attrs[a.GetName()] = a
		}
		for _, in := range n.inputs {
			if in != "" && !defined[in] {
				return errONNX("node %q (%s) reads %q, which no earlier node, initializer or input defines", n.label, n.op, in)
			}
		}
		if len(n.outputs) == 0 || n.outputs[0] == "" {
			return errONNX("node %q (%s) has no output", n.label, n.op)
		}
		for _, out := range n.outputs {
			defined[out] = true
		}
		if n.op == "Constant" {
			c, err := constantNode(n)
			if err != nil {
				return errONNX("node %q (%s): %w", n.label, n.op, err)
			}
			o.consts[n.outputs[0]] = c
			continue
		}
		o.nodes = append(o.nodes, n)
	}
	if !defined[o.output] {
		return errONNX("no node computes the output %q", o.output)
	}
	return nil
}

// constantNode reads the value of a Constant node.
func constantNode(n onnxNode) (*onnxConst, error) {
	if len(n.attrs) != 1 {
		return nil, fmt.Errorf("want one value attribute, have %d", len(n.attrs))
	}
	for name, a := range n.attrs {
		switch name {
		case "value":
			return constFromProto(a.GetT())
		case "value_float":
			return &onnxConst{shape: []int{}, f: []float64{float64(a.GetF())}}, nil
		case "value_floats":
			f := make([]float64, len(a.GetFloats()))
			for i, v := range a.GetFloats() {
				f[i] = float64(v)
			}
			return &onnxConst{shape: []int{len(f)}, f: f}, nil
		case "value_int":
			return &onnxConst{shape: []int{}, ints: []int64{a.GetI()}}, nil
		case "value_ints":
			return &onnxConst{shape: []int{len(a.GetInts())}, ints: append([]int64{}, a.GetInts()...)}, nil
		}
		return nil, fmt.Errorf("attribute %q is not supported", name)
	}
	return nil, fmt.Errorf("no value")
}

// constFromProto converts a tensor of the model: float types to float64,
// integer types to int64.
func constFromProto(t *pb.TensorProto) (*onnxConst, error) {
	if t == nil {
		return nil, fmt.Errorf("no tensor")
	}
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("the data is in an external file; export the model with its weights inside")
	}
	shape := make([]int, len(t.GetDims()))
	n := 1
	for i, d := range t.GetDims() {
		if d < 0 || d > onnxMaxElems {
			return nil, fmt.Errorf("dimension %d is %d", i, d)
		}
		shape[i] = int(d)
		if n *= int(d); n > onnxMaxElems {
			return nil, fmt.Errorf("shape %v is too large", t.GetDims())
		}
	}
	raw := t.GetRawData()
	c := &onnxConst{shape: shape}
	dt := pb.TensorProto_DataType(t.GetDataType())
	var got int
	switch dt {
	case pb.TensorProto_FLOAT:
		if raw == nil {
			c.f = make([]float64, len(t.GetFloatData()))
			for i, v := range t.GetFloatData() {
				c.f[i] = float64(v)
			}
			got = len(c.f)
			break
		}
		if got = len(raw) / 4; len(raw)%4 == 0 && got == n {
			c.f = make([]float64, n)
			for i := range c.f {
				c.f[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		}
	case pb.TensorProto_DOUBLE:
		if raw == nil {
			c.f, got = append([]float64{}, t.GetDoubleData()...), len(t.GetDoubleData())
			break
		}
		if got = len(raw) / 8; len(raw)%8 == 0 && got == n {
			c.f = make([]float64, n)
			for i := range c.f {
				c.f[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
	case pb.TensorProto_INT64:
		if raw == nil {
			c.ints, got = append([]int64{}, t.GetInt64Data()...), len(t.GetInt64Data())
			break
		}
		if got = len(raw) / 8; len(raw)%8 == 0 && got == n {
			c.ints = make([]int64, n)
			for i := range c.ints {
				c.ints[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		}
	case pb.TensorProto_INT32:
		if raw == nil {
			c.ints, got = make([]int64, len(t.GetInt32Data())), len(t.GetInt32Data())
			for i, v := range t.GetInt32Data() {
				c.ints[i] = int64(v)
			}
			break
		}
		if got = len(raw) / 4; len(raw)%4 == 0 && got == n {
			c.ints = make([]int64, n)
			for i := range c.ints {
				c.ints[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		}
	default:
		return nil, fmt.Errorf("data type %v is not supported; export in float32 or float64", dt)
	}
	if got != n || (c.f == nil && c.ints == nil) {
		return nil, fmt.Errorf("shape %v wants %d elements, the data holds %d", shape, n, got)
	}
	if c.f != nil && n == 0 {
		// gorgonia's tensors cannot hold zero elements
		return nil, fmt.Errorf("shape %v has no elements", shape)
	}
	return c, nil
}

// planDense marks each Gemm that can run as one Dense op (alpha = beta = 1,
// A not transposed, B and C constant, C one row or a vector) and fuses into
// it a Relu or Tanh that is its output's only reader.
func (o *Oracle) planDense(id int64) {
	readers := map[string][]int{}
	for i, n := range o.nodes {
		for _, in := range n.inputs {
			readers[in] = append(readers[in], i)
		}
	}
	for i := range o.nodes {
		n := &o.nodes[i]
		if n.op != "Gemm" || len(n.inputs) < 2 || attrFloat(n, "alpha", 1) != 1 || attrFloat(n, "beta", 1) != 1 || attrInt(n, "transA", 0) != 0 {
			continue
		}
		w, ok := o.consts[n.inputs[1]]
		if !ok || w.f == nil || len(w.shape) != 2 {
			continue
		}
		in, out := w.shape[0], w.shape[1]
		wd := w.f
		if attrInt(n, "transB", 0) != 0 {
			in, out = out, in
			wd = make([]float64, len(w.f))
			for r := 0; r < out; r++ {
				for c := 0; c < in; c++ {
					wd[c*out+r] = w.f[r*in+c]
				}
			}
		}
		bd := make([]float64, out)
		if len(n.inputs) > 2 && n.inputs[2] != "" {
			b, ok := o.consts[n.inputs[2]]
			if !ok || b.f == nil || len(b.f) != out || (len(b.shape) != 1 && !slices.Equal(b.shape, []int{1, out})) {
				continue
			}
			copy(bd, b.f)
		}
		name := fmt.Sprintf("onnx%d/%s", id, n.label)
		n.dense = &onnxDense{
			w: &models.Param{Name: name + ".W", Dense: tensor.New(tensor.WithShape(in, out), tensor.WithBacking(wd))},
			b: &models.Param{Name: name + ".b", Dense: tensor.New(tensor.WithShape(1, out), tensor.WithBacking(bd))},
		}
		if r := readers[n.outputs[0]]; len(r) == 1 && n.outputs[0] != o.output {
			act := &o.nodes[r[0]]
			switch act.op {
			case "Relu":
				n.dense.act, act.fused = ops.ActReLU, true
			case "Tanh":
				n.dense.act, act.fused = ops.ActTanh, true
			}
		}
	}
}

// probe builds ψ on each of onnxProbeRows points, checks its output and,
// when the model does not state it, sets k.
func (o *Oracle) probe() error {
	for _, m := range onnxProbeRows {
		g := G.NewGraph()
		x := G.NewMatrix(g, tensor.Float64, G.WithName("x"), G.WithShape(m, o.In))
		y, err := o.build(graphParams(g), x)
		if err != nil {
			return err
		}
		s := y.Shape()
		switch {
		case len(s) == 1 && s[0] == m && (o.Out == 0 || o.Out == 1) && (o.flat || m == onnxProbeRows[0]):
			o.flat, o.Out = true, 1
		case len(s) == 2 && s[0] == m && (o.Out == 0 || o.Out == s[1]) && !o.flat:
			o.Out = s[1]
		default:
			return errONNX("output %q has shape %v for %d points; ψ must give [N, k] (the model states k = %d)", o.output, s, m, o.Out)
		}
	}
	return nil
}

// apply is Build: the model's nodes on x, its output [N] made a column.
func (o *Oracle) apply(_ *G.ExprGraph, param nodeOf, x *G.Node) (*G.Node, error) {
	y, err := o.build(param, x)
	if err != nil {
		return nil, err
	}
	if o.flat {
		return ops.ReshapeCopy(y, tensor.Shape{x.Shape()[0], 1})
	}
	return y, nil
}

// build builds the model's nodes on x in x's graph, taking the nodes of
// its weights from param, and returns its output.
// A panic inside gorgonia becomes an error naming the node.
func (o *Oracle) build(param nodeOf, x *G.Node) (y *G.Node, err error) {
	if s := x.Shape(); x.Dtype() != tensor.Float64 || len(s) != 2 || s[1] != o.In {
		return nil, fmt.Errorf("onnx oracle: want float64 points [M, %d], got %v %v", o.In, x.Dtype(), s)
	}
	vals := map[string]onnxValue{o.input: {node: x}}
	get := func(name string) (onnxValue, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		c, ok := o.consts[name]
		return onnxValue{c: c}, ok
	}
	var cur *onnxNode
	defer func() {
		if r := recover(); r != nil {
			y, err = nil, errONNX("build: %v", r)
			if cur != nil {
				y, err = nil, errONNX("node %q (%s): %v", cur.label, cur.op, r)
			}
		}
	}()
	for i := range o.nodes {
		cur = &o.nodes[i]
		if cur.fused {
			continue
		}
		ins := make([]onnxValue, len(cur.inputs))
		present := make([]bool, len(cur.inputs))
		for j, name := range cur.inputs {
			if name != "" {
				ins[j], present[j] = get(name)
			}
		}
		out, err := o.buildNode(param, cur, ins, present)
		if err != nil {
			return nil, errONNX("node %q (%s): %w", cur.label, cur.op, err)
		}
		vals[cur.outputs[0]] = out
		if cur.dense != nil && cur.dense.act != "" {
			for _, n := range o.nodes[i+1:] {
				if n.fused && n.inputs[0] == cur.outputs[0] {
					vals[n.outputs[0]] = out
				}
			}
		}
	}
	v, _ := get(o.output)
	if v.node == nil {
		return nil, errONNX("output %q does not depend on the points", o.output)
	}
	return v.node, nil
}

// onnxArity are the least and most inputs of the operators that do not
// take exactly one.
var onnxArity = map[string][2]int{
	"Gemm": {2, 3}, "MatMul": {2, 2}, "Add": {2, 2}, "Sub": {2, 2}, "Mul": {2, 2}, "Div": {2, 2},
	"Reshape": {2, 2}, "Gather": {2, 2}, "Unsqueeze": {2, 2}, "Squeeze": {1, 2}, "Concat": {1, math.MaxInt},
	"Conv": {2, 3},
}

// buildNode builds one node from its inputs (present[i] false for an
// omitted optional input).
func (o *Oracle) buildNode(param nodeOf, n *onnxNode, in []onnxValue, present []bool) (onnxValue, error) {
	lo, hi := 1, 1
	if a, ok := onnxArity[n.op]; ok {
		lo, hi = a[0], a[1]
	}
	if len(in) < lo || len(in) > hi {
		return onnxValue{}, fmt.Errorf("has %d inputs, want %d to %d", len(in), lo, hi)
	}
	for i := 0; i < lo; i++ {
		if !present[i] {
			return onnxValue{}, fmt.Errorf("input %d is missing", i)
		}
	}
	switch n.op {
	case "Identity":
		return in[0], nil
	case "Cast":
		return castValue(n, in[0])
	case "Shape":
		return shapeOf(n, in[0])
	case "Gather":
		return gather(n, in[0], in[1])
	case "Unsqueeze", "Squeeze":
		return squeeze(param, n, in, present)
	case "Concat":
		return concat(param, n, in)
	case "Reshape", "Flatten":
		return reshape(param, n, in)
	}
	if n.dense != nil {
		x, err := floatNode(param, in[0])
		if err != nil {
			return onnxValue{}, err
		}
		return wrap(ops.Dense(x, param(n.dense.w), param(n.dense.b), n.dense.act))
	}
	xs := make([]*G.Node, len(in))
	for i := range in {
		if !present[i] {
			continue
		}
		var err error
		if xs[i], err = floatNode(param, in[i]); err != nil {
			return onnxValue{}, err
		}
	}
	switch n.op {
	case "Relu":
		return wrap(G.Rectify(xs[0]))
	case "Tanh":
		return wrap(G.Tanh(xs[0]))
	case "Sigmoid":
		return wrap(G.Sigmoid(xs[0]))
	case "Softplus":
		return wrap(G.Softplus(xs[0]))
	case "LeakyRelu":
		return wrap(G.LeakyRelu(xs[0], attrFloat(n, "alpha", 0.01)))
	case "Abs":
		return wrap(G.Abs(xs[0]))
	case "Neg":
		return wrap(G.Neg(xs[0]))
	case "Exp":
		return wrap(G.Exp(xs[0]))
	case "Log":
		return wrap(G.Log(xs[0]))
	case "Sqrt":
		return wrap(G.Sqrt(xs[0]))
	case "Softmax":
		r := xs[0].Dims()
		axis, err := normAxis(attrInt(n, "axis", -1), r)
		if err != nil {
			return onnxValue{}, err
		}
		if axis != r-1 {
			return onnxValue{}, fmt.Errorf("softmax over axis %d of a rank-%d tensor: only the last axis is supported", axis, r)
		}
		return wrap(G.SoftMax(xs[0], axis))
	case "Transpose":
		perm := make([]int, len(attrInts(n, "perm")))
		for i, p := range attrInts(n, "perm") {
			perm[i] = int(p)
		}
		if len(perm) > 0 && !isPerm(perm) {
			return onnxValue{}, fmt.Errorf("perm %v is not a permutation", perm)
		}
		return wrap(G.Transpose(xs[0], perm...))
	case "Add", "Sub", "Mul", "Div":
		return broadcastOp(n.op, in[0], in[1], xs[0], xs[1])
	case "MatMul":
		return matMulNode(xs[0], xs[1])
	case "Gemm":
		return gemmNode(n, xs)
	case "Conv":
		return convNode(n, xs)
	}
	// readNodes refuses every operator outside onnxOps before a graph is
	// built; one listed there without a case above is refused the same way
	return onnxValue{}, &UnsupportedOpError{Node: n.label, Op: n.op}
}

func wrap(n *G.Node, err error) (onnxValue, error) { return onnxValue{node: n}, err }

// floatNode returns v as a graph node: a constant's parameter node, or a
// scalar constant for a one-element constant of rank 0.
func floatNode(param nodeOf, v onnxValue) (*G.Node, error) {
	switch {
	case v.node != nil:
		return v.node, nil
	case v.c.isInt():
		return nil, fmt.Errorf("an integer tensor is used as data")
	case v.c.param == nil:
		return G.NewConstant(v.c.f[0]), nil
	}
	return param(v.c.param), nil
}

func attrInt(n *onnxNode, name string, def int64) int64 {
	if a, ok := n.attrs[name]; ok {
		return a.GetI()
	}
	return def
}

// attrFloat returns a float attribute as the float64 with the shortest
// decimal form that rounds to its float32 (ONNX keeps float attributes in
// float32): 0.1, where float64(float32(0.1)) would be 0.10000000149…, so
// LeakyRelu(0.1) computes what PyTorch's float64 model does.
func attrFloat(n *onnxNode, name string, def float64) float64 {
	a, ok := n.attrs[name]
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(float64(a.GetF()), 'g', -1, 32), 64)
	if err != nil {
		return float64(a.GetF())
	}
	return f
}

func attrInts(n *onnxNode, name string) []int64 {
	if a, ok := n.attrs[name]; ok {
		return a.GetInts()
	}
	return nil
}

func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is outside a rank-%d tensor", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

func isPerm(p []int) bool {
	seen := make([]bool, len(p))
	for _, v := range p {
		if v < 0 || v >= len(p) || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// reshapeNode reshapes x, and leaves it alone when the shape is already to.
// Gorgonia keeps a node's shape in the graph. The reshape copies
// (ops.ReshapeCopy): gorgonia's Reshape is a view of x that a later op may
// overwrite in place while x is still needed, by the gradient of the op
// that computed x (Tanh, Sigmoid, a Dense with tanh, …) or by another
// reader of x.
func reshapeNode(x *G.Node, to []int) (*G.Node, error) {
	if slices.Equal([]int(x.Shape()), to) {
		return x, nil
	}
	if numel(to) != x.Shape().TotalSize() {
		return nil, fmt.Errorf("cannot reshape %v to %v", x.Shape(), to)
	}
	if len(to) == 0 {
		return nil, fmt.Errorf("cannot reshape %v to a scalar", x.Shape())
	}
	if x.IsScalar() {
		// a scalar constant: gorgonia makes a new tensor of it
		return G.Reshape(x, tensor.Shape(slices.Clone(to)))
	}
	return ops.ReshapeCopy(x, tensor.Shape(slices.Clone(to)))
}

// castValue passes float data through (ψ computes in float64) and converts
// integer constants.
func castValue(n *onnxNode, v onnxValue) (onnxValue, error) {
	to := pb.TensorProto_DataType(attrInt(n, "to", 0))
	isFloat := to == pb.TensorProto_FLOAT || to == pb.TensorProto_DOUBLE || to == pb.TensorProto_FLOAT16 || to == pb.TensorProto_BFLOAT16
	isInt := to == pb.TensorProto_INT64 || to == pb.TensorProto_INT32
	switch {
	case isFloat && (v.node != nil || !v.c.isInt()):
		return v, nil
	case isFloat:
		c := &onnxConst{shape: v.c.shape, f: make([]float64, len(v.c.ints))}
		for i, x := range v.c.ints {
			c.f[i] = float64(x)
		}
		if len(c.shape) > 0 {
			c.param = &models.Param{Name: "onnx/" + n.outputs[0], Dense: tensor.New(tensor.WithShape(c.shape...), tensor.WithBacking(c.f))}
		}
		return onnxValue{c: c}, nil
	case isInt && v.node == nil && v.c.isInt():
		return v, nil
	}
	return onnxValue{}, fmt.Errorf("cast to %v is not supported here", to)
}

// shapeOf is the Shape operator: the dimensions of its input, from start
// to end, as an integer constant.
func shapeOf(n *onnxNode, v onnxValue) (onnxValue, error) {
	s := v.shape()
	clamp := func(i int64) int {
		if i < 0 {
			i += int64(len(s))
		}
		return int(min(max(i, 0), int64(len(s))))
	}
	start, end := clamp(attrInt(n, "start", 0)), clamp(attrInt(n, "end", int64(len(s))))
	ints := []int64{}
	for i := start; i < end; i++ {
		ints = append(ints, int64(s[i]))
	}
	return onnxValue{c: &onnxConst{shape: []int{len(ints)}, ints: ints}}, nil
}

// gather is the Gather operator on a one-dimensional integer constant
// (PyTorch's x.size(i)).
func gather(n *onnxNode, data, idx onnxValue) (onnxValue, error) {
	if data.node != nil || !data.c.isInt() || len(data.c.shape) != 1 || idx.node != nil || !idx.c.isInt() {
		return onnxValue{}, fmt.Errorf("only gathers from a shape (integer constants) are supported")
	}
	if _, err := normAxis(attrInt(n, "axis", 0), 1); err != nil {
		return onnxValue{}, err
	}
	out := &onnxConst{shape: idx.c.shape, ints: make([]int64, len(idx.c.ints))}
	for i, j := range idx.c.ints {
		k, err := normAxis(j, len(data.c.ints))
		if err != nil {
			return onnxValue{}, fmt.Errorf("index %d is outside %d elements", j, len(data.c.ints))
		}
		out.ints[i] = data.c.ints[k]
	}
	return onnxValue{c: out}, nil
}

// squeeze is Unsqueeze (insert axes of size 1) and Squeeze (drop the given
// axes of size 1, or all of them).
func squeeze(param nodeOf, n *onnxNode, in []onnxValue, present []bool) (onnxValue, error) {
	s := in[0].shape()
	var axes []int64
	if len(in) > 1 && present[1] {
		if in[1].node != nil || !in[1].c.isInt() {
			return onnxValue{}, fmt.Errorf("the axes must be an integer constant")
		}
		axes = in[1].c.ints
	}
	var to []int
	if n.op == "Unsqueeze" {
		r := len(s) + len(axes)
		ones := make([]bool, r)
		for _, a := range axes {
			k, err := normAxis(a, r)
			if err != nil || ones[k] {
				return onnxValue{}, fmt.Errorf("axes %v do not fit a rank-%d result", axes, r)
			}
			ones[k] = true
		}
		j := 0
		for i := 0; i < r; i++ {
			if ones[i] {
				to = append(to, 1)
			} else {
				to = append(to, s[j])
				j++
			}
		}
	} else {
		drop := make([]bool, len(s))
		for _, a := range axes {
			k, err := normAxis(a, len(s))
			if err != nil || s[k] != 1 {
				return onnxValue{}, fmt.Errorf("axes %v do not name dimensions of size 1 of %v", axes, s)
			}
			drop[k] = true
		}
		to = []int{}
		for i, d := range s {
			if (axes == nil && d == 1) || drop[i] {
				continue
			}
			to = append(to, d)
		}
	}
	return reshapeValue(param, n, in[0], to)
}

// reshapeValue gives v the shape to: a copy for a node, a new shape for a
// constant.
func reshapeValue(param nodeOf, n *onnxNode, v onnxValue, to []int) (onnxValue, error) {
	if numel(to) != numel(v.shape()) {
		return onnxValue{}, fmt.Errorf("cannot reshape %v to %v", v.shape(), to)
	}
	if v.node == nil && v.c.isInt() {
		return onnxValue{c: &onnxConst{shape: to, ints: v.c.ints}}, nil
	}
	x, err := floatNode(param, v)
	if err != nil {
		return onnxValue{}, err
	}
	return wrap(reshapeNode(x, to))
}

// concat is Concat of integer constants (a shape being assembled) or of
// float tensors.
func concat(param nodeOf, n *onnxNode, in []onnxValue) (onnxValue, error) {
	allInt := true
	for _, v := range in {
		allInt = allInt && v.node == nil && v.c.isInt()
	}
	if allInt {
		out := &onnxConst{ints: []int64{}}
		for _, v := range in {
			if len(v.c.shape) != 1 {
				return onnxValue{}, fmt.Errorf("only one-dimensional integer tensors can be joined, got shape %v", v.c.shape)
			}
			out.ints = append(out.ints, v.c.ints...)
		}
		out.shape = []int{len(out.ints)}
		return onnxValue{c: out}, nil
	}
	r := len(in[0].shape())
	axis, err := normAxis(attrInt(n, "axis", 0), r)
	if err != nil {
		return onnxValue{}, err
	}
	xs := make([]*G.Node, len(in))
	for i, v := range in {
		if xs[i], err = floatNode(param, v); err != nil {
			return onnxValue{}, err
		}
	}
	if len(xs) == 1 {
		return wrap(xs[0], nil)
	}
	return wrap(G.Concat(axis, xs...))
}

// reshape is Reshape (target shape an integer constant; 0 copies the input's
// dimension unless allowzero, −1 takes what is left) and Flatten (to
// [Π d[:axis], Π d[axis:]]).
func reshape(param nodeOf, n *onnxNode, in []onnxValue) (onnxValue, error) {
	s := in[0].shape()
	if n.op == "Flatten" {
		axis, err := normAxis(attrInt(n, "axis", 1), len(s)+1)
		if err != nil {
			return onnxValue{}, err
		}
		return reshapeValue(param, n, in[0], []int{numel(s[:axis]), numel(s[axis:])})
	}
	if in[1].node != nil || !in[1].c.isInt() || len(in[1].c.shape) != 1 {
		return onnxValue{}, fmt.Errorf("the target shape must be a one-dimensional integer constant")
	}
	want := in[1].c.ints
	to := make([]int, len(want))
	infer, known := -1, 1
	for i, d := range want {
		switch {
		case d == 0 && attrInt(n, "allowzero", 0) == 0:
			if i >= len(s) {
				return onnxValue{}, fmt.Errorf("shape %v copies dimension %d of %v", want, i, s)
			}
			to[i] = s[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d < 0 || d > onnxMaxElems:
			return onnxValue{}, fmt.Errorf("shape %v is not a shape", want)
		default:
			to[i] = int(d)
		}
		if known *= to[i]; known > onnxMaxElems {
			return onnxValue{}, fmt.Errorf("shape %v is not a shape", want)
		}
	}
	if infer >= 0 {
		if known == 0 || numel(s)%known != 0 {
			return onnxValue{}, fmt.Errorf("cannot reshape %v to %v", s, want)
		}
		to[infer] = numel(s) / known
	}
	if numel(to) != numel(s) {
		return onnxValue{}, fmt.Errorf("cannot reshape %v to %v (was the model exported with a fixed batch size? export with dynamic_axes={input: {0: \"N\"}})", s, want)
	}
	return reshapeValue(param, n, in[0], to)
}

// broadcastOp applies an elementwise Add, Sub, Mul or Div with numpy's
// broadcasting: the shapes are aligned at their last axes, the shorter one
// padded with leading 1s, and an axis of size 1 is repeated to match the
// other. A one-element constant is a scalar.
func broadcastOp(op string, av, bv onnxValue, a, b *G.Node) (onnxValue, error) {
	as, bs := av.shape(), bv.shape()
	if av.node == nil && numel(as) == 1 && len(as) <= len(bs) {
		a = G.NewConstant(av.c.f[0])
	}
	if bv.node == nil && numel(bs) == 1 && len(bs) <= len(as) && !a.IsScalar() {
		b = G.NewConstant(bv.c.f[0])
	}
	if a.IsScalar() || b.IsScalar() {
		return elementwise(op, a, b, nil, nil)
	}
	r := max(len(as), len(bs))
	pad := func(x *G.Node, s []int) ([]int, *G.Node, error) {
		p := append(slices.Repeat([]int{1}, r-len(s)), s...)
		x, err := reshapeNode(x, p)
		return p, x, err
	}
	as, a, err := pad(a, as)
	if err != nil {
		return onnxValue{}, err
	}
	bs, b, err = pad(b, bs)
	if err != nil {
		return onnxValue{}, err
	}
	var left, right []byte
	for i := range r {
		switch {
		case as[i] == bs[i]:
		case as[i] == 1:
			left = append(left, byte(i))
		case bs[i] == 1:
			right = append(right, byte(i))
		default:
			return onnxValue{}, fmt.Errorf("shapes %v and %v do not broadcast", av.shape(), bv.shape())
		}
	}
	return elementwise(op, a, b, left, right)
}

func elementwise(op string, a, b *G.Node, left, right []byte) (onnxValue, error) {
	if left == nil && right == nil {
		switch op {
		case "Add":
			return wrap(G.Add(a, b))
		case "Sub":
			return wrap(G.Sub(a, b))
		case "Mul":
			return wrap(G.HadamardProd(a, b))
		}
		return wrap(G.HadamardDiv(a, b))
	}
	switch op {
	case "Add":
		return wrap(G.BroadcastAdd(a, b, left, right))
	case "Sub":
		return wrap(G.BroadcastSub(a, b, left, right))
	case "Mul":
		return wrap(G.BroadcastHadamardProd(a, b, left, right))
	}
	return wrap(G.BroadcastHadamardDiv(a, b, left, right))
}

// matMulNode is numpy's matmul for the shapes a network of points has: two
// matrices, a matrix and a vector, [.., M, K]·[K, N] (folded into one
// matrix product) and two rank-3 batches.
func matMulNode(a, b *G.Node) (onnxValue, error) {
	as, bs := a.Shape(), b.Shape()
	switch {
	case len(as) == 2 && (len(bs) == 2 || len(bs) == 1):
		if as[1] != bs[0] {
			return onnxValue{}, fmt.Errorf("cannot multiply %v by %v", as, bs)
		}
		return wrap(G.Mul(a, b))
	case len(as) > 2 && len(bs) == 2:
		k := as[len(as)-1]
		if k != bs[0] {
			return onnxValue{}, fmt.Errorf("cannot multiply %v by %v", as, bs)
		}
		a2, err := reshapeNode(a, []int{as.TotalSize() / k, k})
		if err != nil {
			return onnxValue{}, err
		}
		y, err := G.Mul(a2, b)
		if err != nil {
			return onnxValue{}, err
		}
		return wrap(reshapeNode(y, append(slices.Clone([]int(as[:len(as)-1])), bs[1])))
	case len(as) == 3 && len(bs) == 3 && as[0] == bs[0] && as[2] == bs[1]:
		return wrap(G.BatchedMatMul(a, b))
	}
	return onnxValue{}, fmt.Errorf("cannot multiply %v by %v: supported are matrices, a batch of matrices by a matrix, and two rank-3 batches", as, bs)
}

// gemmNode is Gemm outside the Dense fast path:
//
//	Y = α·A'·B' + β·C,
//
// A' = Aᵀ if transA, B' = Bᵀ if transB, C broadcast to Y's shape.
func gemmNode(n *onnxNode, xs []*G.Node) (onnxValue, error) {
	a, b := xs[0], xs[1]
	if a.Dims() != 2 || b.Dims() != 2 {
		return onnxValue{}, fmt.Errorf("wants matrices, got %v and %v", a.Shape(), b.Shape())
	}
	var err error
	if attrInt(n, "transA", 0) != 0 {
		if a, err = G.Transpose(a); err != nil {
			return onnxValue{}, err
		}
	}
	if attrInt(n, "transB", 0) != 0 {
		if b, err = G.Transpose(b); err != nil {
			return onnxValue{}, err
		}
	}
	if a.Shape()[1] != b.Shape()[0] {
		return onnxValue{}, fmt.Errorf("cannot multiply %v by %v", a.Shape(), b.Shape())
	}
	y, err := G.Mul(a, b)
	if err != nil {
		return onnxValue{}, err
	}
	if alpha := attrFloat(n, "alpha", 1); alpha != 1 {
		if y, err = G.HadamardProd(G.NewConstant(alpha), y); err != nil {
			return onnxValue{}, err
		}
	}
	if len(xs) < 3 || xs[2] == nil {
		return onnxValue{node: y}, nil
	}
	c := xs[2]
	if beta := attrFloat(n, "beta", 1); beta != 1 {
		if c, err = G.HadamardProd(G.NewConstant(beta), c); err != nil {
			return onnxValue{}, err
		}
	}
	out, err := broadcastOp("Add", onnxValue{node: y}, onnxValue{node: c}, y, c)
	if err == nil && !slices.Equal([]int(out.node.Shape()), []int(y.Shape())) {
		return onnxValue{}, fmt.Errorf("C of shape %v does not broadcast to %v", c.Shape(), y.Shape())
	}
	return out, err
}
