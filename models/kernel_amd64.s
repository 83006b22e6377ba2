//go:build amd64 && !purego

#include "textflag.h"

// The kernels below reproduce the sums of gemmNTGo and dotGo bit for bit:
// every product is a VMULPD or VMULSD rounded on its own, then added with
// VADDPD or VADDSD in the same order as the Go code. No instruction fuses
// a multiply with an add.

// ROW multiplies the two panel vectors Z0, Z1 by the broadcast x value at
// (ptr) and adds the products to the row's accumulators lo, hi:
//
//	s_lo += x·y_lo,  s_hi += x·y_hi.
#define ROW(ptr, bx, lo, hi) \
	VBROADCASTSD (ptr), bx; \
	VMULPD       Z0, bx, Z4; \
	VMULPD       Z1, bx, Z5; \
	VADDPD       Z4, lo, lo; \
	VADDPD       Z5, hi, hi

// STORE writes the row's accumulators to (ptr), adding the old values of C
// first when BX is non-zero. K1 and K2 mask the columns past the tile.
#define STORE(ptr, lo, hi) \
	TESTQ     BX, BX; \
	JEQ       3(PC); \
	VMOVUPD.Z (ptr), K1, Z4; \
	VADDPD    Z4, lo, lo; \
	TESTQ     BX, BX; \
	JEQ       3(PC); \
	VMOVUPD.Z 64(ptr), K2, Z5; \
	VADDPD    Z5, hi, hi; \
	VMOVUPD   lo, K1, (ptr); \
	VMOVUPD   hi, K2, 64(ptr)

// func kernRows(x *float64, xrow, xcol int, panel *float64, ldp, k int, c *float64, ldc, mask, accumulate, groups int)
//
// For g < groups, r = 0..3 and j = 0..15 with bit j of mask set, with
// i = 4g + r:
//
//	s_ij = Σ_{p=0}^{k−1} x[i·xrow + p·xcol]·panel[p·ldp + j]   (from p = 0 up)
//	c[i·ldc + j] = s_ij, or c[i·ldc + j] + s_ij when accumulate ≠ 0.
//
// x is X (xrow = k, xcol = 1) or, for X = Aᵀ, A itself (xrow = 1, xcol =
// the row length of A). Strides are in elements.
TEXT ·kernRows(SB), NOSPLIT, $0-88
	MOVQ xrow+8(FP), R8
	SHLQ $3, R8
	MOVQ xcol+16(FP), R13
	SHLQ $3, R13
	MOVQ panel+24(FP), R15
	MOVQ ldp+32(FP), R14
	SHLQ $3, R14
	MOVQ k+40(FP), AX
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R9
	SHLQ $3, R9
	MOVQ mask+64(FP), CX
	KMOVW CX, K1
	SHRQ $8, CX
	KMOVW CX, K2
	MOVQ accumulate+72(FP), BX

	MOVQ  groups+80(FP), CX
	TESTQ CX, CX
	JEQ   rowsdone

rowsgroup:
	MOVQ x+0(FP), SI
	LEAQ (SI)(R8*1), R10
	LEAQ (SI)(R8*2), R11
	LEAQ (R10)(R8*2), R12
	MOVQ R15, DI

	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23

	MOVQ  AX, CX
	TESTQ CX, CX
	JEQ   rowsstore

rowsloop:
	VMOVUPD.Z (DI), K1, Z0
	VMOVUPD.Z 64(DI), K2, Z1
	ROW(SI, Z2, Z16, Z17)
	ROW(R10, Z3, Z18, Z19)
	ROW(R11, Z6, Z20, Z21)
	ROW(R12, Z7, Z22, Z23)
	ADDQ R13, SI
	ADDQ R13, R10
	ADDQ R13, R11
	ADDQ R13, R12
	ADDQ R14, DI
	DECQ CX
	JNE  rowsloop

rowsstore:
	STORE(DX, Z16, Z17)
	ADDQ R9, DX
	STORE(DX, Z18, Z19)
	ADDQ R9, DX
	STORE(DX, Z20, Z21)
	ADDQ R9, DX
	STORE(DX, Z22, Z23)
	ADDQ R9, DX

	MOVQ x+0(FP), SI
	LEAQ (SI)(R8*4), SI
	MOVQ SI, x+0(FP)
	DECQ groups+80(FP)
	JNE  rowsgroup

rowsdone:
	VZEROUPPER
	RET

