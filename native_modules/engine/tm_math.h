// Float32 elementary functions without libm (native modules have none), bit-identical to glibc 2.36's on
// x86-64, which the TFLM host runtime calls (checked for every float32 input). glibc's expf computes in double
// (not correctly rounded): emulated here in integers, so no FPU double or libgcc is needed. expm1f and tanhf
// are fdlibm's float-only algorithms, as in glibc.
#ifndef TM_MATH_H
#define TM_MATH_H

float tm_expf(float x);
float tm_expm1f(float x);
float tm_tanhf(float x);
// TFLM's float LOGISTIC: 1 / (1 + exp(-x)) with its cut-offs.
float tm_logisticf(float x);

#endif
