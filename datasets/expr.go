package datasets

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/liesweep/liesweep/sweeps"
)

// Bounds on an expression. An expression comes from a spec file, that is
// from whoever starts a sweep, and it is parsed by `liesweep validate`, by
// `sweep start` and again on every worker, then compiled into a gorgonia
// graph that runs every epoch: these bounds keep all of that small and
// finite whatever the input.
const (
	// MaxExprLen is the longest expression in bytes. 4096 is more than a
	// page of formula, and room for the built-in norm and lorentz oracles,
	// which are written out as expressions (2191 bytes at the largest dim,
	// sweeps.MaxDim = 256). It bounds the tree to fewer than 2048
	// operations, and with it the graph (a few thousand nodes), the time
	// gorgonia takes to compile it (quadratic in its size) and the
	// recursion of every walk over the tree.
	MaxExprLen = 4096
	// MaxExprDepth is the deepest nesting of parentheses, function calls
	// and unary signs. The parser counts it and refuses before it recurses
	// deeper, so no input can overflow the stack; 64 is far more than a
	// formula a person writes needs.
	MaxExprDepth = 64
	// MaxExprExponent bounds |n| in x^n. x^64 already overflows float64
	// for |x| > 66000 and underflows for |x| < 1e-5, so larger powers only
	// make infinite or NaN losses; an integer power compiles to at most
	// 2·log2(64) = 12 multiplications (binary exponentiation).
	MaxExprExponent = 64
)

// Expr is a parsed oracle expression over the variables x0 … x{n-1}: numbers,
// + - * /, ^ with an integer exponent, unary minus, parentheses and the
// functions sin cos exp log sqrt tanh. ParseExpr builds it; models compiles
// it into a differentiable graph and Eval computes it directly. Subtrees
// without a variable are folded into one *Num when parsed, so every other
// node depends on a variable.
type Expr struct {
	Source string
	Root   Node
}

// Node is one node of an expression tree: *Num, *Var, *Neg, *Binary, *Pow or
// *Call.
type Node interface{ node() }

// Num is a numeric literal.
type Num struct{ Value float64 }

// Var is the variable x{Index}.
type Var struct{ Index int }

// Neg is unary minus.
type Neg struct{ X Node }

// Binary is L Op R with Op one of + - * /.
type Binary struct {
	Op   byte
	L, R Node
}

// Pow is X raised to an integer power N, 0 < |N| ≤ MaxExprExponent (x^0 is
// folded to 1 when parsed).
type Pow struct {
	X Node
	N int
}

// Call applies one of the functions in Functions to X.
type Call struct {
	Fn string
	X  Node
}

func (*Num) node()    {}
func (*Var) node()    {}
func (*Neg) node()    {}
func (*Binary) node() {}
func (*Pow) node()    {}
func (*Call) node()   {}

// Functions are the functions an expression may call.
var Functions = map[string]func(float64) float64{
	"sin": math.Sin, "cos": math.Cos, "exp": math.Exp,
	"log": math.Log, "sqrt": math.Sqrt, "tanh": math.Tanh,
}

// ExprError reports where an expression is malformed. Expressions come
// from specs, so it is an invalid spec: errors.Is(err, sweeps.ErrInvalidSpec)
// holds wherever it surfaces (in `liesweep validate` and on a worker alike),
// and a sweep does not retry it.
type ExprError struct {
	Source string
	Pos    int // byte offset into Source
	Msg    string
}

// Unwrap returns sweeps.ErrInvalidSpec.
func (e *ExprError) Unwrap() error { return sweeps.ErrInvalidSpec }

// Error quotes the expression with a caret under the position; a long
// expression is cut to a window around it, so the message stays short
// whatever the input.
func (e *ExprError) Error() string {
	const before, after = 60, 20
	pos := min(max(e.Pos, 0), len(e.Source))
	lo, hi := max(0, pos-before), min(len(e.Source), pos+after)
	for lo > 0 && !utf8.RuneStart(e.Source[lo]) {
		lo--
	}
	for hi < len(e.Source) && !utf8.RuneStart(e.Source[hi]) {
		hi++
	}
	show, caret := strings.Map(visible, e.Source[lo:hi]), utf8.RuneCountInString(e.Source[lo:pos])
	quoted := strconv.Quote(e.Source)
	if lo > 0 || hi < len(e.Source) {
		if lo > 0 {
			show, caret = "…"+show, caret+1
		}
		if hi < len(e.Source) {
			show += "…"
		}
		quoted = fmt.Sprintf("%q (%d bytes)", show, len(e.Source))
	}
	return fmt.Sprintf("expression %s: %s at position %d\n    %s\n    %s^", quoted, e.Msg, utf8.RuneCountInString(e.Source[:pos])+1, show, strings.Repeat(" ", caret))
}