// func kernPair(x *float64, xrow, xcol int, panel *float64, ldp, k int, c *float64, ldc, mask, accumulate int)
//
// kernRows for one group of two rows.
TEXT ·kernPair(SB), NOSPLIT, $0-80
	MOVQ x+0(FP), SI
	MOVQ xrow+8(FP), R8
	SHLQ $3, R8
	MOVQ xcol+16(FP), R13
	SHLQ $3, R13
	MOVQ panel+24(FP), DI
	MOVQ ldp+32(FP), R14
	SHLQ $3, R14
	MOVQ k+40(FP), CX
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R9
	SHLQ $3, R9
	MOVQ mask+64(FP), AX
	KMOVW AX, K1
	SHRQ $8, AX
	KMOVW AX, K2
	MOVQ accumulate+72(FP), BX

	LEAQ (SI)(R8*1), R10

	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19

	TESTQ CX, CX
	JEQ   pairstore

pairloop:
	VMOVUPD.Z (DI), K1, Z0
	VMOVUPD.Z 64(DI), K2, Z1
	ROW(SI, Z2, Z16, Z17)
	ROW(R10, Z3, Z18, Z19)
	ADDQ R13, SI
	ADDQ R13, R10
	ADDQ R14, DI
	DECQ CX
	JNE  pairloop

pairstore:
	STORE(DX, Z16, Z17)
	ADDQ R9, DX
	STORE(DX, Z18, Z19)
	VZEROUPPER
	RET

// DOTLANE adds the products of four consecutive elements to the four lanes
// of acc, lane q holding s_q = Σ_{p ≡ q mod 4} x[p]·y[p]. xp and yp point
// at the elements, off is the byte offset.
#define DOTLANE(xp, yp, off, tmp, acc) \
	VMOVUPD off(xp), tmp; \
	VMULPD  off(yp), tmp, tmp; \
	VADDPD  tmp, acc, acc

// FINISH adds the tail p ≥ 4⌊k/4⌋ to s0 and reduces the lanes of acc as
// (s0 + s1) + (s2 + s3) into the low element of xacc. xp and yp point at
// the tail, CX holds its length, and it ends at label end.
#define FINISH(xp, yp, acc, xacc, xhi, t1, t2) \
	VEXTRACTF128 $1, acc, xhi; \
	TESTQ        CX, CX; \
	JEQ          8(PC); \
	VMOVSD       (xp), t1; \
	VMULSD       (yp), t1, t1; \
	VADDSD       t1, xacc, xacc; \
	ADDQ         $8, xp; \
	ADDQ         $8, yp; \
	DECQ         CX; \
	JNE          -6(PC); \
	VUNPCKHPD    xacc, xacc, t1; \
	VADDSD       t1, xacc, xacc; \
	VUNPCKHPD    xhi, xhi, t2; \
	VADDSD       t2, xhi, xhi; \
	VADDSD       xhi, xacc, xacc

// func dot4(x *float64, xstride int, y *float64, ystride int, k int, out *[4]float64)
//
// out[r] = dotGo(x[r·xstride:][:k], y[r·ystride:][:k]) for r = 0..3. The
// four sums run in separate registers so their additions overlap.
TEXT ·dot4(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ xstride+8(FP), R8
	SHLQ $3, R8
	MOVQ y+16(FP), DI
	MOVQ ystride+24(FP), R9
	SHLQ $3, R9
	MOVQ k+32(FP), BX
	MOVQ out+40(FP), DX

	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), R14
	LEAQ (R14)(R9*1), R15

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

	MOVQ  BX, CX
	SHRQ  $2, CX
	JEQ   tail4

quad4:
	DOTLANE(SI, DI, 0, Y4, Y0)
	DOTLANE(R10, R13, 0, Y5, Y1)
	DOTLANE(R11, R14, 0, Y6, Y2)
	DOTLANE(R12, R15, 0, Y7, Y3)
	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, DI
	ADDQ $32, R13
	ADDQ $32, R14
	ADDQ $32, R15
	DECQ CX
	JNE  quad4

tail4:
	ANDQ $3, BX
	MOVQ BX, CX
	FINISH(SI, DI, Y0, X0, X8, X9, X10)
	MOVSD X0, 0(DX)
	MOVQ BX, CX
	FINISH(R10, R13, Y1, X1, X8, X9, X10)
	MOVSD X1, 8(DX)
	MOVQ BX, CX
	FINISH(R11, R14, Y2, X2, X8, X9, X10)
	MOVSD X2, 16(DX)
	MOVQ BX, CX
	FINISH(R12, R15, Y3, X3, X8, X9, X10)
	MOVSD X3, 24(DX)
	VZEROUPPER
	RET

