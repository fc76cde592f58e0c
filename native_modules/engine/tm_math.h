// Float32 elementary functions without libm (native modules have none): results equal to glibc's, which
// the TFLM host runtime calls. expf is correctly rounded (computed in 64-bit fixed point); expm1f and tanhf
// follow fdlibm's float algorithms, as glibc does.
#ifndef TM_MATH_H
#define TM_MATH_H

float tm_expf(float x);
float tm_expm1f(float x);
float tm_tanhf(float x);
// TFLM's float LOGISTIC: 1 / (1 + exp(-x)) with its cut-offs.
float tm_logisticf(float x);

#endif