// visible replaces a control character by '?' in the quoted line (one
// rune for one, so the caret stays under its position).
func visible(r rune) rune {
	if unicode.IsControl(r) {
		return '?'
	}
	return r
}

// ParseExpr parses src over the variables x0 … x{dim-1}. A syntax error, a
// variable outside that range, an expression longer than MaxExprLen, nested
// deeper than MaxExprDepth, with an exponent beyond MaxExprExponent or with
// a constant part that is not finite (sqrt(-1), 1/0) is an *ExprError that
// shows the position. The work is linear in len(src) whatever the input.
func ParseExpr(src string, dim int) (*Expr, error) {
	if len(src) > MaxExprLen {
		return nil, &ExprError{Source: src, Pos: MaxExprLen, Msg: fmt.Sprintf("expression is %d bytes long, over the bound of %d (MaxExprLen: each output is a graph run every epoch)", len(src), MaxExprLen)}
	}
	if err := asciiOnly(src); err != nil {
		return nil, err
	}
	p := &parser{src: src, dim: dim}
	p.next()
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errf(p.tok.pos, "unexpected %s", p.tok)
	}
	if _, ok := root.(*Num); ok {
		return nil, &ExprError{Source: src, Pos: 0, Msg: "the expression is a constant: it uses no variable (an oracle output must depend on x0…x" + strconv.Itoa(dim-1) + ")"}
	}
	return &Expr{Source: src, Root: root}, nil
}

// superscripts are the digits 0…9 written as superscripts.
var superscripts = []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")

// asciiOnly refuses the first character outside the syntax's ASCII, whole
// (a byte of it would print as "\xe2"), with the ASCII it most likely
// stands for.
func asciiOnly(src string) error {
	for i, r := range src {
		if r < utf8.RuneSelf && (r >= ' ' && r != 0x7f || unicode.IsSpace(r)) { // whitespace as the lexer skips it
			continue
		}
		if r < utf8.RuneSelf {
			return &ExprError{Source: src, Pos: i, Msg: fmt.Sprintf("control character %q (U+%04X) in the expression", r, r)}
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(src[i:]); size == 1 {
				return &ExprError{Source: src, Pos: i, Msg: fmt.Sprintf("byte 0x%02x is not UTF-8 text", src[i])}
			}
		}
		hint := "expressions are ASCII: variables x0, x1, …, functions sin cos exp log sqrt tanh, operators + - * / ^ and parentheses"
		switch {
		case r >= '₀' && r <= '₉':
			hint = fmt.Sprintf("write the variable's index as ASCII digits (x%d, not x%c)", r-'₀', r)
		case slices.Contains(superscripts, r):
			hint = fmt.Sprintf("write powers with ^ (x0^%d, not x0%c)", slices.Index(superscripts, r), r)
		case strings.ContainsRune("−–—", r):
			hint = "write minus as the ASCII '-'"
		case strings.ContainsRune("·×⋅∙", r):
			hint = "write products with '*'"
		case r == '÷':
			hint = "write division with '/'"
		case r == '√':
			hint = "write square roots as sqrt(…)"
		}
		return &ExprError{Source: src, Pos: i, Msg: fmt.Sprintf("character %q (U+%04X) is not part of the syntax: %s", r, r, hint)}
	}
	return nil
}

// CheckExprs parses every expression of an expr oracle over R^dim with the
// bounds of ParseExpr. Each problem is a *sweeps.FieldError for the field
// dataset.expr[i] that wraps the *ExprError (with its position) and
// sweeps.ErrInvalidSpec; they are joined. It is what `liesweep validate`
// and every other command that loads a spec run after Spec.Validate, and
// what a worker runs before it trains.
func CheckExprs(exprs []string, dim int) error {
	var errs []error
	for i, s := range exprs {
		if _, err := ParseExpr(s, dim); err != nil {
			errs = append(errs, &sweeps.FieldError{Field: fmt.Sprintf("dataset.expr[%d]", i), Err: err})
		}
	}
	return errors.Join(errs...)
}