// func dot1(x, y *float64, k int) float64
//
// dot1 returns dotGo(x[:k], y[:k]).
TEXT ·dot1(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ k+16(FP), BX

	VXORPD Y0, Y0, Y0
	MOVQ   BX, CX
	SHRQ   $2, CX
	JEQ    tail1

quad1:
	DOTLANE(SI, DI, 0, Y4, Y0)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE  quad1

tail1:
	ANDQ $3, BX
	MOVQ BX, CX
	FINISH(SI, DI, Y0, X0, X8, X9, X10)
	VZEROUPPER
	MOVSD X0, ret+24(FP)
	RET

// func biasRelu(z, b, a *float64, rows, n int)
//
// For r < rows and j < n, with i = r·n + j:
//
//	z[i] = z[i] + b[j] (skipped when b is nil),
//	a[i] = +0 if z[i] ≤ 0, else z[i] with its sign bit cleared,
//
// the bits of addBiasReluGo: Go's max(z, 0) clears the sign of a NaN.
// Each row runs in chunks of 8 columns, the last one masked by K2.
TEXT ·biasRelu(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), SI
	MOVQ b+8(FP), BX
	MOVQ a+16(FP), DI
	MOVQ rows+24(FP), R8
	MOVQ n+32(FP), R9

	MOVQ  R9, R12
	ANDQ  $7, R12
	MOVQ  $1, AX
	MOVQ  R12, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2
	MOVQ  R9, R10
	SHRQ  $3, R10

	VPXORQ       Z31, Z31, Z31
	MOVQ         $0x7fffffffffffffff, AX
	VPBROADCASTQ AX, Z30
	TESTQ        R8, R8
	JEQ          brdone

brrow:
	MOVQ  BX, R11
	MOVQ  R10, CX
	TESTQ CX, CX
	JEQ   brtail

brchunk:
	VMOVUPD  (SI), Z0
	TESTQ    BX, BX
	JEQ      4(PC)
	VADDPD   (R11), Z0, Z0
	VMOVUPD  Z0, (SI)
	ADDQ     $64, R11
	VCMPPD   $6, Z31, Z0, K1
	VPANDQ.Z Z30, Z0, K1, Z1
	VMOVUPD  Z1, (DI)
	ADDQ     $64, SI
	ADDQ     $64, DI
	DECQ     CX
	JNE      brchunk

brtail:
	TESTQ     R12, R12
	JEQ       brnext
	VMOVUPD.Z (SI), K2, Z0
	TESTQ     BX, BX
	JEQ       4(PC)
	VMOVUPD.Z (R11), K2, Z2
	VADDPD    Z2, Z0, Z0
	VMOVUPD   Z0, K2, (SI)
	VCMPPD    $6, Z31, Z0, K2, K1
	VPANDQ.Z  Z30, Z0, K1, Z1
	VMOVUPD   Z1, K2, (DI)
	LEAQ      (SI)(R12*8), SI
	LEAQ      (DI)(R12*8), DI

brnext:
	DECQ R8
	JNE  brrow

brdone:
	VZEROUPPER
	RET

// func reluMask8(grad, z *float64, n int)
//
// For i < n: grad[i] = +0 if z[i] ≤ 0, else grad[i] unchanged (also when z[i]
// is NaN), the bits of reluMaskGo.
TEXT ·reluMask8(SB), NOSPLIT, $0-24
	MOVQ grad+0(FP), DI
	MOVQ z+8(FP), DX
	MOVQ n+16(FP), R9

	MOVQ  R9, R12
	ANDQ  $7, R12
	MOVQ  $1, AX
	MOVQ  R12, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2
	MOVQ  R9, CX
	SHRQ  $3, CX

	VPXORQ Z31, Z31, Z31
	TESTQ  CX, CX
	JEQ    rmtail

rmchunk:
	VMOVUPD   (DX), Z0
	VCMPPD    $6, Z31, Z0, K1
	VMOVUPD.Z (DI), K1, Z1
	VMOVUPD   Z1, (DI)
	ADDQ      $64, DI
	ADDQ      $64, DX
	DECQ      CX
	JNE       rmchunk

rmtail:
	TESTQ     R12, R12
	JEQ       rmdone
	VMOVUPD.Z (DX), K2, Z0
	VCMPPD    $6, Z31, Z0, K2, K1
	VMOVUPD.Z (DI), K1, Z1
	VMOVUPD   Z1, K2, (DI)

rmdone:
	VZEROUPPER
	RET

// func dotColumns(s *float64, lds int, y *float64, ldy, k int, c *float64, n int)
//
// For j < n, with the order of dotGo over p:
//
//	t_q = Σ_{p ≡ q mod 4, p < 4⌊k/4⌋} s[p·lds]·y[p·ldy + j],  t_0 += the tail p's,
//	c[j] = c[j] + ((t_0 + t_1) + (t_2 + t_3)).
//
// The columns run in chunks of 8, the last one masked by K1.
TEXT ·dotColumns(SB), NOSPLIT, $0-56
	MOVQ s+0(FP), R15
	MOVQ lds+8(FP), R8
	SHLQ $3, R8
	MOVQ y+16(FP), R14
	MOVQ ldy+24(FP), R9
	SHLQ $3, R9
	MOVQ k+32(FP), BX
	MOVQ c+40(FP), DX
	MOVQ n+48(FP), R10

dcchunk:
	TESTQ R10, R10
	JLE   dcdone
	MOVQ  $0xff, AX
	CMPQ  R10, $8
	JGE   5(PC)
	MOVQ  $1, AX
	MOVQ  R10, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K1

	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	MOVQ   R15, SI
	MOVQ   R14, DI
	MOVQ   BX, CX
	SHRQ   $2, CX
	JEQ    dctail

dcquad:
	VBROADCASTSD (SI), Z4
	VMOVUPD.Z    (DI), K1, Z5
	VMULPD       Z5, Z4, Z5
	VADDPD       Z5, Z0, Z0
	ADDQ         R8, SI
	ADDQ         R9, DI
	VBROADCASTSD (SI), Z4
	VMOVUPD.Z    (DI), K1, Z5
	VMULPD       Z5, Z4, Z5
	VADDPD       Z5, Z1, Z1
	ADDQ         R8, SI
	ADDQ         R9, DI
	VBROADCASTSD (SI), Z4
	VMOVUPD.Z    (DI), K1, Z5
	VMULPD       Z5, Z4, Z5
	VADDPD       Z5, Z2, Z2
	ADDQ         R8, SI
	ADDQ         R9, DI
	VBROADCASTSD (SI), Z4
	VMOVUPD.Z    (DI), K1, Z5
	VMULPD       Z5, Z4, Z5
	VADDPD       Z5, Z3, Z3
	ADDQ         R8, SI
	ADDQ         R9, DI
	DECQ         CX
	JNE          dcquad

dctail:
	MOVQ  BX, CX
	ANDQ  $3, CX
	JEQ   dcsum

dctailloop:
	VBROADCASTSD (SI), Z4
	VMOVUPD.Z    (DI), K1, Z5
	VMULPD       Z5, Z4, Z5
	VADDPD       Z5, Z0, Z0
	ADDQ         R8, SI
	ADDQ         R9, DI
	DECQ         CX
	JNE          dctailloop

dcsum:
	VADDPD    Z1, Z0, Z0
	VADDPD    Z3, Z2, Z2
	VADDPD    Z2, Z0, Z0
	VMOVUPD.Z (DX), K1, Z6
	VADDPD    Z0, Z6, Z6
	VMOVUPD   Z6, K1, (DX)

	ADDQ $64, R14
	ADDQ $64, DX
	SUBQ $8, R10
	JMP  dcchunk

dcdone:
	VZEROUPPER
	RET

// func addRows(db, dz *float64, rows, n int)
//
// For j < n: db[j] = (…((db[j] + dz[j]) + dz[n + j]) + …) + dz[(rows−1)·n + j],
// the row sums in row order. The columns run in chunks of 8, the last one
// masked by K1.
TEXT ·addRows(SB), NOSPLIT, $0-32
	MOVQ db+0(FP), DX
	MOVQ dz+8(FP), R14
	MOVQ rows+16(FP), BX
	MOVQ n+24(FP), R10
	MOVQ R10, R9
	SHLQ $3, R9

archunk:
	TESTQ R10, R10
	JLE   ardone
	MOVQ  $0xff, AX
	CMPQ  R10, $8
	JGE   5(PC)
	MOVQ  $1, AX
	MOVQ  R10, CX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K1

	VMOVUPD.Z (DX), K1, Z0
	MOVQ      R14, DI
	MOVQ      BX, CX
	TESTQ     CX, CX
	JEQ       arstore

arloop:
	VMOVUPD.Z (DI), K1, Z5
	VADDPD    Z5, Z0, Z0
	ADDQ      R9, DI
	DECQ      CX
	JNE       arloop

arstore:
	VMOVUPD Z0, K1, (DX)
	ADDQ    $64, R14
	ADDQ    $64, DX
	SUBQ    $8, R10
	JMP     archunk

ardone:
	VZEROUPPER
	RET
