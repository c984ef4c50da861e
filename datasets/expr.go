package datasets

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Expr is a parsed oracle expression over the variables x0 … x{n-1}: numbers,
// + - * /, ^ with an integer exponent, unary minus, parentheses and the
// functions sin cos exp log sqrt tanh. ParseExpr builds it; models compiles
// it into a differentiable graph and Eval computes it directly.
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

// Pow is X raised to an integer power N (N may be negative or zero).
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

// ExprError reports where an expression is malformed.
type ExprError struct {
	Source string
	Pos    int // byte offset into Source
	Msg    string
}

func (e *ExprError) Error() string {
	return fmt.Sprintf("expression %q: %s at position %d\n    %s\n    %s^", e.Source, e.Msg, e.Pos+1, e.Source, strings.Repeat(" ", e.Pos))
}

// ParseExpr parses src over the variables x0 … x{dim-1}. A syntax error or a
// variable outside that range is an *ExprError that shows the position.
func ParseExpr(src string, dim int) (*Expr, error) {
	p := &parser{src: src, dim: dim}
	p.next()
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.errf(p.tok.pos, "unexpected %s", p.tok)
	}
	if !dependsOnVars(root) {
		return nil, &ExprError{Source: src, Pos: 0, Msg: "the expression uses no variable (an oracle output must depend on x0…x" + strconv.Itoa(dim-1) + ")"}
	}
	return &Expr{Source: src, Root: root}, nil
}

func dependsOnVars(n Node) bool {
	switch n := n.(type) {
	case *Var:
		return true
	case *Neg:
		return dependsOnVars(n.X)
	case *Binary:
		return dependsOnVars(n.L) || dependsOnVars(n.R)
	case *Pow:
		return dependsOnVars(n.X)
	case *Call:
		return dependsOnVars(n.X)
	}
	return false
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
	src string
	dim int
	off int
	tok token
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &ExprError{Source: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) next() {
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

// expr := term (('+'|'-') term)*
func (p *parser) expr() (Node, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.tok.text[0]
		p.next()
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r}
	}
	return l, nil
}

// term := unary (('*'|'/') unary)*
func (p *parser) term() (Node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") {
		op := p.tok.text[0]
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r}
	}
	return l, nil
}

// unary := '-' unary | power
func (p *parser) unary() (Node, error) {
	if p.isOp("-") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Neg{X: x}, nil
	}
	if p.isOp("+") {
		p.next()
		return p.unary()
	}
	return p.power()
}

// power := primary ('^' ['-'] integer)?
func (p *parser) power() (Node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.isOp("^") {
		return x, nil
	}
	p.next()
	sign, pos := 1, p.tok.pos
	if p.isOp("-") {
		sign = -1
		p.next()
	}
	if p.tok.kind != tNum {
		return nil, p.errf(p.tok.pos, "expected an integer exponent after '^', found %s", p.tok)
	}
	n, err := strconv.Atoi(p.tok.text)
	if err != nil {
		return nil, p.errf(pos, "exponent %s is not an integer (only integer powers are supported)", p.tok)
	}
	p.next()
	if p.isOp("^") {
		return nil, p.errf(p.tok.pos, "chained '^' is ambiguous: use parentheses")
	}
	return &Pow{X: x, N: sign * n}, nil
}

// primary := number | x<i> | fn '(' expr ')' | '(' expr ')'
func (p *parser) primary() (Node, error) {
	t := p.tok
	switch {
	case t.kind == tNum:
		v, err := strconv.ParseFloat(t.text, 64)
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
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if !p.isOp(")") {
				return nil, p.errf(p.tok.pos, "expected ')' to close %s(, found %s", t.text, p.tok)
			}
			p.next()
			return &Call{Fn: t.text, X: x}, nil
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
		p.next()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, p.errf(p.tok.pos, "expected ')', found %s", p.tok)
		}
		p.next()
		return x, nil
	}
	return nil, p.errf(t.pos, "expected a number, variable, function or '(', found %s", t)
}
