//go:build amd64 && !purego

#include "textflag.h"

// polarFactors8 evaluates logNormal (the operations of math.Log's amd64
// assembly, Go 1.26) on eight lanes, then f = √((−2·ln s) / s). Every
// operation is a separately rounded VADDPD, VSUBPD, VMULPD, VDIVPD or
// VSQRTPD, in the order of the scalar code, so each lane has the bits of
// the scalar result.

DATA polarConst<>+0x00(SB)/8, $0x000FFFFFFFFFFFFF // mantissa mask
DATA polarConst<>+0x08(SB)/8, $0x3FE0000000000000 // 0.5
DATA polarConst<>+0x10(SB)/8, $0x4330000000000000 // 2⁵²
DATA polarConst<>+0x18(SB)/8, $0x408FF00000000000 // 1022
DATA polarConst<>+0x20(SB)/8, $0x3FE6A09E667F3BCD // √2/2
DATA polarConst<>+0x28(SB)/8, $0x3FF0000000000000 // 1
DATA polarConst<>+0x30(SB)/8, $0x4000000000000000 // 2
DATA polarConst<>+0x38(SB)/8, $0x3FC2F112DF3E5244 // L7
DATA polarConst<>+0x40(SB)/8, $0x3FC7466496CB03DE // L5
DATA polarConst<>+0x48(SB)/8, $0x3FD2492494229359 // L3
DATA polarConst<>+0x50(SB)/8, $0x3FE5555555555593 // L1
DATA polarConst<>+0x58(SB)/8, $0x3FC39A09D078C69F // L6
DATA polarConst<>+0x60(SB)/8, $0x3FCC71C51D8E78AF // L4
DATA polarConst<>+0x68(SB)/8, $0x3FD999999997FA04 // L2
DATA polarConst<>+0x70(SB)/8, $0x3DEA39EF35793C76 // Ln2Lo
DATA polarConst<>+0x78(SB)/8, $0x3FE62E42FEE00000 // Ln2Hi
DATA polarConst<>+0x80(SB)/8, $0xC000000000000000 // −2
GLOBL polarConst<>(SB), RODATA|NOPTR, $0x88

// func polarFactors8(s, f *float64, n int)
TEXT ·polarFactors8(SB), NOSPLIT, $0-24
	MOVQ s+0(FP), SI
	MOVQ f+8(FP), DI
	MOVQ n+16(FP), CX
	LEAQ polarConst<>(SB), AX
	VPBROADCASTQ 0x00(AX), Z20 // mantissa mask
	VPBROADCASTQ 0x08(AX), Z21 // 0.5
	VPBROADCASTQ 0x10(AX), Z22 // 2⁵²
	VPBROADCASTQ 0x18(AX), Z23 // 1022
	VPBROADCASTQ 0x20(AX), Z24 // √2/2
	VPBROADCASTQ 0x28(AX), Z25 // 1
	VPBROADCASTQ 0x30(AX), Z26 // 2
	VPBROADCASTQ 0x80(AX), Z27 // −2

loop:
	TESTQ CX, CX
	JEQ   done
	VMOVUPD (SI), Z0 // x

	// f1 = 0.5 | mantissa(x), k = exponent(x) − 1022 (exact).
	VPANDQ  Z20, Z0, Z1
	VPORQ   Z21, Z1, Z1 // f1
	VPSRLQ  $52, Z0, Z2
	VPORQ   Z22, Z2, Z2
	VSUBPD  Z22, Z2, Z2 // biased exponent e
	VSUBPD  Z23, Z2, Z2 // k = e − 1022

	// if f1 < √2/2 { k −= 1; f1 *= 2 }
	VCMPPD  $1, Z24, Z1, K1 // f1 < √2/2 (LT_OS)
	VSUBPD  Z25, Z2, K1, Z2
	VMULPD  Z26, Z1, K1, Z1

	// f = f1 − 1, s = f / (2 + f), s2 = s·s, s4 = s2·s2.
	VSUBPD  Z25, Z1, Z1 // f
	VADDPD  Z1, Z26, Z3
	VDIVPD  Z3, Z1, Z3 // s
	VMULPD  Z3, Z3, Z4 // s2
	VMULPD  Z4, Z4, Z5 // s4

	// t1 = s2·(L1 + s4·(L3 + s4·(L5 + s4·L7))).
	VBROADCASTSD 0x38(AX), Z6
	VMULPD       Z5, Z6, Z6
	VBROADCASTSD 0x40(AX), Z7
	VADDPD       Z7, Z6, Z6
	VMULPD       Z5, Z6, Z6
	VBROADCASTSD 0x48(AX), Z7
	VADDPD       Z7, Z6, Z6
	VMULPD       Z5, Z6, Z6
	VBROADCASTSD 0x50(AX), Z7
	VADDPD       Z7, Z6, Z6
	VMULPD       Z6, Z4, Z4 // t1

	// t2 = s4·(L2 + s4·(L4 + s4·L6)).
	VBROADCASTSD 0x58(AX), Z6
	VMULPD       Z5, Z6, Z6
	VBROADCASTSD 0x60(AX), Z7
	VADDPD       Z7, Z6, Z6
	VMULPD       Z5, Z6, Z6
	VBROADCASTSD 0x68(AX), Z7
	VADDPD       Z7, Z6, Z6
	VMULPD       Z6, Z5, Z5 // t2

	// R = t1 + t2, hfsq = 0.5·f·f.
	VADDPD  Z5, Z4, Z4 // R
	VMULPD  Z1, Z21, Z8
	VMULPD  Z1, Z8, Z8 // hfsq

	// ln x = k·Ln2Hi − ((hfsq − (s·(hfsq + R) + k·Ln2Lo)) − f).
	VADDPD       Z8, Z4, Z4
	VMULPD       Z4, Z3, Z3 // s·(hfsq + R)
	VBROADCASTSD 0x70(AX), Z9
	VMULPD       Z2, Z9, Z9 // k·Ln2Lo
	VADDPD       Z9, Z3, Z3
	VSUBPD       Z3, Z8, Z8
	VSUBPD       Z1, Z8, Z8
	VBROADCASTSD 0x78(AX), Z9
	VMULPD       Z9, Z2, Z2 // k·Ln2Hi
	VSUBPD       Z8, Z2, Z2 // ln x

	// f = √((−2·ln x) / x).
	VMULPD  Z27, Z2, Z2
	VDIVPD  Z0, Z2, Z2
	VSQRTPD Z2, Z2
	VMOVUPD Z2, (DI)

	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JMP  loop

done:
	VZEROUPPER
	RET
