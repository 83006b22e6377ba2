//go:build amd64 && !purego

#include "textflag.h"

// func tanh8(x, dst *float64, n int, consts *[tanhConstCount]float64, coef, table *float64)
//
// dst[i] = Tanh(x[i]) for i < n, n a multiple of 8, with the operations
// of Tanh, tanhSeries and Exp in the same order, each rounded on its own
// (VMULPD, VADDPD, VSUBPD, VDIVPD, no fused multiply-add). Every lane
// computes both the series and 1 − 2/(e^{2|x|} + 1) and keeps the one that
// Tanh's switch selects. Exp needs no special cases there, because
// 2|x| ∈ [1.1, 40] on the lanes that keep its value. consts holds the
// constants in the order of tanhConsts, coef points at tanhCoef and table
// at twoPowHi followed by twoPowLo.
TEXT ·tanh8(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ consts+24(FP), DX
	MOVQ coef+32(FP), R8
	MOVQ table+40(FP), R9
	SHRQ $3, CX
	JEQ  done

	VPBROADCASTQ 0(DX), Z31   // |·| mask
	VBROADCASTSD 8(DX), Z30   // tanhSmall
	VBROADCASTSD 16(DX), Z29  // tanhOne
	VBROADCASTSD 24(DX), Z28  // tanhTiny
	VBROADCASTSD 32(DX), Z27  // 1
	VBROADCASTSD 40(DX), Z26  // 2
	VBROADCASTSD 48(DX), Z25  // 0.5 = c2
	VBROADCASTSD 56(DX), Z24  // invLn2
	VBROADCASTSD 64(DX), Z23  // ln2Hi
	VBROADCASTSD 72(DX), Z22  // ln2Lo
	VBROADCASTSD 80(DX), Z21  // c5
	VBROADCASTSD 88(DX), Z20  // c4
	VBROADCASTSD 96(DX), Z19  // c3
	VPBROADCASTQ 104(DX), Z18 // tableSize − 1
	VPBROADCASTQ 112(DX), Z17 // exponent bias 1023

loop:
	VMOVUPD (SI), Z0               // x
	VPANDQ  Z31, Z0, Z1            // ax = |x|

	// Exp(2·ax): m = ⌊2ax·invLn2 + 0.5⌋, r = (y − m·ln2Hi) − m·ln2Lo.
	VADDPD      Z1, Z1, Z2         // y = 2·ax
	VMULPD      Z24, Z2, Z3
	VADDPD      Z25, Z3, Z3
	VRNDSCALEPD $9, Z3, Z3         // mf = floor, no precision exception
	VMULPD      Z23, Z3, Z4
	VSUBPD      Z4, Z2, Z4
	VMULPD      Z22, Z3, Z5
	VSUBPD      Z5, Z4, Z4         // r
	VCVTTPD2DQ  Z3, Y6             // m as int32
	VPMOVSXDQ   Y6, Z6             // m as int64
	VPANDQ      Z18, Z6, Z7        // j = m & 127
	VPSRAQ      $7, Z6, Z6         // k = m >> 7

	// p = r + r²·(c2 + r·(c3 + r·(c4 + r·c5))).
	VMULPD Z21, Z4, Z8
	VADDPD Z20, Z8, Z8
	VMULPD Z8, Z4, Z8
	VADDPD Z19, Z8, Z8
	VMULPD Z8, Z4, Z8
	VADDPD Z25, Z8, Z8
	VMULPD Z4, Z4, Z9
	VMULPD Z8, Z9, Z8
	VADDPD Z8, Z4, Z8              // p

	// e = (hi + (lo + hi·p))·2^k.
	KXNORW      K0, K0, K1
	VGATHERQPD  (R9)(Z7*8), K1, Z10     // hi
	KXNORW      K0, K0, K1
	VGATHERQPD  1024(R9)(Z7*8), K1, Z11 // lo
	VMULPD      Z8, Z10, Z12
	VADDPD      Z12, Z11, Z12
	VADDPD      Z12, Z10, Z12
	VPADDQ      Z17, Z6, Z13
	VPSLLQ      $52, Z13, Z13
	VMULPD      Z13, Z12, Z12          // e

	// t = 1 − 2/(e + 1), with the sign of x.
	VADDPD  Z27, Z12, Z12
	VDIVPD  Z12, Z26, Z12
	VSUBPD  Z12, Z27, Z12
	VPANDQ  Z31, Z12, Z12
	VPANDNQ Z0, Z31, Z14           // sign bit of x
	VPORQ   Z14, Z12, Z12          // result for tanhSmall ≤ |x| ≤ tanhOne

	// |x| > tanhOne: ±1.
	VCMPPD $0x1e, Z29, Z1, K2      // ax > 20 (ordered)
	VPORQ  Z14, Z27, Z15
	VMOVAPD Z15, K2, Z12

	// |x| < tanhSmall: x + (x·z)·P(z), z = x², Horner from the top.
	VCMPPD       $0x11, Z30, Z1, K3 // ax < 0.55 (ordered)
	VMULPD       Z0, Z0, Z15        // z
	VBROADCASTSD 144(R8), Z16       // coef[18]
	MOVQ         $136, DX
horner:
	VMULPD       Z16, Z15, Z16
	VBROADCASTSD (R8)(DX*1), Z5
	VADDPD       Z16, Z5, Z16
	SUBQ         $8, DX
	JGE          horner
	VMULPD       Z15, Z0, Z5
	VMULPD       Z16, Z5, Z5
	VADDPD       Z5, Z0, Z5
	VMOVAPD      Z5, K3, Z12

	// NaN or |x| < tanhTiny: x itself.
	VCMPPD  $0x19, Z28, Z1, K4     // !(ax ≥ tiny), NaN true
	VMOVAPD Z0, K4, Z12

	VMOVUPD Z12, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     loop

done:
	VZEROUPPER
	RET
