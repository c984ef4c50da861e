// Package lie names a finite-dimensional real Lie algebra from its structure
// constants: the least-squares constants of a set of vector fields and
// their brackets, the Killing form and its signature, the derived and lower
// central series, the centre, the radical and a Levi factor, the split of
// the semisimple part into simple ideals, the real form of each by name,
// and the sparsest basis of a set of matrix generators.
//
// It is pure linear algebra on float64 slices and gonum matrices: it knows
// nothing of networks or training, and can name an algebra whose constants
// come from anywhere (liesweep's trials, a notebook, a paper).
//
// # Conventions
//
// Structure constants are a[α][β][γ], indexed [first][second][result]:
//
//	[J_α, J_β] = Σ_γ a[α][β][γ] J_γ.
//
// Functions antisymmetrise them in α, β before use. The adjoint matrices
// are (ad_α)_γδ = a[α][δ][γ] and the Killing form is K_αβ = tr(ad_α ad_β);
// a compact semisimple algebra has K negative definite, so the number of
// negative eigenvalues of a simple ideal's K is the dimension of its maximal
// compact subalgebra.
//
// The bracket is whatever the caller's generators use. For vector fields
// liesweep takes the Lie bracket of fields, [X, Y]^i = X^j ∂_j Y^i −
// Y^j ∂_j X^i; for the linear fields x ↦ Mx it is −[M_X, M_Y], the
// negative matrix commutator. The names do not depend on the sign: a
// global sign flip of every constant is the isomorphism J ↦ −J.
//
// Pairs α < β are listed in the order of Pairs(n): (0,1), (0,2), …,
// (1,2), …; Constants takes one bracket per pair in that order.
//
// # Tolerances
//
// Learned constants are noisy, so every rank decision is relative:
// singular values and eigenvalues below tol × max(1, largest) count as
// zero. Decompose takes tol; AlgebraTol (1e-2) is the default, and
// StructureTol derives it from the least-squares residual of learned
// constants. A bracket counts as zero below AbelianTol (1e-3) of its
// fields' sizes (BracketVanishes).
package lie