// Eval computes the expression at x.
func (e *Expr) Eval(x []float64) float64 { return evalNode(e.Root, x) }

func evalNode(n Node, x []float64) float64 {
	switch n := n.(type) {
	case *Num:
		return n.Value
	case *Var:
		return x[n.Index]
	case *Neg:
		return -evalNode(n.X, x)
	case *Binary:
		l, r := evalNode(n.L, x), evalNode(n.R, x)
		switch n.Op {
		case '+':
			return l + r
		case '-':
			return l - r
		case '*':
			return l * r
		default:
			return l / r
		}
	case *Pow:
		return math.Pow(evalNode(n.X, x), float64(n.N))
	case *Call:
		return Functions[n.Fn](evalNode(n.X, x))
	}
	panic(fmt.Sprintf("datasets: unknown expression node %T", n))
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tIdent
	tOp
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src     string
	dim     int
	off     int
	prevEnd int // where the last consumed token ends
	depth   int // nesting of parentheses, calls and unary signs
	tok     token
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &ExprError{Source: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) next() {
	p.prevEnd = p.off
	for p.off < len(p.src) && unicode.IsSpace(rune(p.src[p.off])) {
		p.off++
	}
	start := p.off
	if p.off >= len(p.src) {
		p.tok = token{kind: tEOF, pos: start}
		return
	}
	c := p.src[p.off]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		for p.off < len(p.src) && (isDigit(p.src[p.off]) || p.src[p.off] == '.') {
			p.off++
		}
		if p.off < len(p.src) && (p.src[p.off] == 'e' || p.src[p.off] == 'E') {
			q := p.off + 1
			if q < len(p.src) && (p.src[q] == '+' || p.src[q] == '-') {
				q++
			}
			if q < len(p.src) && isDigit(p.src[q]) {
				for q < len(p.src) && isDigit(p.src[q]) {
					q++
				}
				p.off = q
			}
		}
		p.tok = token{kind: tNum, text: p.src[start:p.off], pos: start}
	case c == '_' || unicode.IsLetter(rune(c)):
		for p.off < len(p.src) && (p.src[p.off] == '_' || isDigit(p.src[p.off]) || unicode.IsLetter(rune(p.src[p.off]))) {
			p.off++
		}
		p.tok = token{kind: tIdent, text: p.src[start:p.off], pos: start}
	default:
		p.off++
		p.tok = token{kind: tOp, text: string(c), pos: start}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) isOp(s string) bool { return p.tok.kind == tOp && p.tok.text == s }

// enter counts one more level of nesting at pos and refuses past
// MaxExprDepth, before the parser recurses; leave undoes it.
func (p *parser) enter(pos int) error {
	if p.depth++; p.depth > MaxExprDepth {
		return p.errf(pos, "nested deeper than %d levels (MaxExprDepth: parentheses, function calls and unary signs count)", MaxExprDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// fold replaces n by its value when it uses no variable, so constants never
// reach the graph as operations of their own. The subexpression from start
// to the end of the last token must have a finite value.
func (p *parser) fold(n Node, start int) (Node, error) {
	if !isConst(n) {
		return n, nil
	}
	v := evalNode(n, nil)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, p.errf(start, "the constant %s is not finite (it evaluates to %v)", strconv.Quote(strings.TrimSpace(p.src[start:p.prevEnd])), v)
	}
	return &Num{Value: v}, nil
}

// isConst reports whether n's operands are all numbers (deeper subtrees
// have been folded already).
func isConst(n Node) bool {
	switch n := n.(type) {
	case *Num:
		return false // already a value
	case *Neg:
		return isNum(n.X)
	case *Binary:
		return isNum(n.L) && isNum(n.R)
	case *Pow:
		return isNum(n.X)
	case *Call:
		return isNum(n.X)
	}
	return false
}

func isNum(n Node) bool { _, ok := n.(*Num); return ok }

// expr := term (('+'|'-') term)*
func (p *parser) expr() (Node, error) { return p.binary(p.term, "+", "-") }

// term := unary (('*'|'/') unary)*
func (p *parser) term() (Node, error) { return p.binary(p.unary, "*", "/") }

// binary parses operand ((op1|op2) operand)*, left-associative, folding
// each constant subtree as it is built.
func (p *parser) binary(operand func() (Node, error), op1, op2 string) (Node, error) {
	start := p.tok.pos
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for p.isOp(op1) || p.isOp(op2) {
		op := p.tok.text[0]
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		if l, err = p.fold(&Binary{Op: op, L: l, R: r}, start); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// unary := '-' unary | '+' unary | power
func (p *parser) unary() (Node, error) {
	if !p.isOp("-") && !p.isOp("+") {
		return p.power()
	}
	start, neg := p.tok.pos, p.isOp("-")
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next()
	x, err := p.unary()
	if err != nil || !neg {
		return x, err
	}
	return p.fold(&Neg{X: x}, start)
}

// power := primary ('^' ['-'|'+'] integer)?
func (p *parser) power() (Node, error) {
	start := p.tok.pos
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.isOp("^") {
		return x, nil
	}
	p.next()
	sign, pos := 1, p.tok.pos
	if p.isOp("-") || p.isOp("+") {
		if p.isOp("-") {
			sign = -1
		}
		p.next()
	}
	if p.tok.kind != tNum {
		return nil, p.errf(p.tok.pos, "expected an integer exponent after '^', found %s", p.tok)
	}
	n, err := strconv.Atoi(p.tok.text)
	switch {
	case errors.Is(err, strconv.ErrRange) || err == nil && n > MaxExprExponent:
		return nil, p.errf(pos, "exponent %s is beyond the bound |n| ≤ %d (MaxExprExponent: x^%d already overflows float64 for |x| > 66000)", p.tok, MaxExprExponent, MaxExprExponent)
	case err != nil:
		return nil, p.errf(pos, "exponent %s is not an integer (only integer powers are supported)", p.tok)
	}
	p.next()
	if p.isOp("^") {
		return nil, p.errf(p.tok.pos, "chained '^' is ambiguous: use parentheses")
	}
	if n == 0 {
		return &Num{Value: 1}, nil // x^0 = 1 for every x, NaN included
	}
	return p.fold(&Pow{X: x, N: sign * n}, start)
}

// primary := number | x<i> | fn '(' expr ')' | '(' expr ')'
func (p *parser) primary() (Node, error) {
	t := p.tok
	switch {
	case t.kind == tNum:
		v, err := strconv.ParseFloat(t.text, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, p.errf(t.pos, "number %s is out of the range of float64", t)
		}
		if err != nil {
			return nil, p.errf(t.pos, "malformed number %s", t)
		}
		p.next()
		return &Num{Value: v}, nil
	case t.kind == tIdent:
		if fn, ok := Functions[t.text]; ok && fn != nil {
			p.next()
			if !p.isOp("(") {
				return nil, p.errf(p.tok.pos, "expected '(' after function %s", t.text)
			}
			x, err := p.group(t.text)
			if err != nil {
				return nil, err
			}
			return p.fold(&Call{Fn: t.text, X: x}, t.pos)
		}
		if len(t.text) > 1 && t.text[0] == 'x' {
			if i, err := strconv.Atoi(t.text[1:]); err == nil && t.text[1:] == strconv.Itoa(i) {
				if i >= p.dim {
					return nil, p.errf(t.pos, "unknown variable %s: the dataset has dim %d, so variables are x0…x%d", t.text, p.dim, p.dim-1)
				}
				p.next()
				return &Var{Index: i}, nil
			}
		}
		return nil, p.errf(t.pos, "unknown name %s (variables are x0…x%d; functions are sin cos exp log sqrt tanh)", t, p.dim-1)
	case p.isOp("("):
		return p.group("")
	}
	return nil, p.errf(t.pos, "expected a number, variable, function or '(', found %s", t)
}

// group parses '(' expr ')' from the '(' at the current token, one level
// of nesting deeper (enter); fn names the function the parentheses belong
// to in the error of a missing ')' ("" for plain parentheses).
func (p *parser) group(fn string) (Node, error) {
	if err := p.enter(p.tok.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next()
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.isOp(")") {
		if fn != "" {
			return nil, p.errf(p.tok.pos, "expected ')' to close %s(, found %s", fn, p.tok)
		}
		return nil, p.errf(p.tok.pos, "expected ')', found %s", p.tok)
	}
	p.next()
	return x, nil
}
